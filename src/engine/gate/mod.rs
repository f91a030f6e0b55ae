//! The one gate every command passes: authenticate the session → authorize (role × action,
//! deny by default, read-only) → rate-limit. Execution and the audit record follow in the runner,
//! the audit record in the same store transaction as the change.

pub mod ratelimit;
pub mod rbac;
pub mod session;
pub mod token;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::api::metrics::GateCount;
use crate::api::security::UserView;
use crate::api::{Action, ApiError, ErrorCode, Role, SessionInfo};
use crate::engine::clock::rfc3339;
use crate::engine::store::{StoreOp, StoredUser};
use ratelimit::{Limit, RateLimiter};
use session::Session;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityConfig {
    /// Idle time after which a session expires (PRODUCT.md: 60 minutes).
    pub session_idle_ms: u64,
    /// Audit records older than this are pruned, behind a checkpoint (PRODUCT.md: 90 days).
    pub audit_retention_days: u32,
    pub rate_limits: Vec<(Action, Limit)>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            session_idle_ms: 3_600_000,
            audit_retention_days: 90,
            rate_limits: ratelimit::default_limits(),
        }
    }
}

/// Who is acting, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub session: String,
    pub source: String,
}

#[derive(Debug, Clone)]
struct User {
    role: Role,
    created_unix_ms: i64,
    token_hash: Option<String>,
}

pub struct Gate {
    cfg: SecurityConfig,
    /// Decisions since start, by action and whether allowed (for `/metrics`).
    decisions: HashMap<(Action, bool), u64>,
    users: HashMap<String, User>,
    sessions: HashMap<String, Session>,
    limiter: RateLimiter,
}

fn denied(message: String) -> ApiError {
    ApiError::new(ErrorCode::Denied, message)
}

/// User names: what a shell and an audit export can carry without quoting.
pub fn valid_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

impl Gate {
    pub fn new(
        cfg: SecurityConfig,
        users: Vec<StoredUser>,
        admissions: Vec<(String, String, i64)>,
    ) -> Self {
        let mut limiter = RateLimiter::new(cfg.rate_limits.clone());
        for (user, action, at) in admissions {
            if let Some(action) = Action::ALL.into_iter().find(|a| a.as_str() == action) {
                limiter.restore(&user, action, at);
            }
        }
        Gate {
            users: users
                .into_iter()
                .filter_map(|u| {
                    Some((
                        u.name,
                        User {
                            role: Role::parse(&u.role)?,
                            created_unix_ms: u.created_unix_ms,
                            token_hash: u.token_hash,
                        },
                    ))
                })
                .collect(),
            sessions: HashMap::new(),
            decisions: HashMap::new(),
            limiter,
            cfg,
        }
    }

    pub fn config(&self) -> &SecurityConfig {
        &self.cfg
    }

    pub fn open_session(
        &mut self,
        user: &str,
        source: &str,
        read_only: bool,
        now_unix_ms: i64,
        out: &mut Vec<StoreOp>,
    ) -> Result<SessionInfo, ApiError> {
        let Some(record) = self.users.get(user) else {
            return Err(denied(format!(
                "user '{user}' is not registered here; an admin can add it with `plexus users add {user} --role viewer`"
            )));
        };
        let session = Session {
            id: token::short_id("s-"),
            user: user.to_string(),
            role: record.role,
            started_unix_ms: now_unix_ms,
            last_activity_unix_ms: now_unix_ms,
            source: source.to_string(),
            read_only,
            expired: false,
        };
        out.push(StoreOp::SessionOpened {
            id: session.id.clone(),
            user: user.to_string(),
            started: now_unix_ms,
            source: source.to_string(),
            read_only,
        });
        let info = session.info(self.cfg.session_idle_ms);
        self.sessions.insert(session.id.clone(), session);
        Ok(info)
    }

    /// The user a bearer token belongs to.
    pub fn user_for_token(&self, token: &str) -> Option<&str> {
        let hash = token::hash(token);
        self.users
            .iter()
            .find(|(_, u)| u.token_hash.as_deref() == Some(hash.as_str()))
            .map(|(name, _)| name.as_str())
    }

    pub fn session(&self, id: &str) -> Option<SessionInfo> {
        self.sessions
            .get(id)
            .map(|s| s.info(self.cfg.session_idle_ms))
    }

    /// Authenticate, authorize and rate-limit, and count the decision.
    pub fn admit(
        &mut self,
        session_id: &str,
        action: Action,
        now_unix_ms: i64,
    ) -> Result<Principal, (Option<Principal>, ApiError)> {
        let decision = self.decide(session_id, action, now_unix_ms);
        *self
            .decisions
            .entry((action, decision.is_ok()))
            .or_default() += 1;
        decision
    }

    pub fn decisions(&self) -> Vec<GateCount> {
        let mut out: Vec<GateCount> = self
            .decisions
            .iter()
            .map(|((action, allowed), count)| GateCount {
                action: action.as_str().into(),
                outcome: if *allowed { "allowed" } else { "denied" }.into(),
                count: *count,
            })
            .collect();
        out.sort_by(|a, b| (&a.action, &a.outcome).cmp(&(&b.action, &b.outcome)));
        out
    }

    /// Open a session for the user a bearer token belongs to (remote faces and agents).
    pub fn open_token_session(
        &mut self,
        token: &str,
        source: &str,
        now_unix_ms: i64,
        out: &mut Vec<StoreOp>,
    ) -> Result<SessionInfo, ApiError> {
        let Some(user) = self.user_for_token(token).map(str::to_string) else {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the bearer token matches no user (issue one with `plexus users token NAME`)",
            ));
        };
        self.open_session(&user, source, false, now_unix_ms, out)
    }

    /// Expired (or unknown), judged without counting as activity.
    pub fn session_expired(&self, id: &str, now_unix_ms: i64) -> bool {
        self.sessions.get(id).is_none_or(|s| {
            s.expired || now_unix_ms - s.last_activity_unix_ms > self.cfg.session_idle_ms as i64
        })
    }

    /// A session named by a remote client must belong to the user its bearer token names.
    pub fn check_session_token(&self, session: &str, token: &str) -> Result<(), ApiError> {
        let Some(user) = self.user_for_token(token) else {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the bearer token matches no user",
            ));
        };
        match self.sessions.get(session) {
            Some(s) if s.user == user => Ok(()),
            _ => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                format!("session '{session}' does not belong to this token"),
            )),
        }
    }

    /// On refusal the error is `Denied` and says what was missing; the principal is returned
    /// when known so the refusal can be audited.
    fn decide(
        &mut self,
        session_id: &str,
        action: Action,
        now_unix_ms: i64,
    ) -> Result<Principal, (Option<Principal>, ApiError)> {
        let idle = self.cfg.session_idle_ms;
        let Some(session) = self.sessions.get_mut(session_id) else {
            return Err((
                None,
                denied(format!("no session '{session_id}'; open a new session")),
            ));
        };
        // The role is the user's current one: a change of role applies at once.
        let role = self.users.get(&session.user).map(|u| u.role);
        let principal = Principal {
            user: session.user.clone(),
            role: role.unwrap_or(session.role),
            session: session.id.clone(),
            source: session.source.clone(),
        };
        if role.is_none() {
            return Err((
                Some(principal),
                denied(format!("user '{}' is no longer registered", session.user)),
            ));
        }
        if !session.touch(now_unix_ms, idle) {
            return Err((
                Some(principal),
                denied(format!(
                    "session {} expired after {} min idle; open a new session",
                    session.id,
                    idle / 60_000
                )),
            ));
        }
        if session.read_only && action.mutates() {
            return Err((
                Some(principal),
                denied(format!("{action} is not allowed in a read-only session")),
            ));
        }
        if !rbac::allowed(principal.role, action) {
            return Err((
                Some(principal.clone()),
                denied(rbac::refusal(principal.role, action)),
            ));
        }
        if let Err(retry_at) = self.limiter.admit(&principal.user, action, now_unix_ms) {
            let limit = self
                .limiter
                .limit(action)
                .expect("a refusal implies a limit");
            let wait_s = ((retry_at - now_unix_ms) as f64 / 1000.0).ceil().max(1.0);
            return Err((
                Some(principal),
                denied(format!(
                    "rate limit: at most {} {action} per {} min per user; retry after {} (in {wait_s:.0} s)",
                    limit.count,
                    limit.window_ms / 60_000,
                    rfc3339(retry_at)
                )),
            ));
        }
        Ok(principal)
    }

    /// Whether this action needs its admission stored (it is rate-limited).
    pub fn is_limited(&self, action: Action) -> bool {
        self.limiter.limit(action).is_some()
    }

    pub fn users(&self) -> Vec<UserView> {
        let mut users: Vec<UserView> = self
            .users
            .iter()
            .map(|(name, u)| UserView {
                name: name.clone(),
                role: u.role,
                created: rfc3339(u.created_unix_ms),
                has_token: u.token_hash.is_some(),
            })
            .collect();
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users
    }

    pub fn add_user(
        &mut self,
        name: &str,
        role: Role,
        now_unix_ms: i64,
        out: &mut Vec<StoreOp>,
    ) -> Result<UserView, ApiError> {
        if !valid_user_name(name) {
            return Err(ApiError::bad_input(format!(
                "user name '{name}': use 1-64 letters, digits, '-', '_', '.', '@'"
            )));
        }
        if self.users.contains_key(name) {
            return Err(ApiError::failed(format!("user '{name}' already exists")));
        }
        self.users.insert(
            name.to_string(),
            User {
                role,
                created_unix_ms: now_unix_ms,
                token_hash: None,
            },
        );
        out.push(StoreOp::UserAdded {
            name: name.to_string(),
            role: role.as_str(),
            created: now_unix_ms,
        });
        Ok(UserView {
            name: name.to_string(),
            role,
            created: rfc3339(now_unix_ms),
            has_token: false,
        })
    }

    /// A new token for `name`, replacing any earlier one; returned once, stored hashed.
    pub fn issue_token(&mut self, name: &str, out: &mut Vec<StoreOp>) -> Result<String, ApiError> {
        let Some(user) = self.users.get_mut(name) else {
            return Err(ApiError::not_found(format!("no user '{name}'")));
        };
        let token = token::generate();
        let hash = token::hash(&token);
        user.token_hash = Some(hash.clone());
        out.push(StoreOp::TokenSet {
            name: name.to_string(),
            hash,
        });
        Ok(token)
    }
}
