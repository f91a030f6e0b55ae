//! Real neuron agents (separate processes reaching a server) beside the simulated fleet: what
//! the engine holds for them. Commands to an agent wait in its outbox until the agent's next
//! message collects them; the logs it ships are kept in a small ring.

use std::collections::{HashMap, VecDeque};

use super::host::RawLogLine;
use crate::api::Millis;
use crate::api::wire::NeuronCommand;

/// Log lines kept per agent.
const AGENT_LOG_KEPT: usize = 64;
/// Commands kept per agent: an agent that stopped collecting does not grow memory.
const OUTBOX_KEPT: usize = 256;

#[derive(Default)]
pub struct AgentBook {
    outbox: HashMap<u32, VecDeque<NeuronCommand>>,
    logs: HashMap<u32, VecDeque<RawLogLine>>,
}

impl AgentBook {
    /// Drop what is kept for a removed agent.
    pub fn forget(&mut self, of: u32) {
        self.outbox.remove(&of);
        self.logs.remove(&of);
    }

    pub fn queue(&mut self, to: u32, command: NeuronCommand) {
        let outbox = self.outbox.entry(to).or_default();
        if outbox.len() == OUTBOX_KEPT {
            outbox.pop_front();
        }
        outbox.push_back(command);
    }

    pub fn collect(&mut self, of: u32) -> Vec<NeuronCommand> {
        self.outbox
            .get_mut(&of)
            .map(|o| o.drain(..).collect())
            .unwrap_or_default()
    }

    pub fn log(&mut self, of: u32, at: Millis, level: &'static str, message: String) {
        let ring = self.logs.entry(of).or_default();
        if ring.len() == AGENT_LOG_KEPT {
            ring.pop_front();
        }
        ring.push_back(RawLogLine { at, level, message });
    }

    pub fn logs(&self, of: u32, tail: usize) -> Vec<RawLogLine> {
        self.logs
            .get(&of)
            .map(|ring| {
                let skip = ring.len().saturating_sub(tail);
                ring.iter().skip(skip).cloned().collect()
            })
            .unwrap_or_default()
    }
}

/// The log levels an agent may ship (anything else is recorded as `info`).
pub fn level(text: &str) -> &'static str {
    match text {
        "error" => "error",
        "warn" => "warn",
        "debug" => "debug",
        _ => "info",
    }
}
