//! The embedded store: SQLite in WAL mode with `synchronous=FULL`, so an acknowledged
//! transaction survives a crash or power loss.

use rusqlite::{Connection, TransactionBehavior, params};
use std::path::Path;

use super::{Store, StoreError, StoreInit, StoreOp, StoredUser};
use crate::api::{AuditOutcome, AuditRecord};
use crate::engine::audit::{GENESIS, prune::prune};

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
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, created INTEGER NOT NULL, token_hash TEXT);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, started INTEGER NOT NULL, source TEXT NOT NULL,
    read_only INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rate_admissions (
    user TEXT NOT NULL, action TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rate_admissions_at ON rate_admissions(at);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, at_text TEXT NOT NULL, user TEXT NOT NULL,
    role TEXT NOT NULL, session TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, params_digest TEXT NOT NULL, outcome TEXT NOT NULL, error_code TEXT,
    message TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE TABLE IF NOT EXISTS audit_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL, at INTEGER NOT NULL);
";

/// Session rows older than this are dropped at start.
const SESSION_ROWS_KEPT_MS: i64 = 7 * 24 * 3_600_000;

/// Rate-limit admissions older than this are dropped at start (longer than any window).
const ADMISSIONS_KEPT_MS: i64 = 7 * 24 * 3_600_000;

/// The checkpoint left by pruning: the last pruned record's sequence number and hash.
pub fn checkpoint(conn: &Connection) -> rusqlite::Result<Option<(u64, String)>> {
    conn.query_row(
        "SELECT seq, hash FROM audit_checkpoint WHERE id = 1",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
    )
    .map(Some)
    .or_else(|e| match e {
        rusqlite::Error::QueryReturnedNoRows => Ok(None),
        other => Err(other),
    })
}

/// Audit records in sequence order; `filter` is a SQL condition on the audit table (with `?`
/// placeholders bound to `args`), or empty for all.
pub fn audit_rows(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Vec<AuditRecord>> {
    let condition = if filter.is_empty() {
        String::new()
    } else {
        format!("WHERE {filter}")
    };
    let sql = format!(
        "SELECT seq, at_text, user, role, session, source, action, target, params_digest, outcome,
                error_code, message, prev_hash, hash FROM audit {condition} ORDER BY seq"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, |r| {
        let outcome: String = r.get(9)?;
        Ok(AuditRecord {
            seq: r.get::<_, i64>(0)? as u64,
            at: r.get(1)?,
            user: r.get(2)?,
            role: r.get(3)?,
            session: r.get(4)?,
            source: r.get(5)?,
            action: r.get(6)?,
            target: r.get(7)?,
            params_digest: r.get(8)?,
            outcome: match outcome.as_str() {
                "allowed" => AuditOutcome::Allowed,
                "denied" => AuditOutcome::Denied,
                _ => AuditOutcome::Failed,
            },
            error_code: r.get(10)?,
            message: r.get(11)?,
            prev_hash: r.get(12)?,
            hash: r.get(13)?,
        })
    })?;
    rows.collect()
}

/// Run one statement, prepared once per connection (a fleet's worth of rows in one batch
/// would otherwise re-parse the same SQL every time).
fn exec<P: rusqlite::Params>(
    tx: &rusqlite::Transaction<'_>,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

/// The end of the chain a new record links to.
fn chain_head(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<(u64, String)> {
    let last = tx.query_row(
        "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
    );
    match last {
        Ok(head) => Ok(head),
        Err(rusqlite::Error::QueryReturnedNoRows) => {
            Ok(checkpoint(tx)?.unwrap_or((0, GENESIS.to_string())))
        }
        Err(e) => Err(e),
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

pub fn load_users(conn: &Connection) -> rusqlite::Result<Vec<StoredUser>> {
    let mut stmt =
        conn.prepare("SELECT name, role, created, token_hash, agent_of FROM users ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok(StoredUser {
            name: r.get(0)?,
            role: r.get(1)?,
            created_unix_ms: r.get(2)?,
            token_hash: r.get(3)?,
            agent_of: r.get(4)?,
        })
    })?;
    rows.collect()
}

fn load_admissions(conn: &Connection) -> rusqlite::Result<Vec<(String, String, i64)>> {
    let mut stmt = conn.prepare("SELECT user, action, at FROM rate_admissions ORDER BY at")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

pub struct SqliteStore {
    conn: Connection,
    path: String,
    init: StoreInit,
    /// The audit head kept outside the database (stores in a data dir).
    head: Option<crate::engine::audit::head::HeadFile>,
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path`; a `file:…?mode=memory&cache=shared` URI
    /// for tests. Failures and attempts an earlier run left open are closed as interrupted: the
    /// fleet they were about is gone with that run. On first use `first_admin` becomes Admin.
    pub fn open(path: &Path, now_unix_ms: i64, first_admin: &str) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        let err = |e: rusqlite::Error| StoreError {
            path: shown.clone(),
            message: e.to_string(),
        };
        let conn = open_connection(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        conn.execute_batch(super::rollouts::SCHEMA).map_err(err)?;
        conn.execute_batch(super::alerts::SCHEMA).map_err(err)?;
        conn.execute_batch(super::chaos::SCHEMA).map_err(err)?;
        conn.execute_batch(super::pins::SCHEMA).map_err(err)?;
        conn.execute_batch(super::invites::SCHEMA).map_err(err)?;
        super::invites::migrate(&conn).map_err(err)?;
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
        // Session rows are a record of who was connected, not a way in (sessions live in the
        // engine that opened them): rows of sessions opened a week ago or more are dropped.
        conn.execute(
            "DELETE FROM sessions WHERE started < ?1",
            params![now_unix_ms - SESSION_ROWS_KEPT_MS],
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
        let users: i64 = conn
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .map_err(err)?;
        if users == 0 {
            conn.execute(
                "INSERT INTO users (name, role, created) VALUES (?1, 'admin', ?2)",
                params![first_admin, now_unix_ms],
            )
            .map_err(err)?;
        }
        conn.execute(
            "DELETE FROM rate_admissions WHERE at < ?1",
            params![now_unix_ms - ADMISSIONS_KEPT_MS],
        )
        .map_err(err)?;
        let (chaos_held, chaos_last) = super::chaos::load(&conn).map_err(err)?;
        let init = StoreInit {
            chaos_held,
            chaos_last,
            next_failure_id: next("failures").map_err(err)?,
            next_attempt_id: next("recovery_attempts").map_err(err)?,
            users: load_users(&conn).map_err(err)?,
            admissions: load_admissions(&conn).map_err(err)?,
            rollouts: super::rollouts::load(&conn).map_err(err)?,
            neuron_versions: super::rollouts::neuron_versions(&conn).map_err(err)?,
            alerts: super::alerts::load(&conn).map_err(err)?,
            ca_secret: None,
            agent_pins: super::pins::load(&conn).map_err(err)?,
            invites: super::invites::load(&conn, now_unix_ms).map_err(err)?,
        };
        Ok(SqliteStore {
            conn,
            path: shown,
            init,
            head: None,
        })
    }

    /// Keep the audit head in `head` after every batch that appends to the log.
    pub fn with_head(mut self, head: crate::engine::audit::head::HeadFile) -> Self {
        self.head = Some(head);
        self
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A second connection for reads (WAL lets it read while the writer writes).
    pub fn reader(&self) -> Result<super::sqlite_reader::SqliteReader, StoreError> {
        let path = Path::new(&self.path);
        let conn = open_connection(path).map_err(|e| StoreError {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(super::sqlite_reader::SqliteReader::new(
            conn,
            self.path.clone(),
        ))
    }

    fn apply_one(tx: &rusqlite::Transaction<'_>, op: &StoreOp) -> rusqlite::Result<()> {
        match op {
            StoreOp::UserAdded {
                name,
                role,
                created,
                agent_of,
            } => exec(
                tx,
                "INSERT INTO users (name, role, created, agent_of) VALUES (?1, ?2, ?3, ?4)",
                params![name, role, created, agent_of],
            )?,
            StoreOp::TokenSet { name, hash } => exec(
                    tx,
                "UPDATE users SET token_hash = ?2 WHERE name = ?1",
                params![name, hash],
            )?,
            StoreOp::UserRemoved { name } => {
                exec(tx, "DELETE FROM users WHERE name = ?1", params![name])?;
                exec(tx, "DELETE FROM sessions WHERE user = ?1", params![name])?
            }
            StoreOp::UserRole { name, role } => exec(
                tx,
                "UPDATE users SET role = ?2 WHERE name = ?1",
                params![name, role],
            )?,
            StoreOp::SessionEnded { id } => {
                exec(tx, "DELETE FROM sessions WHERE id = ?1", params![id])?
            }
            StoreOp::SessionOpened {
                id,
                user,
                started,
                source,
                read_only,
            } => exec(
                    tx,
                "INSERT INTO sessions (id, user, started, source, read_only) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, user, started, source, read_only],
            )?,
            StoreOp::RateAdmitted { user, action, at } => exec(
                    tx,
                "INSERT INTO rate_admissions (user, action, at) VALUES (?1, ?2, ?3)",
                params![user, action, at],
            )?,
            StoreOp::Audit(entry) => {
                let (seq, prev_hash) = chain_head(tx)?;
                let r = entry.seal(seq + 1, &prev_hash);
                exec(
                    tx,
                    "INSERT INTO audit (seq, at, at_text, user, role, session, source, action, target,
                       params_digest, outcome, error_code, message, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                    params![
                        r.seq as i64,
                        entry.at_unix_ms,
                        r.at,
                        r.user,
                        r.role,
                        r.session,
                        r.source,
                        r.action,
                        r.target,
                        r.params_digest,
                        r.outcome.as_str(),
                        r.error_code,
                        r.message,
                        r.prev_hash,
                        r.hash
                    ],
                )?
            }
            StoreOp::PruneAudit { now, retention_ms } => prune(tx, *now, *retention_ms)? as usize,
            StoreOp::DeleteNeuron { id } => {
                tx.execute("DELETE FROM neurons WHERE id = ?1", params![id])?
            }
            StoreOp::UpsertNeuron {
                id,
                zone,
                kind,
                labels_json,
                config_version,
                registered_at,
            } => exec(
                    tx,
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
                exec(
                    tx,
                    "INSERT INTO state_changes (neuron, at, from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![neuron, at, from, to, reason],
                )?;
                exec(
                    tx,
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
            } => exec(
                    tx,
                "INSERT INTO failures (id, neuron, mode, since, evidence) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![*failure_id as i64, neuron, mode.as_str(), since, evidence],
            )?,
            StoreOp::FailureUpdated {
                failure_id,
                attempts,
                escalated,
                resolved_at,
            } => exec(
                    tx,
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
            } => exec(
                    tx,
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
            } => exec(
                    tx,
                "UPDATE recovery_attempts SET finished_at = ?2, outcome = ?3 WHERE id = ?1",
                params![*attempt_id as i64, finished_at, outcome],
            )?,
            StoreOp::Escalated {
                failure_id,
                neuron,
                at,
                attempts,
            } => exec(
                    tx,
                "INSERT INTO escalations (failure_id, neuron, at, attempts) VALUES (?1, ?2, ?3, ?4)",
                params![*failure_id as i64, neuron, at, attempts],
            )?,
            other => match super::rollouts::apply(tx, other)
                .or_else(|| super::alerts::apply(tx, other))
                .or_else(|| super::chaos::apply(tx, other))
                .or_else(|| super::pins::apply(tx, other))
                .or_else(|| super::invites::apply(tx, other))
            {
                Some(result) => result?,
                None => 0,
            },
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
        // IMMEDIATE: take the write lock up front, so that reading the chain head and appending
        // to it cannot interleave with another process writing the same store.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        for op in batch {
            Self::apply_one(&tx, op).map_err(&err)?;
        }
        let appended =
            self.head.is_some() && batch.iter().any(|op| matches!(op, StoreOp::Audit(_)));
        let head = if appended {
            Some(chain_head(&tx).map_err(&err)?)
        } else {
            None
        };
        tx.commit().map_err(&err)?;
        if let (Some(file), Some((seq, hash))) = (&self.head, head)
            && let Err(e) = file.advance(seq, &hash)
        {
            eprintln!("plexus: cannot write the audit head: {e}");
        }
        Ok(())
    }

    fn init(&self) -> StoreInit {
        self.init.clone()
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
        let mut store = SqliteStore::open(&path, 0, "ann").unwrap();
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
        let store = SqliteStore::open(&path, 99, "ann").unwrap();
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
