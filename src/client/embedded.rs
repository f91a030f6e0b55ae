//! The in-process backend: the engine runs in this process with a simulated fleet. It acts as
//! one registered user in one session; the gate inside the engine decides everything.

use async_trait::async_trait;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;

use super::{Backend, BackendInfo};
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::wire::{NeuronCommand, Registration, SealedReport};
use crate::api::{ApiError, Command, CommandReply, EventEnvelope, Query, QueryReply, SessionInfo};
use crate::engine::Engine;
use crate::engine::fleet::host::NeuronSpec;

pub struct Embedded {
    engine: Engine,
    session: Mutex<SessionInfo>,
}

impl Embedded {
    /// Open a session for `user` (who must be registered in the data dir).
    pub async fn connect(
        engine: Engine,
        user: &str,
        source: &str,
        read_only: bool,
    ) -> Result<Self, ApiError> {
        let session = engine.open_session(user, source, read_only).await?;
        Ok(Embedded {
            engine,
            session: Mutex::new(session),
        })
    }

    /// Act in a session opened elsewhere (a server acting for its caller).
    pub fn in_session(engine: Engine, session: SessionInfo) -> Self {
        Embedded {
            engine,
            session: Mutex::new(session),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn current(&self) -> SessionInfo {
        self.session.lock().expect("session lock").clone()
    }
}

#[async_trait]
impl Backend for Embedded {
    fn info(&self) -> BackendInfo {
        let cfg = self.engine.config();
        let session = self.current();
        BackendInfo {
            mode: "embedded".into(),
            federation: cfg.federation.clone(),
            environment: cfg.environment.clone(),
            user: session.user,
            role: session.role.as_str().into(),
        }
    }

    async fn submit(&self, command: Command) -> Result<CommandReply, ApiError> {
        self.engine.submit(&self.current().id, command).await
    }

    async fn query(&self, query: Query) -> Result<QueryReply, ApiError> {
        self.engine.query(&self.current().id, query).await
    }

    fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.engine.subscribe()
    }

    async fn sleep(&self, duration: Duration) {
        self.engine.sleep(duration).await
    }

    fn session(&self) -> Option<SessionInfo> {
        Some(self.current())
    }

    async fn renew_session(&self) -> Result<SessionInfo, ApiError> {
        let old = self.current();
        let fresh = self
            .engine
            .open_session(&old.user, &old.source, old.read_only)
            .await?;
        *self.session.lock().expect("session lock") = fresh.clone();
        Ok(fresh)
    }

    async fn register_agent(&self, registration: Registration) -> Result<(), ApiError> {
        let spec = NeuronSpec {
            id: registration.id,
            zone: registration.zone,
            labels: registration.labels,
            config_version: registration.config_version,
        };
        self.engine
            .register_agent(&self.current().id, spec, registration.proof)
            .await
    }

    async fn agent_message(
        &self,
        id: &str,
        report: SealedReport,
    ) -> Result<Vec<NeuronCommand>, ApiError> {
        self.engine
            .agent_message(&self.current().id, id, report)
            .await
            .map(|reply| reply.commands)
    }

    async fn stress_start(&self, request: StressRequest) -> Result<StressStarted, ApiError> {
        // The run outlives this call: it drives the engine through a backend of its own, in
        // this session.
        let backend =
            std::sync::Arc::new(Embedded::in_session(self.engine.clone(), self.current()));
        crate::stress::service::start(backend, &request, true, "embedded").await
    }

    async fn stress_status(&self, id: &str) -> Result<Progress, ApiError> {
        crate::stress::service::status(id)
    }

    async fn stress_stop(&self, id: &str) -> Result<CommandReply, ApiError> {
        crate::stress::service::stop(self, id).await
    }
}
