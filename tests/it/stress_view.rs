//! The console's Stress view over a real run: a short smoke test started through the Backend
//! (embedded and remote), followed by its live progress, stopped through the gate, drawn.
//! One test per flow, each bounded (a few seconds of load, polls capped).

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use plexus::api::stress::{Progress, StressRequest};
use plexus::api::{CommandReply, ErrorCode, Role};
use plexus::client::{Backend, Remote};
use plexus::tui::app::{App, Msg};

fn smoke(seconds: f64) -> StressRequest {
    StressRequest {
        profile: "smoke".into(),
        duration_s: Some(seconds),
        neurons: Some(3),
        thresholds: vec!["p99 < 5s".into()],
    }
}

/// Poll `id` until it stops running (at most `limit`), keeping the last running snapshot.
async fn follow(b: &dyn Backend, id: &str, limit: Duration) -> (Option<Progress>, Progress) {
    let mut running = None;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let p = b.stress_status(id).await.expect("status answers");
        if !p.running() || tokio::time::Instant::now() > deadline {
            return (running, p);
        }
        if p.ok > 0 {
            running = Some(p);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn screen(progress: Progress) -> String {
    let mut app = App::new(plexus::tui::fixtures::info());
    app.update(Msg::Resize {
        width: 120,
        height: 40,
    });
    app.update(Msg::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char(':'),
    )));
    for c in "stress".chars() {
        app.update(Msg::Key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char(c),
        )));
    }
    app.update(Msg::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    )));
    app.update(Msg::Stress(Ok(progress)));
    support::screen_text(&app, 120, 40)
}

#[tokio::test]
async fn the_view_shows_the_numbers_of_a_real_embedded_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 2, false);
    let admin: Arc<dyn Backend> = Arc::new(support::session(&engine, support::ADMIN).await);
    let viewer = support::user_with_role(&engine, "vic", Role::Viewer).await;

    // The gate refuses a viewer before anything runs.
    let denied = viewer.stress_start(smoke(2.0)).await;
    assert_eq!(denied.map_err(|e| e.code), Err(ErrorCode::Denied));

    let started = admin.stress_start(smoke(3.0)).await.expect("admitted");
    let (running, done) = follow(admin.as_ref(), &started.test_id, Duration::from_secs(30)).await;
    assert_eq!(done.state, "finished", "{done:?}");
    let running = running.expect("seen running with answers");
    assert!(running.elapsed_s < done.elapsed_s);
    assert!(!running.phase.is_empty());

    // Every answered request is in the per-second series, once.
    let answered = done.ok + done.refused + done.errors;
    assert!(answered > 20, "{done:?}");
    let series: f64 = done.rps_series.iter().sum();
    assert_eq!(series as u64, answered, "{:?}", done.rps_series);
    assert!(done.rps_series.len() >= 3);
    // Both latencies were measured; the corrected one is never below the one from the send.
    assert!(done.send_latency_ms.p50 > 0.0);
    assert!(done.latency_ms.max >= done.send_latency_ms.max);
    // The profile's two thresholds and the request's one, judged on what ran.
    assert_eq!(done.verdicts.len(), 3, "{:?}", done.verdicts);
    assert!(done.verdicts.iter().all(|v| v.observed.is_some()));

    let text = screen(done.clone());
    assert!(text.contains(&done.id), "{text}");
    assert!(text.contains("finished"));
    assert!(text.contains(&format!("{:>9}", done.ok)), "{text}");
    assert!(text.contains("p99 < 5s"));

    let _ = std::fs::remove_dir_all(std::path::Path::new("test-results").join(&done.id));
    engine.shutdown();
}

#[tokio::test]
async fn a_remote_console_starts_follows_and_stops_a_test_on_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 2, false);
    let (base, handle) = support::serve(&engine);
    let admin = support::session(&engine, support::ADMIN).await;
    let token = support::token(&admin, support::ADMIN).await;
    let remote = Remote::connect(&base, &token).await.expect("connects");
    let bad = remote
        .stress_start(StressRequest {
            profile: "/etc/passwd".into(),
            ..smoke(1.0)
        })
        .await;
    assert_eq!(bad.map_err(|e| e.code), Err(ErrorCode::BadInput));
    let started = remote.stress_start(smoke(30.0)).await.expect("admitted");
    let mut seen = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let p = remote
            .stress_status(&started.test_id)
            .await
            .expect("status");
        if p.ok > 0 {
            seen = Some(p);
            break;
        }
    }
    let seen = seen.expect("answers within 5 s");
    assert_eq!(seen.state, "running");
    let reply = remote.stress_stop(&started.test_id).await.expect("stops");
    assert!(matches!(reply, CommandReply::StressStopping { .. }));
    let (_, done) = follow(&remote, &started.test_id, Duration::from_secs(20)).await;
    assert_eq!(done.state, "stopped");
    assert!(done.elapsed_s < 30.0);
    // The stop passed the gate and is in the audit log.
    let audit = admin
        .query(plexus::api::Query::Audit {
            filter: plexus::api::security::AuditFilter {
                action: Some("stress.stop".into()),
                ..Default::default()
            },
        })
        .await
        .expect("audit");
    assert!(format!("{audit:?}").contains(&started.test_id));

    let _ = std::fs::remove_dir_all(std::path::Path::new("test-results").join(&done.id));
    handle.shutdown();
    engine.shutdown();
}
