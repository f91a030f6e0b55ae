//! Rollout figures. `cargo bench --bench rollout` prints:
//!  1. a config committed to 1,000 simulated neurons on the engine core (virtual time: the
//!     protocol's duration in engine time, and the wall time the engine spent computing it), at
//!     the default 50 ms tick and at a 10 ms tick;
//!  2. the same through the whole embedded engine (gate, audit, SQLite with synchronous=FULL and
//!     the durable decision), wall time from submit to committed;
//!  3. 100 real agent processes over loopback (real time), submit to committed.
//!
//! One wave, no canary, no health gate and no watch window: the figure is the protocol
//! (stage → vote → durable decision → commit → ack), not the waiting an operator chooses.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use plexus::api::rollout::{NeuronConfig, RolloutKind, RolloutPhase, WavePlan};
use plexus::api::{Command, CommandReply, ask};
use plexus::client::BackendExt;
use plexus::client::{Backend, Embedded};
use plexus::engine::config::{EngineConfig, LinkConfig};
use plexus::engine::rollout::Push;
use plexus::engine::testkit::SimRun;
use plexus::engine::{Engine, EngineOptions};
use plexus::neuron::{SimConfig, SimFleet};

fn one_wave() -> WavePlan {
    WavePlan {
        canary: 0,
        batch_size: 0,
        max_unavailable: 0,
        gate_ms: Some(0),
        watch_ms: Some(0),
    }
}

fn config(i: u32) -> NeuronConfig {
    NeuronConfig {
        batch_size: 16 + i,
        ..NeuronConfig::initial()
    }
}

fn median(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() - 1])
}

fn core_figure(tick_ms: u64, runs: u32) {
    let mut virt = Vec::new();
    let mut wall = Vec::new();
    for seed in 0..runs {
        let cfg = EngineConfig {
            heartbeat_ms: 1000,
            tick_ms,
            link: LinkConfig::default(),
            ..EngineConfig::default()
        };
        let mut run = SimRun::with_config(1000, cfg, seed as u64 + 1);
        run.run_for(3_000);
        let push = Push {
            kind: RolloutKind::Config,
            config: config(seed),
            selector: String::new(),
            expected: Some("v1".into()),
            dry_run: false,
            plan: one_wave(),
            experiment_ms: None,
            back_to: None,
        };
        let t = Instant::now();
        let start = run.now;
        run.push(push).expect("accepted");
        let end = run
            .run_until(10_000, |r| r.core.rollouts.active().is_none())
            .expect("finished");
        wall.push(t.elapsed().as_secs_f64() * 1000.0);
        let phase = run.core.rollouts.report(&run.core.registry).rollouts[0].phase;
        assert_eq!(phase, RolloutPhase::Committed);
        virt.push((end - start) as f64);
    }
    let (vm, vmax) = median(virt);
    let (wm, wmax) = median(wall);
    println!(
        "core, 1000 sim neurons, tick {tick_ms} ms, link 5±2 ms: engine time median {vm:.0} ms (max {vmax:.0}); wall median {wm:.1} ms (max {wmax:.1}) over {runs} runs"
    );
}

async fn wait_committed(admin: &Embedded, id: u64, real: bool) {
    loop {
        if let Ok(v) = admin.ask(ask::rollout(id)).await
            && v.summary.phase.is_final()
        {
            assert_eq!(v.summary.phase, RolloutPhase::Committed, "{:?}", v.summary);
            return;
        }
        if real {
            tokio::time::sleep(Duration::from_millis(2)).await;
        } else {
            admin.sleep(Duration::from_millis(10)).await;
        }
    }
}

fn push_command(i: u32, expected: &str) -> Command {
    Command::BroadcastConfig {
        config: Box::new(config(i)),
        selector: String::new(),
        expected_version: Some(expected.into()),
        dry_run: false,
        plan: one_wave(),
    }
}

/// `runs` config pushes one after the other, each timed from submit to committed (wall ms):
/// median and max.
async fn time_rollouts(admin: &Embedded, runs: u32, real: bool) -> (f64, f64) {
    let (wall, _) = time_rollouts_both(admin, runs, real).await;
    wall
}

/// As [`time_rollouts`], and the engine's own time for each rollout (`took_ms`): both as
/// (median, max).
async fn time_rollouts_both(admin: &Embedded, runs: u32, real: bool) -> ((f64, f64), (f64, f64)) {
    let (mut wall, mut engine) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let t = Instant::now();
        let id = started_id(
            admin
                .submit(push_command(i, &format!("v{}", i + 1)))
                .await
                .unwrap(),
        );
        wait_committed(admin, id, real).await;
        wall.push(t.elapsed().as_secs_f64() * 1000.0);
        let view = admin.ask(ask::rollout(id)).await.unwrap();
        engine.push(view.summary.took_ms.unwrap_or_default() as f64);
    }
    (median(wall), median(engine))
}

fn started_id(reply: CommandReply) -> u64 {
    match reply {
        CommandReply::RolloutStarted { rollout, .. } => rollout.id,
        other => panic!("{other:?}"),
    }
}

async fn engine_figure(runs: u32) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = EngineConfig {
        heartbeat_ms: 1000,
        tick_ms: 10,
        ..EngineConfig::default()
    };
    let fleet = SimFleet::new(&SimConfig {
        neurons: 1000,
        heartbeat_ms: 1000,
        seed: 1,
        ..SimConfig::default()
    });
    let engine = Engine::start(
        EngineOptions {
            config: cfg,
            seed: 1,
            data_dir: Some(dir.path().to_path_buf()),
            virtual_time: true,
            virtual_epoch_unix_ms: None,
            security: Default::default(),
            first_admin: "root".into(),
            ca_key: None,
        },
        Box::new(fleet),
    )
    .unwrap();
    let admin = Embedded::connect(engine.clone(), "root", "bench", false)
        .await
        .unwrap();
    admin.sleep(Duration::from_secs(3)).await;
    let (m, max) = time_rollouts(&admin, runs, false).await;
    println!(
        "embedded engine (store, fsync'd decision), 1000 sim neurons, tick 10 ms, virtual time: wall median {m:.1} ms (max {max:.1}) over {runs} runs"
    );
    engine.shutdown();
}

/// Real agent processes, with their push channel or (`push: false`) collecting commands in the
/// answers to their reports; the engine at its default 50 ms step.
async fn agents_figure(agents: usize, heartbeat_ms: u64, runs: u32, push: bool) {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_configured(dir.path(), 0, false, |c| {
        c.heartbeat_ms = heartbeat_ms;
    });
    let admin = support::session(&engine, support::ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let flags = if push { vec![] } else { vec!["--no-push"] };
    let ids: Vec<(String, Vec<&str>)> = (0..agents)
        .map(|i| (format!("agent-{i:03}"), flags.clone()))
        .collect();
    let _agents = support::spawn_agents_with(&token, &url, &ids);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let neurons = match admin.ask(ask::neurons()).await {
            Ok(n) => n,
            _ => continue,
        };
        let healthy = neurons
            .iter()
            .filter(|n| n.state == plexus::api::NeuronState::Healthy)
            .count();
        if healthy == agents {
            break;
        }
        assert!(Instant::now() < deadline, "only {healthy} agents healthy");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every channel bound (each agent's first report after connecting binds it).
    tokio::time::sleep(Duration::from_millis(2 * heartbeat_ms)).await;
    let ((m, max), (e, emax)) = time_rollouts_both(&admin, runs, true).await;
    let how = if push {
        "push channel"
    } else {
        "reports only (--no-push)"
    };
    println!(
        "{agents} real agents over loopback, {how}, heartbeat {heartbeat_ms} ms: engine time median {e:.0} ms (max {emax:.0}); submit to committed wall median {m:.0} ms (max {max:.0}) over {runs} runs"
    );
    handle.shutdown();
    engine.shutdown();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    core_figure(50, 21);
    core_figure(10, 21);
    support::block_on(async {
        engine_figure(11).await;
        // One agent: a rollout is two pushed round trips (stage → vote, commit → ack).
        agents_figure(1, 1000, 21, true).await;
        agents_figure(100, 1000, 5, true).await;
        agents_figure(100, 1000, 5, false).await;
    });
}
