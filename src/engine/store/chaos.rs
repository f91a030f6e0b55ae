//! Chaos faults as stored: one row per fault from injection to revert, so that a fault still
//! held when the engine stopped is known at the next start — and reverted there, never left
//! applied forever.

use rusqlite::{Connection, Transaction, params};

use super::StoreOp;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS chaos_faults (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,
    neurons TEXT NOT NULL, injected_at INTEGER NOT NULL, until_at INTEGER,
    reverted_at INTEGER, reverted_by TEXT);
";

/// A fault that was still held when the engine stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChaos {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub neurons: Vec<String>,
    /// Unix ms.
    pub injected_at: i64,
}

/// Apply a chaos op; `None` when the op is not one of ours.
pub fn apply(tx: &Transaction<'_>, op: &StoreOp) -> Option<rusqlite::Result<usize>> {
    Some(match op {
        StoreOp::ChaosHeld {
            id,
            seq,
            kind,
            target,
            neurons_json,
            injected_at,
            until_at,
        } => tx.execute(
            "INSERT OR REPLACE INTO chaos_faults (id, seq, kind, target, neurons, injected_at, until_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, *seq as i64, kind, target, neurons_json, injected_at, until_at],
        ),
        StoreOp::ChaosReleased { id, at, by } => tx.execute(
            "UPDATE chaos_faults SET reverted_at = ?2, reverted_by = ?3 WHERE id = ?1",
            params![id, at, by],
        ),
        _ => return None,
    })
}

/// Faults never reverted (the engine stopped while holding them), oldest first, and the next
/// fault number.
pub fn load(conn: &Connection) -> rusqlite::Result<(Vec<StoredChaos>, u64)> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, target, neurons, injected_at FROM chaos_faults
         WHERE reverted_at IS NULL ORDER BY seq",
    )?;
    let held = stmt
        .query_map([], |r| {
            let neurons: String = r.get(3)?;
            Ok(StoredChaos {
                id: r.get(0)?,
                kind: r.get(1)?,
                target: r.get(2)?,
                neurons: serde_json::from_str(&neurons).unwrap_or_default(),
                injected_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM chaos_faults", [], |r| {
        r.get(0)
    })?;
    Ok((held, next as u64))
}
