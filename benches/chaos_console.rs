//! Detect and recover times as the console's Chaos view shows them, over 20 seeds on virtual
//! time (24 neurons, 500 ms heartbeat): a 3 s crash drill timed by the engine (the view shows its
//! record), and
//! the shipped single-crash experiment run by the console's runner. Prints median and p99.
//! `cargo bench --bench chaos_console`

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};
use plexus::api::Role;
use plexus::client::{Backend, Embedded};
use plexus::engine::config::EngineConfig;
use plexus::engine::{Engine, EngineOptions};
use plexus::neuron::{SimConfig, SimFleet};
use plexus::tui::app::{App, Effect, Msg};
use plexus::tui::screens::chaos::run as chaos_run;
use plexus::tui::{event_loop, fixtures};

const RUNS: u64 = 20;

fn engine(dir: &std::path::Path, seed: u64) -> Engine {
    let config = EngineConfig {
        heartbeat_ms: 500,
        ..EngineConfig::default()
    };
    let fleet = SimFleet::new(&SimConfig {
        neurons: 24,
        heartbeat_ms: 500,
        seed,
        ..SimConfig::default()
    });
    Engine::start(
        EngineOptions {
            config,
            seed,
            data_dir: Some(dir.to_path_buf()),
            virtual_time: true,
            virtual_epoch_unix_ms: None,
            security: Default::default(),
            first_admin: "root".into(),
            ca_key: None,
        },
        Box::new(fleet),
    )
    .expect("engine starts")
}

fn line(app: &mut App, text: &str) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char(':'))));
    for c in text.chars() {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char(c))));
    }
    app.update(Msg::Key(KeyEvent::from(KeyCode::Enter))).effect
}

fn console() -> App {
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(Role::Admin, false));
    app
}

/// (ttd, ttr) of a crash drill on a seeded random neuron, as the engine recorded it and the view
/// shows it.
async fn drill(seed: u64) -> Option<(u64, u64)> {
    let dir = tempfile::tempdir().ok()?;
    let engine = engine(dir.path(), seed);
    let ops = Embedded::connect(engine.clone(), "root", "bench", false)
        .await
        .ok()?;
    ops.sleep(Duration::from_secs(5)).await;
    let mut app = console();
    let Some(Effect::Submit(inject)) =
        line(&mut app, &format!("chaos inject crash random:1:{seed} 3s"))
    else {
        return None;
    };
    app.update(event_loop::submit(&ops, inject).await);
    // The console's polling cadence (fleet 4 Hz), bounded at 60 s of virtual time.
    for _ in 0..240 {
        app.update(chaos_run::fetch_chaos(&ops).await);
        if let Some(row) = app.screens.chaos.rows().first()
            && let (Some(d), Some(r)) = (row.detected_ms(), row.recovered_ms())
        {
            let at = row.view.injected_ms;
            engine.shutdown();
            return Some((d - at, r - at));
        }
        ops.sleep(Duration::from_millis(250)).await;
    }
    engine.shutdown();
    None
}

/// (ttd, ttr) of the single-crash experiment run by the console's runner.
async fn experiment(seed: u64) -> Option<(u64, u64)> {
    let dir = tempfile::tempdir().ok()?;
    let engine = engine(dir.path(), seed);
    let ops = Embedded::connect(engine.clone(), "root", "bench", false)
        .await
        .ok()?;
    ops.sleep(Duration::from_secs(5)).await;
    let mut app = console();
    let Some(Effect::RunExperiment(name)) = line(&mut app, "chaos run single-crash") else {
        return None;
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    chaos_run::run_experiment(&ops, &name, std::future::pending(), &tx).await;
    drop(tx);
    while let Some(msg) = rx.recv().await {
        app.update(msg);
    }
    engine.shutdown();
    let f = app.screens.chaos.experiment?.faults.first()?.clone();
    Some((f.time_to_detect_ms?, f.time_to_recover_ms?))
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn report(what: &str, samples: Vec<(u64, u64)>, missing: u64) {
    let (mut d, mut r): (Vec<u64>, Vec<u64>) = samples.into_iter().unzip();
    d.sort_unstable();
    r.sort_unstable();
    if d.is_empty() {
        println!("{what}: no run completed ({missing} missing)");
        return;
    }
    println!(
        "{what}: n={} missing={missing}  detect median {} ms p99 {} ms  recover median {} ms p99 {} ms",
        d.len(),
        pct(&d, 0.5),
        pct(&d, 0.99),
        pct(&r, 0.5),
        pct(&r, 0.99)
    );
}

#[tokio::main]
async fn main() {
    let (mut drills, mut experiments) = (Vec::new(), Vec::new());
    let (mut drill_missing, mut experiment_missing) = (0, 0);
    for seed in 1..=RUNS {
        match drill(seed).await {
            Some(s) => drills.push(s),
            None => drill_missing += 1,
        }
        match experiment(seed).await {
            Some(s) => experiments.push(s),
            None => experiment_missing += 1,
        }
    }
    report("crash drill (engine record)", drills, drill_missing);
    report(
        "single-crash experiment (console runner)",
        experiments,
        experiment_missing,
    );
}
