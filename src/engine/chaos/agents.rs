//! Chaos on real agent processes. Network faults (partition, latency, packet loss) act on the
//! engine's side of an agent's link: its reports and the commands waiting for it cross the
//! simulated link while the fault is held. Faults on the neuron itself travel to the agent as a
//! `fault` command (`clear_faults` when reverted) and the agent acts them out for real: its
//! supervisor and worker processes crash, hang, slow down, corrupt what they send or break their
//! identity (see docs/chaos.md). A simulated neuron gets the same fault from its host.

use super::super::config::LinkConfig;
use super::super::core::Core;
use super::super::effects::Effects;
use crate::api::wire::NeuronCommand;
use crate::api::{Fault, Millis};

/// An agent's own network is its whole link: chaos adds its impairment to a clear one.
const CLEAR: LinkConfig = LinkConfig {
    latency_ms: 0.0,
    jitter_ms: 0.0,
    loss: 0.0,
};

impl Core {
    /// Make neuron `idx` misbehave: in the simulated host, or by telling the agent.
    pub(crate) fn inject_into(&mut self, idx: u32, now: Millis, fx: &mut Effects, fault: Fault) {
        if self.is_agent(idx) {
            fx.send(idx, NeuronCommand::Fault { fault });
        } else {
            self.host.inject(now, idx, fault);
        }
    }

    /// Neuron `idx` behaves again (a crashed one stays down until restarted).
    pub(crate) fn clear_neuron_faults(&mut self, idx: u32, now: Millis, fx: &mut Effects) {
        if self.is_agent(idx) {
            fx.send(idx, NeuronCommand::ClearFaults);
        } else {
            self.host.clear_faults(now, idx);
        }
    }

    /// The link a network fault starts from: the simulated default, or a clear one for an agent.
    pub(super) fn link_base(&self, idx: u32) -> LinkConfig {
        if self.is_agent(idx) {
            CLEAR
        } else {
            self.link.default_config()
        }
    }
}
