//! Alert rules: a condition over what the engine really observed, held for `for_ms` before the
//! alert fires (Prometheus semantics), with a severity, extra labels and a summary template.

use serde::{Deserialize, Serialize};

use crate::api::alert::{Labels, Severity};
use crate::api::{Millis, NeuronState};

/// What a rule watches. Neuron conditions give one alert per neuron (labels `neuron`, `zone`);
/// zone conditions one per zone; fleet and event conditions one per distinct label set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The registry holds the neuron in this state; for `offline`, the neuron is down (see
    /// docs/alerts.md: through its recovery attempts until healthy again).
    NeuronState(NeuronState),
    /// The detector concluded the neuron is slow (telemetry latency above the detector's bound).
    LatencyHigh,
    /// The neuron's last reported error rate is above this share.
    ErrorRateAbove(f64),
    /// The neuron's analytics pipeline stopped or sends garbage.
    AnalyticsFailure,
    /// The neuron's last config push failed to apply.
    ConfigFailure,
    /// Recovery gave up on the neuron after its attempts and escalated.
    RecoveryEscalated,
    /// Every live neuron of a zone (two or more) is silent (suspect or down): a partition.
    ZoneUnreachable,
    /// The local-health guard raised this fleet condition (`fleet_silence`, `engine_stall`).
    FleetCondition(String),
    /// An event of this type (`fl_divergence`, `byzantine_detected`,
    /// `stress_threshold_breached`) happened within the last `hold_ms`.
    Event { kind: String, hold_ms: Millis },
}

impl Condition {
    /// The names a rules file uses.
    pub const NAMES: &'static [&'static str] = &[
        "neuron_offline",
        "neuron_suspect",
        "latency_high",
        "error_rate",
        "analytics_failure",
        "config_failure",
        "recovery_escalated",
        "zone_unreachable",
        "fleet_silence",
        "engine_stall",
        "event",
    ];

    /// Whether alerts of this condition are about one neuron.
    pub fn per_neuron(&self) -> bool {
        matches!(
            self,
            Condition::NeuronState(_)
                | Condition::LatencyHigh
                | Condition::ErrorRateAbove(_)
                | Condition::AnalyticsFailure
                | Condition::ConfigFailure
                | Condition::RecoveryEscalated
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The `alertname` label.
    pub name: String,
    pub condition: Condition,
    pub for_ms: Millis,
    pub severity: Severity,
    /// Added to every alert of the rule.
    pub labels: Labels,
    /// `{label}` placeholders are filled from the alert's labels, `{value}` from the
    /// observation.
    pub summary: String,
}

impl Rule {
    fn new(
        name: &str,
        condition: Condition,
        for_ms: Millis,
        severity: Severity,
        summary: &str,
    ) -> Rule {
        Rule {
            name: name.into(),
            condition,
            for_ms,
            severity,
            labels: Labels::new(),
            summary: summary.into(),
        }
    }
}

/// Fill `{name}` placeholders from `labels` (and `{value}`); unknown ones stay as written.
pub fn render(template: &str, labels: &Labels, value: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                match (key, labels.get(key)) {
                    ("value", _) => out.push_str(value),
                    (_, Some(v)) => out.push_str(v),
                    _ => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The rules Plexus ships. `for` durations sit above what a healthy fleet does by chance
/// (a 5% heartbeat loss makes neurons briefly suspect; see docs/alerts.md for the figure).
pub fn builtin() -> Vec<Rule> {
    use Severity::*;
    let event = |kind: &str| Condition::Event {
        kind: kind.into(),
        hold_ms: 300_000,
    };
    vec![
        Rule::new(
            "NeuronOffline",
            Condition::NeuronState(NeuronState::Offline),
            0,
            Critical,
            "{neuron} in zone {zone} is offline",
        ),
        Rule::new(
            "NeuronSuspectTooLong",
            Condition::NeuronState(NeuronState::Suspect),
            30_000,
            Warning,
            "{neuron} in zone {zone} has been suspect for over 30 s",
        ),
        Rule::new(
            "NeuronLatencyHigh",
            Condition::LatencyHigh,
            30_000,
            Warning,
            "{neuron} answers slowly: {value}",
        ),
        Rule::new(
            "NeuronErrorRateHigh",
            Condition::ErrorRateAbove(0.2),
            60_000,
            Warning,
            "{neuron} error rate {value}",
        ),
        Rule::new(
            "NeuronConfigFailure",
            Condition::ConfigFailure,
            0,
            Warning,
            "{neuron} failed to apply its config: {value}",
        ),
        Rule::new(
            "NeuronAnalyticsFailure",
            Condition::AnalyticsFailure,
            30_000,
            Warning,
            "{neuron} analytics pipeline failing: {value}",
        ),
        Rule::new(
            "RecoveryEscalated",
            Condition::RecoveryEscalated,
            0,
            Critical,
            "{neuron}: automatic recovery gave up; an operator must act",
        ),
        Rule::new(
            "ZoneUnreachable",
            Condition::ZoneUnreachable,
            10_000,
            Critical,
            "every neuron in zone {zone} is silent: {value}",
        ),
        Rule::new(
            "FleetSilence",
            Condition::FleetCondition("fleet_silence".into()),
            0,
            Critical,
            "a large share of the fleet went silent at once; convictions held",
        ),
        Rule::new(
            "EngineStall",
            Condition::FleetCondition("engine_stall".into()),
            0,
            Critical,
            "the engine's own tick stalled; convictions held",
        ),
        Rule::new(
            "FlDivergence",
            event("fl_divergence"),
            0,
            Critical,
            "federated learning diverged: {value}",
        ),
        Rule::new(
            "ByzantineNeuronsDetected",
            event("byzantine_detected"),
            0,
            Critical,
            "Byzantine updates detected: {value}",
        ),
        Rule::new(
            "StressThresholdBreached",
            event("stress_threshold_breached"),
            0,
            Warning,
            "stress test threshold breached: {value}",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_labels_and_value_and_keep_unknown_placeholders() {
        let mut labels = Labels::new();
        labels.insert("neuron".into(), "n-0001".into());
        assert_eq!(
            render("{neuron} at {value} ({nope}) {", &labels, "3"),
            "n-0001 at 3 ({nope}) {"
        );
    }

    #[test]
    fn every_builtin_rule_has_a_unique_name() {
        let rules = builtin();
        let mut names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), rules.len());
    }
}
