//! What the engine knows about one neuron, and the state that knowledge implies.

use std::sync::Arc;

use super::host::NeuronSpec;
use super::phi::Intervals;
use crate::api::neuron::MOCK_NEURON_PREFIX;
use crate::api::wire::Telemetry;
use crate::api::{FailureMode, Millis, NeuronState};

/// Whether the neuron is heard from, independent of what it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Registered; no heartbeat yet.
    Pending,
    Alive,
    /// Late; probes under way.
    Suspect,
    /// Convicted: silent and unanswering.
    Offline,
}

/// A state transition kept for the detail view.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub at: Millis,
    pub from: NeuronState,
    pub to: NeuronState,
    pub reason: String,
}

/// History entries kept per neuron in memory (all of them go to the store).
pub const HISTORY_KEPT: usize = 16;

#[derive(Debug, Clone)]
pub struct TrackedNeuron {
    pub id: Arc<str>,
    pub zone: Arc<str>,
    pub kind: Arc<str>,
    /// `kind` is a real agent: asked for every message, so kept beside the hot fields.
    pub agent: bool,
    /// Shared between neurons with the same set (see [`super::registry::Registry::add`]).
    pub labels: Arc<[(String, String)]>,
    pub registered_at: Millis,
    pub expected_interval_ms: Millis,

    pub state: NeuronState,
    pub liveness: Liveness,
    pub intervals: Intervals,
    pub last_arrival: Option<Millis>,
    pub incarnation: u64,
    pub last_seq: u64,
    /// Probes sent in the current suspicion, and the first nonce of the series.
    pub probes_sent: u32,
    pub probe_nonce_base: u64,
    /// Why the neuron was last convicted offline.
    pub offline_evidence: String,

    pub telemetry: Option<Telemetry>,
    pub slow_reports: u32,
    pub bad_reports: u32,
    /// Set once slow telemetry persisted; the evidence.
    pub slow: Option<String>,
    /// Set once missing or invalid telemetry persisted; the evidence.
    pub analytics: Option<String>,
    /// Heartbeats in a row that broke the protocol's invariants (forged or replayed).
    pub forged_reports: u32,
    /// Set once forged heartbeats persisted; the evidence.
    pub byzantine: Option<String>,
    /// Messages in a row that failed identity verification.
    pub identity_rejects: u32,
    /// Set once identity refusals persisted; the evidence (the verifier's reason).
    pub identity: Option<String>,

    pub config_version: Arc<str>,
    pub last_good_config: Arc<str>,
    pub config_failure: Option<String>,
    /// Removed by test cleanup: kept as a tombstone so every index stays valid.
    pub removed: bool,
    /// A stress test's mock neuron (an agent whose id starts with `stress-`): tracked and shown,
    /// but not part of the fleet — it never alerts, is never recovered, and never counts toward
    /// fleet health or the guard's share of silent neurons.
    pub mock: bool,

    /// A recovery attempt is in progress.
    pub recovering: bool,
    pub escalated: bool,
    pub history: Vec<HistoryEntry>,
}

impl TrackedNeuron {
    pub fn new(
        spec: NeuronSpec,
        kind: &str,
        registered_at: Millis,
        interval_ms: Millis,
        window: usize,
    ) -> Self {
        let mut intervals = Intervals::new(window);
        intervals.bootstrap(interval_ms);
        let config: Arc<str> = spec.config_version.as_str().into();
        let mock = kind != "simulated" && spec.id.starts_with(MOCK_NEURON_PREFIX);
        TrackedNeuron {
            mock,
            id: spec.id.as_str().into(),
            zone: spec.zone.as_str().into(),
            agent: kind == crate::engine::core::AGENT,
            kind: kind.into(),
            labels: spec.labels.into(),
            registered_at,
            expected_interval_ms: interval_ms,
            state: NeuronState::Pending,
            liveness: Liveness::Pending,
            intervals,
            last_arrival: None,
            incarnation: 0,
            last_seq: 0,
            probes_sent: 0,
            probe_nonce_base: 0,
            offline_evidence: String::new(),
            telemetry: None,
            slow_reports: 0,
            bad_reports: 0,
            slow: None,
            analytics: None,
            forged_reports: 0,
            byzantine: None,
            identity_rejects: 0,
            identity: None,
            config_version: config.clone(),
            last_good_config: config,
            config_failure: None,
            removed: false,
            recovering: false,
            escalated: false,
            history: Vec::new(),
        }
    }

    /// The state everything the engine knows implies, and for failure states the failure mode
    /// with its evidence. Precedence: an attempt in progress, then liveness, then what the
    /// neuron reports (config before slowness before analytics).
    pub fn derive(&self) -> (NeuronState, Option<(FailureMode, String)>) {
        if self.recovering {
            return (NeuronState::Recovering, None);
        }
        self.condition()
    }

    /// The state as if no recovery were in progress: what an attempt is judged by.
    pub fn condition(&self) -> (NeuronState, Option<(FailureMode, String)>) {
        match self.liveness {
            Liveness::Pending => (NeuronState::Pending, None),
            Liveness::Suspect => (NeuronState::Suspect, None),
            Liveness::Offline => (
                NeuronState::Offline,
                Some((FailureMode::Offline, self.offline_evidence.clone())),
            ),
            Liveness::Alive => {
                if let Some(evidence) = &self.identity {
                    (
                        NeuronState::Degraded,
                        Some((FailureMode::Identity, evidence.clone())),
                    )
                } else if let Some(evidence) = &self.byzantine {
                    (
                        NeuronState::Degraded,
                        Some((FailureMode::Byzantine, evidence.clone())),
                    )
                } else if let Some(reason) = &self.config_failure {
                    (
                        NeuronState::ConfigFailed,
                        Some((FailureMode::ConfigFailure, reason.clone())),
                    )
                } else if let Some(evidence) = &self.slow {
                    (
                        NeuronState::Degraded,
                        Some((FailureMode::Timeout, evidence.clone())),
                    )
                } else if let Some(evidence) = &self.analytics {
                    (
                        NeuronState::Degraded,
                        Some((FailureMode::AnalyticsFailure, evidence.clone())),
                    )
                } else {
                    (NeuronState::Healthy, None)
                }
            }
        }
    }

    pub fn push_history(&mut self, entry: HistoryEntry) {
        if self.history.len() == HISTORY_KEPT {
            self.history.remove(0);
        } else {
            // Grown one entry at a time: most neurons only ever change state once or twice.
            self.history.reserve_exact(1);
        }
        self.history.push(entry);
    }
}
