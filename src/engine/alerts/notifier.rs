//! Delivery, off the engine thread: the engine hands notifications over as effects (after their
//! log entry committed) and never waits on a network. A notifier thread with its own runtime
//! writes them to an NDJSON file, posts them to webhooks in Alertmanager's webhook format
//! (retried with exponential back-off), and pushes alert states to an Alertmanager's v2 API.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use crate::api::alert::{Alert, AlertState, Labels, Notification};
use crate::engine::clock::rfc3339;

/// Where notifications go (config.toml keys `alert_ndjson`, `alert_webhooks`, `alertmanager`;
/// `plexus serve --alertmanager URL`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SinkConfig {
    /// Append every notification as one JSON line.
    pub ndjson: Option<PathBuf>,
    /// POST every notification (Alertmanager webhook JSON) to each URL.
    pub webhooks: Vec<String>,
    /// Base URL of an Alertmanager: alerts are pushed to `{url}/api/v2/alerts`.
    pub alertmanager: Option<String>,
    /// Link back to Plexus put in `generatorURL` / `externalURL`.
    pub external_url: String,
}

impl SinkConfig {
    pub fn any(&self) -> bool {
        self.ndjson.is_some() || !self.webhooks.is_empty() || self.alertmanager.is_some()
    }
}

/// `generatorURL` when no external URL is configured (Alertmanager wants a URI there).
const DEFAULT_URL: &str = "http://127.0.0.1:7700/api/v1/alerts";

fn link(external_url: &str) -> &str {
    if external_url.is_empty() {
        DEFAULT_URL
    } else {
        external_url
    }
}

/// Attempts per delivery, and the first back-off (doubled after each failure).
const ATTEMPTS: u32 = 5;
const BACKOFF_MS: u64 = 200;

/// What the notifier thread is given.
pub enum Delivery {
    Notify(Vec<Notification>),
    /// Current firing and recently resolved alerts for the Alertmanager (re-sent periodically,
    /// as Prometheus does, so they do not time out there).
    Push(Vec<Alert>),
}

/// The handle the runner keeps; dropping it ends the thread once its queue is drained.
pub struct Notifier {
    queue: NotifyQueue,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Hands deliveries to the notifier thread without ever blocking.
#[derive(Clone)]
pub struct NotifyQueue(mpsc::SyncSender<Delivery>);

impl NotifyQueue {
    pub fn deliver(&self, delivery: Delivery) {
        if let Err(mpsc::TrySendError::Full(_)) = self.0.try_send(delivery) {
            eprintln!("plexus: alert notifier queue full; a notification was dropped");
        }
    }
}

/// Notifications waiting beyond this are dropped (with a message), never blocking the engine.
const QUEUE: usize = 4096;

impl Notifier {
    pub fn start(cfg: SinkConfig) -> std::io::Result<Notifier> {
        let (queue, rx) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("plexus-notifier".into())
            .spawn(move || run(cfg, rx))?;
        Ok(Notifier {
            queue: NotifyQueue(queue),
            thread: Some(thread),
        })
    }

    pub fn handle(&self) -> NotifyQueue {
        self.queue.clone()
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        // Closing the queue ends the thread after what is queued was delivered.
        let (dead, _) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.queue, NotifyQueue(dead)));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(cfg: SinkConfig, rx: mpsc::Receiver<Delivery>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("plexus: cannot start the alert notifier runtime");
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    while let Ok(delivery) = rx.recv() {
        rt.block_on(async {
            match delivery {
                Delivery::Notify(list) => {
                    for n in &list {
                        if let Some(path) = &cfg.ndjson
                            && let Err(e) = append_line(path, n)
                        {
                            eprintln!("plexus: alert NDJSON {}: {e}", path.display());
                        }
                        let body = webhook_body(n, &cfg.external_url);
                        for url in &cfg.webhooks {
                            post(&client, url, &body).await;
                        }
                    }
                }
                Delivery::Push(alerts) => {
                    if let Some(base) = &cfg.alertmanager {
                        let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
                        post(
                            &client,
                            &url,
                            &alertmanager_body(&alerts, &cfg.external_url),
                        )
                        .await;
                    }
                }
            }
        });
    }
}

fn append_line(path: &PathBuf, n: &Notification) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let line = serde_json::to_string(n).map_err(std::io::Error::other)?;
    writeln!(f, "{line}")
}

/// POST with retries; 4xx other than 429 is not retried (the body will not get better).
async fn post(client: &reqwest::Client, url: &str, body: &Value) {
    let mut backoff = BACKOFF_MS;
    for attempt in 1..=ATTEMPTS {
        let outcome = client.post(url).json(body).send().await;
        let retry = match &outcome {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => r.status().is_server_error() || r.status().as_u16() == 429,
            Err(_) => true,
        };
        if !retry || attempt == ATTEMPTS {
            let why = match outcome {
                Ok(r) => format!("HTTP {}", r.status()),
                Err(e) => e.to_string(),
            };
            eprintln!("plexus: alert delivery to {url} failed after {attempt} attempts: {why}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(backoff)).await;
        backoff *= 2;
    }
}

/// Alertmanager's zero time: "not ended".
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn ends_at(a: &Alert) -> String {
    match (a.state, a.resolved_at) {
        (AlertState::Resolved, Some(at)) => rfc3339(at),
        _ => ZERO_TIME.into(),
    }
}

fn common(alerts: &[Alert], pick: impl Fn(&Alert) -> &Labels) -> Labels {
    let mut out = alerts.first().map(|a| pick(a).clone()).unwrap_or_default();
    out.retain(|k, v| alerts.iter().all(|a| pick(a).get(k) == Some(v)));
    out
}

/// The body Alertmanager sends its webhook receivers (version 4).
pub fn webhook_body(n: &Notification, external_url: &str) -> Value {
    let alerts: Vec<Value> = n
        .alerts
        .iter()
        .map(|a| {
            json!({
                "status": if a.state == AlertState::Resolved { "resolved" } else { "firing" },
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": rfc3339(a.fired_at.unwrap_or(a.active_since)),
                "endsAt": ends_at(a),
                "generatorURL": link(external_url),
                "fingerprint": a.fingerprint,
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": 0,
        "status": n.status,
        "receiver": "plexus",
        "groupLabels": n.group_labels,
        "commonLabels": common(&n.alerts, |a| &a.labels),
        "commonAnnotations": common(&n.alerts, |a| &a.annotations),
        "externalURL": link(external_url),
        "alerts": alerts,
    })
}

/// `POST /api/v2/alerts` body: firing alerts without an end (we re-send them before
/// Alertmanager's resolve_timeout), resolved ones with their end.
pub fn alertmanager_body(alerts: &[Alert], external_url: &str) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                let mut v = json!({
                    "labels": a.labels,
                    "annotations": a.annotations,
                    "startsAt": rfc3339(a.fired_at.unwrap_or(a.active_since)),
                    "generatorURL": link(external_url),
                });
                if a.state == AlertState::Resolved {
                    v["endsAt"] = json!(ends_at(a));
                }
                v
            })
            .collect(),
    )
}
