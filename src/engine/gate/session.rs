//! Sessions: every console, headless or remote session has an id, a start and a last activity,
//! and expires after an idle timeout.

use crate::api::{Role, SessionInfo};
use crate::engine::clock::rfc3339;

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: String,
    pub role: Role,
    pub started_unix_ms: i64,
    pub last_activity_unix_ms: i64,
    pub source: String,
    pub read_only: bool,
    pub expired: bool,
    /// The hash of the bearer token the session was opened with: when that token is revoked
    /// or replaced, the session ends with it.
    pub token_hash: Option<String>,
}

impl Session {
    /// Record activity at `now`, unless the session has been idle too long (then it is expired
    /// for good: the face must open a new one).
    pub fn touch(&mut self, now_unix_ms: i64, idle_timeout_ms: u64) -> bool {
        if self.expired || now_unix_ms - self.last_activity_unix_ms > idle_timeout_ms as i64 {
            self.expired = true;
            return false;
        }
        self.last_activity_unix_ms = now_unix_ms.max(self.last_activity_unix_ms);
        true
    }

    pub fn info(&self, idle_timeout_ms: u64) -> SessionInfo {
        SessionInfo {
            id: self.id.clone(),
            user: self.user.clone(),
            role: self.role,
            started: rfc3339(self.started_unix_ms),
            started_unix_ms: self.started_unix_ms,
            source: self.source.clone(),
            read_only: self.read_only,
            idle_timeout_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_keeps_a_session_alive_and_idleness_ends_it_for_good() {
        let mut s = Session {
            id: "s-1".into(),
            user: "ann".into(),
            role: Role::Admin,
            started_unix_ms: 0,
            last_activity_unix_ms: 0,
            source: "local".into(),
            read_only: false,
            expired: false,
            token_hash: None,
        };
        let hour: i64 = 3_600_000;
        let idle = hour as u64;
        assert!(s.touch(hour - 1, idle));
        assert!(s.touch(2 * hour - 2, idle));
        assert!(!s.touch(3 * hour, idle));
        assert!(!s.touch(3 * hour + 1, idle), "expired stays expired");
    }
}
