//! The alert tables: every alert's current state (as JSON, keyed by fingerprint), silences,
//! the notification log (what each group was last told, so a restart sends nothing twice) and
//! the history of notifications handed to the sinks.

use rusqlite::{Connection, Transaction, params};

use super::StoreOp;
use crate::engine::alerts::StoredAlerts;
use crate::engine::alerts::group::GroupLog;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    fingerprint TEXT PRIMARY KEY, state TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY, ends_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alert_groups (
    key TEXT PRIMARY KEY, labels TEXT NOT NULL, notified TEXT NOT NULL, last_sent INTEGER);
CREATE TABLE IF NOT EXISTS alert_notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, group_key TEXT NOT NULL, status TEXT NOT NULL,
    alerts INTEGER NOT NULL, at INTEGER NOT NULL);
";

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Apply an alert op; `None` when the op is not one of ours.
pub fn apply(tx: &Transaction<'_>, op: &StoreOp) -> Option<rusqlite::Result<usize>> {
    Some(match op {
        StoreOp::AlertSaved(alert) => tx.execute(
            "INSERT OR REPLACE INTO alerts (fingerprint, state, body) VALUES (?1, ?2, ?3)",
            params![alert.fingerprint, alert.state.as_str(), json(alert)],
        ),
        StoreOp::AlertDeleted { fingerprint } => tx.execute(
            "DELETE FROM alerts WHERE fingerprint = ?1",
            params![fingerprint],
        ),
        StoreOp::SilenceSaved(s) => tx.execute(
            "INSERT OR REPLACE INTO silences (id, ends_at, body) VALUES (?1, ?2, ?3)",
            params![s.id, s.ends_at, json(s)],
        ),
        StoreOp::AlertGroupLogged(log) => tx.execute(
            "INSERT OR REPLACE INTO alert_groups (key, labels, notified, last_sent) VALUES (?1, ?2, ?3, ?4)",
            params![log.key, json(&log.labels), json(&log.notified), log.last_sent],
        ),
        StoreOp::AlertGroupDropped { key } => {
            tx.execute("DELETE FROM alert_groups WHERE key = ?1", params![key])
        }
        StoreOp::NotificationSent {
            group_key,
            status,
            alerts,
            at,
        } => tx.execute(
            "INSERT INTO alert_notifications (group_key, status, alerts, at) VALUES (?1, ?2, ?3, ?4)",
            params![group_key, status, *alerts as i64, at],
        ),
        _ => return None,
    })
}

/// A row that no longer parses is a store error, not a silently lost alert.
fn parse<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("{what}: {e}").into(),
        )
    })
}

pub fn load(conn: &Connection) -> rusqlite::Result<StoredAlerts> {
    let bodies = |sql: &str| -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect()
    };
    let alerts = bodies("SELECT body FROM alerts ORDER BY fingerprint")?
        .iter()
        .map(|b| parse(b, "alerts.body"))
        .collect::<rusqlite::Result<_>>()?;
    let silences = bodies("SELECT body FROM silences ORDER BY ends_at")?
        .iter()
        .map(|b| parse(b, "silences.body"))
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt =
        conn.prepare("SELECT key, labels, notified, last_sent FROM alert_groups ORDER BY key")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<i64>>(3)?,
        ))
    })?;
    let mut groups = Vec::new();
    for row in rows {
        let (key, labels, notified, last_sent) = row?;
        groups.push(GroupLog {
            key,
            labels: parse(&labels, "alert_groups.labels")?,
            notified: parse(&notified, "alert_groups.notified")?,
            last_sent,
        });
    }
    Ok(StoredAlerts {
        alerts,
        silences,
        groups,
    })
}

/// How many notifications were handed to the sinks (tests and figures).
pub fn notifications_sent(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM alert_notifications", [], |r| {
        r.get::<_, i64>(0).map(|v| v as u64)
    })
}
