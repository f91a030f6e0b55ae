//! What a face can ask of the engine: commands change something, queries only read.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::event::EventEnvelope;
use super::neuron::{LogLine, NeuronDetail, NeuronView};
use super::status::{FailureView, StatusReport};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Force recovery of a neuron now (manual override), whatever its attempt count.
    Recover { neuron: String },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Recover { .. } => "recover",
        }
    }
    pub fn target(&self) -> &str {
        match self {
            Command::Recover { neuron } => neuron,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CommandReply {
    /// A recovery attempt was started.
    RecoveryStarted {
        neuron: String,
        attempt: u32,
        strategy: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "query", rename_all = "snake_case")]
pub enum Query {
    Status,
    Neurons,
    Neuron {
        id: String,
    },
    Logs {
        id: String,
        tail: usize,
    },
    /// Current failures with their evidence.
    Failures,
    /// Healthy-neuron counts over time, oldest first (one sample per second).
    HealthHistory,
    /// The last `limit` events, oldest first.
    RecentEvents {
        limit: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QueryReply {
    Status(Box<StatusReport>),
    Neurons(Arc<Vec<NeuronView>>),
    Neuron(Box<NeuronDetail>),
    Logs(Vec<LogLine>),
    Failures(Vec<FailureView>),
    HealthHistory(Vec<u64>),
    Events(Vec<EventEnvelope>),
}
