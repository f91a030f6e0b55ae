//! Who is calling: a bearer token, resolved by the engine's gate to a session. A client may name
//! its own session (`X-Plexus-Session`, as the remote console does, so that expiry is its
//! business); otherwise the server keeps one session per token and renews it when it expires.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use super::error::HttpError;
use super::state::AppState;
use crate::api::{ApiError, ErrorCode};
use crate::engine::Engine;
use crate::engine::gate::token;

pub use crate::api::stream::SESSION_HEADER;

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    /// A session the client named, if any.
    pub session: Option<String>,
    pub source: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HttpError;

    /// Authentication is decided here, from the headers alone: before a body is read and before
    /// any handler looks at an id in the path.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                HttpError::from(ApiError::new(
                    ErrorCode::Unauthenticated,
                    "missing bearer token (Authorization: Bearer …)",
                ))
            })?;
        // Not known: perhaps issued by the CLI a moment ago; the engine re-reads (rate-limited).
        let known = state.engine().token_valid(token)
            || (state.engine().sync_users_now().await.is_ok() && state.engine().token_valid(token));
        if !known {
            return Err(HttpError::from(ApiError::new(
                ErrorCode::Unauthenticated,
                "the bearer token matches no user, or was revoked (issue one with `plexus users token NAME`)",
            )));
        }
        let session = parts
            .headers
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or("unknown".to_string(), |c| c.0.to_string());
        Ok(Caller {
            token: token.to_string(),
            session,
            source: format!("remote {address}"),
        })
    }
}

/// Sessions the server opened on behalf of plain token callers.
#[derive(Default)]
pub struct TokenSessions {
    by_token: Mutex<HashMap<String, String>>,
}

fn is_expiry(e: &ApiError) -> bool {
    e.code == ErrorCode::SessionExpired
}

impl TokenSessions {
    async fn session_for(
        &self,
        engine: &Engine,
        caller: &Caller,
        fresh: bool,
    ) -> Result<String, ApiError> {
        let key = token::hash(&caller.token);
        if !fresh && let Some(id) = self.by_token.lock().expect("session map").get(&key) {
            return Ok(id.clone());
        }
        let info = engine
            .open_token_session(&caller.token, &caller.source)
            .await?;
        self.by_token
            .lock()
            .expect("session map")
            .insert(key, info.id.clone());
        Ok(info.id)
    }

    /// Run `call` in the caller's session. A server-kept session that expired is replaced once;
    /// a session the client named is the client's to renew.
    pub async fn run<T, F, Fut>(
        &self,
        engine: &Engine,
        caller: &Caller,
        call: F,
    ) -> Result<T, ApiError>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        if let Some(session) = &caller.session {
            // The named session must belong to the token's user.
            engine.check_session_token(session, &caller.token).await?;
            return call(session.clone()).await;
        }
        let session = self.session_for(engine, caller, false).await?;
        match call(session).await {
            Err(e) if is_expiry(&e) => {
                let session = self.session_for(engine, caller, true).await?;
                call(session).await
            }
            other => other,
        }
    }
}
