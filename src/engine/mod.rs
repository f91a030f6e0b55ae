//! The orchestrator engine. It imports `api` only; faces reach it through `client::Embedded`.
//!
//! One thread owns all engine state ([`core::Core`]) and is reached through a channel; faces read
//! published snapshots without taking any lock on the hot path; events go out on a bounded
//! broadcast channel whose slow subscribers lag and resync instead of blocking the engine.

pub mod alerts;
pub mod audit;
pub mod chaos;
pub mod clock;
pub mod config;
pub mod core;
mod dispatch;
pub mod doors;
pub mod effects;
pub mod fl;
pub mod fleet;
pub mod flrun;
pub mod gate;
pub mod identity;
pub mod link;
pub mod prefetch;
pub mod rollout;
mod runner;
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod verdict_latency;
pub mod views;

use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

use crate::api::ask::Ask;
use crate::api::wire::{NeuronCommand, OpenedReport, RegistrationProof, SealedReport};
use crate::api::{
    ApiError, Command, CommandReply, EventEnvelope, Millis, NeuronView, Query, QueryReply,
    SessionInfo, StatusReport,
};
use clock::{Clock, FakeClock, SystemClock};
use config::EngineConfig;
use fleet::host::{NeuronHost, NeuronSpec};
use gate::SecurityConfig;

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
    /// Where a virtual clock starts (unix ms); `None`: the fixed epoch of [`FakeClock`], so
    /// simulated runs print reproducible times.
    pub virtual_epoch_unix_ms: Option<i64>,
    pub security: SecurityConfig,
    /// Who becomes Admin when the data dir is used for the first time.
    pub first_admin: String,
    /// The federation CA's key file (`--ca-key`); by default `ca.key` in the data dir, made on
    /// first use. A virtual-time engine without one derives its CA from the seed.
    pub ca_key: Option<PathBuf>,
}

type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

enum Request {
    OpenSession {
        user: String,
        source: String,
        read_only: bool,
        reply: Reply<SessionInfo>,
    },
    OpenTokenSession {
        token: String,
        source: String,
        reply: Reply<SessionInfo>,
    },
    SessionExpired {
        session: String,
        reply: Reply<bool>,
    },
    CheckSessionToken {
        session: String,
        token: String,
        reply: Reply<()>,
    },
    AgentRegister {
        session: String,
        spec: NeuronSpec,
        proof: Option<RegistrationProof>,
        reply: Reply<()>,
    },
    AgentMessage {
        session: String,
        neuron: String,
        report: Box<OpenedReport>,
        reply: Reply<crate::api::channel::AgentReply>,
    },
    /// An agent's push channel fetches what waits for it (bound to identity session `serial`).
    AgentCollect {
        session: String,
        neuron: String,
        serial: u64,
        reply: Reply<Vec<NeuronCommand>>,
    },
    /// An agent registers with a one-time invite: spent, and turned into a token of its own.
    RedeemInvite {
        invite: String,
        source: String,
        spec: NeuronSpec,
        proof: Option<RegistrationProof>,
        reply: Reply<String>,
    },
    Command(String, Command, Reply<CommandReply>),
    Query(String, Query, Reply<QueryReply>),
    Advance(Millis, Reply<()>),
    /// A caller presented a token the engine does not know: re-read users and tokens from the
    /// store now (at most every [`runner::FORCED_SYNC_MS`]), for one just issued by the CLI.
    SyncUsers(Reply<()>),
}

/// Events kept for late subscribers and the console's event list.
pub const RECENT_EVENTS_KEPT: usize = 1000;

struct Shared {
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    snapshot: ArcSwap<Snapshot>,
    /// SHA-256 hashes of the bearer tokens valid now, published by the engine thread.
    tokens: ArcSwap<std::collections::HashSet<String>>,
    events: broadcast::Sender<EventEnvelope>,
    clock: Arc<dyn Clock>,
    fake_clock: Option<FakeClock>,
    config: EngineConfig,
    epoch: String,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Hears once the engine thread has stored everything and closed its store (before it
    /// frees its fleet, which at 500,000 neurons takes seconds nobody needs to wait for).
    stored: Mutex<Option<mpsc::Receiver<()>>>,
    /// Agents' push channels, rung when the engine queued something for them.
    doors: Arc<doors::AgentDoors>,
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
        let fake_clock = options.virtual_time.then(|| {
            FakeClock::starting_at(
                options
                    .virtual_epoch_unix_ms
                    .unwrap_or(FakeClock::EPOCH_UNIX_MS),
            )
        });
        let clock: Arc<dyn Clock> = match &fake_clock {
            Some(fake) => Arc::new(fake.clone()),
            None => Arc::new(SystemClock::new()),
        };
        let (events, _) = broadcast::channel(options.config.event_capacity.max(1));
        let (tx, rx) = mpsc::channel();
        let (stored_tx, stored_rx) = mpsc::channel();
        let started = runner::Runner::start(
            &options,
            host,
            clock.clone(),
            fake_clock.clone(),
            events.clone(),
        )?;
        let snapshot = ArcSwap::new(started.snapshot());
        let shared = Arc::new(Shared {
            requests: Mutex::new(Some(tx)),
            snapshot,
            tokens: ArcSwap::new(started.tokens()),
            events,
            clock,
            fake_clock,
            config: options.config.clone(),
            epoch: gate::token::short_id("e-"),
            thread: Mutex::new(None),
            stored: Mutex::new(Some(stored_rx)),
            doors: Arc::default(),
        });
        let weak = Arc::downgrade(&shared);
        let thread = std::thread::Builder::new()
            .name("plexus-engine".into())
            .spawn(move || started.run(rx, weak, stored_tx))
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

    /// Live event subscribers now.
    pub fn subscribers(&self) -> usize {
        self.shared.events.receiver_count()
    }

    /// Identifies this engine run: event sequence numbers restart with a new epoch.
    pub fn epoch(&self) -> &str {
        &self.shared.epoch
    }

    /// Whether a bearer token belongs to a user now: a hash and a lock-free lookup, so a
    /// revoked token is refused before anything else about a request is looked at.
    pub fn token_valid(&self, token: &str) -> bool {
        self.shared
            .tokens
            .load()
            .contains(&gate::token::hash(token))
    }

    /// Whether the engine thread is still running (it stops on shutdown, or if it panicked).
    pub fn is_running(&self) -> bool {
        self.shared
            .thread
            .lock()
            .expect("engine thread lock")
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    /// Whether a session has expired (or never existed), without counting as activity.
    pub async fn session_expired(&self, session: &str) -> bool {
        let session = session.to_string();
        self.request(|reply| Request::SessionExpired { session, reply })
            .await
            .unwrap_or(true)
    }

    async fn request<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, ApiError> {
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

    /// Open a session for a registered user; every command and query names its session.
    pub async fn open_session(
        &self,
        user: &str,
        source: &str,
        read_only: bool,
    ) -> Result<SessionInfo, ApiError> {
        let (user, source) = (user.to_string(), source.to_string());
        self.request(|reply| Request::OpenSession {
            user,
            source,
            read_only,
            reply,
        })
        .await
    }

    /// Open a session for the user a bearer token belongs to.
    pub async fn open_token_session(
        &self,
        token: &str,
        source: &str,
    ) -> Result<SessionInfo, ApiError> {
        let (token, source) = (token.to_string(), source.to_string());
        self.request(|reply| Request::OpenTokenSession {
            token,
            source,
            reply,
        })
        .await
    }

    /// Whether `session` belongs to the user of `token` (a remote client naming its session).
    pub async fn check_session_token(&self, session: &str, token: &str) -> Result<(), ApiError> {
        let (session, token) = (session.to_string(), token.to_string());
        self.request(|reply| Request::CheckSessionToken {
            session,
            token,
            reply,
        })
        .await
    }

    /// A real agent joins the fleet.
    pub async fn register_agent(
        &self,
        session: &str,
        spec: NeuronSpec,
        proof: Option<RegistrationProof>,
    ) -> Result<(), ApiError> {
        let session = session.to_string();
        self.request(|reply| Request::AgentRegister {
            session,
            spec,
            proof,
            reply,
        })
        .await
    }

    /// An agent joins with a one-time invite (`plexus neurons invite ID`): the invite is spent,
    /// the agent registered, and the token it will use from now on returned (once).
    pub async fn redeem_invite(
        &self,
        invite: &str,
        source: &str,
        spec: NeuronSpec,
        proof: Option<RegistrationProof>,
    ) -> Result<String, ApiError> {
        let (invite, source) = (invite.to_string(), source.to_string());
        self.request(|reply| Request::RedeemInvite {
            invite,
            source,
            spec,
            proof,
            reply,
        })
        .await
    }

    /// A report from a real agent (parsed and hashed on the caller's thread); answers with the
    /// commands waiting for it once the report verified.
    pub async fn agent_message(
        &self,
        session: &str,
        neuron: &str,
        report: SealedReport,
    ) -> Result<crate::api::channel::AgentReply, ApiError> {
        let report = Box::new(report.open()?);
        let (session, neuron) = (session.to_string(), neuron.to_string());
        self.request(|reply| Request::AgentMessage {
            session,
            neuron,
            report,
            reply,
        })
        .await
    }

    /// Open agent `neuron`'s door: its bell rings when the engine queued something for it.
    pub fn agent_door(&self, neuron: &str) -> doors::AgentDoor {
        self.shared.doors.open(neuron)
    }

    /// What waits for agent `neuron`, fetched by its push channel bound to identity session
    /// `serial` (refused once that session no longer stands).
    pub async fn agent_collect(
        &self,
        session: &str,
        neuron: &str,
        serial: u64,
    ) -> Result<Vec<NeuronCommand>, ApiError> {
        let (session, neuron) = (session.to_string(), neuron.to_string());
        self.request(|reply| Request::AgentCollect {
            session,
            neuron,
            serial,
            reply,
        })
        .await
    }

    /// A command through the gate; answered once its audit record is committed.
    pub async fn submit(&self, session: &str, command: Command) -> Result<CommandReply, ApiError> {
        let session = session.to_string();
        self.request(|reply| Request::Command(session, command, reply))
            .await
    }

    /// A query through the gate.
    pub async fn query(&self, session: &str, query: Query) -> Result<QueryReply, ApiError> {
        let session = session.to_string();
        self.request(|reply| Request::Query(session, query, reply))
            .await
    }

    /// A typed query in `session`: the reply comes back as the type the query is answered with.
    pub async fn ask<R>(&self, session: &str, ask: Ask<R>) -> Result<R, ApiError> {
        let (query, answer) = ask.into_parts();
        answer.read(self.query(session, query).await?)
    }

    /// Virtual time only: run the engine through `ms` of simulated time, now.
    /// Re-read users and tokens from the store now (rate-limited), then publish their hashes: a
    /// token the CLI issued a moment ago works on the first request, not a second later.
    pub async fn sync_users_now(&self) -> Result<(), ApiError> {
        self.request(Request::SyncUsers).await
    }

    pub async fn advance(&self, ms: Millis) -> Result<(), ApiError> {
        if !self.is_virtual() {
            return Err(ApiError::bad_input(
                "advance needs an engine on virtual time",
            ));
        }
        self.request(|reply| Request::Advance(ms, reply)).await
    }

    /// Wait `duration` of engine time: real time, or simulated time on a virtual clock.
    pub async fn sleep(&self, duration: Duration) {
        if self.is_virtual() {
            let _ = self.advance(duration.as_millis() as Millis).await;
        } else {
            tokio::time::sleep(duration).await;
        }
    }

    /// Stop the engine thread and wait until everything it acknowledged is stored and its
    /// store is closed. The thread then frees its fleet on its own: a process that exits next
    /// does not wait for that (SIGINT to exit ≤ 2 s at any fleet size, README).
    pub fn shutdown(&self) {
        self.shared
            .requests
            .lock()
            .expect("engine request lock")
            .take();
        let stored = self
            .shared
            .stored
            .lock()
            .expect("engine stored lock")
            .take();
        let thread = self
            .shared
            .thread
            .lock()
            .expect("engine thread lock")
            .take();
        match (stored, thread) {
            // Err: the thread ended without saying so (it panicked); nothing more to wait for.
            (Some(stored), Some(_detached)) => {
                let _ = stored.recv();
            }
            (_, Some(thread)) => {
                let _ = thread.join();
            }
            _ => {}
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
