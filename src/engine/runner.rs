//! The engine thread: owns the [`Core`], ticks it on time (or on demand in virtual time),
//! answers requests, publishes snapshots and events, and hands store batches to the writer.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Weak, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

use super::clock::{Clock, FakeClock, rfc3339};
use super::core::Core;
use super::effects::Effects;
use super::fleet::host::NeuronHost;
use super::store::{Ack, SqliteStore, Store, StoreWriter};
use super::{EngineOptions, RECENT_EVENTS_KEPT, Request, Shared, Snapshot};
use crate::api::{ApiError, Command, CommandReply, EventEnvelope, Millis, Query, QueryReply};

pub struct Runner {
    core: Core,
    writer: StoreWriter,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<EventEnvelope>,
    event_seq: u64,
    recent: VecDeque<EventEnvelope>,
    /// Set when running on virtual time.
    fake_clock: Option<FakeClock>,
    tick_ms: Millis,
    snapshot_every_ms: Millis,
    last_snapshot: Millis,
}

impl Runner {
    pub fn start(
        options: &EngineOptions,
        host: Box<dyn NeuronHost>,
        clock: Arc<dyn Clock>,
        fake_clock: Option<FakeClock>,
        events: broadcast::Sender<EventEnvelope>,
    ) -> Result<Runner, ApiError> {
        let epoch = clock.unix_ms_at(0);
        let path = match &options.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ApiError::failed(format!("cannot create data dir {}: {e}", dir.display()))
                })?;
                dir.join("plexus.db")
            }
            None => Path::new(":memory:").to_path_buf(),
        };
        let store = SqliteStore::open(&path, clock.unix_ms())
            .map_err(|e| ApiError::failed(e.to_string()))?;
        let init = store.init();
        let writer = StoreWriter::spawn(Box::new(store) as Box<dyn Store>);
        let now = clock.now();
        let mut fx = Effects::new(epoch);
        let cfg = options.config.clone();
        let neurons = host.roster().len() as Millis;
        let core = Core::new(cfg.clone(), host, options.seed, epoch, init, now, &mut fx);
        let mut runner = Runner {
            core,
            writer,
            clock,
            events,
            event_seq: 0,
            recent: VecDeque::new(),
            fake_clock,
            tick_ms: cfg.tick_ms.max(1),
            // Building 100,000 rows costs milliseconds: big fleets publish less often.
            snapshot_every_ms: cfg.snapshot_ms.max(neurons / 100),
            last_snapshot: now,
        };
        runner.flush(fx, None);
        Ok(runner)
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = self.clock.now();
        Snapshot {
            at: now,
            status: self.core.status(now),
            neurons: self.core.neuron_views(now),
            health: self.core.health_history.iter().copied().collect(),
        }
    }

    fn publish(&mut self, shared: &Weak<Shared>) {
        if let Some(shared) = shared.upgrade() {
            shared.snapshot.store(Arc::new(self.snapshot()));
        }
        self.last_snapshot = self.clock.now();
    }

    /// Send events, queue store writes; `ack` fires once those writes are committed.
    fn flush(&mut self, mut fx: Effects, ack: Option<Ack>) {
        let now = self.clock.now();
        for event in fx.events.drain(..) {
            self.event_seq += 1;
            let envelope = EventEnvelope {
                seq: self.event_seq,
                at: rfc3339(self.clock.unix_ms_at(now)),
                event,
            };
            if self.recent.len() == RECENT_EVENTS_KEPT {
                self.recent.pop_front();
            }
            self.recent.push_back(envelope.clone());
            // No subscriber is not an error.
            let _ = self.events.send(envelope);
        }
        self.writer.submit(std::mem::take(&mut fx.store), ack);
    }

    fn effects(&self) -> Effects {
        Effects::new(self.clock.unix_ms_at(0))
    }

    fn tick(&mut self) {
        let mut fx = self.effects();
        self.core.tick(self.clock.now(), &mut fx);
        self.flush(fx, None);
    }

    pub fn run(mut self, requests: mpsc::Receiver<Request>, shared: Weak<Shared>) {
        if self.fake_clock.is_some() {
            while let Ok(request) = requests.recv() {
                self.handle(request);
                self.publish(&shared);
            }
        } else {
            let tick = Duration::from_millis(self.tick_ms);
            let mut next_tick = Instant::now() + tick;
            loop {
                match requests.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
                    Ok(request) => self.handle(request),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
                let now = Instant::now();
                if now >= next_tick {
                    self.tick();
                    next_tick += tick;
                    if next_tick < now {
                        next_tick = now + tick;
                    }
                    if self.clock.now() >= self.last_snapshot + self.snapshot_every_ms {
                        self.publish(&shared);
                    }
                }
            }
        }
        self.writer.flush();
    }

    fn handle(&mut self, request: Request) {
        let now = self.clock.now();
        match request {
            Request::Command(command, reply) => {
                let mut fx = self.effects();
                match self.command(command, now, &mut fx) {
                    Ok(answer) => {
                        // Acknowledged only once what it changed is committed.
                        let ack: Ack = Box::new(move |stored| {
                            let _ = reply.send(stored.map(|_| answer).map_err(ApiError::failed));
                        });
                        self.flush(fx, Some(ack));
                    }
                    Err(e) => {
                        self.flush(fx, None);
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Request::Query(query, reply) => {
                let _ = reply.send(self.query(query, now));
            }
            Request::Inject(neuron, fault, reply) => {
                let mut fx = self.effects();
                let result = self.core.inject(&neuron, fault, now, &mut fx);
                self.flush(fx, None);
                let _ = reply.send(result);
            }
            Request::ClearFaults(neuron, reply) => {
                let _ = reply.send(self.core.clear_faults(&neuron, now));
            }
            Request::ApplyConfig(neuron, version, reply) => {
                let mut fx = self.effects();
                let result = self.core.apply_config(&neuron, &version, now, &mut fx);
                self.flush(fx, None);
                let _ = reply.send(result);
            }
            Request::Advance(ms, reply) => {
                let result = self.advance(ms);
                let _ = reply.send(result);
            }
        }
    }

    /// Virtual time: tick through `ms` of simulated time as fast as the CPU allows.
    fn advance(&mut self, ms: Millis) -> Result<(), ApiError> {
        let Some(fake) = self.fake_clock.clone() else {
            return Err(ApiError::bad_input(
                "advance needs an engine on virtual time",
            ));
        };
        let end = fake.now() + ms;
        while fake.now() < end {
            let step = self.tick_ms.min(end - fake.now());
            fake.advance(step);
            self.tick();
        }
        Ok(())
    }

    fn command(
        &mut self,
        command: Command,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<CommandReply, ApiError> {
        match command {
            Command::Recover { neuron } => {
                let (attempt, strategy) = self.core.recover(&neuron, now, fx)?;
                Ok(CommandReply::RecoveryStarted {
                    neuron,
                    attempt,
                    strategy: strategy.into(),
                })
            }
        }
    }

    fn query(&self, query: Query, now: Millis) -> Result<QueryReply, ApiError> {
        Ok(match query {
            Query::Status => QueryReply::Status(Box::new(self.core.status(now))),
            Query::Neurons => QueryReply::Neurons(self.core.neuron_views(now)),
            Query::Neuron { id } => QueryReply::Neuron(Box::new(self.core.detail(&id, now)?)),
            Query::Logs { id, tail } => QueryReply::Logs(self.core.logs(&id, tail)?),
            Query::Failures => QueryReply::Failures(self.core.failures()),
            Query::HealthHistory => {
                QueryReply::HealthHistory(self.core.health_history.iter().copied().collect())
            }
            Query::RecentEvents { limit } => {
                let skip = self.recent.len().saturating_sub(limit);
                QueryReply::Events(self.recent.iter().skip(skip).cloned().collect())
            }
        })
    }
}
