//! The boundary every face talks to: a [`Backend`] submits commands, runs queries and streams
//! events. `Embedded` runs the engine in-process; a remote backend will speak HTTP/WebSocket.

mod embedded;
mod remote;

pub use embedded::Embedded;
pub use remote::Remote;

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

use crate::api::ask::{self, Ask};
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::wire::{NeuronCommand, Registration, SealedReport};
use crate::api::{
    ApiError, Command, CommandReply, EventEnvelope, FailureView, LogLine, NeuronDetail, NeuronView,
    Query, QueryReply, SessionInfo, StatusReport,
};

/// Who the face is talking to and as whom (shown in the console header).
#[derive(Debug, Clone, PartialEq)]
pub struct BackendInfo {
    /// `embedded` or `remote`.
    pub mode: String,
    pub federation: String,
    pub environment: String,
    pub user: String,
    pub role: String,
}

#[async_trait]
pub trait Backend: Send + Sync {
    fn info(&self) -> BackendInfo;
    async fn submit(&self, command: Command) -> Result<CommandReply, ApiError>;
    async fn query(&self, query: Query) -> Result<QueryReply, ApiError>;
    /// Live events from now on. A receiver that lags is told so (`RecvError::Lagged`) and should
    /// resync from a query.
    fn subscribe(&self) -> broadcast::Receiver<EventEnvelope>;
    /// Wait `duration` of engine time (real time, or virtual time in a simulated run).
    async fn sleep(&self, duration: Duration);
    /// The session this backend acts in, when it has one.
    fn session(&self) -> Option<SessionInfo> {
        None
    }
    /// Replace an expired session with a new one for the same user.
    async fn renew_session(&self) -> Result<SessionInfo, ApiError> {
        Err(ApiError::failed("this backend has no sessions"))
    }
    /// Register a neuron agent through this backend (mock neurons of a stress test).
    async fn register_agent(&self, _registration: Registration) -> Result<(), ApiError> {
        Err(ApiError::failed("this backend cannot register agents"))
    }
    /// Send an agent's report (a mock neuron's heartbeat) with its MAC; answers its waiting
    /// commands.
    async fn agent_message(
        &self,
        _id: &str,
        _report: SealedReport,
    ) -> Result<Vec<NeuronCommand>, ApiError> {
        Err(ApiError::failed("this backend cannot carry agent messages"))
    }
    /// Start a stress test where this backend's engine runs (the gate admits it first).
    async fn stress_start(&self, _request: StressRequest) -> Result<StressStarted, ApiError> {
        Err(ApiError::failed("this backend cannot run stress tests"))
    }
    /// A stress test's live progress; `latest` names the newest.
    async fn stress_status(&self, _id: &str) -> Result<Progress, ApiError> {
        Err(ApiError::failed("this backend cannot run stress tests"))
    }
    /// Stop a stress test (the gate decides).
    async fn stress_stop(&self, _id: &str) -> Result<CommandReply, ApiError> {
        Err(ApiError::failed("this backend cannot run stress tests"))
    }
}

/// Typed helpers over [`Backend::query`] and [`Backend::submit`].
#[async_trait]
pub trait BackendExt: Backend {
    /// Run a typed query: its reply comes back as the type the query is answered with.
    async fn ask<R: Send + 'static>(&self, ask: Ask<R>) -> Result<R, ApiError> {
        let (query, answer) = ask.into_parts();
        answer.read(self.query(query).await?)
    }
    async fn status(&self) -> Result<StatusReport, ApiError> {
        self.ask(ask::status()).await
    }
    async fn neurons(&self) -> Result<Arc<Vec<NeuronView>>, ApiError> {
        self.ask(ask::neurons()).await
    }
    async fn neuron(&self, id: &str) -> Result<NeuronDetail, ApiError> {
        self.ask(ask::neuron(id)).await
    }
    async fn logs(&self, id: &str, tail: usize) -> Result<Vec<LogLine>, ApiError> {
        self.ask(ask::logs(id, tail)).await
    }
    async fn failures(&self) -> Result<Vec<FailureView>, ApiError> {
        self.ask(ask::failures()).await
    }
    async fn health_history(&self) -> Result<Vec<u64>, ApiError> {
        self.ask(ask::health_history()).await
    }
    async fn recent_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, ApiError> {
        self.ask(ask::recent_events(limit)).await
    }
    async fn recover(&self, neuron: &str) -> Result<CommandReply, ApiError> {
        self.submit(Command::Recover {
            neuron: neuron.into(),
        })
        .await
    }
}

impl<T: Backend + ?Sized> BackendExt for T {}
