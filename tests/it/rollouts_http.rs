//! Rollouts over HTTP: the original broadcast paths and `/api/v1/rollouts…` start real rollouts;
//! a racing push is a 409 that changes nothing; a bad document is a 400 naming the field.

use crate::support;

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

fn cli(url: &str, token: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["--connect", url])
        .args(args)
        .env("PLEXUS_TOKEN", token)
        .env_remove("PLEXUS_DATA_DIR")
        .output()
        .unwrap()
}

/// A script reads its own writes: when `broadcast` returns "rolled back", `neurons` right after
/// shows every neuron on the old version (the server's reads come from a snapshot that is
/// republished before a command's answer and before the event that ends a rollout). `rollouts
/// show` says how long it took; a dry run takes no id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rollout_returns_the_fleet_read_agrees_with_it() {
    let dir = tempfile::tempdir().unwrap();
    // Snapshots republished rarely (as on a large fleet): only read-your-writes keeps it true.
    let engine = support::engine_configured(dir.path(), 8, false, |cfg| cfg.snapshot_ms = 10_000);
    let admin = session(&engine, ADMIN).await;
    let token = support::token(&admin, ADMIN).await;
    let (url, _handle) = support::serve(&engine);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let config = "tests/fixtures/rollout_config.toml";
    let run = |args: Vec<&'static str>| {
        let (u, t) = (url.clone(), token.clone());
        tokio::task::spawn_blocking(move || cli(&u, &t, &args))
    };
    let versions = |out: &std::process::Output| -> Vec<String> {
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["config_version"].as_str().unwrap().to_string())
            .collect()
    };
    let committed = run(vec!["broadcast", "config", config]).await.unwrap();
    assert_eq!(committed.status.code(), Some(0), "{committed:?}");
    let after = run(vec!["neurons", "--json"]).await.unwrap();
    assert!(
        versions(&after).iter().all(|v| v == "v2"),
        "read right after the commit: {:?}",
        versions(&after)
    );

    admin
        .submit(plexus::api::Command::InjectFault {
            neuron: "n-0008".into(),
            fault: plexus::api::Fault::ConfigFailure,
        })
        .await
        .unwrap();
    let rolled_back = run(vec!["broadcast", "config", config, "--json"])
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&rolled_back.stderr);
    assert_eq!(rolled_back.status.code(), Some(1), "rolled back: {stderr}");
    let after = run(vec!["neurons", "--json"]).await.unwrap();
    assert!(
        versions(&after).iter().all(|v| v == "v2"),
        "read right after the rollback: {:?}",
        versions(&after)
    );
    let dry = run(vec!["broadcast", "config", config, "--dry-run"])
        .await
        .unwrap();
    let dry = String::from_utf8_lossy(&dry.stdout);
    assert!(dry.starts_with("dry run: would roll out"), "{dry}");
    assert!(!dry.contains("r-"), "a dry run names no rollout id: {dry}");
    let show = run(vec!["rollouts", "show", "1", "--json"]).await.unwrap();
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(
        show["summary"]["took_ms"].as_u64().unwrap() > 0,
        "{}",
        show["summary"]
    );
    engine.shutdown();
}
