//! The audit chain: edits, deletions and swaps are caught at the right sequence number; retention
//! prunes exactly what is older than 90 days and verification still passes after it.

use crate::support;

use rusqlite::Connection;
use std::path::Path;
use std::process::Command as Process;

use plexus::api::{AuditOutcome, Command, Role};
use plexus::client::Backend;
use plexus::engine::audit::AuditEntry;
use plexus::engine::audit::verify::verify;
use plexus::engine::store::{SqliteStore, Store, StoreOp};
use support::{ADMIN, engine, session};

/// A store with `n` records written through the engine (users added by the admin).
async fn store_with_records(dir: &Path, n: usize) {
    let engine = engine(dir, 0);
    let admin = session(&engine, ADMIN).await;
    for i in 0..n {
        admin
            .submit(Command::AddUser {
                name: format!("user-{i}"),
                role: Role::Viewer,
            })
            .await
            .unwrap();
    }
    drop(admin);
    engine.shutdown();
}

fn open(dir: &Path) -> Connection {
    Connection::open(dir.join("plexus.db")).unwrap()
}

#[tokio::test]
async fn an_intact_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    store_with_records(dir.path(), 6).await;
    let report = verify(&open(dir.path())).unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.records, 6);
}

#[tokio::test]
async fn an_edited_record_is_caught_at_its_number() {
    let dir = tempfile::tempdir().unwrap();
    store_with_records(dir.path(), 6).await;
    let conn = open(dir.path());
    conn.execute("UPDATE audit SET target = 'someone-else' WHERE seq = 3", [])
        .unwrap();
    let report = verify(&conn).unwrap();
    assert!(!report.intact);
    assert_eq!(report.first_bad_seq, Some(3));
    assert!(report.problem.unwrap().contains("altered"));
}

#[tokio::test]
async fn a_deleted_record_is_caught_at_its_number() {
    let dir = tempfile::tempdir().unwrap();
    store_with_records(dir.path(), 6).await;
    let conn = open(dir.path());
    conn.execute("DELETE FROM audit WHERE seq = 4", []).unwrap();
    let report = verify(&conn).unwrap();
    assert_eq!(report.first_bad_seq, Some(4));
    assert!(report.problem.unwrap().contains("missing"));
}

#[tokio::test]
async fn swapped_records_are_caught_at_the_first_of_them() {
    let dir = tempfile::tempdir().unwrap();
    store_with_records(dir.path(), 6).await;
    let conn = open(dir.path());
    // Exchange everything but the sequence numbers of records 2 and 5.
    let columns = "at, at_text, user, role, session, source, action, target, params_digest, outcome, error_code, message, prev_hash, hash";
    conn.execute_batch(&format!(
        "CREATE TEMP TABLE a AS SELECT {columns} FROM audit WHERE seq = 2;
         CREATE TEMP TABLE b AS SELECT {columns} FROM audit WHERE seq = 5;
         DELETE FROM audit WHERE seq IN (2, 5);
         INSERT INTO audit (seq, {columns}) SELECT 2, * FROM b;
         INSERT INTO audit (seq, {columns}) SELECT 5, * FROM a;"
    ))
    .unwrap();
    let report = verify(&conn).unwrap();
    assert_eq!(report.first_bad_seq, Some(2), "{report:?}");
}

#[test]
fn the_cli_reports_a_broken_chain_with_exit_one() {
    // Real time here: records written on virtual time (2026-01-01) would be past retention.
    let dir = tempfile::tempdir().unwrap();
    let plexus = |args: &[&str]| cli(dir.path(), args);
    for name in ["a1", "a2", "a3"] {
        assert!(
            plexus(&["users", "add", name, "--role", "viewer"])
                .status
                .success()
        );
    }
    let run = || plexus(&["audit", "verify"]);
    let ok = run();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    open(dir.path())
        .execute("UPDATE audit SET outcome = 'denied' WHERE seq = 2", [])
        .unwrap();
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(text.contains("BROKEN at record 2"), "{text}");
}

/// The real binary on `dir`, without a simulated fleet.
fn cli(dir: &Path, args: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["--neurons", "0", "--data-dir"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn entry(at_unix_ms: i64, target: &str) -> AuditEntry {
    AuditEntry {
        at_unix_ms,
        user: "root".into(),
        role: "admin".into(),
        session: "s-1".into(),
        source: "test".into(),
        action: "users.add".into(),
        target: target.into(),
        params_digest: "0".repeat(64),
        outcome: AuditOutcome::Allowed,
        error_code: None,
        message: None,
    }
}

#[test]
fn retention_prunes_exactly_what_is_older_than_ninety_days_behind_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plexus.db");
    let now: i64 = 1_800_000_000_000;
    let day: i64 = 86_400_000;
    let mut store = SqliteStore::open(&path, now, "root").unwrap();
    let old = now - 90 * day - 1_000;
    let almost = now - 89 * day - 23 * 3_600_000;
    store
        .apply(&[
            StoreOp::Audit(entry(old - 5_000, "oldest")),
            StoreOp::Audit(entry(old, "ninety-days-and-a-second")),
            StoreOp::Audit(entry(almost, "eighty-nine-days-23-hours")),
            StoreOp::Audit(entry(now, "now")),
        ])
        .unwrap();
    store
        .apply(&[StoreOp::PruneAudit {
            now,
            retention_ms: 90 * day,
        }])
        .unwrap();
    let conn = store.connection();
    let kept: Vec<String> = conn
        .prepare("SELECT target FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kept, vec!["eighty-nine-days-23-hours", "now"]);
    let report = verify(conn).unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.checkpoint_seq, 2);
    // New records continue the chain from the checkpoint.
    store
        .apply(&[StoreOp::Audit(entry(now + 1, "later"))])
        .unwrap();
    let seq: i64 = store
        .connection()
        .query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seq, 5);
    assert!(verify(store.connection()).unwrap().intact);
    // Pruning everything still leaves a chain that verifies from the checkpoint.
    store
        .apply(&[StoreOp::PruneAudit {
            now: now + 1000 * day,
            retention_ms: 90 * day,
        }])
        .unwrap();
    let report = verify(store.connection()).unwrap();
    assert!(report.intact && report.records == 0 && report.checkpoint_seq == 5);
}

/// Deleting the newest records leaves a chain that verifies on its own; the signed head kept
/// outside the database catches it — through the real CLI.
#[test]
fn deleting_the_newest_records_and_editing_a_record_time_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let plexus = |args: &[&str]| cli(dir.path(), args);
    for name in ["t1", "t2", "t3", "t4"] {
        assert!(
            plexus(&["users", "add", name, "--role", "viewer"])
                .status
                .success()
        );
    }
    let verify = || {
        let out = plexus(&["audit", "verify", "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report)
    };
    let (code, report) = verify();
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["head_seq"], 4, "{report}");
    assert!(report["trust"].as_str().unwrap().contains("signed head"));

    // The record time is covered: the number retention reads must agree with the hashed text.
    let mut conn = open(dir.path());
    let original: i64 = conn
        .query_row("SELECT at FROM audit WHERE seq = 2", [], |r| r.get(0))
        .unwrap();
    conn.execute("UPDATE audit SET at = 0 WHERE seq = 2", [])
        .unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["first_bad_seq"], 2, "{report}");
    assert!(
        report["problem"]
            .as_str()
            .unwrap()
            .contains("time was altered")
    );
    // …and retention cannot be tricked by it into pruning the newer record before it.
    let first: i64 = conn
        .query_row("SELECT at FROM audit WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    let tx = conn.transaction().unwrap();
    // Retention that keeps record 1 and everything after it; record 2 now looks ancient.
    let removed = plexus::engine::audit::prune::prune(&tx, first, 0).unwrap();
    assert_eq!(
        removed, 0,
        "record 1 is newer than the retention: nothing is a prefix of old records"
    );
    tx.rollback().unwrap();
    conn.execute("UPDATE audit SET at = ?1 WHERE seq = 2", [original])
        .unwrap();
    assert_eq!(verify().0, Some(0));

    // Tail truncation: the last two records deleted.
    let conn = open(dir.path());
    conn.execute("DELETE FROM audit WHERE seq >= 3", [])
        .unwrap();
    let (code, report) = verify();
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report["problem"]
            .as_str()
            .unwrap()
            .contains("records 3 to 4 are missing"),
        "{report}"
    );
}
