//! Real neuron agents (separate processes reaching a server) beside the simulated fleet: what
//! the engine holds for them. Commands to an agent wait in its outbox until the agent's push
//! channel or its next message collects them (an agent whose outbox got something is *woken*, so
//! its channel fetches at once); the logs it ships are kept in a small ring.

use std::collections::{HashMap, HashSet, VecDeque};

use super::host::RawLogLine;
use crate::api::Millis;
use crate::api::wire::NeuronCommand;

/// Log lines kept per agent.
const AGENT_LOG_KEPT: usize = 64;
/// Log lines taken from one report; the rest are dropped (an agent cannot flood the ring).
pub const LOG_LINES_PER_REPORT: usize = 32;
/// Bytes kept of one log line.
pub const LOG_LINE_BYTES: usize = 1024;
/// Commands kept per agent: an agent that stopped collecting does not grow memory.
const OUTBOX_KEPT: usize = 256;

#[derive(Default)]
pub struct AgentBook {
    outbox: HashMap<u32, VecDeque<NeuronCommand>>,
    logs: HashMap<u32, VecDeque<RawLogLine>>,
    /// Agents whose outbox got a command since [`AgentBook::take_woken`] was last called.
    woken: HashSet<u32>,
}

impl AgentBook {
    /// Drop what is kept for a removed agent.
    pub fn forget(&mut self, of: u32) {
        self.outbox.remove(&of);
        self.logs.remove(&of);
        self.woken.remove(&of);
    }

    pub fn queue(&mut self, to: u32, command: NeuronCommand) {
        let outbox = self.outbox.entry(to).or_default();
        if outbox.len() == OUTBOX_KEPT {
            outbox.pop_front();
        }
        outbox.push_back(command);
        self.woken.insert(to);
    }

    /// The agents that have something waiting since the last call (their channels fetch it).
    pub fn take_woken(&mut self) -> Vec<u32> {
        if self.woken.is_empty() {
            return Vec::new();
        }
        self.woken.drain().collect()
    }

    /// Only the identity answers waiting for `of` (credential, session, refusal, re-enrol) and a
    /// chaos revert: what a report verified by signature alone may take; the rest waits for a
    /// verified one. The revert rides along because an identity fault is exactly what stops the
    /// agent's reports from verifying, and asking it to behave again gives nothing away.
    pub fn collect_identity(&mut self, of: u32) -> Vec<NeuronCommand> {
        let Some(outbox) = self.outbox.get_mut(&of) else {
            return Vec::new();
        };
        let (identity, rest): (VecDeque<_>, VecDeque<_>) = outbox
            .drain(..)
            .partition(|c| c.is_identity() || *c == NeuronCommand::ClearFaults);
        *outbox = rest;
        identity.into()
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

/// A log line as kept: at most [`LOG_LINE_BYTES`], control characters escaped (a line is
/// printed by the CLI and drawn by the console; it must not be able to drive the terminal).
pub fn clean(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(LOG_LINE_BYTES));
    for c in line.chars() {
        if out.len() >= LOG_LINE_BYTES {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
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
