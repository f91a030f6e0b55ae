//! What holds now, per rule: read from the registry, the guard and recent events — only what
//! the engine really observed. Each holding condition becomes an [`Instance`] (labels + value).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::rules::{Condition, Rule};
use crate::api::alert::Labels;
use crate::api::{Event, Millis, NeuronState};
use crate::engine::fleet::guard::HealthGuard;
use crate::engine::fleet::registry::Registry;
use crate::engine::fleet::tracked::{Liveness, TrackedNeuron};

/// One rule's condition holding for one label set.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub rule: usize,
    /// Without `alertname`/`severity` and the rule's own labels (added by the book).
    pub labels: Labels,
    pub value: String,
}

/// Events the event rules look back on: (kind, labels) → (last wall ms, value).
#[derive(Debug, Default)]
pub struct EventMemory {
    seen: HashMap<(String, Labels), (i64, String)>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl EventMemory {
    /// Remember the events the event rules care about.
    pub fn note(&mut self, events: &[Event], wall: i64) {
        for event in events {
            let (kind, l, value) = match event {
                Event::FlRunDiverged { run, round, loss } => (
                    "fl_divergence",
                    labels(&[("run", run)]),
                    format!("round {round}: loss {loss:.3}"),
                ),
                Event::FlByzantineDetected {
                    run,
                    round,
                    neurons,
                    rule,
                } => (
                    "byzantine_detected",
                    labels(&[("run", run)]),
                    format!("round {round}: {rule} excluded {}", neurons.join(", ")),
                ),
                Event::StressThresholdBreached {
                    test_id,
                    threshold,
                    detail,
                } => (
                    "stress_threshold_breached",
                    labels(&[("test_id", test_id), ("threshold", threshold)]),
                    detail.clone(),
                ),
                _ => continue,
            };
            self.seen.insert((kind.into(), l), (wall, value));
        }
    }

    /// Forget what no rule could still hold on to.
    pub fn prune(&mut self, wall: i64, longest_hold_ms: Millis) {
        self.seen
            .retain(|_, (at, _)| wall - *at <= longest_hold_ms as i64);
    }
}

/// Everything holding now, and the neurons whose alerts cannot be judged now: registered but
/// not heard from (after a restart), or suspect (in doubt until probes decide). Their alerts
/// are carried over, not resolved: an offline neuron's alert does not flap through suspect.
pub struct Observation {
    pub instances: Vec<Instance>,
    pub unknown: HashSet<String>,
}

pub fn observe(
    rules: &[Rule],
    registry: &Registry,
    guard: &HealthGuard,
    events: &EventMemory,
    wall: i64,
) -> Observation {
    let mut instances = Vec::new();
    let mut unknown = HashSet::new();
    let live = || registry.neurons.iter().filter(|n| !n.removed);
    for n in live() {
        if matches!(n.liveness, Liveness::Pending | Liveness::Suspect) {
            unknown.insert(n.id.to_string());
        }
    }
    for (idx, rule) in rules.iter().enumerate() {
        let mut push = |labels: Labels, value: String| {
            instances.push(Instance {
                rule: idx,
                labels,
                value,
            })
        };
        if rule.condition.per_neuron() {
            for n in live() {
                if let Some(value) = neuron_holds(&rule.condition, n) {
                    push(labels(&[("neuron", &n.id), ("zone", &n.zone)]), value);
                }
            }
            continue;
        }
        match &rule.condition {
            Condition::ZoneUnreachable => {
                // zone → (silent, live)
                let mut zones: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
                for n in live() {
                    let z = zones.entry(&n.zone).or_default();
                    z.1 += 1;
                    if matches!(n.state, NeuronState::Suspect | NeuronState::Offline) {
                        z.0 += 1;
                    }
                }
                for (zone, (silent, total)) in zones {
                    if total >= 2 && silent == total {
                        push(
                            labels(&[("zone", zone)]),
                            format!("{silent} of {total} neurons"),
                        );
                    }
                }
            }
            Condition::FleetCondition(kind) => {
                let since = match kind.as_str() {
                    "fleet_silence" => guard.silence_since,
                    "engine_stall" => guard.stall_since,
                    _ => None,
                };
                if since.is_some() {
                    push(Labels::new(), kind.clone());
                }
            }
            Condition::Event { kind, hold_ms } => {
                for ((k, l), (at, value)) in &events.seen {
                    if k == kind && wall - at < *hold_ms as i64 {
                        push(l.clone(), value.clone());
                    }
                }
            }
            _ => {}
        }
    }
    Observation { instances, unknown }
}

/// Whether a per-neuron condition holds for `n`, with the value shown in the summary.
fn neuron_holds(condition: &Condition, n: &TrackedNeuron) -> Option<String> {
    match condition {
        Condition::NeuronState(state) => (n.state == *state).then(|| state.as_str().to_string()),
        Condition::LatencyHigh => n.slow.clone(),
        Condition::ErrorRateAbove(limit) => n
            .telemetry
            .as_ref()
            .filter(|t| n.liveness == Liveness::Alive && t.error_rate > *limit)
            .map(|t| format!("{:.1}%", t.error_rate * 100.0)),
        Condition::AnalyticsFailure => n.analytics.clone(),
        Condition::ConfigFailure => n.config_failure.clone(),
        Condition::RecoveryEscalated => n.escalated.then(|| "escalated".to_string()),
        _ => None,
    }
}
