//! The rollout tables: one row per rollout (its document, plan, targets and final outcome), a
//! decision log (commit / revert, written before the first Commit or Revert goes out), and the
//! config each neuron was last confirmed running.

use rusqlite::{Connection, Transaction, params};

use super::{StoreOp, StoredRollout};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rollouts (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, version TEXT NOT NULL, replaces TEXT NOT NULL,
    config TEXT NOT NULL, selector TEXT NOT NULL, plan TEXT NOT NULL, by_user TEXT NOT NULL,
    started TEXT NOT NULL, targets TEXT NOT NULL, experiment_ms INTEGER,
    phase TEXT, cause TEXT, finished_at INTEGER);
CREATE TABLE IF NOT EXISTS rollout_decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, rollout INTEGER NOT NULL, decision TEXT NOT NULL,
    at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS neuron_configs (
    neuron TEXT PRIMARY KEY, version TEXT NOT NULL, at INTEGER NOT NULL);
";

/// Apply a rollout op; `None` when the op is not one of ours.
pub fn apply(tx: &Transaction<'_>, op: &StoreOp) -> Option<rusqlite::Result<usize>> {
    Some(match op {
        StoreOp::RolloutStarted(r) => tx.execute(
            "INSERT OR REPLACE INTO rollouts (id, kind, version, replaces, config, selector, plan,
                by_user, started, targets, experiment_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                r.id as i64,
                r.kind,
                r.version,
                r.replaces,
                r.config_json,
                r.selector,
                r.plan_json,
                r.by,
                r.started,
                r.targets_json,
                r.experiment_ms.map(|m| m as i64)
            ],
        ),
        StoreOp::RolloutDecided { id, decision, at } => tx.execute(
            "INSERT INTO rollout_decisions (rollout, decision, at) VALUES (?1, ?2, ?3)",
            params![*id as i64, decision, at],
        ),
        StoreOp::RolloutFinished {
            id,
            phase,
            cause,
            targets_json,
            at,
        } => tx.execute(
            "UPDATE rollouts SET phase = ?2, cause = ?3, targets = ?4, finished_at = ?5 WHERE id = ?1",
            params![*id as i64, phase, cause, targets_json, at],
        ),
        StoreOp::NeuronConfig {
            neuron,
            version,
            at,
        } => tx.execute(
            "INSERT OR REPLACE INTO neuron_configs (neuron, version, at) VALUES (?1, ?2, ?3)",
            params![neuron, version, at],
        ),
        _ => return None,
    })
}

/// Every rollout, oldest first, with its last decision.
pub fn load(conn: &Connection) -> rusqlite::Result<Vec<StoredRollout>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, version, replaces, config, selector, plan, by_user, started, targets,
                experiment_ms, phase, cause, finished_at,
                (SELECT decision FROM rollout_decisions d WHERE d.rollout = r.id ORDER BY seq DESC LIMIT 1)
         FROM rollouts r ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(StoredRollout {
            id: r.get::<_, i64>(0)? as u64,
            kind: r.get(1)?,
            version: r.get(2)?,
            replaces: r.get(3)?,
            config_json: r.get(4)?,
            selector: r.get(5)?,
            plan_json: r.get(6)?,
            by: r.get(7)?,
            started: r.get(8)?,
            targets_json: r.get(9)?,
            experiment_ms: r.get::<_, Option<i64>>(10)?.map(|m| m as u64),
            finished_phase: r.get(11)?,
            cause: r.get(12)?,
            finished_unix_ms: r.get(13)?,
            decision: r.get(14)?,
        })
    })?;
    rows.collect()
}

/// The config each neuron was last confirmed running.
pub fn neuron_versions(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare("SELECT neuron, version FROM neuron_configs ORDER BY neuron")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
