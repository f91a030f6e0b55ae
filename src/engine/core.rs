//! The engine's single-owner state and its step function. Everything here is synchronous and
//! driven by explicit times, so tests run 30 simulated minutes in milliseconds with a fake clock.

mod enrolment;

use std::collections::{HashMap, VecDeque};

use super::alerts::AlertBook;
use super::chaos::ChaosBook;
use super::config::EngineConfig;
use super::effects::Effects;
use super::fleet::agents::{self, AgentBook};
use super::fleet::detector::{Detector, NEVER, TimerAction};
use super::fleet::guard::{GuardChange, HealthGuard};
use super::fleet::host::{NeuronHost, NeuronSpec, RawLogLine, Uplink};
use super::fleet::recovery::RecoveryBook;
use super::fleet::registry::Registry;
use super::fleet::tracked::{Liveness, TrackedNeuron};
use super::flrun::FlRunBook;
use super::identity::IdentityBook;
use super::identity::ca::Ca;
use super::identity::queue::IdentityQueue;
use super::link::{Arrival, Link, Packet};
use super::rollout::RolloutBook;
use super::store::pins::Pin;
use super::store::{StoreInit, StoreOp};
use crate::api::identity::{Bytes32, heartbeat_mac_input, probe_ack_mac_input, spiffe_id};
use crate::api::neuron::MOCK_NEURON_PREFIX;
use crate::api::wire::{
    NeuronCommand, NeuronMessage, OpenedReport, REGISTRATION_PROOF_SKEW_MS, RegistrationProof,
    register_bytes,
};
use crate::api::{ApiError, ErrorCode, Event, Fault, FleetCondition, Millis, NeuronState};
use crate::engine::clock::rfc3339;
use enrolment::{Trust, is_identity_request};

/// The kind of a neuron that is a real agent process.
pub const AGENT: &str = "agent";

/// Seconds of healthy-count history kept for the overview sparkline.
pub const HEALTH_HISTORY_KEPT: usize = 600;

pub struct Core {
    pub cfg: EngineConfig,
    pub registry: Registry,
    pub detector: Detector,
    pub recovery: RecoveryBook,
    pub guard: HealthGuard,
    pub link: Link,
    pub host: Box<dyn NeuronHost>,
    pub agents: AgentBook,
    pub chaos: ChaosBook,
    pub rollouts: RolloutBook,
    pub alerts: AlertBook,
    pub fl_runs: FlRunBook,
    pub identity: IdentityBook,
    /// Enrolments and handshakes waiting for their step's budget (see `core::enrolment`).
    pub identity_queue: IdentityQueue,
    /// Agent ids and the keys they are bound to (durable; see `store::pins`).
    pins: HashMap<String, Pin>,
    epoch_unix_ms: i64,
    next_nonce: u64,
    /// Heartbeat gaps that span this time are not inter-arrival samples (an engine stall).
    stall_reset_at: Millis,
    pub health_history: VecDeque<u64>,
    next_health_sample: Millis,
    /// Stress tests admitted and not finished: their mock neurons leave when the last ends.
    pub stress_running: std::collections::BTreeSet<String>,
    // Scratch buffers reused across ticks.
    uplinks: Vec<Uplink>,
    arrivals: Vec<Arrival>,
    due: Vec<u32>,
}

impl Core {
    /// Build the engine state and register every neuron of `host` at time `now`.
    pub fn new(
        cfg: EngineConfig,
        host: Box<dyn NeuronHost>,
        seed: u64,
        epoch_unix_ms: i64,
        mut store_init: StoreInit,
        now: Millis,
        fx: &mut Effects,
    ) -> Self {
        let stored_rollouts = std::mem::take(&mut store_init.rollouts);
        // By id: after a fleet-wide rollout every neuron has a row (a list searched per neuron
        // was 10^10 comparisons for a restart at 100,000).
        let stored_versions: HashMap<String, String> =
            std::mem::take(&mut store_init.neuron_versions)
                .into_iter()
                .collect();
        let chaos_held = std::mem::take(&mut store_init.chaos_held);
        let interval = cfg.heartbeat_ms;
        let detector = Detector::new(cfg.detector.clone(), interval);
        let probe_window = cfg.detector.probes as Millis * cfg.detector.probe_timeout_ms;
        let guard = HealthGuard::new(
            cfg.guard.clone(),
            2 * interval + probe_window,
            2 * interval + probe_window,
        );
        let mut core = Core {
            recovery: RecoveryBook::new(
                cfg.recovery.clone(),
                store_init.next_failure_id,
                store_init.next_attempt_id,
            ),
            link: Link::new(cfg.link, seed),
            registry: Registry::default(),
            detector,
            guard,
            host,
            agents: AgentBook::default(),
            chaos: ChaosBook::default(),
            rollouts: RolloutBook::new(interval),
            alerts: AlertBook::new(
                cfg.alerts.clone(),
                std::mem::take(&mut store_init.alerts),
                fx.wall(now),
            ),
            fl_runs: FlRunBook::default(),
            pins: std::mem::take(&mut store_init.agent_pins)
                .into_iter()
                .map(|p| (p.neuron.clone(), p))
                .collect(),
            identity: IdentityBook::new(
                match store_init.ca_secret {
                    Some(secret) => Ca::from_secret(secret),
                    None => Ca::from_seed(seed),
                },
                cfg.identity.credential_ttl_ms,
            ),
            identity_queue: IdentityQueue::default(),
            epoch_unix_ms,
            next_nonce: 1,
            stall_reset_at: 0,
            health_history: VecDeque::new(),
            next_health_sample: now,
            stress_running: Default::default(),
            uplinks: Vec::new(),
            arrivals: Vec::new(),
            due: Vec::new(),
            cfg,
        };
        let roster = core.host.roster();
        let count = roster.len() as u64;
        core.registry.reserve(roster.len());
        let first_deadline = core.detector.first_deadline(now) + core.enrolment_allowance(count);
        for (i, mut spec) in roster.into_iter().enumerate() {
            // Neurons keep running while the engine is down: a restarted engine finds each
            // on the config it was last confirmed running.
            if let Some(v) = stored_versions.get(&spec.id)
                && *v != spec.config_version
            {
                core.host.adopt_config(i as u32, v);
                spec.config_version = v.clone();
            }
            let labels_json = serde_json::to_string(&spec.labels).unwrap_or_default();
            fx.store(StoreOp::UpsertNeuron {
                id: spec.id.clone(),
                zone: spec.zone.clone(),
                kind: "simulated".into(),
                labels_json,
                config_version: spec.config_version.clone(),
                registered_at: fx.wall(now),
            });
            let neuron =
                TrackedNeuron::new(spec, "simulated", now, interval, core.cfg.detector.window);
            let idx = core.registry.add(neuron, first_deadline);
            core.identity.open_enrolment(idx);
        }
        fx.event(Event::FleetRegistered { count });
        core.chaos
            .restore(chaos_held, store_init.chaos_last, now, fx);
        core.rollouts
            .restore(stored_rollouts, &core.registry, now, fx);
        core.send_downlink(now, fx);
        core
    }

    pub fn wall(&self, at: Millis) -> String {
        rfc3339(self.epoch_unix_ms + at as i64)
    }

    /// One engine step at `now`.
    pub fn tick(&mut self, now: Millis, fx: &mut Effects) {
        self.chaos_tick(now, fx);
        self.fl_tick(now, fx);
        if let Some(change) = self.guard.on_tick(now) {
            self.on_guard_change(change, now, fx);
        }

        let mut uplinks = std::mem::take(&mut self.uplinks);
        self.host.step(now, &mut uplinks);
        for up in uplinks.drain(..) {
            self.link.send(up.sent_at, up.from, Packet::Up(up.message));
        }

        self.uplinks = uplinks;
        self.deliver_link(now, fx);
        self.answer_identity(now, fx);

        self.fire_timers(now, fx);

        let paused = !self.guard.may_convict();
        let touched = self
            .recovery
            .advance(now, &mut self.registry.neurons, paused, fx);
        for (idx, reason) in touched {
            self.refresh(idx, now, &reason, fx);
        }

        let silent =
            self.registry.count(NeuronState::Suspect) + self.registry.count(NeuronState::Offline);
        if let Some(change) =
            self.guard
                .evaluate_silence(now, silent as usize, self.registry.members())
        {
            self.on_guard_change(change, now, fx);
        }

        self.rollouts.advance(now, &self.registry, fx);
        self.send_downlink(now, fx);

        self.alerts
            .tick(now, &self.registry, &self.guard, &self.recovery, fx);
        self.chaos_watch(now);

        while now >= self.next_health_sample {
            self.health_history
                .push_back(self.registry.count(NeuronState::Healthy));
            if self.health_history.len() > HEALTH_HISTORY_KEPT {
                self.health_history.pop_front();
            }
            self.next_health_sample += 1000;
        }
    }

    /// Hand over everything the link delivered by `now`: messages to the detector, commands to
    /// the simulated neuron (or, for a real agent, to its outbox).
    fn deliver_link(&mut self, now: Millis, fx: &mut Effects) {
        let mut uplinks = std::mem::take(&mut self.uplinks);
        let mut arrivals = std::mem::take(&mut self.arrivals);
        self.link.deliver_due(now, &mut arrivals);
        let mut pending = arrivals.drain(..);
        while let Some(arrival) = pending.next() {
            self.prefetch_neuron(pending.as_slice());
            match arrival.packet {
                Packet::Up(message) if is_identity_request(&message) => {
                    self.queue_identity(arrival.at, arrival.neuron, message)
                }
                Packet::Up(message) => self.ingest(arrival.at, arrival.neuron, message, fx),
                Packet::Verified(message) => {
                    self.ingest_as(arrival.at, arrival.neuron, message, Trust::Enveloped, fx)
                }
                Packet::Down(command) if self.is_agent(arrival.neuron) => {
                    self.agents.queue(arrival.neuron, command)
                }
                Packet::Down(command) => {
                    self.host
                        .deliver(arrival.at, arrival.neuron, command, &mut uplinks);
                    for up in uplinks.drain(..) {
                        self.link.send(up.sent_at, up.from, Packet::Up(up.message));
                    }
                }
            }
        }
        drop(pending);
        self.uplinks = uplinks;
        self.arrivals = arrivals;
    }

    /// While an arrival is handled, load what the `next` ones will touch: the records of the
    /// one after next, and the detector window of the next (found through its record, loaded
    /// one arrival earlier). See [`super::prefetch`].
    fn prefetch_neuron(&self, next: &[Arrival]) {
        if let Some(idx) = next.get(1).map(|a| a.neuron as usize) {
            super::prefetch::prefetch_at(&self.registry.neurons, idx);
            super::prefetch::prefetch_at(&self.registry.timers, idx);
            self.identity.prefetch(idx);
        }
        if let Some(n) = next
            .first()
            .and_then(|a| self.registry.neurons.get(a.neuron as usize))
        {
            n.intervals.prefetch();
        }
    }

    /// After a rollout decision was made durable (see [`Effects::sync`]): go on with it in the
    /// same tick, so the first wave does not wait for the next one.
    pub fn after_sync(&mut self, now: Millis, fx: &mut Effects) {
        self.rollouts.advance(now, &self.registry, fx);
        self.send_downlink(now, fx);
    }

    pub fn send_downlink(&mut self, now: Millis, fx: &mut Effects) {
        for (to, command) in fx.downlink.drain(..) {
            if command == NeuronCommand::Reenroll {
                if self.is_agent(to) && self.identity.binding(to).is_some() {
                    // A bound agent renews with the key it holds (an endorsement, even past
                    // expiry): a re-issue must not open its id to whoever enrols first.
                    self.identity.renewal_only(to);
                } else {
                    // Asking for a fresh enrolment is what lets one in without an endorsement.
                    self.identity.open_enrolment(to);
                }
            }
            // A real agent's commands cross the simulated link only while chaos impairs it.
            if self.is_agent(to) && !self.link.is_impaired(to, false) {
                self.agents.queue(to, command);
            } else {
                self.link.send(now, to, Packet::Down(command));
            }
        }
    }

    pub fn is_agent(&self, idx: u32) -> bool {
        self.registry
            .neurons
            .get(idx as usize)
            .is_some_and(|n| n.agent)
    }

    /// A real agent joins (or rejoins after its process restarted: same id, same row).
    ///
    /// An id is bound to the key that enrolled it: once a credential was issued, registering
    /// that id again takes a proof by the bound key (a signed registration), or an admin's
    /// release (`plexus neurons forget ID`); anything else is a conflict, and nothing changes.
    pub fn register_agent(
        &mut self,
        spec: NeuronSpec,
        proof: Option<&RegistrationProof>,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<u32, ApiError> {
        let existing = self.registry.find(&spec.id);
        if let Some(idx) = existing
            && !self.is_agent(idx)
        {
            return Err(ApiError::bad_input(format!(
                "neuron id '{}' belongs to a simulated neuron",
                spec.id
            )));
        }
        let bound = match existing {
            Some(idx) => self.identity.binding(idx),
            None => self
                .pins
                .get(&spec.id)
                .map(|p| (p.serial, Bytes32(p.public_key), p.not_before, p.not_after)),
        };
        if let Some((_, key, ..)) = bound {
            let now_unix = self.epoch_unix_ms + now as i64;
            self.check_registration_proof(&spec.id, &key, proof, now_unix)?;
        }
        if let Some(idx) = existing {
            self.agents
                .log(idx, now, "info", "agent re-registered".into());
            let n = &mut self.registry.neurons[idx as usize];
            if *n.labels != *spec.labels {
                // A restarted agent may serve elsewhere now (its `serve` label).
                n.labels = spec.labels.clone().into();
                let at = fx.wall(n.registered_at);
                store_agent(&spec, at, fx);
            }
            self.push_model_to(idx, fx);
            match bound {
                // The holder of the bound key is back: it handshakes or renews with that key.
                Some(_) => self.identity.proven(idx),
                // Never enrolled: its registration is what lets it enrol.
                None => self.identity.open_enrolment(idx),
            }
            return Ok(idx);
        }
        store_agent(&spec, fx.wall(now), fx);
        let id = spec.id.clone();
        let neuron = TrackedNeuron::new(
            spec,
            AGENT,
            now,
            self.cfg.heartbeat_ms,
            self.cfg.detector.window,
        );
        let idx = self.registry.add(neuron, self.detector.first_deadline(now));
        self.identity.clear(idx);
        self.identity_queue.forget(idx);
        match bound {
            Some(latest) => {
                self.identity.restore(idx, latest);
                self.identity.proven(idx);
            }
            None => self.identity.open_enrolment(idx),
        }
        self.agents.log(idx, now, "info", "agent registered".into());
        self.push_model_to(idx, fx);
        fx.event(Event::NeuronRegistered { neuron: id });
        Ok(idx)
    }

    fn check_registration_proof(
        &self,
        id: &str,
        key: &Bytes32,
        proof: Option<&RegistrationProof>,
        now_unix: i64,
    ) -> Result<(), ApiError> {
        let conflict = |why: &str| {
            ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "neuron id '{id}' is bound to the key that enrolled it ({why}); the agent that holds it re-registers with a proof, or an admin releases the id with `plexus neurons forget {id}`"
                ),
            )
        };
        let Some(proof) = proof else {
            return Err(conflict("no proof"));
        };
        if (proof.at - now_unix).abs() > REGISTRATION_PROOF_SKEW_MS {
            return Err(conflict(
                "the proof's time is more than 5 min from the server's",
            ));
        }
        let bytes = register_bytes(&spiffe_id(id), proof.at);
        if !super::identity::ca::verify(key, &bytes, &proof.signature) {
            return Err(conflict("the proof does not verify with the bound key"));
        }
        Ok(())
    }

    /// Release an agent id from its key (admin): its credential and sessions end, and the next
    /// registration may enrol a new key.
    pub fn forget_agent(
        &mut self,
        id: &str,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(), ApiError> {
        let pinned = self.pins.remove(id).is_some();
        let live = self.registry.find(id).filter(|i| self.is_agent(*i));
        if !pinned && live.is_none() {
            return Err(ApiError::not_found(format!(
                "no agent '{id}' is bound to a key"
            )));
        }
        if let Some(idx) = live {
            self.identity.clear(idx);
            self.identity_queue.forget(idx);
            self.identity.open_enrolment(idx);
            self.agents.log(
                idx,
                now,
                "warn",
                "id released by an admin: enrol afresh".into(),
            );
            fx.send(idx, NeuronCommand::Reenroll);
        }
        fx.store(StoreOp::AgentReleased {
            neuron: id.to_string(),
        });
        Ok(())
    }

    /// A credential was issued to an agent: its id is bound to that key, durably.
    fn pin(&mut self, idx: u32, fx: &mut Effects) {
        if !self.is_agent(idx) {
            return;
        }
        let Some((serial, key, not_before, not_after)) = self.identity.binding(idx) else {
            return;
        };
        let pin = Pin {
            neuron: self.registry.neurons[idx as usize].id.to_string(),
            public_key: key.0,
            serial,
            not_before,
            not_after,
        };
        self.pins.insert(pin.neuron.clone(), pin.clone());
        fx.store(StoreOp::AgentPinned(pin));
    }

    /// Test cleanup: remove every mock neuron (an agent whose id starts with
    /// [`MOCK_NEURON_PREFIX`]); returns how many.
    pub fn remove_mock_neurons(&mut self, fx: &mut Effects) -> usize {
        let mocks: Vec<u32> = self
            .registry
            .live_indexes()
            .filter(|i| {
                self.is_agent(*i)
                    && self.registry.neurons[*i as usize]
                        .id
                        .starts_with(MOCK_NEURON_PREFIX)
            })
            .collect();
        for &idx in &mocks {
            let id = self.registry.neurons[idx as usize].id.to_string();
            self.registry.remove(idx);
            self.recovery.forget(idx);
            self.agents.forget(idx);
            self.identity.clear(idx);
            self.identity_queue.forget(idx);
            if self.pins.remove(&id).is_some() {
                fx.store(StoreOp::AgentReleased { neuron: id.clone() });
            }
            fx.store(StoreOp::DeleteNeuron { id });
        }
        mocks.len()
    }

    /// A report from a real agent arrived now; returns the commands waiting for it.
    ///
    /// Nothing in it takes effect before it is verified: an enrolment or handshake by its
    /// signatures (and then only the identity answer goes back: no log line is kept and no
    /// queued command leaves), everything else by the report's MAC over the exact bytes that
    /// travelled, with a counter that must grow (a captured report cannot be replayed).
    pub fn agent_message(
        &mut self,
        id: &str,
        report: OpenedReport,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<crate::api::channel::AgentReply, ApiError> {
        let idx = self.find_agent(id)?;
        let OpenedReport {
            message,
            logs,
            digest,
            auth,
        } = report;
        let by_signature = is_identity_request(&message);
        if !by_signature {
            let now_unix = self.epoch_unix_ms + now as i64;
            if let Err(reason) =
                self.identity
                    .check_report(idx, id, auth.as_ref(), &digest, now_unix)
            {
                self.refuse(idx, now, reason, false, fx);
                self.send_downlink(now, fx);
                return Ok(crate::api::channel::AgentReply {
                    commands: self.agents.collect_identity(idx),
                    verified: None,
                });
            }
            for (level, line) in logs.into_iter().take(agents::LOG_LINES_PER_REPORT) {
                self.agents
                    .log(idx, now, agents::level(&level), agents::clean(&line));
            }
        }
        let packet = if by_signature {
            Packet::Up(message)
        } else {
            Packet::Verified(message)
        };
        if self.link.is_impaired(idx, true) {
            // Chaos holds this agent's link: its message is lost or held back like a simulated
            // neuron's, and the detector sees only what the link delivers.
            self.link.send(now, idx, packet);
            self.deliver_link(now, fx);
        } else {
            match packet {
                Packet::Verified(message) => {
                    let answers_rollout = matches!(message, NeuronMessage::Rollout(_));
                    self.ingest_as(now, idx, message, Trust::Enveloped, fx);
                    if answers_rollout {
                        // The step may be complete: go on now rather than at the next tick.
                        self.rollouts.advance(now, &self.registry, fx);
                    }
                }
                Packet::Up(message) => self.ingest(now, idx, message, fx),
                Packet::Down(_) => {}
            }
        }
        self.send_downlink(now, fx);
        Ok(if by_signature {
            crate::api::channel::AgentReply {
                commands: self.agents.collect_identity(idx),
                verified: None,
            }
        } else {
            crate::api::channel::AgentReply {
                commands: self.agents.collect(idx),
                verified: auth.as_ref().map(|a| a.serial),
            }
        })
    }

    /// The registry index of agent `id` (an error for an unknown id or a simulated neuron).
    fn find_agent(&self, id: &str) -> Result<u32, ApiError> {
        let idx = self.find(id)?;
        if !self.is_agent(idx) {
            return Err(ApiError::bad_input(format!("'{id}' is not an agent")));
        }
        Ok(idx)
    }

    /// What waits for agent `id`, fetched by its push channel: only while the identity session
    /// the channel was bound under (`serial`) still stands.
    pub fn agent_collect(
        &mut self,
        id: &str,
        serial: u64,
        now: Millis,
    ) -> Result<Vec<NeuronCommand>, ApiError> {
        let idx = self.find_agent(id)?;
        let now_unix = self.epoch_unix_ms + now as i64;
        if !self.identity.session_live(idx, serial, now_unix) {
            return Err(ApiError::new(
                crate::api::ErrorCode::Unauthenticated,
                format!(
                    "the channel of {id} was bound to session #{serial}, which no longer stands; \
                 send a verified report to bind it again"
                ),
            ));
        }
        Ok(self.agents.collect(idx))
    }

    /// A neuron's own log, from the simulated host or what its agent shipped.
    pub fn raw_logs(&self, idx: u32, tail: usize) -> Vec<RawLogLine> {
        if self.is_agent(idx) {
            self.agents.logs(idx, tail)
        } else {
            self.host.logs(idx, tail)
        }
    }

    fn fire_timers(&mut self, now: Millis, fx: &mut Effects) {
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        self.registry.due(now, &mut due);
        let may_convict = self.guard.may_convict();
        for &idx in &due {
            if self.waits_for_identity(idx, now) {
                continue;
            }
            let n = &mut self.registry.neurons[idx as usize];
            let was = n.liveness;
            let (action, next) = self
                .detector
                .on_timer(n, now, may_convict, &mut self.next_nonce);
            self.registry.timers[idx as usize] = next;
            match action {
                TimerAction::Probe(nonce) => {
                    if was != Liveness::Suspect && !self.registry.neurons[idx as usize].mock {
                        // Only a neuron that was heard from can fall silent: one never heard
                        // from (still starting, its first request waiting) is not fleet silence.
                        if was == Liveness::Alive {
                            self.guard.note_suspicion(now);
                        }
                        let n = &self.registry.neurons[idx as usize];
                        let reason = match was {
                            Liveness::Pending => format!(
                                "no first heartbeat {:.1} s after registration; probing",
                                now.saturating_sub(n.registered_at) as f64 / 1000.0
                            ),
                            _ => format!(
                                "heartbeat late (phi {:.1}); probing",
                                self.detector.phi(n, now)
                            ),
                        };
                        self.refresh(idx, now, &reason, fx);
                    }
                    fx.send(idx, NeuronCommand::Probe { nonce });
                }
                TimerAction::Convict => {
                    let reason = self.registry.neurons[idx as usize].offline_evidence.clone();
                    self.refresh(idx, now, &reason, fx);
                }
                TimerAction::Hold => {}
            }
        }
        self.due = due;
    }

    fn ingest(&mut self, at: Millis, idx: u32, message: NeuronMessage, fx: &mut Effects) {
        self.ingest_as(at, idx, message, Trust::Raw, fx);
    }

    /// `trust`: what was already checked about the message (see [`Trust`]).
    fn ingest_as(
        &mut self,
        at: Millis,
        idx: u32,
        message: NeuronMessage,
        trust: Trust,
        fx: &mut Effects,
    ) {
        if self.registry.neurons.get(idx as usize).is_none() {
            return;
        }
        if let Err(reason) = self.verify(idx, &message, at, trust, fx) {
            let enrolment = matches!(message, NeuronMessage::Enroll(_));
            self.refuse(idx, at, reason, enrolment, fx);
            return;
        }
        let n = &mut self.registry.neurons[idx as usize];
        match message {
            NeuronMessage::Heartbeat(hb) => {
                fx.heard.push(at);
                n.identity_rejects = 0;
                n.identity = None;
                let was = n.liveness;
                let gap_is_sample = n
                    .last_arrival
                    .is_some_and(|last| last >= self.stall_reset_at);
                let next = self.detector.on_heartbeat(n, at, &hb, gap_is_sample);
                self.registry.timers[idx as usize] = next;
                let n = &mut self.registry.neurons[idx as usize];
                let healthy = n.condition().0 == NeuronState::Healthy;
                let recovered = self.recovery.on_heartbeat(idx, n, healthy, at, fx);
                let reason = match was {
                    _ if recovered => "recovered: healthy heartbeats after the attempt",
                    Liveness::Pending => "first heartbeat",
                    Liveness::Alive => "heartbeat",
                    Liveness::Suspect => "late heartbeat arrived",
                    Liveness::Offline => "heartbeats resumed",
                };
                self.refresh(idx, at, reason, fx);
            }
            NeuronMessage::ProbeAck { nonce, .. } => {
                if let Some(next) = self.detector.on_probe_ack(n, at, nonce) {
                    self.registry.timers[idx as usize] = next;
                    self.refresh(idx, at, "answered a probe", fx);
                }
            }
            NeuronMessage::Rollout(reply) => self.rollouts.on_reply(idx, &reply, at, fx),
            NeuronMessage::FlUpdate(answer) => {
                if let Err(reason) = self.fl_runs.answer(idx, *answer) {
                    self.agents
                        .log(idx, at, "warn", format!("FL update refused: {reason}"));
                }
            }
            // Answered in `verify`; verified, so a sign of life.
            NeuronMessage::Enroll(_) | NeuronMessage::Handshake(_) => {
                let was = n.liveness;
                self.registry.timers[idx as usize] = self.detector.on_verified_identity(n, at);
                if was != Liveness::Alive {
                    self.refresh(idx, at, "verified its identity", fx);
                }
            }
        }
    }

    /// Identity first: a heartbeat or probe answer must carry a valid MAC under a live session;
    /// an enrolment or handshake is answered here (a credential, a session key).
    fn verify(
        &mut self,
        idx: u32,
        message: &NeuronMessage,
        at: Millis,
        trust: Trust,
        fx: &mut Effects,
    ) -> Result<(), String> {
        let now_unix = self.epoch_unix_ms + at as i64;
        let agent = self.is_agent(idx);
        let id = &self.registry.neurons[idx as usize].id;
        match message {
            NeuronMessage::Heartbeat(_)
            | NeuronMessage::ProbeAck { .. }
            | NeuronMessage::Rollout(_)
                if trust == Trust::Enveloped =>
            {
                Ok(())
            }
            // An agent's rollout answer counts only inside a verified report.
            NeuronMessage::Rollout(_) if agent => {
                Err("a rollout reply outside a verified report".into())
            }
            NeuronMessage::FlUpdate(_) if trust == Trust::Enveloped => Ok(()),
            NeuronMessage::FlUpdate(_) => Err("an FL update outside a verified report".into()),
            NeuronMessage::Heartbeat(hb) => self.identity.check(
                idx,
                hb.auth.as_ref(),
                |feed| heartbeat_mac_input(hb, feed),
                now_unix,
            ),
            NeuronMessage::ProbeAck { nonce, auth } => self.identity.check(
                idx,
                auth.as_ref(),
                |feed| probe_ack_mac_input(*nonce, feed),
                now_unix,
            ),
            NeuronMessage::Enroll(e) => {
                let issued = if trust == Trust::ProofVerified {
                    self.identity.enroll_proven(idx, id, e, now_unix, agent)?
                } else {
                    self.identity.enroll(idx, id, e, now_unix, agent)?
                };
                if issued.rotation {
                    fx.event(Event::CredentialRotated {
                        neuron: id.to_string(),
                        serial: issued.serial,
                        not_after: rfc3339(issued.not_after),
                    });
                }
                fx.send(idx, issued.reply);
                self.pin(idx, fx);
                Ok(())
            }
            NeuronMessage::Handshake(h) => {
                let reply = self.identity.handshake(idx, id, h, now_unix, agent)?;
                fx.send(idx, reply);
                Ok(())
            }
            NeuronMessage::Rollout(_) => Ok(()),
        }
    }

    /// A message failed verification: tell the neuron (it starts over with a handshake) and
    /// let the detector weigh it.
    fn refuse(&mut self, idx: u32, at: Millis, reason: String, enrolment: bool, fx: &mut Effects) {
        let n = &mut self.registry.neurons[idx as usize];
        if let Some(next) = self.detector.on_unverified(n, at, &reason) {
            self.registry.timers[idx as usize] = next;
        }
        fx.send(idx, NeuronCommand::IdentityRefused { reason, enrolment });
        self.refresh(idx, at, "message failed identity verification", fx);
    }

    /// Re-derive a neuron's state after anything about it changed; record and announce a
    /// transition and hand failures to recovery.
    fn refresh(&mut self, idx: u32, at: Millis, reason: &str, fx: &mut Effects) {
        let n = &self.registry.neurons[idx as usize];
        let (state, failure) = n.derive();
        let reason = match &failure {
            Some((_, evidence)) => evidence.as_str(),
            None => reason,
        };
        let Some(from) = self.registry.set_state(idx, state, at, reason) else {
            // Same state; a failure may still have changed mode (slow → config failure).
            if let Some((mode, evidence)) = failure
                && self
                    .recovery
                    .episode(idx)
                    .is_some_and(|e| e.failing && e.mode != mode)
            {
                let n = &mut self.registry.neurons[idx as usize];
                self.recovery.on_failure(idx, n, mode, evidence, at, fx);
            }
            return;
        };
        let n = &mut self.registry.neurons[idx as usize];
        fx.event(Event::NeuronStateChanged {
            neuron: n.id.to_string(),
            from,
            to: state,
            reason: reason.to_string(),
        });
        // A first heartbeat is the normal end of joining, not history worth a row per neuron
        // (a 100,000-neuron boot would write 100,000 of them); it stays in the in-memory history.
        if from != NeuronState::Pending || state != NeuronState::Healthy {
            fx.store(StoreOp::StateChange {
                neuron: n.id.to_string(),
                at: fx.wall(at),
                from: from.as_str(),
                to: state.as_str(),
                reason: reason.to_string(),
            });
        }
        // A stress test's mock neuron is not recovered: it is not part of the fleet.
        if n.mock {
            return;
        }
        match failure {
            Some((mode, evidence)) => self.recovery.on_failure(idx, n, mode, evidence, at, fx),
            None if state == NeuronState::Healthy => self.recovery.on_healthy(idx, n, at),
            None => {}
        }
    }

    fn on_guard_change(&mut self, change: GuardChange, now: Millis, fx: &mut Effects) {
        match change {
            GuardChange::StallRaised { gap_ms } => {
                // Nobody was heard from while the engine itself was not running: start every
                // neuron's silence over from now, and do not learn from the gap.
                self.stall_reset_at = now;
                for (idx, n) in self.registry.neurons.iter_mut().enumerate() {
                    if !n.removed && matches!(n.liveness, Liveness::Alive | Liveness::Suspect) {
                        n.probes_sent = 0;
                        if n.liveness == Liveness::Suspect {
                            n.liveness = Liveness::Alive;
                        }
                        self.registry.timers[idx] =
                            now + self.detector.model.silence_allowed_ms(&n.intervals) as Millis;
                    }
                }
                let detail = format!(
                    "the engine did not run for {:.1} s; convictions held while the fleet is heard from again",
                    gap_ms as f64 / 1000.0
                );
                self.raise("engine_stall", detail, now, fx);
                let suspects: Vec<u32> = (0..self.registry.len() as u32)
                    .filter(|i| self.registry.neurons[*i as usize].state == NeuronState::Suspect)
                    .collect();
                for idx in suspects {
                    self.refresh(idx, now, "engine stall: suspicion withdrawn", fx);
                }
            }
            GuardChange::SilenceRaised { recent, total } => {
                let detail = format!(
                    "{recent} of {total} neurons went silent at once; likely the engine's own network. Convictions held."
                );
                self.raise("fleet_silence", detail, now, fx);
            }
            GuardChange::StallCleared => fx.event(Event::ConditionCleared {
                kind: "engine_stall".into(),
            }),
            GuardChange::SilenceCleared => fx.event(Event::ConditionCleared {
                kind: "fleet_silence".into(),
            }),
        }
    }

    fn raise(&mut self, kind: &str, detail: String, now: Millis, fx: &mut Effects) {
        fx.event(Event::ConditionRaised {
            condition: FleetCondition {
                kind: kind.into(),
                since: self.wall(now),
                detail,
            },
        });
    }

    /// Conditions the guard has raised now.
    pub fn conditions(&self) -> Vec<FleetCondition> {
        let mut out = Vec::new();
        if let Some(since) = self.guard.stall_since {
            out.push(FleetCondition {
                kind: "engine_stall".into(),
                since: self.wall(since),
                detail: "the engine's tick stalled; convictions held".into(),
            });
        }
        if let Some(since) = self.guard.silence_since {
            out.push(FleetCondition {
                kind: "fleet_silence".into(),
                since: self.wall(since),
                detail: "a large share of the fleet went silent at once; convictions held".into(),
            });
        }
        out
    }

    pub fn find(&self, id: &str) -> Result<u32, ApiError> {
        self.registry
            .find(id)
            .ok_or_else(|| ApiError::unknown_neuron(id))
    }

    /// Operator override: recover a neuron now.
    pub fn recover(
        &mut self,
        id: &str,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(u32, &'static str), ApiError> {
        let idx = self.find(id)?;
        let n = &mut self.registry.neurons[idx as usize];
        if n.mock {
            return Err(ApiError::failed(format!(
                "{id} is a stress test's mock neuron: it is not recovered (`plexus stress cleanup` removes it)"
            )));
        }
        let (attempt, strategy) = self.recovery.manual(idx, n, now, fx)?;
        let reason = format!("manual recovery attempt #{attempt}: {}", strategy.as_str());
        self.refresh(idx, now, &reason, fx);
        self.send_downlink(now, fx);
        Ok((attempt, strategy.as_str()))
    }

    /// Inject a fault into a simulated neuron (tests, drills, chaos).
    pub fn inject(
        &mut self,
        id: &str,
        fault: Fault,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(), ApiError> {
        let idx = self.find(id)?;
        fx.event(Event::FaultInjected {
            neuron: id.to_string(),
            fault: fault.to_string(),
        });
        self.inject_into(idx, now, fx, fault);
        self.send_downlink(now, fx);
        Ok(())
    }

    pub fn clear_faults(
        &mut self,
        id: &str,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(), ApiError> {
        let idx = self.find(id)?;
        self.clear_neuron_faults(idx, now, fx);
        self.send_downlink(now, fx);
        Ok(())
    }

    /// Ask a neuron to apply a config version (the rollout machinery builds on this).
    pub fn apply_config(
        &mut self,
        id: &str,
        version: &str,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(), ApiError> {
        let idx = self.find(id)?;
        fx.send(
            idx,
            NeuronCommand::ApplyConfig {
                version: version.to_string(),
            },
        );
        self.send_downlink(now, fx);
        Ok(())
    }

    /// Timer of a neuron, for tests.
    pub fn timer(&self, idx: u32) -> Millis {
        self.registry
            .timers
            .get(idx as usize)
            .copied()
            .unwrap_or(NEVER)
    }
}

/// An agent's registry row, as stored.
fn store_agent(spec: &NeuronSpec, registered_at: i64, fx: &mut Effects) {
    fx.store(StoreOp::UpsertNeuron {
        id: spec.id.clone(),
        zone: spec.zone.clone(),
        kind: AGENT.into(),
        labels_json: serde_json::to_string(&spec.labels).unwrap_or_default(),
        config_version: spec.config_version.clone(),
        registered_at,
    });
}
