//! One simulated neuron: real behaviour (heartbeats, workload, config apply, restart through a
//! supervisor, a log) whose faults are injected, never faked to the detector.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg32;
use std::sync::Arc;

use super::identity::{IdentityStep, Keyring};
use super::logs::{LogRing, Served};
use super::staging::ConfigSlot;
use super::workload::Workload;
use crate::api::wire::{Heartbeat, NeuronCommand, NeuronMessage, Telemetry};
use crate::api::{Fault, Millis};
use crate::engine::fleet::host::{FlBehaviour, RawLogLine, Uplink};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    Running,
    /// The process is dead; only its supervisor answers (to restart it).
    Crashed,
    /// Alive but silent: its event loop is blocked.
    Hung,
    Restarting {
        until: Millis,
    },
}

#[derive(Debug, Clone, Default)]
struct Faults {
    crash_loop: bool,
    slow: Option<(f64, bool)>,
    analytics: Option<(bool, bool)>,
    fail_next_config: bool,
    /// Forging heartbeats; survives a restart when `true`.
    byzantine: Option<bool>,
}

/// How often a neuron writes its own serving summary to its log.
const STATS_LOG_EVERY_MS: Millis = 60_000;

pub struct SimNeuron {
    pub index: u32,
    pub id: Box<str>,
    rng: Pcg32,
    pub phase: Phase,
    incarnation: u64,
    seq: u64,
    interval_ms: Millis,
    /// When this neuron next acts (heartbeat or end of restart); the fleet keeps it scheduled.
    pub next_wake: Option<Millis>,
    last_beat: Option<Millis>,
    workload: Workload,
    faults: Faults,
    config: ConfigSlot,
    logs: LogRing,
    last_stats_log: Millis,
    restart_ms: (Millis, Millis),
    keys: Keyring,
}

impl SimNeuron {
    pub fn new(
        index: u32,
        id: &str,
        seed: u64,
        interval_ms: Millis,
        config_version: Arc<str>,
        restart_ms: (Millis, Millis),
        first_beat: Millis,
    ) -> Self {
        let mut rng =
            Pcg32::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let workload = Workload::new(&mut rng);
        let mut neuron = SimNeuron {
            index,
            id: id.into(),
            rng,
            phase: Phase::Running,
            incarnation: 1,
            seq: 0,
            interval_ms,
            next_wake: Some(first_beat),
            last_beat: None,
            workload,
            faults: Faults::default(),
            config: ConfigSlot::new(config_version),
            logs: LogRing::default(),
            last_stats_log: 0,
            restart_ms,
            keys: Keyring::seeded(id, seed, index),
        };
        neuron.log(0, "info", "started (incarnation 1)".into());
        neuron
    }

    /// Have `forge` make this neuron's keys ahead (see [`super::keyforge`]).
    pub fn forge_keys_ahead(&mut self, forge: &super::keyforge::KeyForge) {
        self.keys.forge_ahead(forge);
    }

    fn log(&mut self, at: Millis, level: &'static str, message: String) {
        self.logs.push(at, level, message);
    }

    pub fn logs(&self, tail: usize) -> Vec<RawLogLine> {
        self.logs.tail(tail, &self.spiffe_id())
    }

    /// Time to act: finish a restart or send a heartbeat. `now` may be later than the scheduled
    /// time when the whole process (engine and simulated fleet) was stalled: a neuron that slept
    /// with us sends once when it wakes, it does not back-fill.
    pub fn wake(&mut self, scheduled: Millis, now: Millis, out: &mut Vec<Uplink>) {
        let at = if now.saturating_sub(scheduled) > self.interval_ms {
            now
        } else {
            scheduled
        };
        self.next_wake = None;
        match self.phase {
            Phase::Restarting { .. } => self.boot(at, out),
            Phase::Running => self.beat(at, out),
            Phase::Crashed | Phase::Hung => {}
        }
    }

    fn boot(&mut self, at: Millis, out: &mut Vec<Uplink>) {
        self.incarnation += 1;
        self.seq = 0;
        self.last_beat = None;
        if self.faults.slow.is_some_and(|(_, persistent)| !persistent) {
            self.faults.slow = None;
        }
        if self
            .faults
            .analytics
            .is_some_and(|(_, persistent)| !persistent)
        {
            self.faults.analytics = None;
        }
        if self.faults.byzantine == Some(false) {
            self.faults.byzantine = None;
        }
        if self.faults.crash_loop {
            self.phase = Phase::Crashed;
            self.log(
                at,
                "error",
                format!("incarnation {} crashed during start-up", self.incarnation),
            );
            return;
        }
        self.phase = Phase::Running;
        self.keys.restarted();
        self.log(
            at,
            "info",
            format!("started (incarnation {})", self.incarnation),
        );
        self.beat(at, out);
    }

    fn beat(&mut self, at: Millis, out: &mut Vec<Uplink>) {
        if let Some(message) = self.keys.due(at, self.interval_ms) {
            out.push(Uplink {
                from: self.index,
                sent_at: at,
                message,
            });
        }
        if !self.keys.has_session() {
            // Nothing it says would be believed: wait for the session (or the next retry).
            self.next_wake = Some(at + self.interval_ms);
            return;
        }
        let dt = self
            .last_beat
            .map_or(self.interval_ms, |last| at.saturating_sub(last));
        self.last_beat = Some(at);
        let slowdown = self.faults.slow.map_or(1.0, |(factor, _)| factor);
        let measured = self.workload.advance(at, dt, slowdown, &mut self.rng);
        let telemetry = match self.faults.analytics {
            None => Some(measured),
            Some((false, _)) => None,
            Some((true, _)) => Some(Telemetry {
                rps: -measured.rps,
                latency_p50_ms: f64::NAN,
                ..measured
            }),
        };
        self.seq += 1;
        // A Byzantine neuron replays an earlier life: a stale incarnation no honest neuron sends.
        let incarnation = match self.faults.byzantine {
            Some(_) => self.incarnation.saturating_sub(1),
            None => self.incarnation,
        };
        let mut heartbeat = Heartbeat {
            seq: self.seq,
            incarnation,
            config_version: self.config.version.clone(),
            config: self.config.status.clone(),
            telemetry,
            auth: None,
        };
        self.keys.seal(&mut heartbeat);
        out.push(Uplink {
            from: self.index,
            sent_at: at,
            message: NeuronMessage::Heartbeat(heartbeat),
        });
        if at >= self.last_stats_log + STATS_LOG_EVERY_MS {
            self.last_stats_log = at;
            self.logs.push_served(
                at,
                Served {
                    requests: measured.requests_total,
                    rps: measured.rps,
                    p50_ms: measured.latency_p50_ms,
                    error_rate: measured.error_rate,
                },
            );
        }
        // ±1% send jitter keeps neurons from falling into lockstep.
        let jitter = self.rng.random_range(0.99..1.01);
        self.next_wake = Some(at + ((self.interval_ms as f64) * jitter).round() as Millis);
    }

    /// A command from the orchestrator arrived.
    pub fn deliver(&mut self, at: Millis, command: NeuronCommand, out: &mut Vec<Uplink>) {
        match command {
            NeuronCommand::Probe { nonce } => {
                // Without a session it cannot prove who answers: it stays silent.
                if self.phase == Phase::Running && self.keys.has_session() {
                    out.push(Uplink {
                        from: self.index,
                        sent_at: at,
                        message: NeuronMessage::ProbeAck {
                            nonce,
                            auth: self.keys.seal_ack(nonce),
                        },
                    });
                }
            }
            NeuronCommand::Restart => {
                let took = self.rng.random_range(self.restart_ms.0..=self.restart_ms.1);
                self.log(
                    at,
                    "warn",
                    "restart requested by the orchestrator (supervisor restarting the process)"
                        .into(),
                );
                self.phase = Phase::Restarting { until: at + took };
                self.next_wake = Some(at + took);
            }
            NeuronCommand::ApplyConfig { version } => self.apply_config(at, version),
            other => {
                // A dead or hung process answers nothing: the engine's timeout decides.
                if self.phase != Phase::Running {
                    return;
                }
                match self.keys.on_command(at, &other) {
                    IdentityStep::NotMine => {}
                    IdentityStep::Handled => {
                        self.log_identity(at, &other);
                        return;
                    }
                    IdentityStep::SessionUp => {
                        self.log_identity(at, &other);
                        self.next_wake = Some(at);
                        return;
                    }
                }
                let rollout = other;
                let handled = self
                    .config
                    .handle(&rollout, &mut self.faults.fail_next_config);
                if let Some(h) = handled {
                    self.log(at, h.log.0, h.log.1);
                    if let Some(reply) = h.reply {
                        out.push(Uplink {
                            from: self.index,
                            sent_at: at,
                            message: NeuronMessage::Rollout(reply),
                        });
                    }
                }
            }
        }
    }

    fn spiffe_id(&self) -> String {
        crate::api::identity::spiffe_id(&self.id)
    }

    fn log_identity(&mut self, at: Millis, command: &NeuronCommand) {
        let line = match command {
            NeuronCommand::Credential { credential, .. } if credential.id == self.spiffe_id() => {
                let valid_s = credential.lifetime_ms() / 1000;
                self.logs.push_credential(at, credential.serial, valid_s);
                return;
            }
            NeuronCommand::Credential { credential, .. } => (
                "info",
                format!(
                    "credential #{} issued for {} (valid {} s)",
                    credential.serial,
                    credential.id,
                    credential.lifetime_ms() / 1000
                ),
            ),
            NeuronCommand::IdentityRefused { reason, .. } => (
                "error",
                format!("orchestrator refused our identity: {reason}"),
            ),
            NeuronCommand::Reenroll => ("warn", "asked to enrol afresh".into()),
            _ => return,
        };
        self.log(at, line.0, line.1);
    }

    /// The engine restarted: this neuron kept running `version` meanwhile.
    pub fn adopt_config(&mut self, version: &str) {
        self.config = ConfigSlot::new(version.into());
    }

    pub fn config_version(&self) -> &str {
        &self.config.version
    }

    fn apply_config(&mut self, at: Millis, version: String) {
        if self.phase != Phase::Running {
            return;
        }
        let (level, line) = self
            .config
            .apply(version, &mut self.faults.fail_next_config);
        self.log(at, level, line);
    }

    pub fn inject(&mut self, at: Millis, fault: Fault) {
        match fault {
            Fault::Crash { persistent } => {
                self.faults.crash_loop = persistent;
                self.phase = Phase::Crashed;
                self.next_wake = None;
                self.log(at, "error", "process crashed (SIGSEGV)".into());
            }
            Fault::Hang => {
                if self.phase == Phase::Running {
                    self.phase = Phase::Hung;
                    self.next_wake = None;
                    self.log(at, "warn", "event loop blocked; watchdog not firing".into());
                }
            }
            Fault::Slow { factor, persistent } => {
                self.faults.slow = Some((factor.max(1.0), persistent));
            }
            Fault::ConfigFailure => self.faults.fail_next_config = true,
            Fault::AnalyticsFailure {
                garbage,
                persistent,
            } => {
                self.faults.analytics = Some((garbage, persistent));
                let what = if garbage {
                    "emitting corrupt samples"
                } else {
                    "stopped"
                };
                self.log(at, "error", format!("analytics pipeline {what}"));
            }
            Fault::Byzantine { persistent } => {
                self.faults.byzantine = Some(persistent);
                self.log(at, "warn", "sending forged heartbeats".into());
            }
            Fault::Identity { mode } => {
                self.keys.inject(mode);
                self.log(at, "warn", format!("identity broken ({})", mode.name()));
            }
        }
    }

    /// Only a running process trains; one under the byzantine fault corrupts its update.
    pub fn fl_behaviour(&self) -> FlBehaviour {
        FlBehaviour {
            answers: self.phase == Phase::Running,
            byzantine: self.faults.byzantine.is_some(),
        }
    }

    pub fn clear_faults(&mut self, at: Millis) {
        let was_hung = self.phase == Phase::Hung;
        self.faults = Faults::default();
        self.keys.clear_fault();
        if was_hung {
            self.phase = Phase::Running;
            self.next_wake = Some(at);
            self.log(at, "info", "event loop unblocked".into());
        }
    }
}
