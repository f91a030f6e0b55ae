//! Engine settings with documented defaults (README lists them and why).

use serde::{Deserialize, Serialize};

use crate::api::Millis;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineConfig {
    pub federation: String,
    pub environment: String,
    /// Expected heartbeat interval of every neuron.
    pub heartbeat_ms: Millis,
    /// The engine's scheduling quantum: detection is checked, messages delivered and recovery
    /// advanced once per tick.
    pub tick_ms: Millis,
    /// How often read snapshots are published to faces.
    pub snapshot_ms: Millis,
    /// Capacity of the live event channel: a subscriber further behind is told to resync.
    pub event_capacity: usize,
    pub detector: DetectorConfig,
    pub recovery: RecoveryConfig,
    pub guard: GuardConfig,
    pub link: LinkConfig,
    /// Alert rules, inhibition and notification grouping.
    #[serde(default)]
    pub alerts: super::alerts::config::AlertConfig,
    #[serde(default)]
    pub identity: IdentityConfig,
}

/// Neuron credentials issued by the federation's CA.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityConfig {
    /// How long a credential is valid; neurons renew between two thirds and three quarters of it
    /// (fixed per neuron, so a fleet that enrolled at once renews spread). SPIRE's default SVID
    /// lives an hour; ten minutes keeps an expired-credential drill short.
    pub credential_ttl_ms: Millis,
    /// Enrolments and handshakes (from simulated neurons, or agents behind a chaos-impaired
    /// link) answered per engine step; the rest wait, oldest first. Each costs the CA a
    /// signature and its proof a (batched) check: 600 per 50 ms step is 12,000 a second in
    /// about 30 ms of each step, so a 100,000-neuron fleet is enrolled in about 8 s and the
    /// step never stalls.
    pub requests_per_tick: usize,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            credential_ttl_ms: 600_000,
            requests_per_tick: 600,
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            federation: "plexus-sim".into(),
            environment: "dev".into(),
            heartbeat_ms: 1000,
            tick_ms: 50,
            snapshot_ms: 250,
            event_capacity: 8192,
            detector: DetectorConfig::default(),
            recovery: RecoveryConfig::default(),
            guard: GuardConfig::default(),
            link: LinkConfig::default(),
            alerts: Default::default(),
            identity: IdentityConfig::default(),
        }
    }
}

/// Phi accrual detection (after Akka's), confirmed by direct probes before a neuron is convicted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Phi above which a neuron becomes suspect and probes start. Akka's default, 8: a
    /// heartbeat this late would happen by chance once in 10^8.
    pub phi_threshold: f64,
    /// Floor on the inter-arrival standard deviation, as a fraction of the heartbeat interval
    /// (Akka: 100 ms at 1 s). Keeps a very regular link from making phi hair-triggered.
    pub min_std_fraction: f64,
    /// Extra silence tolerated before phi rises, as a fraction of the interval (Akka: 3 s at 1 s;
    /// probes replace most of that margin here).
    pub acceptable_pause_fraction: f64,
    /// Inter-arrival samples kept per neuron.
    pub window: usize,
    /// Probes sent to a suspect neuron before it is declared offline.
    pub probes: u32,
    /// How long to wait for each probe's answer.
    pub probe_timeout_ms: Millis,
    /// Telemetry median latency above which a neuron is slow (timeout mode).
    pub slow_latency_ms: f64,
    /// Consecutive slow or invalid/missing telemetry reports before degraded is declared.
    pub degraded_after: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            phi_threshold: 8.0,
            min_std_fraction: 0.1,
            acceptable_pause_fraction: 1.0,
            window: 64,
            probes: 5,
            probe_timeout_ms: 150,
            slow_latency_ms: 500.0,
            degraded_after: 3,
        }
    }
}

/// What recovery does about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Restart the neuron's process through its supervisor.
    Restart,
    /// Push the last config that applied cleanly.
    ReapplyLastGoodConfig,
    /// Open enrolment and have the neuron enrol afresh with a new key.
    Reissue,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Restart => "restart",
            Strategy::ReapplyLastGoodConfig => "reapply-last-good-config",
            Strategy::Reissue => "reissue-credential",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryConfig {
    pub enabled: bool,
    /// Attempts per failure before escalating (README, The gate: 3).
    pub max_attempts: u32,
    /// Back-off before attempt k (k = 1, 2, …): base · 2^(k-1), capped.
    pub backoff_base_ms: Millis,
    pub backoff_max_ms: Millis,
    /// How long an attempt may take to bring the neuron back to healthy.
    pub attempt_timeout_ms: Millis,
    /// Healthy heartbeats in a row that prove an attempt worked.
    pub healthy_heartbeats: u32,
    /// A neuron that fails again within this window after a recovery continues the same
    /// failure episode: flapping does not reset the attempt count.
    pub flap_window_ms: Millis,
    /// Strategy chains per failure mode; attempt k uses entry min(k, len) - 1.
    pub offline_chain: Vec<Strategy>,
    pub degraded_chain: Vec<Strategy>,
    pub config_chain: Vec<Strategy>,
    #[serde(default = "identity_chain")]
    pub identity_chain: Vec<Strategy>,
}

fn identity_chain() -> Vec<Strategy> {
    vec![Strategy::Reissue]
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            enabled: true,
            max_attempts: 3,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            attempt_timeout_ms: 10_000,
            healthy_heartbeats: 2,
            flap_window_ms: 600_000,
            offline_chain: vec![Strategy::Restart],
            degraded_chain: vec![Strategy::Restart],
            config_chain: vec![Strategy::ReapplyLastGoodConfig, Strategy::Restart],
            identity_chain: identity_chain(),
        }
    }
}

/// The local-health guard: when the engine itself is the problem, convict nobody.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GuardConfig {
    /// A gap between two engine ticks longer than this is an engine stall.
    pub stall_ms: Millis,
    /// Share of the fleet suspect or offline at once above which no one is convicted one by one.
    pub silence_ratio: f64,
    /// The silence guard applies only to fleets at least this large.
    pub silence_min_neurons: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            stall_ms: 1000,
            silence_ratio: 0.5,
            silence_min_neurons: 4,
        }
    }
}

/// The simulated network between neurons and the engine (chaos will impair it per neuron).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinkConfig {
    pub latency_ms: f64,
    pub jitter_ms: f64,
    /// Probability that a message is lost, 0..=1.
    pub loss: f64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_ms: 5.0,
            jitter_ms: 2.0,
            loss: 0.0,
        }
    }
}
