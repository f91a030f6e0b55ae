//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, so an acknowledged
//! transaction survives a crash or power loss.

use rusqlite::{Connection, params};
use std::path::Path;

use super::{Store, StoreError, StoreInit, StoreOp};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS neurons (
    id TEXT PRIMARY KEY, zone TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL,
    config_version TEXT NOT NULL, registered_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    state_at INTEGER);
CREATE TABLE IF NOT EXISTS state_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, neuron TEXT NOT NULL, at INTEGER NOT NULL,
    from_state TEXT NOT NULL, to_state TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS state_changes_neuron ON state_changes(neuron, seq);
CREATE TABLE IF NOT EXISTS failures (
    id INTEGER PRIMARY KEY, neuron TEXT NOT NULL, mode TEXT NOT NULL, since INTEGER NOT NULL,
    evidence TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, escalated INTEGER NOT NULL DEFAULT 0,
    resolved_at INTEGER, resolution TEXT);
CREATE TABLE IF NOT EXISTS recovery_attempts (
    id INTEGER PRIMARY KEY, failure_id INTEGER NOT NULL, neuron TEXT NOT NULL, attempt INTEGER NOT NULL,
    strategy TEXT NOT NULL, manual INTEGER NOT NULL, started_at INTEGER NOT NULL,
    finished_at INTEGER, outcome TEXT NOT NULL DEFAULT 'in_progress');
CREATE TABLE IF NOT EXISTS escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, failure_id INTEGER NOT NULL, neuron TEXT NOT NULL,
    at INTEGER NOT NULL, attempts INTEGER NOT NULL);
";

pub struct SqliteStore {
    conn: Connection,
    path: String,
    init: StoreInit,
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path`; `:memory:` for tests. Failures and
    /// attempts an earlier run left open are closed as interrupted: the fleet they were about
    /// is gone with that run.
    pub fn open(path: &Path, now_unix_ms: i64) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let err = |e: rusqlite::Error| StoreError {
            path: shown.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.execute(
            "UPDATE failures SET resolved_at = ?1, resolution = 'engine restarted' WHERE resolved_at IS NULL",
            params![now_unix_ms],
        )
        .map_err(err)?;
        conn.execute(
            "UPDATE recovery_attempts SET finished_at = ?1, outcome = 'interrupted' WHERE outcome = 'in_progress'",
            params![now_unix_ms],
        )
        .map_err(err)?;
        let next = |table: &str| -> Result<u64, rusqlite::Error> {
            conn.query_row(
                &format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|v| v as u64)
        };
        let init = StoreInit {
            next_failure_id: next("failures").map_err(err)?,
            next_attempt_id: next("recovery_attempts").map_err(err)?,
        };
        Ok(SqliteStore {
            conn,
            path: shown,
            init,
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn apply_one(tx: &rusqlite::Transaction<'_>, op: &StoreOp) -> rusqlite::Result<()> {
        match op {
            StoreOp::UpsertNeuron {
                id,
                zone,
                kind,
                labels_json,
                config_version,
                registered_at,
            } => tx.execute(
                "INSERT INTO neurons (id, zone, kind, labels, config_version, registered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(id) DO UPDATE SET zone = ?2, kind = ?3, labels = ?4,
                   config_version = ?5, registered_at = ?6, state = 'pending', state_at = NULL",
                params![id, zone, kind, labels_json, config_version, registered_at],
            )?,
            StoreOp::StateChange {
                neuron,
                at,
                from,
                to,
                reason,
            } => {
                tx.execute(
                    "INSERT INTO state_changes (neuron, at, from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![neuron, at, from, to, reason],
                )?;
                tx.execute(
                    "UPDATE neurons SET state = ?2, state_at = ?3 WHERE id = ?1",
                    params![neuron, to, at],
                )?
            }
            StoreOp::FailureOpened {
                failure_id,
                neuron,
                mode,
                since,
                evidence,
            } => tx.execute(
                "INSERT INTO failures (id, neuron, mode, since, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![*failure_id as i64, neuron, mode.as_str(), since, evidence],
            )?,
            StoreOp::FailureUpdated {
                failure_id,
                attempts,
                escalated,
                resolved_at,
            } => tx.execute(
                "UPDATE failures SET attempts = ?2, escalated = ?3, resolved_at = ?4,
                   resolution = CASE WHEN ?4 IS NULL THEN NULL ELSE 'recovered' END WHERE id = ?1",
                params![*failure_id as i64, attempts, escalated, resolved_at],
            )?,
            StoreOp::AttemptStarted {
                attempt_id,
                failure_id,
                neuron,
                attempt,
                strategy,
                manual,
                started_at,
            } => tx.execute(
                "INSERT INTO recovery_attempts (id, failure_id, neuron, attempt, strategy, manual, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    *attempt_id as i64,
                    *failure_id as i64,
                    neuron,
                    attempt,
                    strategy,
                    manual,
                    started_at
                ],
            )?,
            StoreOp::AttemptFinished {
                attempt_id,
                finished_at,
                outcome,
            } => tx.execute(
                "UPDATE recovery_attempts SET finished_at = ?2, outcome = ?3 WHERE id = ?1",
                params![*attempt_id as i64, finished_at, outcome],
            )?,
            StoreOp::Escalated {
                failure_id,
                neuron,
                at,
                attempts,
            } => tx.execute(
                "INSERT INTO escalations (failure_id, neuron, at, attempts) VALUES (?1, ?2, ?3, ?4)",
                params![*failure_id as i64, neuron, at, attempts],
            )?,
        };
        Ok(())
    }
}

impl Store for SqliteStore {
    fn apply(&mut self, batch: &[StoreOp]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = move |e: rusqlite::Error| StoreError {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self.conn.transaction().map_err(&err)?;
        for op in batch {
            Self::apply_one(&tx, op).map_err(&err)?;
        }
        tx.commit().map_err(&err)
    }

    fn init(&self) -> StoreInit {
        self.init
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::FailureMode;

    #[test]
    fn a_reopened_store_continues_ids_and_closes_what_the_last_run_left_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plexus.db");
        let mut store = SqliteStore::open(&path, 0).unwrap();
        assert_eq!(store.init().next_failure_id, 1);
        store
            .apply(&[StoreOp::FailureOpened {
                failure_id: 1,
                neuron: "n-0001".into(),
                mode: FailureMode::Offline,
                since: 10,
                evidence: "silent".into(),
            }])
            .unwrap();
        drop(store);
        let store = SqliteStore::open(&path, 99).unwrap();
        assert_eq!(store.init().next_failure_id, 2);
        let resolution: String = store
            .connection()
            .query_row("SELECT resolution FROM failures WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(resolution, "engine restarted");
        let mode: String = store
            .connection()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
