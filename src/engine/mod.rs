//! The orchestrator engine. It imports `api` only; faces reach it through `client::Embedded`.
//!
//! One thread owns all engine state ([`core::Core`]) and is reached through a channel; faces read
//! published snapshots without taking any lock on the hot path; events go out on a bounded
//! broadcast channel whose slow subscribers lag and resync instead of blocking the engine.

pub mod clock;
pub mod config;
pub mod core;
pub mod effects;
pub mod fl;
pub mod fleet;
pub mod link;
mod runner;
pub mod store;
pub mod testkit;
pub mod views;

use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

use crate::api::{
    ApiError, Command, CommandReply, EventEnvelope, Fault, Millis, NeuronView, Query, QueryReply,
    StatusReport,
};
use clock::{Clock, FakeClock, SystemClock};
use config::EngineConfig;
use fleet::host::NeuronHost;

/// What faces read without asking the engine thread.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub at: Millis,
    pub status: StatusReport,
    pub neurons: Arc<Vec<NeuronView>>,
    pub health: Vec<u64>,
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub config: EngineConfig,
    pub seed: u64,
    /// Where the SQLite store lives; `None` keeps it in memory (tests).
    pub data_dir: Option<PathBuf>,
    /// Run on a fake clock that moves only when told (`advance`, `sleep`): reproducible runs.
    pub virtual_time: bool,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Request {
    Command(Command, Reply<CommandReply>),
    Query(Query, Reply<QueryReply>),
    Inject(String, Fault, Reply<()>),
    ClearFaults(String, Reply<()>),
    ApplyConfig(String, String, Reply<()>),
    Advance(Millis, Reply<()>),
}

/// Events kept for late subscribers and the console's event list.
pub const RECENT_EVENTS_KEPT: usize = 1000;
/// Capacity of the live event channel: a subscriber further behind than this is told to resync.
pub const EVENT_CHANNEL_CAPACITY: usize = 8192;

struct Shared {
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    snapshot: ArcSwap<Snapshot>,
    events: broadcast::Sender<EventEnvelope>,
    clock: Arc<dyn Clock>,
    fake_clock: Option<FakeClock>,
    config: EngineConfig,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// A handle to a running engine. Clones share it; the engine stops when [`Engine::shutdown`] is
/// called or the last handle is dropped.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

impl Engine {
    /// Open the store, register `host`'s neurons and start the engine thread.
    pub fn start(options: EngineOptions, host: Box<dyn NeuronHost>) -> Result<Engine, ApiError> {
        let fake_clock = options.virtual_time.then(FakeClock::new);
        let clock: Arc<dyn Clock> = match &fake_clock {
            Some(fake) => Arc::new(fake.clone()),
            None => Arc::new(SystemClock::new()),
        };
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let (tx, rx) = mpsc::channel();
        let started = runner::Runner::start(
            &options,
            host,
            clock.clone(),
            fake_clock.clone(),
            events.clone(),
        )?;
        let snapshot = ArcSwap::from_pointee(started.snapshot());
        let shared = Arc::new(Shared {
            requests: Mutex::new(Some(tx)),
            snapshot,
            events,
            clock,
            fake_clock,
            config: options.config.clone(),
            thread: Mutex::new(None),
        });
        let weak = Arc::downgrade(&shared);
        let thread = std::thread::Builder::new()
            .name("plexus-engine".into())
            .spawn(move || started.run(rx, weak))
            .map_err(|e| ApiError::failed(format!("cannot start the engine thread: {e}")))?;
        *shared.thread.lock().expect("engine thread lock") = Some(thread);
        Ok(Engine { shared })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.shared.config
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.shared.clock.clone()
    }

    pub fn is_virtual(&self) -> bool {
        self.shared.fake_clock.is_some()
    }

    /// The latest published snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.snapshot.load_full()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.shared.events.subscribe()
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let sent = {
            let guard = self.shared.requests.lock().expect("engine request lock");
            match guard.as_ref() {
                Some(sender) => sender.send(make(tx)).is_ok(),
                None => false,
            }
        };
        if !sent {
            return Err(ApiError::unreachable("the engine has stopped"));
        }
        rx.await
            .unwrap_or_else(|_| Err(ApiError::unreachable("the engine stopped before answering")))
    }

    pub async fn submit(&self, command: Command) -> Result<CommandReply, ApiError> {
        self.ask(|reply| Request::Command(command, reply)).await
    }

    pub async fn query(&self, query: Query) -> Result<QueryReply, ApiError> {
        // The big, frequent reads come from the snapshot without a round trip; on virtual time
        // they go to the engine thread so that they see exactly the time they were asked at.
        if self.is_virtual() {
            return self.ask(|reply| Request::Query(query, reply)).await;
        }
        match query {
            Query::Status => Ok(QueryReply::Status(Box::new(self.snapshot().status.clone()))),
            Query::Neurons => Ok(QueryReply::Neurons(self.snapshot().neurons.clone())),
            Query::HealthHistory => Ok(QueryReply::HealthHistory(self.snapshot().health.clone())),
            other => self.ask(|reply| Request::Query(other, reply)).await,
        }
    }

    /// Inject a fault into a simulated neuron: it really misbehaves from now on.
    pub async fn inject(&self, neuron: &str, fault: Fault) -> Result<(), ApiError> {
        let neuron = neuron.to_string();
        self.ask(|reply| Request::Inject(neuron, fault, reply))
            .await
    }

    pub async fn clear_faults(&self, neuron: &str) -> Result<(), ApiError> {
        let neuron = neuron.to_string();
        self.ask(|reply| Request::ClearFaults(neuron, reply)).await
    }

    /// Ask one neuron to apply a config version.
    pub async fn apply_config(&self, neuron: &str, version: &str) -> Result<(), ApiError> {
        let (neuron, version) = (neuron.to_string(), version.to_string());
        self.ask(|reply| Request::ApplyConfig(neuron, version, reply))
            .await
    }

    /// Virtual time only: run the engine through `ms` of simulated time, now.
    pub async fn advance(&self, ms: Millis) -> Result<(), ApiError> {
        if !self.is_virtual() {
            return Err(ApiError::bad_input(
                "advance needs an engine on virtual time",
            ));
        }
        self.ask(|reply| Request::Advance(ms, reply)).await
    }

    /// Wait `duration` of engine time: real time, or simulated time on a virtual clock.
    pub async fn sleep(&self, duration: Duration) {
        if self.is_virtual() {
            let _ = self.advance(duration.as_millis() as Millis).await;
        } else {
            tokio::time::sleep(duration).await;
        }
    }

    /// Stop the engine thread and wait until everything it acknowledged is stored.
    pub fn shutdown(&self) {
        self.shared
            .requests
            .lock()
            .expect("engine request lock")
            .take();
        let thread = self
            .shared
            .thread
            .lock()
            .expect("engine thread lock")
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.requests.get_mut().map(|r| r.take()).ok();
        if let Ok(Some(thread)) = self.thread.get_mut().map(|t| t.take())
            // The engine thread may itself drop the last handle while publishing.
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}
