//! What a face sees of one neuron.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::status::{FailureMode, FailureView};

/// The orchestrator's verdict on a neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeuronState {
    /// Registered, no heartbeat received yet.
    Pending,
    Healthy,
    /// Heartbeats are late (phi above the suspicion threshold); probes are under way.
    Suspect,
    /// No heartbeat and no answer to probes.
    Offline,
    /// Alive but slow (timeout) or its analytics pipeline stopped or sends garbage.
    Degraded,
    /// The last config it was asked to apply failed.
    ConfigFailed,
    /// A recovery attempt is in progress.
    Recovering,
}

impl NeuronState {
    pub const ALL: [NeuronState; 7] = [
        NeuronState::Pending,
        NeuronState::Healthy,
        NeuronState::Suspect,
        NeuronState::Offline,
        NeuronState::Degraded,
        NeuronState::ConfigFailed,
        NeuronState::Recovering,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NeuronState::Pending => "pending",
            NeuronState::Healthy => "healthy",
            NeuronState::Suspect => "suspect",
            NeuronState::Offline => "offline",
            NeuronState::Degraded => "degraded",
            NeuronState::ConfigFailed => "config_failed",
            NeuronState::Recovering => "recovering",
        }
    }

    /// Whether the neuron counts as a failure (something an operator or recovery must act on).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            NeuronState::Offline | NeuronState::Degraded | NeuronState::ConfigFailed
        )
    }
}

impl std::fmt::Display for NeuronState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the neurons table (`plexus neurons --json` prints an array of these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronView {
    pub id: Arc<str>,
    pub state: NeuronState,
    /// Current suspicion level of the phi accrual detector (0 = on time).
    pub phi: f64,
    /// Age of the last received heartbeat in ms; `None` before the first one.
    pub last_heartbeat_ms: Option<u64>,
    pub config_version: Arc<str>,
    pub zone: Arc<str>,
    /// Median request latency the neuron reported in its last valid telemetry.
    pub latency_ms: Option<f64>,
    /// Error rate (0..=1) from the last valid telemetry.
    pub error_rate: Option<f64>,
    /// Load (utilisation, 0..=1+) from the last valid telemetry.
    pub load: Option<f64>,
    /// Requests per second from the last valid telemetry.
    pub rps: Option<f64>,
    /// `simulated` or `agent`.
    pub kind: Arc<str>,
    /// Escalated failures wait for an operator.
    pub escalated: bool,
}

impl NeuronView {
    /// Phi once there is something to judge: `None` before the first heartbeat (the detector
    /// has no arrival to measure silence from).
    pub fn observed_phi(&self) -> Option<f64> {
        self.last_heartbeat_ms.map(|_| self.phi)
    }

    /// Phi as people read it: `-` before the first heartbeat, two decimals below 10 (a healthy
    /// neuron sits well under 1; the suspicion threshold is a few units), one above.
    pub fn phi_text(&self) -> String {
        match self.observed_phi() {
            None => "-".into(),
            Some(phi) if phi < 10.0 => format!("{phi:.2}"),
            Some(phi) => format!("{phi:.1}"),
        }
    }
}

/// One line of a neuron's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// UTC time, RFC 3339.
    pub at: String,
    pub level: String,
    pub message: String,
}

/// A state transition as recorded by the detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub at: String,
    pub from: NeuronState,
    pub to: NeuronState,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryAttemptView {
    /// Numbered within the failure episode.
    pub attempt: u32,
    /// Unique over the engine's life (`recover` waits for its own attempt by it).
    #[serde(default)]
    pub id: u64,
    pub strategy: String,
    pub manual: bool,
    pub started: String,
    /// `in_progress`, `succeeded` or `failed`.
    pub outcome: String,
    pub mode: FailureMode,
}

/// Everything the detail screen and `plexus neurons show ID` show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronDetail {
    pub neuron: NeuronView,
    pub labels: Vec<(String, String)>,
    pub heartbeat_interval_ms: u64,
    /// Mean and standard deviation of the observed heartbeat inter-arrival times.
    pub interval_mean_ms: Option<f64>,
    pub interval_stddev_ms: Option<f64>,
    pub history: Vec<StateChange>,
    pub failure: Option<FailureView>,
    pub recovery_attempts: Vec<RecoveryAttemptView>,
    pub logs: Vec<LogLine>,
    /// The credential the federation last issued it (none before it enrolled).
    #[serde(default)]
    pub identity: Option<crate::api::identity::IdentityView>,
}

/// Mock neurons (stress tests) have ids starting with this; test cleanup removes exactly these.
pub const MOCK_NEURON_PREFIX: &str = "stress-";
