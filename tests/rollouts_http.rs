//! Rollouts over HTTP: the original broadcast paths and `/api/v1/rollouts…` start real rollouts;
//! a racing push is a 409 that changes nothing; a bad document is a 400 naming the field.

mod support;

use std::time::Duration;

use plexus::client::Backend;
use support::{ADMIN, engine, session};

async fn admin_token(engine: &plexus::engine::Engine) -> String {
    support::token(&session(engine, ADMIN).await, ADMIN).await
}

const CONFIG: &str = r#"{"model":"m","model_version":"2","batch_size":8,"learning_rate":0.1,"heartbeat_interval_ms":1000,"max_concurrency":4}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_start_rollouts_a_race_is_a_409_and_a_bad_document_a_400() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 6);
    let token = admin_token(&engine).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = axum_server::Handle::new();
    tokio::spawn(plexus::server::serve_on(
        engine.clone(),
        listener,
        None,
        handle.clone(),
    ));
    let http = reqwest::Client::new();
    let post = |path: &str, body: String| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let body = format!(r#"{{"config": {CONFIG}, "expected_version": "v1"}}"#);
    let first = post("/api/federation/configs/broadcast", body.clone())
        .await
        .unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let reply: serde_json::Value = first.json().await.unwrap();
    assert_eq!(reply["result"], "rollout_started");
    assert_eq!(reply["rollout"]["version"], "v2");
    let second = post("/api/v1/rollouts/config", body).await.unwrap();
    assert_eq!(second.status().as_u16(), 409);
    let error: serde_json::Value = second.json().await.unwrap();
    assert_eq!(error["code"], "conflict");

    let bad = post(
        "/api/federation/experiments/broadcast",
        r#"{"experiment": {"name": "b", "variant": "m-b", "traffic_percent": 0, "duration": "1m"}}"#.into(),
    )
    .await
    .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.unwrap().contains("traffic_percent"));

    let admin = session(&engine, ADMIN).await;
    admin.sleep(Duration::from_secs(20)).await;
    let report = support::json_of(
        http.get(format!("{base}/api/v1/rollouts"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(report["head"], "v2", "{report}");
    assert_eq!(report["versions"][0]["neurons"], 6);
    let one = support::json_of(
        http.get(format!("{base}/api/v1/rollouts/r-1"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(one["summary"]["phase"], "committed", "{one}");
    assert_eq!(one["targets"].as_array().unwrap().len(), 6);
    handle.shutdown();
}
