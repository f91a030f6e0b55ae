//! Everything that can happen to the console: terminal input, answers from the backend, time.

use crossterm::event::KeyEvent;
use std::sync::Arc;

use super::screens::fl::FlData;
use super::screens::rollouts::RolloutsData;
use crate::api::{
    ApiError, AuditRecord, Command, CommandReply, LogLine, NeuronDetail, NeuronView, SessionInfo,
    StatusReport,
};

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// 1 Hz: expires the flash line.
    Tick,
    Fleet {
        status: Result<StatusReport, ApiError>,
        neurons: Result<Arc<Vec<NeuronView>>, ApiError>,
    },
    Detail {
        id: String,
        detail: Result<NeuronDetail, ApiError>,
        logs: Result<Vec<LogLine>, ApiError>,
    },
    History(Result<Vec<u64>, ApiError>),
    CommandDone(Command, Result<CommandReply, ApiError>),
    Audit(Result<Vec<AuditRecord>, ApiError>),
    Rollouts(Result<RolloutsData, ApiError>),
    Fl(Result<FlData, ApiError>),
    /// The answer to a new-session request.
    SessionRenewed(Result<SessionInfo, ApiError>),
    /// The wall clock (unix ms), for the session age; sent about once a second.
    Now(i64),
    Alerts(Result<crate::api::alert::AlertsReport, ApiError>),
    /// The running or newest stress test's progress.
    Stress(Result<crate::api::stress::Progress, ApiError>),
    /// The answer to a stress start.
    StressStarted(Result<crate::api::stress::StressStarted, ApiError>),
    /// Faults the engine holds or held.
    Chaos(Result<Vec<crate::api::chaos::ChaosFaultView>, ApiError>),
    /// The console's experiment after a poll (or its end, or why it could not run).
    Experiment(Result<Box<crate::experiment::Progress>, ApiError>),
}
