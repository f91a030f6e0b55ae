//! The gate through the `Backend` trait: every role × action, rate limits under concurrency and
//! across a restart, session expiry on virtual time, and one audit record per command.

use crate::support;

use std::sync::Arc;

use plexus::api::rbac::allowed;
use plexus::api::security::{AuditFilter, ExportFormat};
use plexus::api::{
    ApiError, AuditOutcome, AuditRecord, Command, ErrorCode, Fault, Permission, Query, Role, ask,
};
use plexus::client::{Backend, BackendExt};
use support::{ADMIN, engine, session, user_with_role};

fn is_denied<T>(result: &Result<T, ApiError>) -> bool {
    matches!(result, Err(e) if e.code == ErrorCode::Denied)
}

async fn audit(backend: &dyn Backend) -> Vec<AuditRecord> {
    backend
        .ask(ask::audit(AuditFilter::default()))
        .await
        .expect("admin reads the audit log")
}

/// One command per action that has one today (the others are covered by the matrix unit test).
fn commands(role: Role) -> Vec<Command> {
    vec![
        Command::Recover {
            neuron: "n-0001".into(),
        },
        Command::InjectFault {
            neuron: "n-0002".into(),
            fault: Fault::Slow {
                factor: 2.0,
                persistent: false,
            },
        },
        Command::ClearFaults {
            neuron: "n-0002".into(),
        },
        support::config_push("n-0003", true),
        Command::AddUser {
            name: format!("added-by-{role}"),
            role: Role::Viewer,
        },
        Command::IssueToken { name: ADMIN.into() },
        Command::ExportAudit {
            format: ExportFormat::Json,
            filter: AuditFilter::default(),
        },
    ]
}

fn queries() -> Vec<Query> {
    vec![
        Query::Status,
        Query::Neurons,
        Query::Logs {
            id: "n-0001".into(),
            tail: 5,
        },
        Query::Users,
        Query::Audit {
            filter: AuditFilter::default(),
        },
        Query::VerifyAudit,
    ]
}

#[tokio::test]
async fn every_role_and_action_is_decided_by_the_matrix_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 4);
    engine.advance(2_000).await.unwrap();
    let admin = session(&engine, ADMIN).await;
    for role in Role::ALL {
        let name = format!("u-{role}");
        let backend = user_with_role(&engine, &name, role).await;
        let before = audit(&admin).await.len();
        let mut expected_records = 0;
        for command in commands(role) {
            let action = command.action();
            let result = backend.submit(command.clone()).await;
            assert_eq!(
                is_denied(&result),
                !allowed(role, action),
                "{role} × {action}: {result:?}"
            );
            expected_records += 1;
        }
        for query in queries() {
            let action = query.action();
            let result = backend.query(query.clone()).await;
            assert_eq!(
                is_denied(&result),
                !allowed(role, action),
                "{role} × {action} (query)"
            );
            if !allowed(role, action) {
                expected_records += 1;
            }
        }
        let records = audit(&admin).await;
        let mine: Vec<&AuditRecord> = records[before..]
            .iter()
            .filter(|r| r.user == name)
            .collect();
        assert_eq!(
            mine.len(),
            expected_records,
            "{role}: one record per command and refusal"
        );
        for r in &mine {
            assert_eq!(r.role, role.as_str());
            assert!(r.source == "test" && r.session.starts_with("s-"));
            if r.outcome == AuditOutcome::Denied {
                assert_eq!(r.error_code.as_deref(), Some("denied"));
                assert!(r.message.as_deref().unwrap_or("").contains("may not"));
            }
        }
        let denied = mine
            .iter()
            .filter(|r| r.outcome == AuditOutcome::Denied)
            .count();
        let expected_denied = commands(role)
            .iter()
            .map(Command::action)
            .chain(queries().iter().map(Query::action))
            .filter(|a| !allowed(role, *a))
            .count();
        assert_eq!(denied, expected_denied, "{role}");
    }
    // The matrix really is enforced: a viewer is refused a push, an admin is not.
    assert!(!allowed(Role::Viewer, Permission::ConfigPush));
    assert!(allowed(Role::Admin, Permission::ConfigPush));
}

#[tokio::test]
async fn a_hundred_concurrent_pushes_admit_exactly_fifty_and_the_count_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 3);
    let ops = Arc::new(user_with_role(&engine, "ops", Role::Operator).await);
    let pushes = (0..100).map(|i| {
        let ops = ops.clone();
        tokio::spawn(async move {
            // Dry runs: every admitted push succeeds, only the limiter refuses.
            let _ = i;
            ops.submit(support::config_push("n-0001", true)).await
        })
    });
    let mut admitted = 0;
    let mut refused = Vec::new();
    for push in pushes {
        match push.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(e) if e.code == ErrorCode::Denied => refused.push(e.message),
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(admitted, 50);
    assert_eq!(refused.len(), 50);
    assert!(
        refused[0].contains("rate limit: at most 50 config.push per 60 min"),
        "{}",
        refused[0]
    );
    assert!(refused[0].contains("retry after"), "{}", refused[0]);
    // Another user has a budget of their own.
    let other = user_with_role(&engine, "ops2", Role::Operator).await;
    assert!(other.submit(support::config_push("", true)).await.is_ok());
    drop(ops);
    drop(other);
    engine.shutdown();

    let engine = support::engine(dir.path(), 3);
    let ops = session(&engine, "ops").await;
    let again = ops.submit(support::config_push("", true)).await;
    assert!(
        is_denied(&again),
        "the window survived the restart: {again:?}"
    );
    let admin = session(&engine, ADMIN).await;
    let pushes: Vec<AuditRecord> = audit(&admin)
        .await
        .into_iter()
        .filter(|r| r.action == "config.push" && r.user == "ops")
        .collect();
    assert_eq!(pushes.len(), 101);
    assert_eq!(
        pushes
            .iter()
            .filter(|r| r.outcome == AuditOutcome::Allowed)
            .count(),
        50
    );
}

#[tokio::test]
async fn an_idle_session_expires_and_a_new_one_works() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let ops = user_with_role(&engine, "ops", Role::Operator).await;
    engine.advance(59 * 60_000).await.unwrap();
    assert!(ops.status().await.is_ok(), "59 idle minutes are fine");
    engine.advance(60 * 60_000 + 1_000).await.unwrap();
    let expired = ops.status().await;
    assert!(
        matches!(&expired, Err(e) if e.code == ErrorCode::SessionExpired && e.code.exit_code() == 3)
    );
    assert!(
        expired
            .unwrap_err()
            .message
            .contains("expired after 60 min idle")
    );
    // Expired stays expired, commands included.
    assert!(matches!(ops.recover("n-0001").await, Err(e) if e.code == ErrorCode::SessionExpired));
    let fresh = ops.renew_session().await.expect("a new session");
    assert_eq!(fresh.user, "ops");
    assert!(ops.status().await.is_ok());
}

#[tokio::test]
async fn read_only_sessions_may_look_but_not_touch() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 2);
    let admin = plexus::client::Embedded::connect(engine.clone(), ADMIN, "test", true)
        .await
        .unwrap();
    assert!(admin.status().await.is_ok());
    let push = admin.submit(support::config_push("", false)).await;
    assert!(is_denied(&push));
    assert!(push.unwrap_err().message.contains("read-only"));
}

#[tokio::test]
async fn unknown_users_get_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 1);
    let err = plexus::client::Embedded::connect(engine.clone(), "mallory", "test", false)
        .await
        .err()
        .expect("refused");
    assert_eq!(err.code, ErrorCode::Denied);
}
