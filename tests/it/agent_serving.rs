//! A serving agent (`plexus neuron --serve`) answers predictions with the federation's model:
//! the orchestrator sends it every new global model, its predictions on the test split are the
//! global model's own, a new version takes over under load without one failed request, and its
//! heartbeat telemetry counts the requests it really served.

use crate::support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use plexus::api::fl::DatasetName;
use plexus::api::fl_run::{FlRunSpec, FlRunState};
use plexus::api::{Command, CommandReply, NeuronState, ask};
use plexus::client::{Backend, BackendExt, Embedded};
use plexus::engine::fl::data;
use plexus::engine::fl::model::LogReg;
use support::{ADMIN, session};

async fn start_run(admin: &Embedded, rounds: u32) -> String {
    let spec = FlRunSpec {
        rounds,
        round_ms: 100,
        ..FlRunSpec::default()
    };
    match admin.submit(Command::FlStart { config: spec }).await {
        Ok(CommandReply::FlStarted { run }) => run.id,
        other => panic!("{other:?}"),
    }
}

async fn wait_finished(admin: &Embedded, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while admin.ask(ask::fl_run(id)).await.unwrap().run.state == FlRunState::Running {
        assert!(Instant::now() < deadline, "run {id} did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn served_version(http: &reqwest::Client, base: &str) -> Option<String> {
    let r = http.get(format!("{base}/v1/model")).send().await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: serde_json::Value = r.json().await.ok()?;
    v["version"].as_str().map(str::to_string)
}

async fn wait_version(http: &reqwest::Client, base: &str, version: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_version(http, base).await.as_deref() != Some(version) {
        assert!(Instant::now() < deadline, "{base} never served {version}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_agent_answers_with_the_global_model_and_switches_without_a_failed_request() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 8, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let _agents = support::spawn_agents_with(
        &token,
        &url,
        &[("server-1".to_string(), vec!["--serve", "127.0.0.1:0"])],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        if let Ok(d) = admin.ask(ask::neuron("server-1")).await
            && let Some((_, addr)) = d.labels.iter().find(|(k, _)| k == "serve")
        {
            break format!("http://{addr}");
        }
        assert!(
            Instant::now() < deadline,
            "the agent never registered its serving address"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let http = reqwest::Client::new();
    // No model before the first round: a clear 503.
    let none = http
        .post(format!("{base}/v1/predict"))
        .json(&serde_json::json!({"features": vec![0.0f32; 64]}))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 503);

    let first = start_run(&admin, 20).await;
    wait_finished(&admin, &first).await;
    wait_version(&http, &base, &format!("{first}.r20")).await;

    // The agent's answers on the raw test split are the global model's own predictions.
    let model = admin.ask(ask::fl_model(&first)).await.unwrap();
    let digits = data::load(DatasetName::Digits);
    let (_, raw_test) = data::raw_split(&digits, 1);
    let scale = data::standardiser(&digits, 1);
    let logreg = LogReg::for_data(&digits);
    let rows: Vec<Vec<f32>> = (0..raw_test.len())
        .map(|i| raw_test.row(i).to_vec())
        .collect();
    let expected: Vec<usize> = rows
        .iter()
        .map(|row| {
            let mut x = row.clone();
            scale.row(&mut x);
            let p = logreg.probabilities(&model.weights, &x);
            (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap()
        })
        .collect();
    let answer: serde_json::Value = http
        .post(format!("{base}/v1/predict"))
        .json(&serde_json::json!({ "batch": rows }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let served: Vec<usize> = answer["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["class"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(
        served, expected,
        "the agent's classes are the global model's"
    );
    let accuracy = served
        .iter()
        .zip(&raw_test.y)
        .filter(|(a, b)| **a == **b as usize)
        .count() as f64
        / served.len() as f64;
    assert!(accuracy > 0.85, "served accuracy {accuracy}");

    // Under load, a second run's models replace the first's: no request fails meanwhile.
    let load = {
        let (http, base, rows) = (http.clone(), base.clone(), rows.clone());
        tokio::spawn(async move {
            let mut versions = BTreeSet::new();
            let (mut ok, mut failed) = (0u32, Vec::new());
            let until = Instant::now() + Duration::from_secs(4);
            let mut k = 0;
            while Instant::now() < until {
                k += 1;
                let r = http
                    .post(format!("{base}/v1/predict"))
                    .json(&serde_json::json!({ "features": rows[k % rows.len()] }))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let v: serde_json::Value = r.json().await.unwrap();
                        versions.insert(v["model"].as_str().unwrap().to_string());
                        ok += 1;
                    }
                    Ok(r) => failed.push(r.status().to_string()),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (ok, failed, versions)
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let second = start_run(&admin, 10).await;
    // Meanwhile its heartbeats report the requests it is serving.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let neurons = admin.neurons().await.unwrap();
    let me = neurons
        .iter()
        .find(|n| &*n.id == "server-1")
        .unwrap()
        .clone();
    let (ok, failed, versions) = load.await.unwrap();
    assert!(failed.is_empty(), "failed requests: {failed:?}");
    assert!(
        versions.len() >= 3,
        "the model changed under load: {versions:?} ({ok} requests)"
    );
    assert!(
        versions
            .iter()
            .any(|v| v.starts_with(&format!("{second}."))),
        "{versions:?}"
    );

    assert_eq!(me.state, NeuronState::Healthy);
    let rps = me.rps.unwrap_or(0.0);
    assert!(
        rps > 20.0,
        "the agent's telemetry reports what it served: {rps} req/s"
    );
    assert!(
        me.latency_ms.is_some_and(|l| l > 0.0 && l < 100.0),
        "{:?}",
        me.latency_ms
    );
    eprintln!(
        "served {ok} predictions in 4 s under load ({rps:.0} req/s in its telemetry); versions {versions:?}"
    );
    // The stress tool's `predict` scenario finds the serving agent through the server and loads it.
    let backend: std::sync::Arc<dyn plexus::client::Backend> =
        std::sync::Arc::new(session(&engine, ADMIN).await);
    let mut p = plexus::stress::load_profile("smoke").expect("built in");
    p.scale_to(Duration::from_secs(2));
    let done = support::run_predict(backend, p, dir.path().join("predict")).await;
    assert!(done.summary.ok > 20, "{:?}", done.summary.ok);
    assert_eq!(done.summary.errors, 0, "{:?}", done.summary.codes);
    handle.shutdown();
}

/// A registration's serving address and labels are checked at the door: each bad one is a 400
/// naming the field, and nothing is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_registrations_are_refused_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let http = reqwest::Client::new();
    let many: Vec<(String, String)> = (0..17).map(|i| (format!("k{i}"), "v".into())).collect();
    let cases = [
        (serde_json::json!({"serve": "not an address"}), "serve"),
        (serde_json::json!({"serve": "localhost:80"}), "serve"),
        (serde_json::json!({"labels": many}), "17 labels"),
        (serde_json::json!({"labels": [["", "v"]]}), "key is empty"),
        (
            serde_json::json!({"labels": [["k", "a\u{1b}[31m"]]}),
            "control character",
        ),
        (serde_json::json!({"zone": "x".repeat(500)}), "zone"),
    ];
    for (extra, expected) in cases {
        let mut body = serde_json::json!({"id": "lab-1", "zone": "lab", "config_version": "v1"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = http
            .post(format!("{url}/api/v1/agents/register"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{body}");
        let text = r.text().await.unwrap();
        assert!(text.contains(expected), "{body}: {text}");
    }
    assert!(
        admin.neurons().await.unwrap().is_empty(),
        "nothing registered"
    );
    handle.shutdown();
}
