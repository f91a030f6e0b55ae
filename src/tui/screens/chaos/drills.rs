//! Detect and recover times for drills (faults injected outside the console's experiment): the
//! same recovery monitor as experiments, fed in the console from the engine's own events and its
//! neuron states, on the engine's wall clock (so virtual time works too).

use crate::api::chaos::ChaosFaultView;
use crate::api::{EventEnvelope, Millis, NeuronState, NeuronView};
use crate::experiment::monitor::{FaultRecord, Monitor};

/// Steady for this long after the revert counts as recovered (the scenarios' default).
const STABILITY_MS: Millis = 5_000;

#[derive(Debug, Clone, PartialEq)]
pub struct DrillWatch {
    monitor: Monitor,
    /// The newest event already fed.
    pub seq: u64,
}

impl Default for DrillWatch {
    fn default() -> Self {
        DrillWatch {
            monitor: Monitor::new(STABILITY_MS),
            seq: 0,
        }
    }
}

fn unix_ms(rfc3339: &str) -> Option<Millis> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| Millis::try_from(t.timestamp_millis()).ok())
}

impl DrillWatch {
    pub fn record(&self, id: &str) -> Option<&FaultRecord> {
        self.monitor.faults.iter().find(|f| f.id == id)
    }

    /// Start watching faults not seen before.
    pub fn faults(&mut self, faults: &[ChaosFaultView]) {
        for f in faults {
            if self.record(&f.id).is_none()
                && let Some(at) = unix_ms(&f.injected_at)
            {
                self.monitor.injected(at, f, true);
            }
        }
    }

    pub fn events(&mut self, events: &[EventEnvelope]) {
        let after = self.seq;
        for env in events.iter().filter(|e| e.seq > after) {
            self.seq = env.seq;
            if let Some(at) = unix_ms(&env.at) {
                self.monitor.on_event(at, &env.event);
            }
        }
    }

    /// A fleet poll at engine time `at`: the drills' neurons healthy or not. No hypothesis runs
    /// outside an experiment, so only the neurons count.
    pub fn poll(&mut self, at: &str, neurons: &[NeuronView]) {
        let Some(at) = unix_ms(at) else { return };
        self.monitor.on_poll(at, true, |id| {
            neurons
                .iter()
                .any(|n| &*n.id == id && n.state == NeuronState::Healthy)
        });
    }
}
