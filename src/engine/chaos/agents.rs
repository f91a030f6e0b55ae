//! Which chaos faults reach real agent processes. Only the link is between the engine and an
//! agent, so only network faults (partition, latency, packet loss) apply to one: its reports
//! and the commands waiting for it cross the simulated link while the fault is held. A fault
//! on the neuron itself (crash, hang, ...) would need the agent's cooperation, which the
//! protocol does not carry, so it is refused for agent targets rather than silently ignored.

use super::super::config::LinkConfig;
use super::super::core::Core;
use crate::api::ApiError;
use crate::api::chaos::ChaosKind;

/// An agent's own network is its whole link: chaos adds its impairment to a clear one.
const CLEAR: LinkConfig = LinkConfig {
    latency_ms: 0.0,
    jitter_ms: 0.0,
    loss: 0.0,
};

/// Whether a fault of this kind can be applied to a real agent.
pub fn reaches_agents(kind: ChaosKind) -> bool {
    kind.is_network()
}

/// The kinds that apply to agents, for error messages and docs.
pub fn agent_kinds() -> Vec<&'static str> {
    ChaosKind::ALL
        .into_iter()
        .filter(|k| reaches_agents(*k))
        .map(ChaosKind::name)
        .collect()
}

impl Core {
    /// Refuse a fault that cannot reach some of the agents it targets, naming them.
    pub(super) fn check_agent_targets(
        &self,
        kind: ChaosKind,
        neurons: &[u32],
    ) -> Result<(), ApiError> {
        if reaches_agents(kind) {
            return Ok(());
        }
        let agents: Vec<&str> = neurons
            .iter()
            .filter(|i| self.is_agent(**i))
            .map(|i| &*self.registry.neurons[*i as usize].id)
            .collect();
        if agents.is_empty() {
            return Ok(());
        }
        Err(ApiError::bad_input(format!(
            "fault kind '{}' cannot be applied to agent neurons ({}): only {} reach real \
             agents, through the link layer",
            kind.name(),
            agents.join(", "),
            agent_kinds().join(", ")
        )))
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
