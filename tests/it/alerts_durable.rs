//! Alerts through the real engine and store: a restart mid-incident keeps the firing alert and
//! sends nothing twice; acks and silences pass the gate and are audited; the NDJSON sink.

use crate::support;

use plexus::api::alert::{AlertState, Matcher, Notification};
use plexus::api::security::AuditFilter;
use plexus::api::{Command, CommandReply, ErrorCode, Fault, Role, ask};
use plexus::client::Backend;
use plexus::client::BackendExt;
use plexus::engine::Engine;
use support::{ADMIN, session, user_with_role};

fn ndjson_engine(dir: &std::path::Path, log: &std::path::Path) -> Engine {
    let log = log.to_path_buf();
    support::engine_with(dir, 12, move |cfg| {
        cfg.recovery.enabled = false;
        cfg.alerts.sinks.ndjson = Some(log);
    })
}

async fn alerts(b: &dyn Backend) -> plexus::api::alert::AlertsReport {
    b.ask(ask::alerts()).await.unwrap()
}

fn sent(log: &std::path::Path) -> Vec<Notification> {
    // The notifier writes off the engine thread: give it a moment (bounded).
    for _ in 0..100 {
        if log.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a notification"))
        .collect()
}

fn notifications_logged(dir: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(dir.join("plexus.db")).unwrap();
    plexus::engine::store::alerts::notifications_sent(&conn).unwrap()
}

#[tokio::test]
async fn a_restart_mid_incident_keeps_the_firing_alert_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("alerts.ndjson");
    let crash = Command::InjectFault {
        neuron: "n-0002".into(),
        fault: Fault::Crash { persistent: true },
    };
    let fingerprint = {
        let engine = ndjson_engine(dir.path(), &log);
        let admin = session(&engine, ADMIN).await;
        engine.advance(3_000).await.unwrap();
        admin.submit(crash.clone()).await.unwrap();
        engine.advance(45_000).await.unwrap();
        let report = alerts(&admin).await;
        let alert = report
            .active()
            .find(|a| a.rule == "NeuronOffline")
            .expect("the crashed neuron's alert fires")
            .clone();
        assert_eq!(alert.state, AlertState::Firing);
        engine.shutdown();
        alert.fingerprint
    };
    let before = sent(&log);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(notifications_logged(dir.path()), 1);

    // The neuron is still down while the engine restarts.
    let engine = ndjson_engine(dir.path(), &log);
    let admin = session(&engine, ADMIN).await;
    admin.submit(crash).await.unwrap();
    let report = alerts(&admin).await;
    let alert = report
        .active()
        .find(|a| a.fingerprint == fingerprint)
        .expect("the firing alert survived the restart");
    assert_eq!(alert.state, AlertState::Firing);
    engine.advance(400_000).await.unwrap();
    let report = alerts(&admin).await;
    assert!(
        report
            .active()
            .any(|a| a.fingerprint == fingerprint && a.state == AlertState::Firing)
    );
    engine.shutdown();
    assert_eq!(sent(&log).len(), 1, "no notification sent twice");
    assert_eq!(notifications_logged(dir.path()), 1);
}

#[tokio::test]
async fn acks_and_silences_pass_the_gate_and_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_with(dir.path(), 12, |cfg| cfg.recovery.enabled = false);
    let admin = session(&engine, ADMIN).await;
    engine.advance(3_000).await.unwrap();
    admin
        .submit(Command::InjectFault {
            neuron: "n-0005".into(),
            fault: Fault::Hang,
        })
        .await
        .unwrap();
    engine.advance(10_000).await.unwrap();
    let fp = alerts(&admin)
        .await
        .active()
        .find(|a| a.rule == "NeuronOffline")
        .expect("fires")
        .fingerprint
        .clone();

    let viewer = user_with_role(&engine, "vic", Role::Viewer).await;
    let denied = viewer
        .submit(Command::AlertAck {
            fingerprint: fp.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code, ErrorCode::Denied);
    let manager = user_with_role(&engine, "nina", Role::NeuronManager).await;
    let CommandReply::AlertAcked { alert } = manager
        .submit(Command::AlertAck {
            fingerprint: fp.clone(),
        })
        .await
        .unwrap()
    else {
        panic!("acked")
    };
    assert_eq!(alert.acked_by.as_deref(), Some("nina"));
    let silence = Command::SilenceCreate {
        matchers: Matcher::parse_list("alertname=NeuronOffline").unwrap(),
        duration_ms: 60_000,
        comment: "swap".into(),
    };
    let denied = manager.submit(silence.clone()).await.unwrap_err();
    assert_eq!(
        denied.code,
        ErrorCode::Denied,
        "neuron managers may not silence"
    );
    let bad = admin
        .submit(Command::AlertAck {
            fingerprint: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::NotFound);
    let CommandReply::SilenceCreated { silence: s } = admin.submit(silence).await.unwrap() else {
        panic!("created")
    };
    engine.advance(2_000).await.unwrap();
    let report = alerts(&admin).await;
    let a = report.active().find(|a| a.fingerprint == fp).unwrap();
    assert_eq!(a.silenced_by, vec![s.id.clone()]);
    assert_eq!(a.acked_by.as_deref(), Some("nina"));
    admin
        .submit(Command::SilenceExpire { id: s.id.clone() })
        .await
        .unwrap();
    let list = admin.ask(ask::silences()).await.unwrap();
    assert!(list.is_empty());

    let records = admin
        .ask(ask::audit(AuditFilter {
            action: Some("alert".into()),
            ..AuditFilter::default()
        }))
        .await
        .unwrap();
    let seen: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r.user.clone(),
                r.action.clone(),
                r.outcome.as_str().to_string(),
            )
        })
        .collect();
    let expect = [
        ("vic", "alert.ack", "denied"),
        ("nina", "alert.ack", "allowed"),
        ("nina", "alert.silence.create", "denied"),
        (ADMIN, "alert.ack", "failed"),
        (ADMIN, "alert.silence.create", "allowed"),
        (ADMIN, "alert.silence.expire", "allowed"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(u, a, o)| (u.to_string(), a.to_string(), o.to_string()))
        .collect();
    assert_eq!(seen, expect);
}
