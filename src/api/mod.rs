//! Plain serde types shared by everything that crosses a boundary: commands, queries, events,
//! snapshots, errors and the neuron wire protocol. No tokio, no I/O: what is printed as JSON or sent
//! on the wire is defined here once.

pub mod alert;
pub mod ask;
pub mod bounds;
pub mod channel;
pub mod chaos;
pub mod chaos_monitor;
pub mod command;
pub mod error;
pub mod event;
pub mod fault;
pub mod fl;
pub mod fl_agent;
pub mod fl_run;
pub mod identity;
pub mod metrics;
pub mod neuron;
pub mod rbac;
pub mod rollout;
pub mod rollout_doc;
pub mod security;
pub mod status;
pub mod stream;
pub mod stress;
pub mod wire;

pub use command::{Command, CommandReply, Query, QueryReply};
pub use error::{ApiError, ErrorCode};
pub use event::{Event, EventEnvelope, FleetCondition};
pub use fault::Fault;
pub use neuron::{
    LogLine, NeuronDetail, NeuronState, NeuronView, RecoveryAttemptView, StateChange,
};
pub use security::{AuditOutcome, AuditRecord, Permission, Role, SessionInfo};
pub use status::{
    FailureMode, FailureView, RecoveryCounts, StateCounts, StatusReport, VerdictLatency,
};

/// Milliseconds on the engine's monotonic clock (since the engine started).
pub type Millis = u64;
