//! Federated learning with real agents: the round time of an engine-owned run whose clients are
//! 10 real agent processes (each training in its own worker, answering over its push channel)
//! and 90 simulated neurons, digits, Dirichlet 0.5, `round_ms: 0` (each round as soon as the last
//! answer is in), against the same run on 100 simulated neurons. Then the predict throughput of
//! one serving agent under the stress tool's `predict` scenario (closed, 32 workers, 5 s).
//! `cargo bench --bench fl_agents` (real time over loopback).

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use plexus::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState};
use plexus::api::{Command, CommandReply, NeuronState, ask};
use plexus::client::{Backend, BackendExt, Embedded};

const ROUNDS: u32 = 30;

async fn wait_healthy(admin: &Embedded, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = admin.neurons().await.unwrap();
        if n.iter().filter(|n| n.state == NeuronState::Healthy).count() == count {
            return;
        }
        assert!(Instant::now() < deadline, "fleet not healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A run's wall time per round (median, p99 over its rounds, from the round events' spacing).
async fn run(admin: &Embedded) -> (f64, f64, f64, u32) {
    let spec = FlRunSpec {
        rounds: ROUNDS,
        alpha: Some(0.5),
        round_ms: 0,
        ..FlRunSpec::default()
    };
    let id = match admin.submit(Command::FlStart { config: spec }).await {
        Ok(CommandReply::FlStarted { run }) => run.id,
        other => panic!("{other:?}"),
    };
    let started = Instant::now();
    let mut seen = 0;
    let mut stamps = Vec::new();
    loop {
        let d: FlRunDetail = admin.ask(ask::fl_run(&id)).await.unwrap();
        while seen < d.history.len() {
            seen += 1;
            stamps.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        if d.run.state != FlRunState::Running {
            let agents = d.history.last().map_or(0, |r| r.agents);
            let mut gaps: Vec<f64> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
            gaps.sort_by(f64::total_cmp);
            let p =
                |q: f64| gaps[((gaps.len() as f64 * q).ceil() as usize).clamp(1, gaps.len()) - 1];
            return (p(0.5), p(0.99), d.run.final_accuracy.unwrap_or(0.0), agents);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn figures() {
    // 10 agents + 90 simulated neurons.
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 90, false);
    let admin = support::session(&engine, support::ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let mut agents: Vec<(String, Vec<&str>)> = (0..10)
        .map(|i| (format!("learner-{i:02}"), Vec::new()))
        .collect();
    agents.push(("server-1".into(), vec!["--serve", "127.0.0.1:0"]));
    let _agents = support::spawn_agents_with(&token, &url, &agents);
    wait_healthy(&admin, 101).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (m, p99, acc, n) = run(&admin).await;
    println!(
        "FL round, 11 agents (one serving) + 90 simulated, round_ms 0: median {m:.1} ms, p99 {p99:.1} ms per round; {n} agent updates in the last round; final accuracy {:.1}%",
        acc * 100.0
    );

    // One serving agent loaded by the stress tool.
    let backend: Arc<dyn Backend> = Arc::new(support::session(&engine, support::ADMIN).await);
    let mut p = plexus::stress::load_profile("smoke").expect("built in");
    p.phases.truncate(1);
    p.phases[0].duration = Duration::from_secs(5);
    p.phases[0].concurrency = 32;
    p.thresholds.clear();
    let done = support::run_predict(backend, p, dir.path().join("predict")).await;
    let s = &done.summary;
    println!(
        "predict on one serving agent, 32 closed workers, 5 s: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        s.metrics.requests_per_sec, s.metrics.latency_ms.p50, s.metrics.latency_ms.p99, s.errors
    );
    handle.shutdown();
    engine.shutdown();

    // The same run on 100 simulated neurons, for comparison.
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 100, false);
    let admin = support::session(&engine, support::ADMIN).await;
    wait_healthy(&admin, 100).await;
    let (m, p99, acc, _) = run(&admin).await;
    println!(
        "FL round, 100 simulated, round_ms 0: median {m:.1} ms, p99 {p99:.1} ms per round; final accuracy {:.1}%",
        acc * 100.0
    );
    engine.shutdown();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    support::block_on(figures());
}
