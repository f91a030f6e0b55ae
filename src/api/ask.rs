//! Typed queries: each [`Ask`] pairs a [`Query`] with the reply type it is answered with, so a
//! face writes `backend.ask(ask::status())` and gets a `StatusReport`, never a `QueryReply` to
//! unwrap by hand. The one place a reply is matched against its query is here.

use std::sync::Arc;

use super::alert::{AlertsReport, Silence};
use super::chaos::ChaosFaultView;
use super::command::{Query, QueryReply};
use super::error::ApiError;
use super::event::EventEnvelope;
use super::fl::UpdateBatch;
use super::fl_run::{FlModelView, FlRunDetail, FlRunView};
use super::metrics::EngineMetrics;
use super::neuron::{LogLine, NeuronDetail, NeuronView};
use super::rollout::{RolloutView, RolloutsReport};
use super::security::{AuditFilter, AuditRecord, SessionInfo, UserView, VerifyReport};
use super::status::{FailureView, StatusReport};

/// A query whose reply type is known at compile time.
pub struct Ask<R> {
    query: Query,
    take: fn(QueryReply) -> Option<R>,
}

impl<R> Ask<R> {
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The query to send, and what turns its answer back into `R`.
    pub fn into_parts(self) -> (Query, Answer<R>) {
        let name = self.query.name();
        (
            self.query,
            Answer {
                name,
                take: self.take,
            },
        )
    }
}

/// Turns the answer to one query into its reply type.
pub struct Answer<R> {
    name: &'static str,
    take: fn(QueryReply) -> Option<R>,
}

impl<R> Answer<R> {
    pub fn read(&self, reply: QueryReply) -> Result<R, ApiError> {
        (self.take)(reply).ok_or_else(|| {
            ApiError::failed(format!(
                "the backend answered {} with the wrong kind of reply",
                self.name
            ))
        })
    }
}

/// One constructor per query: its arguments, its reply type, and which reply variant carries it.
macro_rules! asks {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $reply:ty =
        $query:expr, $variant:ident $(, $unbox:tt)?;)*) => {
        $(
            $(#[$doc])*
            pub fn $name($($arg: $ty),*) -> Ask<$reply> {
                Ask {
                    query: $query,
                    take: |reply| match reply {
                        QueryReply::$variant(value) => Some(asks!(@out value $(, $unbox)?)),
                        _ => None,
                    },
                }
            }
        )*
    };
    (@out $value:ident) => { $value };
    (@out $value:ident, unbox) => { *$value };
}

asks! {
    status() -> StatusReport = Query::Status, Status, unbox;
    neurons() -> Arc<Vec<NeuronView>> = Query::Neurons, Neurons;
    neuron(id: &str) -> NeuronDetail = Query::Neuron { id: id.into() }, Neuron, unbox;
    logs(id: &str, tail: usize) -> Vec<LogLine> = Query::Logs { id: id.into(), tail }, Logs;
    failures() -> Vec<FailureView> = Query::Failures, Failures;
    health_history() -> Vec<u64> = Query::HealthHistory, HealthHistory;
    /// The last `limit` events, oldest first.
    recent_events(limit: usize) -> Vec<EventEnvelope> = Query::RecentEvents { limit }, Events;
    /// Events above `seq` that are still kept, oldest first.
    events_since(seq: u64) -> Vec<EventEnvelope> = Query::EventsSince { seq }, Events;
    users() -> Vec<UserView> = Query::Users, Users;
    audit(filter: AuditFilter) -> Vec<AuditRecord> = Query::Audit { filter }, Audit;
    verify_audit() -> VerifyReport = Query::VerifyAudit, Verify;
    session() -> SessionInfo = Query::Session, Session;
    metrics() -> EngineMetrics = Query::Metrics, Metrics;
    chaos() -> Vec<ChaosFaultView> = Query::Chaos, Chaos;
    rollouts() -> RolloutsReport = Query::Rollouts, Rollouts;
    rollout(id: u64) -> RolloutView = Query::Rollout { id }, Rollout, unbox;
    alerts() -> AlertsReport = Query::Alerts, Alerts;
    silences() -> Vec<Silence> = Query::Silences, Silences;
    fl_runs() -> Vec<FlRunView> = Query::FlRuns, FlRuns;
    fl_run(id: &str) -> FlRunDetail = Query::FlRun { id: id.into() }, FlRun, unbox;
    fl_model(id: &str) -> FlModelView = Query::FlModel { id: id.into() }, FlModel, unbox;
    /// The updates an FL run received in `round` (runs started with `capture`).
    fl_capture(id: &str, round: u32) -> UpdateBatch =
        Query::FlCapture { id: id.into(), round }, FlCapture, unbox;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matching_reply_is_taken_and_any_other_is_an_error() {
        let (query, answer) = health_history().into_parts();
        assert_eq!(query, Query::HealthHistory);
        assert_eq!(
            answer.read(QueryReply::HealthHistory(vec![3, 4])).unwrap(),
            vec![3, 4]
        );
        let wrong = answer.read(QueryReply::Users(Vec::new())).unwrap_err();
        assert!(wrong.message.contains("health_history"), "{wrong}");
    }
}
