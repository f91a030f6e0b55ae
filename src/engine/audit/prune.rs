//! Retention: records older than the retention period are deleted, and the hash of the last
//! deleted one is kept as a checkpoint so that the rest of the chain still verifies.

use rusqlite::{Transaction, params};

/// Delete records strictly older than `retention_ms` before `now_unix_ms`; returns how many.
pub fn prune(tx: &Transaction<'_>, now_unix_ms: i64, retention_ms: i64) -> rusqlite::Result<u64> {
    let cutoff = now_unix_ms - retention_ms;
    // Only the prefix in which every record is old: a record whose time was edited into the
    // past cannot take the newer records before it with it.
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit
             WHERE seq < COALESCE((SELECT MIN(seq) FROM audit WHERE at >= ?1), 9223372036854775807)
             ORDER BY seq DESC LIMIT 1",
            params![cutoff],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    let Some((seq, hash)) = last else {
        return Ok(0);
    };
    tx.execute(
        "INSERT INTO audit_checkpoint (id, seq, hash, at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET seq = ?1, hash = ?2, at = ?3",
        params![seq, hash, now_unix_ms],
    )?;
    let removed = tx.execute("DELETE FROM audit WHERE seq <= ?1", params![seq])?;
    Ok(removed as u64)
}
