//! Which key an agent id is bound to: the credential last issued to it, kept across restarts so
//! that after a server restart the id still belongs to the key that enrolled it (until an admin
//! releases it with `plexus neurons forget ID`).

use rusqlite::{Connection, Transaction, params};

use super::StoreOp;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agent_pins (
    neuron TEXT PRIMARY KEY, public_key TEXT NOT NULL, serial INTEGER NOT NULL,
    not_before INTEGER NOT NULL, not_after INTEGER NOT NULL);
";

/// An agent's binding: the latest credential issued to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    pub neuron: String,
    pub public_key: [u8; 32],
    pub serial: u64,
    pub not_before: i64,
    pub not_after: i64,
}

pub fn apply(tx: &Transaction<'_>, op: &StoreOp) -> Option<rusqlite::Result<usize>> {
    Some(match op {
        StoreOp::AgentPinned(pin) => tx.execute(
            "INSERT OR REPLACE INTO agent_pins (neuron, public_key, serial, not_before, not_after)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                pin.neuron,
                hex::encode(pin.public_key),
                pin.serial as i64,
                pin.not_before,
                pin.not_after
            ],
        ),
        StoreOp::AgentReleased { neuron } => {
            tx.execute("DELETE FROM agent_pins WHERE neuron = ?1", params![neuron])
        }
        _ => return None,
    })
}

pub fn load(conn: &Connection) -> rusqlite::Result<Vec<Pin>> {
    let mut stmt = conn.prepare(
        "SELECT neuron, public_key, serial, not_before, not_after FROM agent_pins ORDER BY neuron",
    )?;
    let rows = stmt.query_map([], |r| {
        let key: String = r.get(1)?;
        let mut public_key = [0u8; 32];
        // A row that does not decode binds nothing (the id is free again).
        let valid = hex::decode_to_slice(&key, &mut public_key).is_ok();
        Ok(valid.then(|| Pin {
            neuron: r.get(0).unwrap_or_default(),
            public_key,
            serial: r.get::<_, i64>(2).unwrap_or(0) as u64,
            not_before: r.get(3).unwrap_or(0),
            not_after: r.get(4).unwrap_or(0),
        }))
    })?;
    Ok(rows.filter_map(|r| r.ok().flatten()).collect())
}
