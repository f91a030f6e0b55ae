//! What every handler shares: the engine, the sessions kept for token callers, HTTP metrics.

use std::sync::Arc;

use super::auth::{Caller, TokenSessions};
use super::metrics::HttpMetrics;
use crate::api::ask::Ask;
use crate::api::{ApiError, Command, CommandReply, Query, QueryReply};
use crate::engine::Engine;

#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

pub struct Shared {
    pub engine: Engine,
    pub sessions: TokenSessions,
    pub http: HttpMetrics,
}

impl AppState {
    pub fn new(engine: Engine) -> Self {
        AppState(Arc::new(Shared {
            engine,
            sessions: TokenSessions::default(),
            http: HttpMetrics::default(),
        }))
    }

    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    pub async fn query(&self, caller: &Caller, query: Query) -> Result<QueryReply, ApiError> {
        let engine = &self.0.engine;
        self.0
            .sessions
            .run(engine, caller, |session| {
                let query = query.clone();
                async move { engine.query(&session, query).await }
            })
            .await
    }

    /// A typed query: the reply comes back as the type the query is answered with.
    pub async fn ask<R>(&self, caller: &Caller, ask: Ask<R>) -> Result<R, ApiError> {
        let (query, answer) = ask.into_parts();
        answer.read(self.query(caller, query).await?)
    }

    pub async fn submit(
        &self,
        caller: &Caller,
        command: Command,
    ) -> Result<CommandReply, ApiError> {
        let engine = &self.0.engine;
        self.0
            .sessions
            .run(engine, caller, |session| {
                let command = command.clone();
                async move { engine.submit(&session, command).await }
            })
            .await
    }

    /// The session a token caller acts in (opened if needed).
    pub async fn session_of(&self, caller: &Caller) -> Result<String, ApiError> {
        let engine = &self.0.engine;
        self.0
            .sessions
            .run(engine, caller, |session| async move { Ok(session) })
            .await
    }
}
