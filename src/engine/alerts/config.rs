//! Alerting settings: the rules, inhibition rules and Alertmanager-style grouping timers.
//! Defaults are Alertmanager's (group_wait 30 s, group_interval 5 min, repeat_interval 4 h).

use serde::{Deserialize, Serialize};

use super::inhibit::{self, InhibitRule};
use super::notifier::SinkConfig;
use super::rules::{self, Rule};
use crate::api::Millis;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertConfig {
    pub rules: Vec<Rule>,
    pub inhibit: Vec<InhibitRule>,
    /// Labels whose values split alerts into notification groups.
    pub group_by: Vec<String>,
    pub group_wait_ms: Millis,
    pub group_interval_ms: Millis,
    pub repeat_interval_ms: Millis,
    /// How often rules are evaluated (engine time).
    pub eval_ms: Millis,
    /// Resolved alerts stay listed this long.
    pub resolved_kept_ms: Millis,
    /// Where notifications go.
    #[serde(default)]
    pub sinks: SinkConfig,
    /// Alerts are re-pushed to an Alertmanager this often (well inside its 5 min
    /// resolve_timeout), and at once when one changes.
    pub push_every_ms: Millis,
    /// Whether rules are evaluated at all. Off for a one-off headless command on an embedded
    /// store: its simulated fleet is new, and judging stored alerts by it would resolve them
    /// all; such a command shows (and acts on) the alerts as the last engine left them.
    #[serde(default = "evaluate_by_default")]
    pub evaluate: bool,
}

fn evaluate_by_default() -> bool {
    true
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            rules: rules::builtin(),
            inhibit: inhibit::builtin(),
            group_by: vec!["alertname".into()],
            group_wait_ms: 30_000,
            group_interval_ms: 300_000,
            repeat_interval_ms: 4 * 3_600_000,
            eval_ms: 1000,
            resolved_kept_ms: 900_000,
            sinks: SinkConfig::default(),
            push_every_ms: 60_000,
            evaluate: true,
        }
    }
}
