//! The recovery monitor: for every fault, when it was injected, first detected (the first
//! detection event that matches it), reverted and recovered (its neurons healthy and the
//! hypothesis holding for a stability window). Pure: fed times and events, so the engine (which
//! records every fault's times once, for every face: `ChaosFaultView::detected_ms` and
//! `recovered_ms`), the experiment runner (over a backend, with its hypothesis) and the figures
//! bench (over `SimRun`) share it. Logic over api types only, as `rbac` is.

use serde::Serialize;

use super::chaos::{ChaosFaultView, ChaosKind};
use super::{Event, FailureMode, Millis};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaultRecord {
    pub id: String,
    pub kind: ChaosKind,
    pub target: String,
    pub neurons: Vec<String>,
    pub expect_detection: bool,
    /// Times are ms since the experiment started.
    pub injected_ms: Millis,
    pub detected_ms: Option<Millis>,
    /// The event that counted as detection.
    pub detection: Option<String>,
    pub reverted_ms: Option<Millis>,
    pub recovered_ms: Option<Millis>,
    pub time_to_detect_ms: Option<Millis>,
    pub time_to_recover_ms: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    pub faults: Vec<FaultRecord>,
    stability_ms: Millis,
    /// Per fault: since when its steady state has held without a break.
    held_since: Vec<Option<Millis>>,
}

impl Monitor {
    pub fn new(stability_ms: Millis) -> Self {
        Monitor {
            faults: Vec::new(),
            stability_ms,
            held_since: Vec::new(),
        }
    }

    pub fn injected(&mut self, at: Millis, view: &ChaosFaultView, expect_detection: bool) {
        self.faults.push(FaultRecord {
            id: view.id.clone(),
            kind: view.kind,
            target: view.target.clone(),
            neurons: view.neurons.clone(),
            expect_detection,
            injected_ms: at,
            detected_ms: None,
            detection: None,
            reverted_ms: None,
            recovered_ms: None,
            time_to_detect_ms: None,
            time_to_recover_ms: None,
        });
        self.held_since.push(None);
    }

    pub fn on_event(&mut self, at: Millis, event: &Event) {
        for f in &mut self.faults {
            match event {
                Event::ChaosReverted { id, .. } if *id == f.id => f.reverted_ms = Some(at),
                _ if f.detected_ms.is_some() || at < f.injected_ms => {}
                Event::FailureDetected { neuron, mode, .. }
                    if f.neurons.contains(neuron) && detects(f.kind, *mode) =>
                {
                    f.detected_ms = Some(at);
                    f.time_to_detect_ms = Some(at - f.injected_ms);
                    f.detection = Some(event.summary());
                }
                // Robust aggregation excluding the attacker's updates is a detection too.
                Event::FlRoundFinished { excluded, .. }
                    if f.kind == ChaosKind::Byzantine
                        && excluded.iter().any(|n| f.neurons.contains(n)) =>
                {
                    f.detected_ms = Some(at);
                    f.time_to_detect_ms = Some(at - f.injected_ms);
                    f.detection = Some(event.summary());
                }
                Event::ConditionRaised { condition }
                    if condition.kind == "fleet_silence" && f.kind.is_network() =>
                {
                    f.detected_ms = Some(at);
                    f.time_to_detect_ms = Some(at - f.injected_ms);
                    f.detection = Some(event.summary());
                }
                _ => {}
            }
        }
    }

    /// A poll at `at`: does the hypothesis hold, and is a given neuron healthy?
    pub fn on_poll(&mut self, at: Millis, hypothesis: bool, healthy: impl Fn(&str) -> bool) {
        for (f, since) in self.faults.iter_mut().zip(self.held_since.iter_mut()) {
            if f.recovered_ms.is_some() {
                continue;
            }
            // Recovery counts only once the fault was seen (or, unseen, once it is gone).
            let armed = f.detected_ms.is_some() || f.reverted_ms.is_some();
            let steady = armed && hypothesis && f.neurons.iter().all(|n| healthy(n));
            match (*since, steady) {
                (_, false) => *since = None,
                (None, true) => *since = Some(at),
                (Some(start), true)
                    if at - start >= self.stability_ms && f.reverted_ms.is_some() =>
                {
                    f.recovered_ms = Some(start);
                    f.time_to_recover_ms = Some(start.saturating_sub(f.injected_ms));
                }
                _ => {}
            }
        }
    }

    /// Stop watching fault `pos` (a bounded watcher drops settled ones).
    pub fn forget(&mut self, pos: usize) {
        self.faults.remove(pos);
        self.held_since.remove(pos);
    }

    pub fn all_settled(&self) -> bool {
        self.faults
            .iter()
            .all(|f| f.recovered_ms.is_some() && (f.detected_ms.is_some() || !f.expect_detection))
    }
}

/// Whether a failure mode is what this kind of fault should cause.
pub fn detects(kind: ChaosKind, mode: FailureMode) -> bool {
    use ChaosKind::*;
    match kind {
        Crash | Hang | Partition => mode == FailureMode::Offline,
        Slow => mode == FailureMode::Timeout,
        AnalyticsFailure => mode == FailureMode::AnalyticsFailure,
        Byzantine => mode == FailureMode::Byzantine,
        IdentityFailure => mode == FailureMode::Identity,
        ConfigFailure => mode == FailureMode::ConfigFailure,
        Latency | PacketLoss => matches!(mode, FailureMode::Offline | FailureMode::Timeout),
    }
}
