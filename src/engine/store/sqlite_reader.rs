//! The SQLite store's [`StoreReader`]: a second connection to the same database (WAL: it reads
//! what the writer thread committed without waiting for it).

use rusqlite::Connection;

use super::sqlite::{audit_rows, load_users};
use super::{StoreError, StoreReader, StoredUser, invites};
use crate::api::security::{AuditFilter, AuditRecord, VerifyReport};
use crate::engine::audit::head::HeadFile;
use crate::engine::audit::verify::verify_with_head;

pub struct SqliteReader {
    conn: Connection,
    path: String,
}

impl SqliteReader {
    pub fn new(conn: Connection, path: String) -> Self {
        SqliteReader { conn, path }
    }

    fn error(&self, what: &str, e: rusqlite::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            message: format!("cannot read {what}: {e}"),
        }
    }
}

impl StoreReader for SqliteReader {
    fn users(&self) -> Result<Vec<StoredUser>, StoreError> {
        load_users(&self.conn).map_err(|e| self.error("the users", e))
    }

    fn invites(&self, now_unix_ms: i64) -> Result<Vec<invites::Invite>, StoreError> {
        invites::load(&self.conn, now_unix_ms).map_err(|e| self.error("the invites", e))
    }

    fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let mut conditions = Vec::new();
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        if let Some(user) = &filter.user {
            conditions.push("user = ?");
            args.push(Box::new(user.clone()));
        }
        if let Some(action) = &filter.action {
            // `users` matches users.add and users.token.
            conditions.push("(action = ? OR action LIKE ? || '.%')");
            args.push(Box::new(action.clone()));
            args.push(Box::new(action.clone()));
        }
        if let Some(outcome) = &filter.outcome {
            conditions.push("outcome = ?");
            args.push(Box::new(outcome.clone()));
        }
        if let Some(since) = filter.since_unix_ms {
            conditions.push("at >= ?");
            args.push(Box::new(since));
        }
        let refs: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a.as_ref()).collect();
        let mut records = audit_rows(&self.conn, &conditions.join(" AND "), &refs)
            .map_err(|e| self.error("the audit log", e))?;
        if let Some(limit) = filter.limit {
            let skip = records.len().saturating_sub(limit);
            records.drain(..skip);
        }
        Ok(records)
    }

    fn verify_audit(&self, head: Option<&HeadFile>) -> Result<VerifyReport, StoreError> {
        verify_with_head(&self.conn, head).map_err(|e| self.error("the audit chain", e))
    }
}
