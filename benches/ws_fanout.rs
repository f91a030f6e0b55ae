//! 500 concurrent WebSocket subscribers of a real `plexus serve` process (release build) each
//! receive every event while faults keep the fleet busy: events lost per subscriber (target 0),
//! delivery lag (event time → receipt, p99 target ≤ 100 ms), and the server's RSS at the start and
//! the end of the run. Run: `cargo build --release && cargo bench --bench ws_fanout -- [SECONDS]
//! [SUBSCRIBERS]` (defaults 30 s, 500).

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use std::process::{Command as Process, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use plexus::api::EventEnvelope;

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[derive(Default)]
struct Tally {
    received: u64,
    lost: u64,
    resyncs: u64,
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seconds = args.first().copied().unwrap_or(30);
    let subscribers = args.get(1).copied().unwrap_or(500) as usize;
    let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/plexus");
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("utf-8 path").to_string();
    let user = String::from_utf8(Process::new("id").arg("-un").output().expect("id").stdout)
        .expect("utf-8");
    let token = Process::new(bin)
        .args(["--data-dir", &data, "users", "token", user.trim()])
        .output()
        .expect("plexus users token");
    let token = String::from_utf8(token.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    let mut server = Process::new(bin)
        .args([
            "--data-dir",
            &data,
            "--neurons",
            "200",
            "--heartbeat-ms",
            "500",
            "serve",
            "--listen",
            "127.0.0.1:7792",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("plexus serve");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = "http://127.0.0.1:7792";

    let lag = Arc::new(Mutex::new(Histogram::<u64>::new(3).expect("histogram")));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..subscribers {
        let mut request = format!("{}/api/v1/events", base.replacen("http", "ws", 1))
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("subscribe");
        let (lag, tally, stop) = (lag.clone(), tally.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut last: Option<u64> = None;
            let (mut received, mut lost, mut resyncs) = (0u64, 0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(Some(Ok(Message::Text(text)))) =
                    tokio::time::timeout(Duration::from_millis(200), socket.next()).await
                else {
                    continue;
                };
                if let Ok(event) = serde_json::from_str::<EventEnvelope>(&text) {
                    let now = chrono::Utc::now();
                    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&event.at) {
                        let ms = (now - at.to_utc()).num_milliseconds().max(0) as u64;
                        let _ = lag.lock().expect("lag").record(ms);
                    }
                    if let Some(last) = last {
                        lost += event.seq.saturating_sub(last + 1);
                    }
                    last = Some(event.seq);
                    received += 1;
                } else if text.contains("\"resync\"") {
                    resyncs += 1;
                }
            }
            let mut t = tally.lock().expect("tally");
            t.received += received;
            t.lost += lost;
            t.resyncs += resyncs;
        }));
    }
    let rss_start = rss_mb(server.id());
    // Keep the fleet busy: crash a neuron every 100 ms (each crash: detection, recovery, events).
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut i = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        let body = serde_json::json!({
            "command": "inject_fault",
            "neuron": format!("n-{:04}", i % 200 + 1),
            "fault": {"kind": "crash", "persistent": false}
        });
        let _ = http
            .post(format!("{base}/api/v1/command"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        i += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_end = rss_mb(server.id());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for client in clients {
        let _ = client.await;
    }
    let _ = server.kill();
    let _ = server.wait();
    let t = tally.lock().expect("tally");
    let lag = lag.lock().expect("lag");
    println!(
        "{subscribers} subscribers over {seconds} s: {} events delivered ({:.0}/s), lost {} , resyncs {}; lag median {} ms, p99 {} ms, max {} ms; server RSS {rss_start:.0} MB at start, {rss_end:.0} MB at end",
        t.received,
        t.received as f64 / seconds as f64,
        t.lost,
        t.resyncs,
        lag.value_at_quantile(0.5),
        lag.value_at_quantile(0.99),
        lag.max()
    );
}
