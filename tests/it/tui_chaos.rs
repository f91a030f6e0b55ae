//! The Chaos view on a real virtual-time engine: a short experiment started through the
//! console's own path (`:chaos run` → the effect → the console's runner task) fills the view's
//! detect and recover times from what the engine really saw, and a drill injected with `:chaos
//! inject` shows up as a held fault that `x` stops through the gate.

use crate::support;

use crossterm::event::{KeyCode, KeyEvent};
use plexus::api::Role;
use plexus::experiment::Verdict;
use plexus::tui::app::{App, Effect, Msg, View};
use plexus::tui::screens::chaos::run as chaos_run;
use plexus::tui::{event_loop, fixtures};

fn line(app: &mut App, text: &str) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char(':'))));
    for c in text.chars() {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char(c))));
    }
    app.update(Msg::Key(KeyEvent::from(KeyCode::Enter))).effect
}

#[tokio::test]
async fn an_experiment_started_from_the_console_fills_detect_and_recover_times() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 24);
    let ops = support::session(&engine, support::ADMIN).await;
    plexus::client::Backend::sleep(&ops, std::time::Duration::from_secs(5)).await;

    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(Role::Admin, false));
    let Some(Effect::RunExperiment(name)) = line(&mut app, "chaos run single-crash") else {
        panic!("no run effect");
    };
    assert_eq!(app.view, View::Chaos);
    // A second run while this one is alive is refused in the console.
    assert_eq!(line(&mut app, "chaos run single-crash"), None);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    chaos_run::run_experiment(&ops, &name, std::future::pending(), &tx).await;
    drop(tx);
    let mut polls = 0;
    while let Some(msg) = rx.recv().await {
        polls += 1;
        app.update(msg);
    }
    app.update(chaos_run::fetch_chaos(&ops).await);
    engine.shutdown();

    assert!(polls > 10, "progress streamed poll by poll: {polls}");
    let p = app
        .screens
        .chaos
        .experiment
        .as_ref()
        .expect("progress arrived");
    assert_eq!(p.verdict, Some(Verdict::Ok), "{:?}", p.reasons);
    assert!(app.screens.chaos.running.is_none(), "the run is over");
    assert!(p.steps.iter().all(|s| s.fault.is_some()), "every step ran");
    assert!(
        p.probes
            .iter()
            .any(|s| s.phase == plexus::experiment::progress::Phase::After)
    );
    let rows = app.screens.chaos.rows();
    let row = rows
        .iter()
        .find(|r| r.record.is_some())
        .expect("the experiment's fault is listed with its record");
    let rec = row.record.unwrap();
    // A crash at a 500 ms heartbeat is convicted in well under 10 s, and the restart heals it.
    let ttd = rec.time_to_detect_ms.expect("detected");
    assert!(ttd > 0 && ttd < 10_000, "ttd {ttd}");
    assert!(rec.time_to_recover_ms.expect("recovered") >= ttd);
    let detected = row.detected_ms().unwrap();
    assert_eq!(
        detected,
        row.view.injected_ms + ttd,
        "placed on the engine's axis"
    );
    assert!(row.recovered_ms().unwrap() >= detected);
    println!(
        "single-crash from the console: detect {ttd} ms, recover {} ms",
        rec.time_to_recover_ms.unwrap()
    );
}

#[tokio::test]
async fn a_drill_from_the_palette_is_held_and_x_stops_it_through_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 8);
    let ops = support::session(&engine, support::ADMIN).await;
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(Role::Admin, false));
    let Some(Effect::Submit(inject)) = line(&mut app, "chaos inject hang n-0002 10m") else {
        panic!("no inject");
    };
    app.update(event_loop::submit(&ops, inject).await);
    app.update(chaos_run::fetch_chaos(&ops).await);
    assert_eq!(app.screens.chaos.faults.len(), 1);
    assert!(app.screens.chaos.faults[0].active());
    app.update(Msg::Key(KeyEvent::from(KeyCode::Char('x'))));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Tab)));
    let Some(Effect::Submit(stop)) = app.update(Msg::Key(KeyEvent::from(KeyCode::Enter))).effect
    else {
        panic!("no stop");
    };
    app.update(event_loop::submit(&ops, stop).await);
    app.update(chaos_run::fetch_chaos(&ops).await);
    engine.shutdown();
    let f = &app.screens.chaos.faults[0];
    assert_eq!((f.active(), f.reverted_by.as_str()), (false, "stopped"));
}

#[tokio::test]
async fn a_drill_outside_any_experiment_gets_detect_and_recover_times_too() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 8);
    let ops = support::session(&engine, support::ADMIN).await;
    plexus::client::Backend::sleep(&ops, std::time::Duration::from_secs(5)).await;
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(Role::Admin, false));
    let Some(Effect::Submit(inject)) = line(&mut app, "chaos inject crash n-0002 3s") else {
        panic!("no inject");
    };
    app.update(event_loop::submit(&ops, inject).await);
    // The console's polling, on virtual time: the engine's faults every 250 ms, at most 60 s.
    // Detection and recovery are the engine's record, carried in each fault's view.
    for _ in 0..240 {
        app.update(chaos_run::fetch_chaos(&ops).await);
        if app.screens.chaos.rows()[0].recovered_ms().is_some() {
            break;
        }
        plexus::client::Backend::sleep(&ops, std::time::Duration::from_millis(250)).await;
    }
    engine.shutdown();
    let rows = app.screens.chaos.rows();
    let row = &rows[0];
    let ttd = row.detected_ms().expect("the engine detected the crash") - row.view.injected_ms;
    assert!(ttd > 0 && ttd < 10_000, "ttd {ttd}");
    assert!(row.view.reverted_ms.is_some());
    assert!(
        row.view
            .detection
            .as_deref()
            .is_some_and(|d| d.contains("n-0002")),
        "{:?}",
        row.view.detection
    );
    let ttr = row.recovered_ms().expect("recovered") - row.view.injected_ms;
    assert!(ttr >= ttd, "{:?}", row.view);
    println!("crash drill recorded by the engine: detect {ttd} ms, recover {ttr} ms");
}

#[tokio::test]
async fn aborting_the_console_experiment_runs_its_rollbacks_and_shows_aborted() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 24);
    let ops = support::session(&engine, support::ADMIN).await;
    plexus::client::Backend::sleep(&ops, std::time::Duration::from_secs(5)).await;
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(Role::Admin, false));
    let Some(Effect::RunExperiment(name)) = line(&mut app, "chaos run cascading-failures") else {
        panic!("no run effect");
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Cancelled at once (as `x` → Abort does): the first step has run, the rest never do.
    chaos_run::run_experiment(&ops, &name, async {}, &tx).await;
    drop(tx);
    while let Some(msg) = rx.recv().await {
        app.update(msg);
    }
    app.update(chaos_run::fetch_chaos(&ops).await);
    engine.shutdown();
    let p = app
        .screens
        .chaos
        .experiment
        .as_ref()
        .expect("progress arrived");
    assert_eq!(p.verdict, Some(Verdict::Aborted));
    assert!(app.screens.chaos.running.is_none());
    assert!(!p.rollbacks.is_empty(), "rollbacks ran: {:?}", p.reasons);
    assert!(
        p.steps.iter().any(|s| s.fault.is_none()),
        "later steps never ran"
    );
    assert!(
        app.screens.chaos.faults.iter().all(|f| !f.active()),
        "nothing is left held: {:?}",
        app.screens.chaos.faults
    );
}
