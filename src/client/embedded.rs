//! The in-process backend: the engine runs in this process with a simulated fleet.

use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::broadcast;

use super::{Backend, BackendInfo};
use crate::api::{ApiError, Command, CommandReply, EventEnvelope, Query, QueryReply};
use crate::engine::Engine;

pub struct Embedded {
    engine: Engine,
    user: String,
    role: String,
}

impl Embedded {
    pub fn new(engine: Engine, user: impl Into<String>, role: impl Into<String>) -> Self {
        Embedded {
            engine,
            user: user.into(),
            role: role.into(),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

#[async_trait]
impl Backend for Embedded {
    fn info(&self) -> BackendInfo {
        let cfg = self.engine.config();
        BackendInfo {
            mode: "embedded".into(),
            federation: cfg.federation.clone(),
            environment: cfg.environment.clone(),
            user: self.user.clone(),
            role: self.role.clone(),
        }
    }

    async fn submit(&self, command: Command) -> Result<CommandReply, ApiError> {
        self.engine.submit(command).await
    }

    async fn query(&self, query: Query) -> Result<QueryReply, ApiError> {
        self.engine.query(query).await
    }

    fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.engine.subscribe()
    }

    async fn sleep(&self, duration: Duration) {
        self.engine.sleep(duration).await
    }
}
