//! The system health summary (`plexus status --json`).

use serde::{Deserialize, Serialize};

use super::event::FleetCondition;

/// How a neuron failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// No heartbeat and no answer to probes.
    Offline,
    /// It answers too slowly.
    Timeout,
    /// A pushed config failed to apply.
    ConfigFailure,
    /// Its telemetry/analytics pipeline stopped or sends garbage.
    AnalyticsFailure,
    /// Corrupted or forged messages.
    Byzantine,
    /// Its messages fail identity verification (bad MAC or signature, expired credential,
    /// unknown CA).
    Identity,
}

impl FailureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::Offline => "offline",
            FailureMode::Timeout => "timeout",
            FailureMode::ConfigFailure => "config_failure",
            FailureMode::AnalyticsFailure => "analytics_failure",
            FailureMode::Byzantine => "byzantine",
            FailureMode::Identity => "identity",
        }
    }
}

impl std::fmt::Display for FailureMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Neuron counts per state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub total: u64,
    pub pending: u64,
    pub healthy: u64,
    pub suspect: u64,
    pub offline: u64,
    pub degraded: u64,
    pub recovering: u64,
    pub config_failed: u64,
    /// A running stress test's mock neurons: listed, not counted above (not fleet members).
    #[serde(default)]
    pub mock: u64,
}

/// A current failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailureView {
    pub neuron: String,
    pub mode: FailureMode,
    /// UTC time the failure was first detected, RFC 3339.
    pub since: String,
    /// Recovery attempts made for this failure so far.
    pub attempts: u32,
    pub escalated: bool,
    /// What the detector saw, in words.
    pub evidence: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryCounts {
    pub attempted: u64,
    pub succeeded: u64,
    pub escalated: u64,
    /// succeeded / finished attempts; `None` before any attempt finished.
    pub success_rate: Option<f64>,
}

/// Failure detections since the engine started, by mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectionCounts {
    pub offline: u64,
    pub timeout: u64,
    pub config_failure: u64,
    pub analytics_failure: u64,
    pub byzantine: u64,
    #[serde(default)]
    pub identity: u64,
}

/// A finished recovery, newest first in [`StatusReport::recent_recoveries`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentRecovery {
    pub neuron: String,
    pub mode: FailureMode,
    pub attempt: u32,
    pub strategy: String,
    pub outcome: String,
    pub at: String,
}

/// How long the engine took to judge a heartbeat, from its arrival to the end of the step that
/// reached a verdict, over the last 10 to 20 s (`verdict_latency` in `plexus status --json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictLatency {
    /// Heartbeats judged in the window.
    pub heartbeats: u64,
    pub p50_ms: u64,
    pub p99_ms: u64,
    pub max_ms: u64,
    /// The window the figures cover, ms.
    pub window_ms: u64,
}

/// `plexus status --json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub federation: String,
    pub environment: String,
    /// UTC time of this report, RFC 3339.
    pub at: String,
    pub heartbeat_interval_ms: u64,
    pub neurons: StateCounts,
    pub failures: Vec<FailureView>,
    pub recoveries: RecoveryCounts,
    pub detections: DetectionCounts,
    pub recent_recoveries: Vec<RecentRecovery>,
    /// Fleet-level conditions currently raised by the local-health guard.
    pub conditions: Vec<FleetCondition>,
    /// Neurons per config version, most common first: more than one entry is drift.
    #[serde(default)]
    pub config_versions: Vec<crate::api::rollout::VersionCount>,
    /// How often the engine republishes this report (ms): a report older than two of these is
    /// stale (the console marks it so).
    #[serde(default)]
    pub refresh_ms: u64,
    #[serde(default)]
    pub verdict_latency: VerdictLatency,
}
