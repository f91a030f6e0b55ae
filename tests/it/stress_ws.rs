//! The `subscribe` scenario against a real server on loopback: one WebSocket per request, timed
//! to its first frame; a bad token is refused; a crowd of subscribers is held and receives the
//! events the fleet produces. Bounded: 60 subscribers, a few hundred milliseconds of events.

use crate::support;

use std::time::Duration;

use plexus::api::{Command, ErrorCode, Fault};
use plexus::client::Backend;
use plexus::stress::ws::{Crowd, Events};

async fn admin_token(admin: &plexus::client::Embedded) -> String {
    support::token(admin, support::ADMIN).await
}

#[tokio::test]
async fn subscribers_are_timed_to_their_first_frame_and_a_crowd_receives_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 4, false);
    let (base, handle) = support::serve(&engine);
    let admin = support::session(&engine, support::ADMIN).await;
    let token = admin_token(&admin).await;

    let events = Events::new(&base, &token);
    assert!(events.url.starts_with("ws://127.0.0.1:"));
    events.first_frame(None).await.expect("hello arrives");
    let bad = Events::new(&base, "not-a-token").first_frame(None).await;
    assert_eq!(bad.map_err(|e| e.code), Err(ErrorCode::Unauthenticated));

    let crowd = Crowd::hold(&events, None, 60).await;
    assert_eq!(crowd.connected(), 60);
    // Make the fleet talk: a crash is detected, recovered and reported as events.
    admin
        .submit(Command::InjectFault {
            neuron: "n-0001".into(),
            fault: Fault::Crash { persistent: false },
        })
        .await
        .expect("fault injected");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let report = crowd.finish().await;
    assert_eq!((report.held, report.failed), (60, 0), "{report:?}");
    assert!(report.events_received >= 60, "{report:?}");
    assert_eq!(report.events_lost, 0);
    assert!(report.fanout_lag_ms.max > 0.0 && report.fanout_lag_ms.max < 2500.0);

    handle.shutdown();
    engine.shutdown();
}

#[test]
fn holding_subscribers_without_a_server_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "stress",
            "run",
            "smoke",
            "--duration",
            "1",
            "--subscribers",
            "5",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--subscribers"), "{stderr}");
}

const TWO_CROWDS: &str = r#"
name = "two-crowds"
neurons = 0
[[phases]]
name = "crowd"
duration = "1500ms"
arrival_rate = 20
subscribers = 20
[[phases]]
name = "few"
duration = "1500ms"
arrival_rate = 20
subscribers = 5
[[scenarios]]
name = "subscribe"
weight = 1
"#;

#[tokio::test]
async fn each_phase_holds_its_own_crowd_and_subscribe_requests_open_real_sockets() {
    use plexus::stress::job::{Plan, execute};
    use plexus::stress::profile::Profile;
    use plexus::stress::run::Live;
    use plexus::stress::target::HttpStatus;
    use std::sync::Arc;

    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 2, false);
    let (base, handle) = support::serve(&engine);
    let admin = support::session(&engine, support::ADMIN).await;
    let token = admin_token(&admin).await;
    let remote: Arc<dyn Backend> = Arc::new(
        plexus::client::Remote::connect(&base, &token)
            .await
            .expect("connects"),
    );
    let profile = Profile::parse("two-crowds.toml", TWO_CROWDS).expect("parses");
    let out = dir.path().join("results");
    let done = execute(
        remote,
        Plan {
            thresholds: Vec::new(),
            profile,
            seed: 1,
            out,
            target: base.clone(),
            http: Some(HttpStatus::new(&base, &token).expect("a good URL and token")),
            subscribers: 0,
        },
        "st-crowds",
        Live::new(
            "st-crowds",
            &Profile::parse("t", TWO_CROWDS).expect("parses"),
        ),
    )
    .await
    .expect("runs");
    let s = &done.summary;
    // Every subscribe request was a WebSocket that got its first frame.
    assert!(s.ok >= 50, "{:?}", s.metrics);
    assert_eq!(s.errors, 0, "{:?}", s.codes);
    let crowd = s.subscribers.as_ref().expect("a crowd was held");
    assert_eq!((crowd.wanted, crowd.held, crowd.failed), (20, 20, 0));
    let phases: Vec<(&str, usize, u64)> = crowd
        .phases
        .iter()
        .map(|h| (h.phase.as_str(), h.wanted, h.held))
        .collect();
    assert_eq!(phases, vec![("crowd", 20, 20), ("few", 5, 5)]);

    handle.shutdown();
    engine.shutdown();
}

#[test]
fn a_bad_subscriber_count_names_its_line_and_field() {
    let bad = TWO_CROWDS.replace("subscribers = 5", "subscribers = -5");
    let e = plexus::stress::profile::Profile::parse("two-crowds.toml", &bad)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("two-crowds.toml"), "{e}");
    assert!(e.contains("phases[1].subscribers"), "{e}");
    assert!(e.contains(":13"), "{e}");
}

#[test]
fn the_bench_profiles_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/profiles");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("benches/profiles") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("reads");
        let name = path.display().to_string();
        plexus::stress::profile::Profile::parse(&name, &text)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        n += 1;
    }
    assert!(n >= 3);
}

/// The lean status path (plexus::stress::http1) against a real server: every answer read, the
/// connections reused rather than one per request, and a wrong token refused, not an error.
#[tokio::test]
async fn the_flat_out_status_path_reuses_its_connections_and_reads_refusals() {
    use plexus::stress::target::HttpStatus;

    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 2, false);
    let (base, handle) = support::serve(&engine);
    let admin = support::session(&engine, support::ADMIN).await;
    let token = admin_token(&admin).await;
    let status = std::sync::Arc::new(HttpStatus::new(&base, &token).expect("good URL"));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let status = status.clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    status.get().await?;
                }
                Ok::<(), plexus::api::ApiError>(())
            })
        })
        .collect();
    for c in calls {
        c.await.expect("joins").expect("every status answered 200");
    }
    let idle = status.idle_connections();
    assert!(
        (1..=8).contains(&idle),
        "200 requests over {idle} connections"
    );
    let wrong = HttpStatus::new(&base, "not-a-token").expect("good URL");
    let e = wrong.get().await.expect_err("refused");
    assert_eq!(e.code, plexus::api::ErrorCode::Unauthenticated);
    handle.shutdown();
    engine.shutdown();
}
