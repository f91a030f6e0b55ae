//! The console on canned fixture data, without an engine: `cargo run --example tui_demo [N]`.
//! Useful to try layouts and keys, and to check the terminal is restored on exit.

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

use plexus::api::{ApiError, Command, CommandReply, EventEnvelope, Query, QueryReply};
use plexus::client::{Backend, BackendInfo};
use plexus::tui::{TuiOptions, fixtures, run};

struct Demo {
    fleet: usize,
    events: broadcast::Sender<EventEnvelope>,
}

#[async_trait]
impl Backend for Demo {
    fn info(&self) -> BackendInfo {
        fixtures::info()
    }
    async fn submit(&self, command: Command) -> Result<CommandReply, ApiError> {
        let Command::Recover { neuron } = command else {
            return Err(ApiError::bad_input("the demo only recovers"));
        };
        Ok(CommandReply::RecoveryStarted {
            neuron,
            attempt: 1,
            strategy: "restart".into(),
            attempt_id: 1,
        })
    }
    async fn query(&self, query: Query) -> Result<QueryReply, ApiError> {
        Ok(fixtures::answer(query, self.fleet))
    }
    fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.events.subscribe()
    }
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[tokio::main]
async fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let fleet = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let demo = Demo {
        fleet,
        events: broadcast::channel(16).0,
    };
    run(Arc::new(demo), TuiOptions::default()).await
}
