//! The engine thread: owns the [`Core`], ticks it on time (or on demand in virtual time),
//! answers requests, publishes snapshots and events, and hands store batches to the writer.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Weak, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

use super::alerts::notifier::{Delivery, Notifier};
use super::audit::head::HeadFile;
use super::clock::{Clock, FakeClock, rfc3339};
use super::core::Core;
use super::dispatch;
use super::effects::Effects;
use super::fleet::host::NeuronHost;
use super::gate::Gate;
use super::store::StoreReader;
use super::store::{Ack, SqliteStore, Store, StoreOp, StoreWriter};
use super::verdict_latency::VerdictWindow;
use super::{EngineOptions, RECENT_EVENTS_KEPT, Request, Shared, Snapshot};
use crate::api::Permission;
use crate::api::metrics::EngineMetrics;
use crate::api::{ApiError, EventEnvelope, Millis, Query, QueryReply};

/// How often the audit retention policy runs, and when first.
const PRUNE_EVERY_MS: Millis = 3_600_000;
const FIRST_PRUNE_MS: Millis = 60_000;
/// How often users and tokens are re-read from the store (another process on the same data dir,
/// e.g. `plexus users token NAME`, may have changed them).
const USERS_SYNC_MS: Millis = 1_000;
/// Unknown tokens make the runner re-read users at most this often: one just issued works at
/// once, and a caller spraying made-up tokens costs one small read per period, no more.
pub const FORCED_SYNC_MS: Millis = 200;
/// How often sessions idle past the timeout are forgotten.
const SESSION_PRUNE_MS: Millis = 60_000;

/// Distinguishes the in-memory stores of several engines in one process (tests).
static MEMORY_STORES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub struct Runner {
    core: Core,
    gate: Gate,
    /// Reads of the store (audit) from the engine thread, beside the writer's connection.
    reader: Box<dyn StoreReader>,
    snapshot: Arc<Snapshot>,
    next_prune: Millis,
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
    /// Delivers alert notifications off this thread (when any sink is configured).
    notifier: Option<Notifier>,
    /// The audit head outside the database, for `audit verify`.
    audit_head: Option<HeadFile>,
    next_users_sync: Millis,
    next_session_prune: Millis,
    /// Batches with user, role or token changes not yet committed: while any is in flight the
    /// store is behind the gate, and re-reading it would undo them.
    users_in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// When an unknown token last made the runner re-read users (see [`FORCED_SYNC_MS`]).
    last_forced_sync: Option<Millis>,
    /// A command changed something: publish a fresh snapshot before answering it.
    publish_before_answer: bool,
    /// The gate version whose token hashes were last published.
    tokens_published: u64,
    /// The handles' shared state (set when the thread starts running).
    shared: Weak<Shared>,
    /// How long heartbeats wait for their verdict (`verdict_latency` in the status).
    verdicts: VerdictWindow,
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
                super::store::files::private_dir(dir).map_err(ApiError::failed)?;
                dir.join("plexus.db")
            }
            // Shared-cache memory, so the reader sees what the writer writes.
            None => Path::new(&format!(
                "file:plexus-{}-{}?mode=memory&cache=shared",
                std::process::id(),
                MEMORY_STORES.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            ))
            .to_path_buf(),
        };
        let mut store = SqliteStore::open(&path, clock.unix_ms(), &options.first_admin)
            .map_err(|e| ApiError::failed(e.to_string()))?;
        let audit_head = match &options.data_dir {
            Some(dir) => {
                let key = std::env::var_os("PLEXUS_AUDIT_KEY").map(std::path::PathBuf::from);
                let head = HeadFile::open(dir, key.as_deref()).map_err(ApiError::bad_input)?;
                // The writer advances it; the engine thread reads it for `audit verify`.
                store = store.with_head(head.clone());
                Some(head)
            }
            None => None,
        };
        let reader: Box<dyn StoreReader> = Box::new(
            store
                .reader()
                .map_err(|e| ApiError::failed(e.to_string()))?,
        );
        let mut init = store.init();
        init.ca_secret = ca_secret(options)?;
        if let Some(dir) = &options.data_dir {
            super::store::files::private_files(dir);
        }
        let mut gate = Gate::new(
            options.security.clone(),
            init.users.clone(),
            init.admissions.clone(),
        );
        gate.reload_invites(init.invites.clone());
        let writer = StoreWriter::spawn(Box::new(store) as Box<dyn Store>);
        let now = clock.now();
        let mut fx = Effects::new(epoch);
        let cfg = options.config.clone();
        let neurons = host.count() as Millis;
        let notifier =
            if cfg.alerts.sinks.any() {
                Some(Notifier::start(cfg.alerts.sinks.clone()).map_err(|e| {
                    ApiError::failed(format!("cannot start the alert notifier: {e}"))
                })?)
            } else {
                None
            };
        let core = Core::new(cfg.clone(), host, options.seed, epoch, init, now, &mut fx);
        let mut runner = Runner {
            core,
            gate,
            reader,
            snapshot: Arc::new(Snapshot {
                at: 0,
                status: Default::default(),
                neurons: Arc::new(Vec::new()),
                health: Vec::new(),
            }),
            // Not at start: a short headless command (`audit verify`) never changes the store.
            next_prune: now + FIRST_PRUNE_MS,
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
            notifier,
            audit_head,
            next_users_sync: now + USERS_SYNC_MS,
            next_session_prune: now + SESSION_PRUNE_MS,
            users_in_flight: Arc::default(),
            tokens_published: u64::MAX,
            publish_before_answer: false,
            last_forced_sync: None,
            shared: Weak::new(),
            verdicts: VerdictWindow::new(now),
        };
        runner.flush(fx, None);
        runner.snapshot = Arc::new(runner.build_snapshot());
        Ok(runner)
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.clone()
    }

    /// The hashes of the tokens valid now.
    pub fn tokens(&self) -> Arc<std::collections::HashSet<String>> {
        Arc::new(self.gate.token_hashes())
    }

    /// Publish the valid token hashes when users or tokens changed (cheap when they did not).
    /// Called before every flush, so a reply that hands out a token (or confirms a revocation)
    /// can only be sent once the server's token check already knows it.
    fn publish_tokens(&mut self) {
        if self.gate.version() == self.tokens_published {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            self.tokens_published = self.gate.version();
            shared.tokens.store(self.tokens());
        }
    }

    /// Users as the store has them, unless a change of ours is still on its way there.
    fn sync_users(&mut self) {
        use std::sync::atomic::Ordering;
        if self.users_in_flight.load(Ordering::SeqCst) > 0 {
            return;
        }
        match self.reader.users() {
            Ok(users) => {
                self.gate.reload_users(users);
            }
            Err(e) => eprintln!("plexus: cannot re-read users from the store: {e}"),
        }
        let now_unix = self.clock.unix_ms_at(self.clock.now());
        if let Ok(invites) = self.reader.invites(now_unix) {
            self.gate.reload_invites(invites);
        }
    }

    fn build_snapshot(&self) -> Snapshot {
        let now = self.clock.now();
        let mut status = self.core.status(now);
        status.refresh_ms = self.snapshot_every_ms;
        status.verdict_latency = self.verdicts.report(now);
        Snapshot {
            at: now,
            status,
            neurons: self.core.neuron_views(now),
            health: self.core.health_history.iter().copied().collect(),
        }
    }

    fn publish(&mut self, shared: &Weak<Shared>) {
        self.snapshot = Arc::new(self.build_snapshot());
        if let Some(shared) = shared.upgrade() {
            shared.snapshot.store(self.snapshot.clone());
        }
        self.last_snapshot = self.clock.now();
    }

    /// Send events, queue store writes; `ack` fires once those writes are committed.
    fn flush(&mut self, mut fx: Effects, mut ack: Option<Ack>) {
        self.publish_tokens();
        // Read your writes: a command's answer, or an event that ends what a client waits on,
        // leaves only after the snapshot reads are served from shows it. On virtual time the
        // runner republishes after every request anyway, and nobody reads between the ticks of
        // an `advance`: there only a command's answer needs it.
        let settles = self.fake_clock.is_none() && fx.events.iter().any(crate::api::Event::settles);
        if self.publish_before_answer || settles {
            self.publish_before_answer = false;
            let shared = self.shared.clone();
            self.publish(&shared);
        }
        let now = self.clock.now();
        self.verdicts.record(fx.heard.drain(..), now);
        let notifications = std::mem::take(&mut fx.notifications);
        let push = fx.alert_push.take();
        if let Some(notifier) = &self.notifier
            && (!notifications.is_empty() || push.is_some())
        {
            // Sent only once their log entry is committed: a crash in between loses at most
            // one notification, never sends one twice.
            let queue = notifier.handle();
            let inner = ack.take();
            ack = Some(Box::new(move |stored| {
                if stored.is_ok() {
                    if !notifications.is_empty() {
                        queue.deliver(Delivery::Notify(notifications));
                    }
                    if let Some(alerts) = push {
                        queue.deliver(Delivery::Push(alerts));
                    }
                }
                if let Some(inner) = inner {
                    inner(stored);
                }
            }));
        }
        self.core.chaos_events(now, &fx.events);
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
        if fx.store.iter().any(changes_users) {
            use std::sync::atomic::Ordering;
            let in_flight = self.users_in_flight.clone();
            in_flight.fetch_add(1, Ordering::SeqCst);
            let inner = ack.take();
            ack = Some(Box::new(move |stored| {
                in_flight.fetch_sub(1, Ordering::SeqCst);
                if let Some(inner) = inner {
                    inner(stored);
                }
            }));
        }
        self.writer.submit(std::mem::take(&mut fx.store), ack);
        self.ring_agents();
    }

    /// Wake the push channels of the agents that got commands (they fetch them at once).
    fn ring_agents(&mut self) {
        let woken = self.core.agents.take_woken();
        if woken.is_empty() {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            let neurons = &self.core.registry.neurons;
            shared.doors.ring(
                woken
                    .iter()
                    .filter_map(|&i| neurons.get(i as usize))
                    .map(|n| &*n.id),
            );
        }
    }

    fn effects(&self) -> Effects {
        Effects::new(self.clock.unix_ms_at(0))
    }

    fn tick(&mut self) {
        let mut fx = self.effects();
        let now = self.clock.now();
        let enrolling = !self.core.identity_queue.is_empty();
        let compactions = self.core.link.compactions();
        self.core.tick(now, &mut fx);
        // A fleet's boot or its renewal wave just ended (not every lull between a few
        // requests), or the link gave back the room a burst took.
        if (enrolling
            && self.core.identity_queue.is_empty()
            && self.core.identity_queue.take_peak() >= TRIM_AFTER_BURST)
            || self.core.link.compactions() != compactions
        {
            release_freed_memory();
        }
        fx = self.store_decisions(fx, now);
        if now >= self.next_users_sync {
            self.next_users_sync = now + USERS_SYNC_MS;
            self.sync_users();
        }
        if now >= self.next_session_prune {
            self.next_session_prune = now + SESSION_PRUNE_MS;
            let wall = fx.wall(now);
            self.gate.prune_sessions(wall, &mut fx.store);
        }
        if now >= self.next_prune {
            self.next_prune = now + PRUNE_EVERY_MS;
            fx.store(StoreOp::PruneAudit {
                now: fx.wall(now),
                retention_ms: self.gate.config().audit_retention_days as i64 * 86_400_000,
            });
        }
        self.flush(fx, None);
    }

    /// A rollout decision: durable before the engine (and so any Commit) goes on.
    fn store_decisions(&mut self, mut fx: Effects, now: Millis) -> Effects {
        while fx.sync {
            let (done, wait) = mpsc::channel();
            let ack: Ack = Box::new(move |stored| {
                let _ = done.send(stored);
            });
            self.flush(fx, Some(ack));
            if let Ok(Err(e)) = wait.recv() {
                eprintln!("plexus: rollout decision not stored: {e}");
            }
            fx = self.effects();
            self.core.after_sync(now, &mut fx);
        }
        fx
    }

    pub fn run(
        mut self,
        requests: mpsc::Receiver<Request>,
        shared: Weak<Shared>,
        stored: mpsc::Sender<()>,
    ) {
        self.shared = shared.clone();
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
        self.writer.close();
        let _ = stored.send(());
    }

    fn handle(&mut self, request: Request) {
        let now = self.clock.now();
        match request {
            Request::OpenSession {
                user,
                source,
                read_only,
                reply,
            } => {
                let mut fx = self.effects();
                let wall = fx.wall(now);
                // Answered at once: the session's row is for the record, and everything done in
                // the session is acknowledged only after its own (later) commit.
                let result = self
                    .gate
                    .open_session(&user, &source, read_only, wall, &mut fx.store);
                self.flush(fx, None);
                let _ = reply.send(result);
            }
            Request::Command(session, command, reply) => {
                let mut fx = self.effects();
                let result = dispatch::command(
                    &mut self.core,
                    &mut self.gate,
                    &*self.reader,
                    &session,
                    command,
                    now,
                    &mut fx,
                );
                // Answered only once the change and its audit record are committed.
                self.publish_before_answer = result.is_ok();
                let ack: Ack = Box::new(move |stored| {
                    let answer = match stored {
                        Ok(()) => result,
                        Err(e) => Err(ApiError::failed(format!("not stored: {e}"))),
                    };
                    let _ = reply.send(answer);
                });
                self.flush(fx, Some(ack));
            }
            Request::Query(session, query, reply) => {
                let mut fx = self.effects();
                let wall = fx.wall(now);
                match dispatch::admit_query(&mut self.gate, &session, &query, wall, &mut fx) {
                    Ok(()) => {
                        let _ = reply.send(self.query(&session, query, now));
                    }
                    Err(denial) => {
                        let ack: Ack = Box::new(move |_| {
                            let _ = reply.send(Err(denial));
                        });
                        self.flush(fx, Some(ack));
                    }
                }
            }
            Request::OpenTokenSession {
                token,
                source,
                reply,
            } => {
                let mut fx = self.effects();
                let wall = fx.wall(now);
                match self
                    .gate
                    .open_token_session(&token, &source, wall, &mut fx.store)
                {
                    Ok(info) => {
                        let ack: Ack = Box::new(move |stored| {
                            let _ = reply.send(stored.map(|_| info).map_err(ApiError::failed));
                        });
                        self.flush(fx, Some(ack));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Request::SessionExpired { session, reply } => {
                let wall = self.clock.unix_ms_at(now);
                let _ = reply.send(Ok(self.gate.session_expired(&session, wall)));
            }
            Request::CheckSessionToken {
                session,
                token,
                reply,
            } => {
                let _ = reply.send(self.gate.check_session_token(&session, &token));
            }
            Request::AgentRegister {
                session,
                spec,
                proof,
                reply,
            } => {
                let mut fx = self.effects();
                let result = dispatch::register_agent(
                    &mut self.core,
                    &mut self.gate,
                    &session,
                    spec,
                    proof,
                    now,
                    &mut fx,
                );
                let ack: Ack = Box::new(move |stored| {
                    let _ = reply.send(stored.map_err(ApiError::failed).and(result));
                });
                self.flush(fx, Some(ack));
            }
            Request::AgentMessage {
                session,
                neuron,
                report,
                reply,
            } => {
                let mut fx = self.effects();
                let wall = fx.wall(now);
                let admitted = self.gate.admit(&session, Permission::NeuronRegister, wall);
                let result = match admitted {
                    Ok(principal) => match dispatch::acts_for(&principal, &neuron) {
                        Ok(()) => self.core.agent_message(&neuron, *report, now, &mut fx),
                        Err(denial) => Err(denial),
                    },
                    Err((_, denial)) => Err(denial),
                };
                // A rollout answer may complete a step: the next one goes out now, not a tick
                // later (pushed to agents with a channel).
                let fx = self.store_decisions(fx, now);
                self.flush(fx, None);
                let _ = reply.send(result);
            }
            Request::AgentCollect {
                session,
                neuron,
                serial,
                reply,
            } => {
                let wall = self.clock.unix_ms();
                let result = match self.gate.admit(&session, Permission::NeuronRegister, wall) {
                    Ok(principal) => dispatch::acts_for(&principal, &neuron)
                        .and_then(|()| self.core.agent_collect(&neuron, serial, now)),
                    Err((_, denial)) => Err(denial),
                };
                let _ = reply.send(result);
            }
            Request::RedeemInvite {
                invite,
                source,
                spec,
                proof,
                reply,
            } => {
                let mut fx = self.effects();
                let wall = fx.wall(now);
                let redeemed = self.gate.redeem(&invite, &spec.id, wall, &mut fx.store);
                let result = redeemed.and_then(|(_, token)| {
                    let session =
                        self.gate
                            .open_token_session(&token, &source, wall, &mut fx.store)?;
                    dispatch::register_agent(
                        &mut self.core,
                        &mut self.gate,
                        &session.id,
                        spec,
                        proof,
                        now,
                        &mut fx,
                    )
                    .map(|()| token)
                });
                let ack: Ack = Box::new(move |stored| {
                    let _ = reply.send(stored.map_err(ApiError::failed).and(result));
                });
                self.flush(fx, Some(ack));
            }
            Request::Advance(ms, reply) => {
                let result = self.advance(ms);
                let _ = reply.send(result);
            }
            Request::SyncUsers(reply) => {
                let now = self.clock.now();
                if self
                    .last_forced_sync
                    .is_none_or(|at| now >= at + FORCED_SYNC_MS)
                {
                    self.last_forced_sync = Some(now);
                    self.sync_users();
                    self.publish_tokens();
                }
                let _ = reply.send(Ok(()));
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

    fn query(&self, session: &str, query: Query, now: Millis) -> Result<QueryReply, ApiError> {
        Ok(match query {
            // The big, frequent reads come from the last published snapshot (on virtual time it
            // is republished after every request, so it is exact).
            Query::Status => QueryReply::Status(Box::new(self.snapshot.status.clone())),
            Query::Neurons => QueryReply::Neurons(self.snapshot.neurons.clone()),
            Query::Neuron { id } => QueryReply::Neuron(Box::new(self.core.detail(&id, now)?)),
            Query::Logs { id, tail } => QueryReply::Logs(self.core.logs(&id, tail)?),
            Query::Failures => QueryReply::Failures(self.core.failures()),
            Query::HealthHistory => QueryReply::HealthHistory(self.snapshot.health.clone()),
            Query::RecentEvents { limit } => {
                let skip = self.recent.len().saturating_sub(limit);
                QueryReply::Events(self.recent.iter().skip(skip).cloned().collect())
            }
            Query::Users => QueryReply::Users(self.gate.users()),
            Query::Audit { filter } => QueryReply::Audit(
                self.reader
                    .audit(&filter)
                    .map_err(dispatch::audit_unreadable)?,
            ),
            Query::VerifyAudit => QueryReply::Verify(
                self.reader
                    .verify_audit(self.audit_head.as_ref())
                    .map_err(dispatch::audit_unreadable)?,
            ),
            Query::EventsSince { seq } => QueryReply::Events(
                self.recent
                    .iter()
                    .filter(|e| e.seq > seq)
                    .cloned()
                    .collect(),
            ),
            Query::Chaos => QueryReply::Chaos(self.core.chaos.list()),
            Query::Metrics => {
                let link = self.core.link.stats();
                QueryReply::Metrics(EngineMetrics {
                    gate: self.gate.decisions(),
                    events_published: self.event_seq,
                    link_sent: link.sent,
                    link_lost: link.lost,
                    agents: self
                        .core
                        .registry
                        .neurons
                        .iter()
                        .filter(|n| &*n.kind == crate::engine::core::AGENT)
                        .count() as u64,
                })
            }
            Query::Rollouts => QueryReply::Rollouts(self.core.rollouts.report(&self.core.registry)),
            Query::Rollout { id } => QueryReply::Rollout(Box::new(self.core.rollouts.view(id)?)),
            Query::Alerts => QueryReply::Alerts(self.core.alerts.report()),
            Query::Silences => {
                QueryReply::Silences(self.core.alerts.silences(self.clock.unix_ms_at(now)))
            }
            Query::FlRuns => QueryReply::FlRuns(self.core.fl_runs.list()),
            Query::FlRun { id } => QueryReply::FlRun(Box::new(self.core.fl_runs.detail(&id)?)),
            Query::FlModel { id } => QueryReply::FlModel(Box::new(self.core.fl_runs.model(&id)?)),
            Query::FlCapture { id, round } => {
                QueryReply::FlCapture(Box::new(self.core.fl_runs.capture(&id, round)?))
            }
            Query::Session => QueryReply::Session(
                self.gate
                    .session(session)
                    .ok_or_else(|| ApiError::not_found("no such session"))?,
            ),
        })
    }
}

/// The CA secret: a given key file; else reproducible from the seed on virtual time; else the
/// data dir's (made on first use); else, in memory, a random one.
fn ca_secret(options: &EngineOptions) -> Result<Option<[u8; 32]>, ApiError> {
    use super::identity::keyfile;
    let secret = match (&options.ca_key, &options.data_dir) {
        (Some(file), _) => keyfile::load(file),
        (None, _) if options.virtual_time => return Ok(None),
        (None, Some(dir)) => keyfile::load_or_create(dir),
        (None, None) => Ok(super::identity::ca::Ca::generate().secret()),
    };
    secret.map(Some).map_err(ApiError::bad_input)
}

/// Whether a store op changes users, roles or tokens.
fn changes_users(op: &StoreOp) -> bool {
    matches!(
        op,
        StoreOp::UserAdded { .. }
            | StoreOp::TokenSet { .. }
            | StoreOp::UserRemoved { .. }
            | StoreOp::UserRole { .. }
    )
}

/// How many identity requests must have waited at once for their burst's end to be worth
/// handing memory back (a trim walks the whole heap).
const TRIM_AFTER_BURST: usize = 10_000;

/// A burst of enrolments just ended (a fleet's boot): the requests, keys and messages it held
/// are freed, but the allocator keeps the pages. Hand them back, once per burst (glibc only).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the heap to the OS; it touches no live data.
    unsafe {
        libc::malloc_trim(0);
    }
}
