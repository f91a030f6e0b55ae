//! Alerts over HTTP: list, ack, and silences (create, list, delete) through the gate; a bad
//! matcher is a 400 naming it; the Remote backend works through the generic command/query.

use crate::support;

use plexus::api::ask;
use plexus::api::{Command, Fault};
use plexus::client::Backend;
use plexus::client::BackendExt;
use serde_json::Value;
use support::{ADMIN, session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_and_silences_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_with(dir.path(), 8, |cfg| cfg.recovery.enabled = false);
    let admin = session(&engine, ADMIN).await;
    let token = support::token(&admin, ADMIN).await;
    engine.advance(3_000).await.unwrap();
    admin
        .submit(Command::InjectFault {
            neuron: "n-0001".into(),
            fault: Fault::Hang,
        })
        .await
        .unwrap();
    engine.advance(10_000).await.unwrap();
    let (base, handle) = support::serve(&engine);
    let http = reqwest::Client::new();

    let list = support::json_of(
        http.get(format!("{base}/api/v1/alerts"))
            .bearer_auth(&token),
    )
    .await;
    let alert = &list["groups"][0]["alerts"][0];
    assert_eq!(alert["rule"], "NeuronOffline");
    assert_eq!(alert["state"], "firing");
    let fp = alert["fingerprint"].as_str().unwrap().to_string();

    let acked = support::json_of(
        http.post(format!("{base}/api/v1/alerts/{fp}/ack"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(acked["alert"]["acked_by"], ADMIN);

    let bad = http
        .post(format!("{base}/api/v1/silences"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"matchers": "neuron=~(", "duration": "1h"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let error: Value = bad.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("bad regex"),
        "{error}"
    );

    let created = support::json_of(
        http        .post(format!("{base}/api/v1/silences"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"matchers": "alertname=NeuronOffline", "duration": "1h", "comment": "drill"})),
    )
    .await;
    let id = created["silence"]["id"].as_str().unwrap().to_string();
    let listed = support::json_of(
        http.get(format!("{base}/api/v1/silences"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(listed[0]["id"], id.as_str());
    let deleted = http
        .delete(format!("{base}/api/v1/silences/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    let missing = http
        .delete(format!("{base}/api/v1/silences/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    // The Remote backend goes through /command and /query: nothing alert-specific needed.
    let remote = plexus::client::Remote::connect(&base, &token)
        .await
        .unwrap();
    let report = remote.ask(ask::alerts()).await.unwrap();
    assert_eq!(report.active().next().unwrap().fingerprint, fp);
    let unauthenticated = http
        .get(format!("{base}/api/v1/alerts"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    handle.shutdown();
    engine.shutdown();
}
