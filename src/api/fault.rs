//! Faults that can be injected into a simulated neuron (tests now, chaos experiments later).

use serde::{Deserialize, Serialize};

use super::identity::IdentityMode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The process dies. `persistent`: it dies again right after every restart (a crash loop).
    Crash { persistent: bool },
    /// Alive but silent: no heartbeats, no answers to probes, until restarted.
    Hang,
    /// Requests take `factor` times longer (the neuron answers too slowly). Cleared by a restart
    /// unless `persistent`.
    Slow { factor: f64, persistent: bool },
    /// The next config apply fails.
    ConfigFailure,
    /// The analytics pipeline stops (`garbage: false`) or sends invalid numbers (`garbage: true`).
    /// Cleared by a restart unless `persistent`.
    AnalyticsFailure { garbage: bool, persistent: bool },
    /// Sends forged heartbeats (a stale incarnation: a replay of an earlier life) instead of its
    /// own. Cleared by a restart unless `persistent`.
    Byzantine { persistent: bool },
    /// Its identity breaks the way `mode` says (what it signs, MACs or presents no longer
    /// verifies). Survives restarts: the broken key or credential is on its disk.
    Identity { mode: IdentityMode },
}

impl Fault {
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Crash { .. } => "crash",
            Fault::Hang => "hang",
            Fault::Slow { .. } => "slow",
            Fault::ConfigFailure => "config-failure",
            Fault::AnalyticsFailure { .. } => "analytics-failure",
            Fault::Byzantine { .. } => "byzantine",
            Fault::Identity { .. } => "identity-failure",
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Crash { persistent: true } => f.write_str("crash (persistent)"),
            Fault::Slow { factor, .. } => write!(f, "slow (x{factor})"),
            Fault::AnalyticsFailure { garbage: true, .. } => {
                f.write_str("analytics-failure (garbage)")
            }
            Fault::AnalyticsFailure { garbage: false, .. } => {
                f.write_str("analytics-failure (stopped)")
            }
            Fault::Identity { mode } => write!(f, "identity-failure ({})", mode.name()),
            other => f.write_str(other.name()),
        }
    }
}
