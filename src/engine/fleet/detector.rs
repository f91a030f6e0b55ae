//! Turns what arrives from a neuron (heartbeats, probe answers) and what does not (silence) into
//! liveness and conditions. Suspicion comes from phi; conviction needs probes to go unanswered
//! too, so a few lost heartbeats on a lossy link do not take a live neuron offline.

use std::sync::Arc;

use super::phi::PhiModel;
use super::tracked::{Liveness, TrackedNeuron};
use crate::api::Millis;
use crate::api::wire::{ConfigStatus, Heartbeat};
use crate::engine::config::DetectorConfig;

/// No timer armed.
pub const NEVER: Millis = Millis::MAX;

/// What the detector wants done when a neuron's timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerAction {
    /// Send a probe with this nonce.
    Probe(u64),
    /// Declare the neuron offline.
    Convict,
    /// Nothing to send (conviction held back by the guard); check again later.
    Hold,
}

pub struct Detector {
    pub cfg: DetectorConfig,
    pub model: PhiModel,
    pub interval_ms: Millis,
}

impl Detector {
    pub fn new(cfg: DetectorConfig, interval_ms: Millis) -> Self {
        let interval = interval_ms as f64;
        let model = PhiModel::new(
            cfg.phi_threshold,
            cfg.min_std_fraction * interval,
            cfg.acceptable_pause_fraction * interval,
        );
        Detector {
            cfg,
            model,
            interval_ms,
        }
    }

    /// When a registered neuron that never sent anything becomes suspect.
    pub fn first_deadline(&self, registered_at: Millis) -> Millis {
        registered_at + 3 * self.interval_ms
    }

    fn silence_deadline(&self, n: &TrackedNeuron, from: Millis) -> Millis {
        from + self.model.silence_allowed_ms(&n.intervals).ceil() as Millis
    }

    pub fn phi(&self, n: &TrackedNeuron, now: Millis) -> f64 {
        match (n.liveness, n.last_arrival) {
            (Liveness::Alive | Liveness::Suspect, Some(last)) => self
                .model
                .phi(&n.intervals, now.saturating_sub(last) as f64)
                .min(99.9),
            (Liveness::Offline, _) => 99.9,
            _ => 0.0,
        }
    }

    /// A heartbeat arrived. `gap_is_sample`: the gap since the previous one is a real
    /// inter-arrival time (not spanning a restart, a conviction or an engine stall).
    /// Returns the neuron's next timer.
    pub fn on_heartbeat(
        &self,
        n: &mut TrackedNeuron,
        at: Millis,
        hb: &Heartbeat,
        gap_is_sample: bool,
    ) -> Millis {
        let same_life = hb.incarnation == n.incarnation;
        if hb.incarnation < n.incarnation {
            // Incarnations only grow: an older one is a replay or a forgery. It came over the
            // neuron's connection (a sign of life) but nothing it says is believed.
            n.forged_reports += 1;
            if n.forged_reports >= self.cfg.degraded_after {
                n.byzantine = Some(format!(
                    "{} heartbeats with a stale incarnation ({} < {})",
                    n.forged_reports, hb.incarnation, n.incarnation
                ));
            }
            n.last_arrival = Some(at);
        } else if same_life && hb.seq <= n.last_seq && n.last_arrival.is_some() {
            // Overtaken by a later heartbeat on a jittery link: a sign of life, not a sample.
        } else {
            let continuous = same_life && matches!(n.liveness, Liveness::Alive | Liveness::Suspect);
            match (continuous && gap_is_sample, n.last_arrival) {
                (true, Some(last)) => n.intervals.push(at.saturating_sub(last)),
                _ => n.intervals.bootstrap(self.interval_ms),
            }
            n.forged_reports = 0;
            n.byzantine = None;
            n.incarnation = hb.incarnation;
            n.last_seq = hb.seq;
            n.last_arrival = Some(at);
            self.read_report(n, hb);
        }
        n.liveness = Liveness::Alive;
        n.probes_sent = 0;
        self.silence_deadline(n, n.last_arrival.unwrap_or(at))
    }

    /// A message came over the neuron's connection but failed identity verification. It keeps
    /// a neuron already heard from alive (something is there), never makes one alive that was
    /// not, and nothing it says is believed. Returns the next timer, if it changed.
    pub fn on_unverified(&self, n: &mut TrackedNeuron, at: Millis, reason: &str) -> Option<Millis> {
        n.identity_rejects += 1;
        if n.identity_rejects >= self.cfg.degraded_after {
            n.identity = Some(format!(
                "{} messages failed identity verification: {reason}",
                n.identity_rejects
            ));
        }
        if !matches!(n.liveness, Liveness::Alive | Liveness::Suspect) {
            return None;
        }
        n.last_arrival = Some(at);
        n.liveness = Liveness::Alive;
        n.probes_sent = 0;
        Some(self.silence_deadline(n, at))
    }

    /// A verified enrolment or handshake: proof the neuron is there (it holds its key), though
    /// it says nothing about its work yet. Keeps a fleet that is still enrolling from being
    /// probed and convicted while the CA works through it. Returns the next timer.
    pub fn on_verified_identity(&self, n: &mut TrackedNeuron, at: Millis) -> Millis {
        n.last_arrival = Some(at);
        n.liveness = Liveness::Alive;
        n.probes_sent = 0;
        self.silence_deadline(n, at)
    }

    /// Config status and telemetry carried by a heartbeat.
    fn read_report(&self, n: &mut TrackedNeuron, hb: &Heartbeat) {
        // Mostly the same version beat after beat: compared by pointer when the neuron's text is
        // shared (a simulated fleet's), adopted when it is shared or new, and otherwise left
        // alone (an agent's is decoded afresh each time: no new allocation for it).
        if !Arc::ptr_eq(&n.config_version, &hb.config_version)
            && (Arc::strong_count(&hb.config_version) > 1
                || *n.config_version != *hb.config_version)
        {
            n.config_version = hb.config_version.clone();
        }
        match &hb.config {
            ConfigStatus::Applied => {
                n.config_failure = None;
                if !Arc::ptr_eq(&n.last_good_config, &n.config_version) {
                    n.last_good_config = n.config_version.clone();
                }
            }
            ConfigStatus::Failed { version, reason } => {
                n.config_failure = Some(format!("config {version} failed to apply: {reason}"));
            }
        }
        let after = self.cfg.degraded_after;
        match hb.telemetry {
            Some(t) if t.is_valid() => {
                n.bad_reports = 0;
                n.analytics = None;
                n.telemetry = Some(t);
                if t.latency_p50_ms > self.cfg.slow_latency_ms {
                    n.slow_reports += 1;
                    if n.slow_reports >= after {
                        n.slow = Some(format!(
                            "median latency {:.0} ms > {:.0} ms for {} heartbeats",
                            t.latency_p50_ms, self.cfg.slow_latency_ms, n.slow_reports
                        ));
                    }
                } else {
                    n.slow_reports = 0;
                    n.slow = None;
                }
            }
            other => {
                n.bad_reports += 1;
                if n.bad_reports >= after {
                    let what = if other.is_some() {
                        "invalid telemetry (non-finite or out-of-range values)"
                    } else {
                        "no telemetry"
                    };
                    n.analytics = Some(format!("{what} in {} heartbeats in a row", n.bad_reports));
                }
            }
        }
    }

    /// A probe answer arrived; returns the new timer if it belongs to the current suspicion.
    pub fn on_probe_ack(&self, n: &mut TrackedNeuron, at: Millis, nonce: u64) -> Option<Millis> {
        let current = nonce >= n.probe_nonce_base && n.probe_nonce_base > 0;
        if !current || !matches!(n.liveness, Liveness::Suspect | Liveness::Offline) {
            return None;
        }
        n.liveness = Liveness::Alive;
        n.probes_sent = 0;
        // Alive, but its heartbeats are not arriving: judge the next silence from now.
        Some(self.silence_deadline(n, at))
    }

    /// The neuron's timer fired at `now`. `may_convict` is false while the local-health guard
    /// holds convictions back. Returns what to do and the next timer.
    pub fn on_timer(
        &self,
        n: &mut TrackedNeuron,
        now: Millis,
        may_convict: bool,
        next_nonce: &mut u64,
    ) -> (TimerAction, Millis) {
        match n.liveness {
            Liveness::Pending | Liveness::Alive => {
                n.liveness = Liveness::Suspect;
                n.probes_sent = 0;
                n.probe_nonce_base = *next_nonce;
                self.probe(n, now, next_nonce)
            }
            Liveness::Suspect if n.probes_sent < self.cfg.probes => self.probe(n, now, next_nonce),
            Liveness::Suspect if !may_convict => {
                (TimerAction::Hold, now + self.cfg.probe_timeout_ms)
            }
            Liveness::Suspect => {
                n.offline_evidence = match n.last_arrival {
                    Some(last) => format!(
                        "no heartbeat for {:.1} s (phi {:.1} > {}), {} probes unanswered",
                        now.saturating_sub(last) as f64 / 1000.0,
                        self.phi(n, now),
                        self.cfg.phi_threshold,
                        n.probes_sent
                    ),
                    None => format!(
                        "no heartbeat since registration {:.1} s ago, {} probes unanswered",
                        now.saturating_sub(n.registered_at) as f64 / 1000.0,
                        n.probes_sent
                    ),
                };
                n.liveness = Liveness::Offline;
                (TimerAction::Convict, NEVER)
            }
            Liveness::Offline => (TimerAction::Hold, NEVER),
        }
    }

    fn probe(
        &self,
        n: &mut TrackedNeuron,
        now: Millis,
        next_nonce: &mut u64,
    ) -> (TimerAction, Millis) {
        let nonce = *next_nonce;
        *next_nonce += 1;
        n.probes_sent += 1;
        (TimerAction::Probe(nonce), now + self.cfg.probe_timeout_ms)
    }
}
