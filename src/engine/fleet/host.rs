//! Where neurons live, seen from the engine: the simulated fleet implements [`NeuronHost`]; real
//! agents will reach the engine over the network instead.

use crate::api::Fault;
use crate::api::Millis;
use crate::api::wire::{NeuronCommand, NeuronMessage};

/// A neuron as registered: identity and placement.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuronSpec {
    pub id: String,
    pub zone: String,
    pub labels: Vec<(String, String)>,
    pub config_version: String,
}

/// A message a neuron sent, addressed by its registry index.
#[derive(Debug, Clone)]
pub struct Uplink {
    pub from: u32,
    pub sent_at: Millis,
    pub message: NeuronMessage,
}

/// One line of a neuron's own log, before formatting.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLogLine {
    pub at: Millis,
    pub level: &'static str,
    pub message: String,
}

pub trait NeuronHost: Send {
    /// The neurons this host runs, in registry index order.
    fn roster(&self) -> Vec<NeuronSpec>;
    /// How many neurons the roster holds.
    fn count(&self) -> usize;
    /// Let every neuron act up to `now`; what they send goes into `out`.
    fn step(&mut self, now: Millis, out: &mut Vec<Uplink>);
    /// A command from the engine reached neuron `to` at `at`; any answer goes into `out`.
    fn deliver(&mut self, at: Millis, to: u32, command: NeuronCommand, out: &mut Vec<Uplink>);
    /// Inject a fault (the neuron really misbehaves; nothing is faked to the detector).
    fn inject(&mut self, at: Millis, to: u32, fault: Fault);
    /// Remove every injected fault (the neuron behaves again; a crashed one stays down until
    /// restarted).
    fn clear_faults(&mut self, at: Millis, to: u32);
    /// The neuron's log, oldest first, at most `tail` lines.
    fn logs(&self, of: u32, tail: usize) -> Vec<RawLogLine>;
    /// The engine restarted and learned from its store that neuron `to` has been running
    /// `version` all along (simulated neurons are rebuilt with the engine; real ones say so).
    fn adopt_config(&mut self, _to: u32, _version: &str) {}
    /// How neuron `of` takes part in an FL round now. Simulated neurons train inside the
    /// engine's FL worker on their behalf, so their host says whether the process can answer
    /// at all and whether it is under the `byzantine` fault (then it corrupts its update).
    fn fl_behaviour(&self, _of: u32) -> FlBehaviour {
        FlBehaviour {
            answers: true,
            byzantine: false,
        }
    }
}

/// See [`NeuronHost::fl_behaviour`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlBehaviour {
    pub answers: bool,
    pub byzantine: bool,
}
