//! The one gate every command passes: authenticate the session → authorize (role × action,
//! deny by default, read-only) → rate-limit. Execution and the audit record follow in the runner,
//! the audit record in the same store transaction as the change.

pub mod ratelimit;
use crate::api::rbac;
pub mod session;
pub mod token;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::api::metrics::GateCount;
use crate::api::security::UserView;
use crate::api::{ApiError, ErrorCode, Permission, Role, SessionInfo};
use crate::engine::clock::rfc3339;
use crate::engine::store::invites::Invite;
use crate::engine::store::{StoreOp, StoredUser};
use ratelimit::{Limit, RateLimiter};
use session::Session;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityConfig {
    /// Idle time after which a session expires (README, The gate: 60 minutes).
    pub session_idle_ms: u64,
    /// Audit records older than this are pruned, behind a checkpoint (README, The gate: 90 days).
    pub audit_retention_days: u32,
    pub rate_limits: Vec<(Permission, Limit)>,
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
    /// An invited agent's principal acts for this one agent id and nothing else.
    pub agent_of: Option<String>,
}

#[derive(Debug, Clone)]
struct User {
    role: Role,
    created_unix_ms: i64,
    token_hash: Option<String>,
    agent_of: Option<String>,
}

pub struct Gate {
    cfg: SecurityConfig,
    /// Decisions since start, by action and whether allowed (for `/metrics`).
    decisions: HashMap<(Permission, bool), u64>,
    users: HashMap<String, User>,
    sessions: HashMap<String, Session>,
    limiter: RateLimiter,
    /// Agent registrations per user per minute.
    registrations: RateLimiter,
    /// Bumped whenever users, roles or tokens change (the server's token check follows it).
    version: u64,
    /// Agent invites not yet used, by token hash.
    invites: HashMap<String, Invite>,
}

/// Live sessions one user may hold; opening one more ends that user's least recently active.
pub const MAX_SESSIONS_PER_USER: usize = 64;

fn denied(message: String) -> ApiError {
    ApiError::new(ErrorCode::Denied, message)
}

/// Stored users by name (a row whose role does not parse grants nothing).
fn by_name(stored: Vec<StoredUser>) -> HashMap<String, User> {
    stored
        .into_iter()
        .filter_map(|u| {
            Some((
                u.name,
                User {
                    role: Role::parse(&u.role)?,
                    created_unix_ms: u.created_unix_ms,
                    token_hash: u.token_hash,
                    agent_of: u.agent_of,
                },
            ))
        })
        .collect()
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
            if let Some(action) = Permission::ALL.into_iter().find(|a| a.as_str() == action) {
                limiter.restore(&user, action, at);
            }
        }
        Gate {
            users: by_name(users),
            sessions: HashMap::new(),
            decisions: HashMap::new(),
            limiter,
            registrations: RateLimiter::new([(
                Permission::NeuronRegister,
                ratelimit::REGISTRATIONS,
            )]),
            version: 0,
            invites: HashMap::new(),
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
        self.open(user, source, read_only, None, now_unix_ms, out)
    }

    fn open(
        &mut self,
        user: &str,
        source: &str,
        read_only: bool,
        token_hash: Option<String>,
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
            token_hash,
        };
        self.bound_sessions(user, out);
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
    // The refusal carries the principal so it can be audited; it is the cold path.
    #[allow(clippy::result_large_err)]
    pub fn admit(
        &mut self,
        session_id: &str,
        action: Permission,
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
        let hash = token::hash(token);
        self.open(&user, source, false, Some(hash), now_unix_ms, out)
    }

    /// Keep a user below [`MAX_SESSIONS_PER_USER`] live sessions: the least recently active
    /// goes first (a script that opens a session per call cannot grow memory without bound).
    fn bound_sessions(&mut self, user: &str, out: &mut Vec<StoreOp>) {
        let mut theirs: Vec<(i64, String)> = self
            .sessions
            .values()
            .filter(|s| s.user == user)
            .map(|s| (s.last_activity_unix_ms, s.id.clone()))
            .collect();
        if theirs.len() < MAX_SESSIONS_PER_USER {
            return;
        }
        theirs.sort();
        let excess = theirs.len() + 1 - MAX_SESSIONS_PER_USER;
        for (_, id) in theirs.into_iter().take(excess) {
            self.end_session(&id, out);
        }
    }

    fn end_session(&mut self, id: &str, out: &mut Vec<StoreOp>) {
        if self.sessions.remove(id).is_some() {
            out.push(StoreOp::SessionEnded { id: id.to_string() });
        }
    }

    /// End every session of `user` (removed, role changed, token revoked).
    fn end_sessions_of(&mut self, user: &str, out: &mut Vec<StoreOp>) -> usize {
        let ids: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.user == user)
            .map(|s| s.id.clone())
            .collect();
        for id in &ids {
            self.end_session(id, out);
        }
        ids.len()
    }

    /// Forget sessions idle past the timeout (memory and store); returns how many.
    pub fn prune_sessions(&mut self, now_unix_ms: i64, out: &mut Vec<StoreOp>) -> usize {
        let idle = self.cfg.session_idle_ms as i64;
        let stale: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.expired || now_unix_ms - s.last_activity_unix_ms > idle)
            .map(|s| s.id.clone())
            .collect();
        for id in &stale {
            self.end_session(id, out);
        }
        stale.len()
    }

    /// Changes with every change to users, roles or tokens.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn live_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// The users as the store has them now (another process on the same data dir may have
    /// added users, issued or revoked tokens). Sessions whose user, role or token changed end
    /// at their next request, judged in `decide`; returns whether anything changed.
    pub fn reload_users(&mut self, stored: Vec<StoredUser>) -> bool {
        let fresh = by_name(stored);
        let changed = fresh.len() != self.users.len()
            || fresh.iter().any(|(name, u)| {
                self.users.get(name).is_none_or(|old| {
                    old.role != u.role
                        || old.token_hash != u.token_hash
                        || old.agent_of != u.agent_of
                })
            });
        if changed {
            self.users = fresh;
            self.version += 1;
        }
        changed
    }

    /// The hashes of every token that is valid now, invites not yet used included (the server
    /// checks a bearer token against them before it reads a request's body).
    pub fn token_hashes(&self) -> std::collections::HashSet<String> {
        self.users
            .values()
            .filter_map(|u| u.token_hash.clone())
            .chain(self.invites.keys().cloned())
            .collect()
    }

    /// The invites as the store has them now (see [`Gate::reload_users`]).
    pub fn reload_invites(&mut self, stored: Vec<Invite>) {
        let fresh: HashMap<String, Invite> =
            stored.into_iter().map(|i| (i.hash.clone(), i)).collect();
        if fresh.len() != self.invites.len() || fresh.keys().any(|k| !self.invites.contains_key(k))
        {
            self.invites = fresh;
            self.version += 1;
        }
    }

    /// A one-time join token for agent `neuron`, valid for `ttl_ms`; shown once, stored hashed.
    pub fn invite(
        &mut self,
        neuron: &str,
        ttl_ms: u64,
        now_unix_ms: i64,
        out: &mut Vec<StoreOp>,
    ) -> (String, i64) {
        let token = token::generate_with(token::INVITE_PREFIX);
        let invite = Invite {
            hash: token::hash(&token),
            neuron: neuron.to_string(),
            expires_at: now_unix_ms.saturating_add(ttl_ms as i64),
        };
        out.push(StoreOp::InviteSaved(invite.clone()));
        let expires_at = invite.expires_at;
        self.invites.insert(invite.hash.clone(), invite);
        self.version += 1;
        (token, expires_at)
    }

    /// Spend an invite for `neuron`: the agent becomes a user of its own (`ID@agents`, neuron
    /// manager, bound to that id) with a token of its own, returned once.
    pub fn redeem(
        &mut self,
        invite: &str,
        neuron: &str,
        now_unix_ms: i64,
        out: &mut Vec<StoreOp>,
    ) -> Result<(String, String), ApiError> {
        let hash = token::hash(invite);
        let Some(found) = self.invites.get(&hash) else {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the invite is unknown or was used already",
            ));
        };
        if found.expires_at <= now_unix_ms {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                format!("the invite expired at {}", rfc3339(found.expires_at)),
            ));
        }
        if found.neuron != neuron {
            return Err(ApiError::new(
                ErrorCode::Denied,
                format!("the invite is for agent '{}', not '{neuron}'", found.neuron),
            ));
        }
        self.invites.remove(&hash);
        out.push(StoreOp::InviteUsed {
            hash,
            at: now_unix_ms,
        });
        let name = format!("{neuron}@agents");
        if !self.users.contains_key(&name) {
            self.users.insert(
                name.clone(),
                User {
                    role: Role::NeuronManager,
                    created_unix_ms: now_unix_ms,
                    token_hash: None,
                    agent_of: Some(neuron.to_string()),
                },
            );
            out.push(StoreOp::UserAdded {
                name: name.clone(),
                role: Role::NeuronManager.as_str(),
                created: now_unix_ms,
                agent_of: Some(neuron.to_string()),
            });
        }
        let token = self.issue_token(&name, out)?;
        Ok((name, token))
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
    #[allow(clippy::result_large_err)]
    fn decide(
        &mut self,
        session_id: &str,
        action: Permission,
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
        let agent_of = self
            .users
            .get(&session.user)
            .and_then(|u| u.agent_of.clone());
        let principal = Principal {
            user: session.user.clone(),
            role: role.unwrap_or(session.role),
            session: session.id.clone(),
            source: session.source.clone(),
            agent_of,
        };
        if role.is_none() {
            return Err((
                Some(principal),
                denied(format!("user '{}' is no longer registered", session.user)),
            ));
        }
        if let Some(hash) = &session.token_hash
            && self
                .users
                .get(&session.user)
                .and_then(|u| u.token_hash.as_ref())
                != Some(hash)
        {
            return Err((
                Some(principal),
                ApiError::new(
                    ErrorCode::Unauthenticated,
                    "the token this session was opened with has been revoked or replaced",
                ),
            ));
        }
        if !session.touch(now_unix_ms, idle) {
            return Err((
                Some(principal),
                ApiError::session_expired(format!(
                    "session {} expired after {} min idle; open a new session",
                    session.id,
                    idle / 60_000
                )),
            ));
        }
        if principal.agent_of.is_some() && action != Permission::NeuronRegister {
            return Err((
                Some(principal),
                denied(format!(
                    "an agent's own token may only register and report as that agent, not {action}"
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

    /// A registration by `user` at `now`, within [`ratelimit::REGISTRATIONS`].
    pub fn admit_registration(&mut self, user: &str, now_unix_ms: i64) -> Result<(), ApiError> {
        self.registrations
            .admit(user, Permission::NeuronRegister, now_unix_ms)
            .map_err(|retry_at| {
                denied(format!(
                    "rate limit: at most {} agent registrations per minute per user; retry after {}",
                    ratelimit::REGISTRATIONS.count,
                    rfc3339(retry_at)
                ))
            })
    }

    /// Whether this action needs its admission stored (it is rate-limited).
    pub fn is_limited(&self, action: Permission) -> bool {
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
                agent_of: None,
            },
        );
        self.version += 1;
        out.push(StoreOp::UserAdded {
            name: name.to_string(),
            role: role.as_str(),
            created: now_unix_ms,
            agent_of: None,
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
        self.version += 1;
        out.push(StoreOp::TokenSet {
            name: name.to_string(),
            hash: Some(hash),
        });
        self.end_token_sessions(name, out);
        Ok(token)
    }

    /// Sessions opened with a token of `name` end with that token (sessions a local console
    /// opened by name are not the token's).
    fn end_token_sessions(&mut self, name: &str, out: &mut Vec<StoreOp>) -> usize {
        let ids: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.user == name && s.token_hash.is_some())
            .map(|s| s.id.clone())
            .collect();
        for id in &ids {
            self.end_session(id, out);
        }
        ids.len()
    }

    /// Revoke `name`'s token: it and every session opened with it stop working at once.
    pub fn revoke_token(&mut self, name: &str, out: &mut Vec<StoreOp>) -> Result<usize, ApiError> {
        let Some(user) = self.users.get_mut(name) else {
            return Err(ApiError::not_found(format!("no user '{name}'")));
        };
        if user.token_hash.take().is_none() {
            return Err(ApiError::failed(format!("user '{name}' has no token")));
        }
        self.version += 1;
        out.push(StoreOp::TokenSet {
            name: name.to_string(),
            hash: None,
        });
        Ok(self.end_token_sessions(name, out))
    }

    /// Remove a user: their token and sessions end with them. The last admin stays.
    pub fn remove_user(&mut self, name: &str, out: &mut Vec<StoreOp>) -> Result<usize, ApiError> {
        let Some(user) = self.users.get(name) else {
            return Err(ApiError::not_found(format!("no user '{name}'")));
        };
        if user.role == Role::Admin && self.admins() == 1 {
            return Err(ApiError::failed(format!(
                "'{name}' is the last admin; make another admin first"
            )));
        }
        self.users.remove(name);
        self.version += 1;
        out.push(StoreOp::UserRemoved {
            name: name.to_string(),
        });
        Ok(self.end_sessions_of(name, out))
    }

    /// Change a user's role: their sessions end, so nothing goes on under the old role.
    pub fn set_role(
        &mut self,
        name: &str,
        role: Role,
        out: &mut Vec<StoreOp>,
    ) -> Result<usize, ApiError> {
        let admins = self.admins();
        let Some(user) = self.users.get_mut(name) else {
            return Err(ApiError::not_found(format!("no user '{name}'")));
        };
        if user.role == Role::Admin && role != Role::Admin && admins == 1 {
            return Err(ApiError::failed(format!(
                "'{name}' is the last admin; make another admin first"
            )));
        }
        user.role = role;
        self.version += 1;
        out.push(StoreOp::UserRole {
            name: name.to_string(),
            role: role.as_str(),
        });
        Ok(self.end_sessions_of(name, out))
    }

    fn admins(&self) -> usize {
        self.users
            .values()
            .filter(|u| u.role == Role::Admin)
            .count()
    }
}
