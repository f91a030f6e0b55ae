//! Sinks against real receivers on 127.0.0.1: a webhook that fails once (retried with back-off;
//! Alertmanager's webhook JSON), and a real Alertmanager (Debian's `prometheus-alertmanager`):
//! a firing alert appears in its v2 API and resolves there.

use crate::support;

use std::process::{Child, Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use plexus::api::{Command, Fault};
use plexus::client::Backend;
use serde_json::Value;
use support::{ADMIN, session};

/// Poll `check` every 50 ms for at most `limit` of real time (a receiver on another thread).
async fn eventually<T>(limit: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

type Seen = Arc<Mutex<Vec<Value>>>;

async fn flaky_receiver(State(seen): State<Seen>, Json(body): Json<Value>) -> StatusCode {
    let mut seen = seen.lock().unwrap();
    seen.push(body);
    // The first delivery fails: the notifier must retry.
    if seen.len() == 1 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_gets_alertmanagers_format_and_a_retry_after_a_failure() {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(flaky_receiver))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_with(dir.path(), 12, |cfg| {
        cfg.recovery.enabled = false;
        cfg.alerts.sinks.webhooks = vec![url];
    });
    let admin = session(&engine, ADMIN).await;
    engine.advance(3_000).await.unwrap();
    admin
        .submit(Command::InjectFault {
            neuron: "n-0007".into(),
            fault: Fault::Hang,
        })
        .await
        .unwrap();
    engine.advance(40_000).await.unwrap();
    let bodies = eventually(Duration::from_secs(10), async || {
        let s = seen.lock().unwrap();
        (s.len() >= 2).then(|| s.clone())
    })
    .await
    .expect("the webhook was called twice (one failure, one retry)");
    assert_eq!(
        bodies[0], bodies[1],
        "the retry carries the same notification"
    );
    let body = &bodies[1];
    assert_eq!(body["version"], "4");
    assert_eq!(body["status"], "firing");
    assert_eq!(body["groupLabels"]["alertname"], "NeuronOffline");
    assert_eq!(body["alerts"][0]["labels"]["neuron"], "n-0007");
    assert_eq!(body["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert!(
        body["alerts"][0]["startsAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    engine.shutdown();
}

/// The Alertmanager binary, if installed.
fn alertmanager_binary() -> Option<&'static str> {
    ["prometheus-alertmanager", "alertmanager"]
        .into_iter()
        .find(|b| {
            Process::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        })
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Alerts Alertmanager holds as active for `neuron`.
async fn active_for(client: &reqwest::Client, base: &str, neuron: &str) -> Vec<Value> {
    let Ok(r) = client.get(format!("{base}/api/v2/alerts")).send().await else {
        return Vec::new();
    };
    let list: Vec<Value> = r.json().await.unwrap_or_default();
    list.into_iter()
        .filter(|a| a["labels"]["neuron"] == neuron && a["status"]["state"] == "active")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_alert_appears_in_a_real_alertmanager_and_resolves_there() {
    let Some(binary) = alertmanager_binary() else {
        if std::env::var_os("PLEXUS_REQUIRE_ALERTMANAGER").is_some() {
            panic!("PLEXUS_REQUIRE_ALERTMANAGER is set but no alertmanager binary is installed");
        }
        eprintln!(
            "\n*** SKIPPED: no prometheus-alertmanager/alertmanager binary; \
             apt-get install -y prometheus-alertmanager to run this test ***\n"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("am.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n",
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Process::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("alertmanager starts");
    let _am = Killed(child);
    let client = reqwest::Client::new();
    eventually(Duration::from_secs(20), async || {
        let r = client.get(format!("{base}/-/ready")).send().await.ok()?;
        r.status().is_success().then_some(())
    })
    .await
    .expect("alertmanager becomes ready");

    let store = tempfile::tempdir().unwrap();
    let am = base.clone();
    let engine = support::engine_with(store.path(), 12, move |cfg| {
        cfg.recovery.enabled = false;
        cfg.alerts.sinks.alertmanager = Some(am);
    });
    let admin = session(&engine, ADMIN).await;
    engine.advance(3_000).await.unwrap();
    admin
        .submit(Command::InjectFault {
            neuron: "n-0004".into(),
            fault: Fault::Hang,
        })
        .await
        .unwrap();
    engine.advance(10_000).await.unwrap();
    let firing = eventually(Duration::from_secs(10), async || {
        let list = active_for(&client, &base, "n-0004").await;
        (!list.is_empty()).then_some(list)
    })
    .await
    .expect("the firing alert appears in Alertmanager");
    assert_eq!(firing[0]["labels"]["alertname"], "NeuronOffline");
    assert_eq!(firing[0]["labels"]["severity"], "critical");
    assert!(
        firing[0]["annotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("n-0004")
    );

    admin
        .submit(Command::ClearFaults {
            neuron: "n-0004".into(),
        })
        .await
        .unwrap();
    engine.advance(5_000).await.unwrap();
    eventually(Duration::from_secs(10), async || {
        active_for(&client, &base, "n-0004")
            .await
            .is_empty()
            .then_some(())
    })
    .await
    .expect("the resolved alert leaves Alertmanager's active alerts");
    engine.shutdown();
}
