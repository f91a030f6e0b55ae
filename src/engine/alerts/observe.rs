//! What holds now, per rule: read from the registry, the guard and recent events — only what
//! the engine really observed. Each holding condition becomes an [`Instance`] (labels + value).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::rules::{Condition, Rule};
use crate::api::alert::Labels;
use crate::api::{Event, FailureMode, Millis, NeuronState};
use crate::engine::fleet::guard::HealthGuard;
use crate::engine::fleet::recovery::RecoveryBook;
use crate::engine::fleet::registry::Registry;
use crate::engine::fleet::tracked::{Liveness, TrackedNeuron};

/// What the rules look at, at one evaluation.
pub struct Fleet<'a> {
    pub registry: &'a Registry,
    pub guard: &'a HealthGuard,
    pub recovery: &'a RecoveryBook,
    /// Engine time and the wall time it maps to.
    pub now: Millis,
    pub wall: i64,
}

impl Fleet<'_> {
    /// Down: convicted offline, or in an offline failure episode that has not ended — through
    /// its recovery attempts, until the neuron is healthy again. One outage, one alert.
    fn down(&self, idx: usize, n: &TrackedNeuron) -> bool {
        n.liveness == Liveness::Offline
            || self
                .recovery
                .episode(idx as u32)
                .is_some_and(|e| e.failing && e.mode == FailureMode::Offline)
    }

    /// Not heard from: down, or late with probes under way.
    fn silent(&self, idx: usize, n: &TrackedNeuron) -> bool {
        n.liveness == Liveness::Suspect || self.down(idx, n)
    }

    /// The wall time of engine time `at` (never later than now).
    fn wall_of(&self, at: Millis) -> i64 {
        self.wall - self.now.saturating_sub(at) as i64
    }
}

/// One rule's condition holding for one label set.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub rule: usize,
    /// Without `alertname`/`severity` and the rule's own labels (added by the book).
    pub labels: Labels,
    pub value: String,
    /// When the condition began (wall ms), where the observation knows better than "now": a
    /// zone went silent at its last heartbeat, not when the detector caught up with it.
    pub since: Option<i64>,
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

pub fn observe(rules: &[Rule], fleet: &Fleet, events: &EventMemory) -> Observation {
    let (registry, guard, wall) = (fleet.registry, fleet.guard, fleet.wall);
    let mut instances = Vec::new();
    let mut unknown = HashSet::new();
    let mut push = |rule: usize, labels: Labels, value: String, since: Option<i64>| {
        instances.push(Instance {
            rule,
            labels,
            value,
            since,
        })
    };
    // One walk over the fleet for every per-neuron rule and the zones (at 100,000 neurons a walk
    // per rule cost the engine more than judging the heartbeats did).
    let per_neuron: Vec<(usize, &Condition)> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.condition.per_neuron())
        .map(|(i, r)| (i, &r.condition))
        .collect();
    let zone_rules: Vec<usize> = rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.condition == Condition::ZoneUnreachable)
        .map(|(i, _)| i)
        .collect();
    let mut zones: BTreeMap<&str, ZoneSilence> = BTreeMap::new();
    let live = registry
        .neurons
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.removed && !n.mock);
    for (i, n) in live {
        if matches!(n.liveness, Liveness::Pending | Liveness::Suspect) {
            unknown.insert(n.id.to_string());
        }
        for (rule, condition) in &per_neuron {
            if let Some(value) = neuron_holds(condition, n, || fleet.down(i, n)) {
                push(
                    *rule,
                    labels(&[("neuron", &n.id), ("zone", &n.zone)]),
                    value,
                    None,
                );
            }
        }
        if !zone_rules.is_empty() {
            let z = zones.entry(&n.zone).or_default();
            z.total += 1;
            if fleet.silent(i, n) {
                z.silent += 1;
            }
            z.last_heard = z.last_heard.max(n.last_arrival.unwrap_or(n.registered_at));
        }
    }
    for rule in zone_rules {
        for (zone, z) in &zones {
            if z.total >= 2 && z.silent == z.total {
                push(
                    rule,
                    labels(&[("zone", zone)]),
                    format!("{} of {} neurons", z.silent, z.total),
                    Some(fleet.wall_of(z.last_heard)),
                );
            }
        }
    }
    for (rule, r) in rules.iter().enumerate() {
        match &r.condition {
            Condition::FleetCondition(kind) => {
                let since = match kind.as_str() {
                    "fleet_silence" => guard.silence_since,
                    "engine_stall" => guard.stall_since,
                    _ => None,
                };
                if since.is_some() {
                    push(rule, Labels::new(), kind.clone(), None);
                }
            }
            Condition::Event { kind, hold_ms } => {
                for ((k, l), (at, value)) in &events.seen {
                    if k == kind && wall - at < *hold_ms as i64 {
                        push(rule, l.clone(), value.clone(), None);
                    }
                }
            }
            _ => {}
        }
    }
    Observation { instances, unknown }
}

/// A zone's neurons: how many, how many silent, and when any of them was last heard.
#[derive(Default)]
struct ZoneSilence {
    total: usize,
    silent: usize,
    last_heard: Millis,
}

/// Whether a per-neuron condition holds for `n` (`down`: see [`Fleet::down`]), with the value
/// shown in the summary.
fn neuron_holds(
    condition: &Condition,
    n: &TrackedNeuron,
    down: impl FnOnce() -> bool,
) -> Option<String> {
    match condition {
        Condition::NeuronState(NeuronState::Offline) => down().then(|| "offline".to_string()),
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
