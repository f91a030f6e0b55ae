//! Chaos on real agent processes: time to detect and time to recover for every fault kind — the
//! network ones on the engine's side of an agent's link, the neuron ones acted out by the agent's
//! supervisor and worker processes — median and p99 over 20 runs each, at a 500 ms heartbeat over
//! loopback (real time). `cargo bench --profile dev --bench agent_faults` (the figures are timers
//! and the network, not CPU: the release build adds only build time).
//!
//! Ten agents; each round faults four of them at once (under the health guard's 50% silence
//! ratio, so convictions are not paused as a fleet-wide outage). Detected: the engine's failure
//! event for the agent with the mode the recovery monitor matches to the kind, from injection;
//! the faults are then reverted, and recovered is healthy again, from the revert (a crashed or
//! hung worker is cured by the engine's own restart, usually before the revert). Polled every
//! 20 ms, so each figure is up to 20 ms late.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::{Command, CommandReply, Event, NeuronState, ask};
use plexus::client::BackendExt;
use plexus::client::{Backend, Embedded};
use plexus::experiment::monitor::detects;

const AGENTS: usize = 10;
const PER_ROUND: usize = 4;
const ROUNDS: usize = 5;

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let p99 = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
    (v[v.len() / 2], v[p99])
}

async fn states(admin: &Embedded) -> Vec<(String, NeuronState)> {
    match admin.ask(ask::neurons()).await {
        Ok(n) => n.iter().map(|n| (n.id.to_string(), n.state)).collect(),
        _ => Vec::new(),
    }
}

async fn all_healthy(admin: &Embedded, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let s = states(admin).await;
        if s.len() == AGENTS && s.iter().all(|(_, s)| *s == NeuronState::Healthy) {
            return;
        }
        assert!(Instant::now() < deadline, "agents not healthy: {s:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One round: fault `ids`, time each conviction, revert, time each return to healthy.
async fn round(
    admin: &Embedded,
    kind: ChaosKind,
    params: &ChaosParams,
    ids: &[String],
) -> (Vec<f64>, Vec<f64>) {
    let since = admin
        .ask(ask::recent_events(1))
        .await
        .ok()
        .and_then(|e| e.last().map(|e| e.seq))
        .unwrap_or(0);
    let mut faults = Vec::new();
    let injected = Instant::now();
    for id in ids {
        let spec = ChaosSpec {
            kind,
            target: Selector::One { neuron: id.clone() },
            duration_ms: None,
            params: params.clone(),
        };
        match admin.submit(Command::ChaosInject { spec }).await.unwrap() {
            CommandReply::ChaosInjected { fault } => faults.push(fault.id),
            other => panic!("{other:?}"),
        }
    }
    let mut detect = vec![None; ids.len()];
    while detect.iter().any(Option::is_none) {
        assert!(
            injected.elapsed() < Duration::from_secs(20),
            "{kind:?} not detected"
        );
        let events = admin
            .ask(ask::events_since(since))
            .await
            .unwrap_or_default();
        for (i, id) in ids.iter().enumerate() {
            let seen = events.iter().any(|e| {
                matches!(&e.event, Event::FailureDetected { neuron, mode, .. }
                    if neuron == id && detects(kind, *mode))
            });
            if detect[i].is_none() && seen {
                detect[i] = Some(injected.elapsed().as_secs_f64() * 1000.0);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reverted = Instant::now();
    for id in faults {
        admin.submit(Command::ChaosStop { id }).await.unwrap();
    }
    let mut recover = vec![None; ids.len()];
    while recover.iter().any(Option::is_none) {
        if reverted.elapsed() > Duration::from_secs(30) {
            for id in ids {
                let d = admin.neuron(id).await.unwrap();
                eprintln!(
                    "{id}: {:?}\n{:#?}\n{:#?}",
                    d.neuron.state, d.history, d.logs
                );
            }
            panic!("{kind:?} not recovered");
        }
        let s = states(admin).await;
        for (i, id) in ids.iter().enumerate() {
            if recover[i].is_none() && s.iter().any(|(n, s)| n == id && *s == NeuronState::Healthy)
            {
                recover[i] = Some(reverted.elapsed().as_secs_f64() * 1000.0);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (
        detect.into_iter().flatten().collect(),
        recover.into_iter().flatten().collect(),
    )
}

async fn figures() {
    let dir = tempfile::tempdir().unwrap();
    // Agents only: no simulated neuron, 500 ms heartbeat, real time.
    let engine = support::engine_on(dir.path(), 0, false);
    let admin = support::session(&engine, support::ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let ids: Vec<String> = (0..AGENTS).map(|i| format!("agent-{i:02}")).collect();
    let _agents = support::spawn_agents(&token, &url, ids.iter().cloned());
    all_healthy(&admin, Duration::from_secs(30)).await;
    let kinds = [
        (ChaosKind::Crash, ChaosParams::default()),
        (ChaosKind::Hang, ChaosParams::default()),
        (ChaosKind::Slow, ChaosParams::default()),
        (ChaosKind::AnalyticsFailure, ChaosParams::default()),
        (ChaosKind::Byzantine, ChaosParams::default()),
        (ChaosKind::ConfigFailure, ChaosParams::default()),
        (ChaosKind::IdentityFailure, ChaosParams::default()),
        (ChaosKind::Partition, ChaosParams::default()),
        (
            ChaosKind::PacketLoss,
            ChaosParams {
                loss: 1.0,
                ..ChaosParams::default()
            },
        ),
        (
            ChaosKind::Latency,
            ChaosParams {
                latency_ms: 3000.0,
                jitter_ms: 100.0,
                ..ChaosParams::default()
            },
        ),
    ];
    println!(
        "| fault on a real agent (500 ms heartbeat) | runs | detect median | detect p99 | recover median | recover p99 |"
    );
    println!("|---|---|---|---|---|---|");
    // `cargo bench --bench agent_faults -- crash,hang` measures only those kinds.
    let only: Option<Vec<String>> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.split(',').map(str::to_string).collect());
    for (kind, params) in kinds {
        if only
            .as_ref()
            .is_some_and(|o| !o.iter().any(|k| k == kind.name()))
        {
            continue;
        }
        let (mut detect, mut recover) = (Vec::new(), Vec::new());
        for r in 0..ROUNDS {
            let picked: Vec<String> = (0..PER_ROUND)
                .map(|i| ids[(r * PER_ROUND + i) % AGENTS].clone())
                .collect();
            let (d, rec) = round(&admin, kind, &params, &picked).await;
            detect.extend(d);
            recover.extend(rec);
            all_healthy(&admin, Duration::from_secs(30)).await;
        }
        let runs = detect.len();
        let (dm, dp) = percentiles(detect);
        let (rm, rp) = percentiles(recover);
        println!(
            "| {} | {runs} | {:.2} s | {:.2} s | {:.2} s | {:.2} s |",
            kind.name(),
            dm / 1000.0,
            dp / 1000.0,
            rm / 1000.0,
            rp / 1000.0
        );
    }
    handle.shutdown();
    engine.shutdown();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    support::block_on(figures());
}
