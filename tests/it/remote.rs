//! The remote backend against a real server: the same Backend over HTTP and WebSocket, and a
//! server restart that the client survives (it reconnects, opens a new session, resyncs).

use crate::support;

use std::time::Duration;

use plexus::api::{Command, CommandReply, ErrorCode, Role};
use plexus::client::{Backend, BackendExt, Remote};
use plexus::engine::Engine;
use support::{ADMIN, session};

async fn admin_token(engine: &Engine) -> String {
    support::token(&session(engine, ADMIN).await, ADMIN).await
}

use support::serve_on as serve;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_survives_a_server_restart_and_resyncs() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 3);
    let token = admin_token(&engine).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let handle = serve(&engine, listener);
    let url = format!("http://{address}");

    let remote = Remote::connect(&url, &token).await.expect("connects");
    assert_eq!(remote.info().user, ADMIN);
    let mut events = remote.subscribe();
    engine.advance(2_000).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(first.seq >= 1);
    assert_eq!(remote.status().await.unwrap().neurons.total, 3);

    // The server goes away…
    handle.shutdown();
    engine.shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let down = remote.status().await;
    assert_eq!(down.unwrap_err().code, ErrorCode::Unreachable);

    // …and comes back on the same address and data dir, with a different fleet size.
    let engine = support::engine(dir.path(), 5);
    let listener = std::net::TcpListener::bind(address).unwrap();
    let _handle = serve(&engine, listener);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Queries open a new session transparently.
    assert_eq!(remote.status().await.unwrap().neurons.total, 5);
    // The event stream reconnects and delivers the new server's events.
    engine.advance(2_000).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut registered = false;
    while tokio::time::Instant::now() < deadline && !registered {
        if let Ok(Ok(event)) = tokio::time::timeout(Duration::from_millis(500), events.recv()).await
        {
            registered |= matches!(
                event.event,
                plexus::api::Event::FleetRegistered { count: 5 }
            );
        }
    }
    assert!(registered, "the new server's events arrived after a resync");
    assert!(remote.info().mode.contains("connected"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_commands_go_through_the_same_gate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 2);
    let viewer = support::user_with_role(&engine, "vic", Role::Viewer).await;
    drop(viewer);
    let admin = session(&engine, ADMIN).await;
    let token = match admin
        .submit(Command::IssueToken { name: "vic".into() })
        .await
        .unwrap()
    {
        CommandReply::TokenIssued { token, .. } => token,
        other => panic!("{other:?}"),
    };
    let (url, _handle) = support::serve(&engine);
    let remote = Remote::connect(&url, &token).await.unwrap();
    let denied = remote.recover("n-0001").await.unwrap_err();
    assert_eq!(denied.code, ErrorCode::Denied);
    assert!(denied.message.contains("role viewer may not"));
    let bad = Remote::connect(&url, "plx_wrong").await.err().unwrap();
    assert_eq!(bad.code, ErrorCode::Unauthenticated);
    assert_eq!(bad.code.exit_code(), 3);
}

/// `plexus recover ID --connect URL` waits for the attempt it started — not the outcome of an
/// earlier automatic one — and numbers it within the failure episode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_over_connect_waits_for_its_own_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_configured(dir.path(), 4, false, |cfg| {
        cfg.heartbeat_ms = 200;
        cfg.recovery.attempt_timeout_ms = 2_000;
        cfg.recovery.backoff_base_ms = 100;
        cfg.recovery.max_attempts = 2;
    });
    let admin = session(&engine, ADMIN).await;
    let token = support::token(&admin, ADMIN).await;
    let (url, _handle) = support::serve(&engine);
    tokio::time::sleep(Duration::from_millis(600)).await;
    admin
        .submit(Command::InjectFault {
            neuron: "n-0002".into(),
            fault: plexus::api::Fault::Crash { persistent: true },
        })
        .await
        .unwrap();
    // Both automatic attempts fail and the episode escalates.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while admin.status().await.unwrap().recoveries.escalated == 0 {
        assert!(std::time::Instant::now() < deadline, "never escalated");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin
        .submit(Command::ClearFaults {
            neuron: "n-0002".into(),
        })
        .await
        .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
            .args(["--connect", &url, "recover", "n-0002", "--json"])
            .env("PLEXUS_TOKEN", token)
            .env_remove("PLEXUS_DATA_DIR")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect(&stderr);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(
        v["attempt"], 3,
        "numbered after the two automatic attempts: {v}"
    );
    assert_eq!(v["outcome"], "succeeded", "{v}");
    // It waited for the restart and the healthy heartbeats, not for an earlier attempt's end.
    assert!(v["took_ms"].as_u64().unwrap() >= 200, "{v}");
    engine.shutdown();
}
