//! `plexus watch`: live events, one JSON object per line.

use std::io::Write;
use std::time::Duration;
use tokio::sync::broadcast::error::TryRecvError;

use std::collections::VecDeque;

use crate::api::{ApiError, EventEnvelope};
use crate::client::{Backend, BackendExt};
use crate::engine::RECENT_EVENTS_KEPT;

const POLL: Duration = Duration::from_millis(100);

pub async fn run(
    backend: &dyn Backend,
    count: Option<usize>,
    for_secs: Option<f64>,
) -> Result<i32, ApiError> {
    if for_secs.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
        return Err(ApiError::bad_input(
            "--for takes a positive number of seconds",
        ));
    }
    let limit = for_secs.map(Duration::from_secs_f64);
    // Subscribe first, then replay what happened since boot; the sequence number drops the
    // events seen both ways.
    let mut events = backend.subscribe();
    let mut backlog: VecDeque<EventEnvelope> =
        backend.recent_events(RECENT_EVENTS_KEPT).await?.into();
    let mut last_seq = 0u64;
    let mut printed = 0usize;
    let mut waited = Duration::ZERO;
    let stdout = std::io::stdout();
    loop {
        loop {
            let next = match backlog.pop_front() {
                Some(envelope) => Ok(envelope),
                None => events.try_recv(),
            };
            match next {
                Ok(envelope) => {
                    if envelope.seq <= last_seq {
                        continue;
                    }
                    last_seq = envelope.seq;
                    let line = serde_json::to_string(&envelope)
                        .map_err(|e| ApiError::failed(format!("cannot encode event: {e}")))?;
                    let mut out = stdout.lock();
                    // A closed pipe (`| head`) ends the watch quietly.
                    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                        return Ok(0);
                    }
                    printed += 1;
                    if count.is_some_and(|c| printed >= c) {
                        return Ok(0);
                    }
                }
                Err(TryRecvError::Lagged(missed)) => {
                    eprintln!("plexus: watch fell behind; {missed} events were skipped");
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => {
                    return Err(ApiError::unreachable("the event stream closed"));
                }
            }
        }
        if limit.is_some_and(|l| waited >= l) {
            return Ok(0);
        }
        tokio::select! {
            _ = backend.sleep(POLL) => waited += POLL,
            _ = tokio::signal::ctrl_c() => return Ok(0),
        }
    }
}
