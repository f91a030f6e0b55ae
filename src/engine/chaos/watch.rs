//! The engine records, once, when each chaos fault was detected and when it recovered — the
//! recovery monitor (`api::chaos_monitor`) fed with the engine's own events and its registry's
//! states — so every face (console, CLI, HTTP) reads the same times from the fault's view
//! instead of each keeping a monitor of its own. Recovered: the fault's neurons healthy for
//! [`STABILITY_MS`] after the revert, as in an experiment without a hypothesis.

use super::super::core::Core;
use crate::api::chaos::ChaosFaultView;
use crate::api::chaos_monitor::Monitor;
use crate::api::{Event, Millis, NeuronState};

/// Steady this long after the revert counts as recovered (the scenarios' default).
pub const STABILITY_MS: Millis = 5_000;

pub struct Watch {
    monitor: Monitor,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            monitor: Monitor::new(STABILITY_MS),
        }
    }
}

/// Faults watched at most (the oldest settled ones are dropped beyond it).
const WATCHED: usize = 200;

impl Watch {
    pub fn injected(&mut self, view: &ChaosFaultView) {
        if self.monitor.faults.len() >= WATCHED
            && let Some(pos) = self
                .monitor
                .faults
                .iter()
                .position(|f| f.recovered_ms.is_some())
        {
            self.monitor.forget(pos);
        }
        self.monitor.injected(view.injected_ms, view, true);
    }

    pub fn events(&mut self, now: Millis, events: &[Event]) {
        if self.monitor.faults.is_empty() {
            return;
        }
        for event in events {
            self.monitor.on_event(now, event);
        }
    }

    fn unsettled(&self) -> bool {
        self.monitor.faults.iter().any(|f| f.recovered_ms.is_none())
    }

    /// The times recorded for fault `id`, written into its view.
    pub fn fill(&self, view: &mut ChaosFaultView) {
        if let Some(f) = self.monitor.faults.iter().find(|f| f.id == view.id) {
            view.detected_ms = f.detected_ms;
            view.detection = f.detection.clone();
            view.recovered_ms = f.recovered_ms;
        }
    }
}

impl Core {
    /// Each tick: are the watched faults' neurons healthy?
    pub(crate) fn chaos_watch(&mut self, now: Millis) {
        if !self.chaos.watch.unsettled() {
            return;
        }
        let registry = &self.registry;
        self.chaos.watch.monitor.on_poll(now, true, |id| {
            registry
                .find(id)
                .is_some_and(|i| registry.neurons[i as usize].state == NeuronState::Healthy)
        });
    }

    /// Every event the engine emits, seen by the watch (called as they leave).
    pub fn chaos_events(&mut self, now: Millis, events: &[Event]) {
        self.chaos.watch.events(now, events);
    }
}
