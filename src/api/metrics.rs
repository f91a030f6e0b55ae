//! Engine counters for `/metrics` beyond what the status report holds.

use serde::{Deserialize, Serialize};

/// Gate decisions for one action and outcome since the engine started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateCount {
    pub action: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineMetrics {
    pub gate: Vec<GateCount>,
    pub events_published: u64,
    pub link_sent: u64,
    pub link_lost: u64,
    pub agents: u64,
}
