//! One-time join tokens for agents (`plexus neurons invite ID`), kept as hashes: an invite is
//! bound to one id, expires, and is spent by the registration that uses it.

use rusqlite::{Connection, Transaction, params};

use super::StoreOp;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agent_invites (
    hash TEXT PRIMARY KEY, neuron TEXT NOT NULL, expires_at INTEGER NOT NULL, used_at INTEGER);
";

/// Users bound to one agent id (made when an invite is redeemed) carry it in `agent_of`.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let has_column = conn.prepare("SELECT agent_of FROM users LIMIT 0").is_ok();
    if !has_column {
        conn.execute_batch("ALTER TABLE users ADD COLUMN agent_of TEXT")?;
    }
    Ok(())
}

/// An invite not yet used.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    pub hash: String,
    pub neuron: String,
    pub expires_at: i64,
}

pub fn apply(tx: &Transaction<'_>, op: &StoreOp) -> Option<rusqlite::Result<usize>> {
    Some(match op {
        StoreOp::InviteSaved(invite) => tx.execute(
            "INSERT OR REPLACE INTO agent_invites (hash, neuron, expires_at) VALUES (?1, ?2, ?3)",
            params![invite.hash, invite.neuron, invite.expires_at],
        ),
        StoreOp::InviteUsed { hash, at } => tx.execute(
            "UPDATE agent_invites SET used_at = ?2 WHERE hash = ?1",
            params![hash, at],
        ),
        _ => return None,
    })
}

pub fn load(conn: &Connection, now_unix_ms: i64) -> rusqlite::Result<Vec<Invite>> {
    let mut stmt = conn.prepare(
        "SELECT hash, neuron, expires_at FROM agent_invites WHERE used_at IS NULL AND expires_at > ?1",
    )?;
    let rows = stmt.query_map([now_unix_ms], |r| {
        Ok(Invite {
            hash: r.get(0)?,
            neuron: r.get(1)?,
            expires_at: r.get(2)?,
        })
    })?;
    rows.collect()
}
