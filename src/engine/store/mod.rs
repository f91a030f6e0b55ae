//! Durable state behind a small trait (SQLite embedded; a server deployment may move to
//! PostgreSQL). One writer thread applies batches in one transaction each; a batch can carry an
//! acknowledgement that fires only after its transaction committed.

mod sqlite;
mod writer;

pub use sqlite::SqliteStore;
pub use writer::{Ack, StoreWriter};

use crate::api::FailureMode;

/// One change to persist. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    UpsertNeuron {
        id: String,
        zone: String,
        kind: String,
        labels_json: String,
        config_version: String,
        registered_at: i64,
    },
    StateChange {
        neuron: String,
        at: i64,
        from: &'static str,
        to: &'static str,
        reason: String,
    },
    FailureOpened {
        failure_id: u64,
        neuron: String,
        mode: FailureMode,
        since: i64,
        evidence: String,
    },
    FailureUpdated {
        failure_id: u64,
        attempts: u32,
        escalated: bool,
        resolved_at: Option<i64>,
    },
    AttemptStarted {
        attempt_id: u64,
        failure_id: u64,
        neuron: String,
        attempt: u32,
        strategy: &'static str,
        manual: bool,
        started_at: i64,
    },
    AttemptFinished {
        attempt_id: u64,
        finished_at: i64,
        outcome: &'static str,
    },
    Escalated {
        failure_id: u64,
        neuron: String,
        at: i64,
        attempts: u32,
    },
}

/// Where ids continue after what an earlier run stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreInit {
    pub next_failure_id: u64,
    pub next_attempt_id: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("store {path}: {message}")]
pub struct StoreError {
    pub path: String,
    pub message: String,
}

pub trait Store: Send {
    /// Apply a batch atomically.
    fn apply(&mut self, batch: &[StoreOp]) -> Result<(), StoreError>;
    fn init(&self) -> StoreInit;
}
