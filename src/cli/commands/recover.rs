//! `plexus recover ID`: force a recovery attempt and, unless --no-wait, wait for the outcome of
//! that attempt — matched by its unique id, never an earlier automatic attempt's.

use std::time::Duration;
use tokio::sync::broadcast::error::TryRecvError;

use crate::api::command::RecoveryOutcome;
use crate::api::{ApiError, CommandReply, Event};
use crate::cli::args::OutputFormat;
use crate::cli::output;
use crate::client::{Backend, BackendExt};

/// Longer than an attempt may take (10 s by default) plus a restart.
const WAIT_LIMIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);
/// The neuron's attempt log is read this often, in case the event stream missed the end.
const READ_EVERY: u32 = 5;

/// How long a fresh embedded engine is given to judge a neuron it has not heard from yet.
const DETECT_LIMIT: Duration = Duration::from_secs(10);

/// A headless command on the embedded engine starts a fresh fleet: a neuron broken with
/// `--fault ID=crash` has not been judged yet (it is `pending`). Wait, bounded, until the engine
/// has a verdict on it, saying so, rather than refuse with "nothing to recover".
async fn wait_for_a_verdict(backend: &dyn Backend, id: &str) -> Result<(), ApiError> {
    let mut waited = Duration::ZERO;
    let mut said = false;
    while waited < DETECT_LIMIT {
        let state = backend.neuron(id).await?.neuron.state;
        if state != crate::api::NeuronState::Pending {
            return Ok(());
        }
        if !said {
            eprintln!(
                "{id} has not been judged yet on this fresh embedded engine; waiting up to {} s for detection…",
                DETECT_LIMIT.as_secs()
            );
            said = true;
        }
        backend.sleep(POLL).await;
        waited += POLL;
    }
    Ok(())
}

/// The end of attempt `attempt_id`: from the event stream, or failing that from the neuron's
/// attempt log. `None` while it is in progress.
async fn finished(
    backend: &dyn Backend,
    events: &mut tokio::sync::broadcast::Receiver<crate::api::EventEnvelope>,
    neuron: &str,
    attempt_id: u64,
    read_log: bool,
) -> Result<Option<(bool, String)>, ApiError> {
    loop {
        match events.try_recv() {
            Ok(envelope) => {
                if let Event::RecoveryFinished {
                    attempt_id: id,
                    succeeded,
                    detail,
                    ..
                } = envelope.event
                    && id == attempt_id
                {
                    return Ok(Some((succeeded, detail)));
                }
            }
            Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Closed) => {
                return Err(ApiError::unreachable("the engine stopped while waiting"));
            }
        }
    }
    if !read_log {
        return Ok(None);
    }
    let detail = backend.neuron(neuron).await?;
    Ok(detail
        .recovery_attempts
        .iter()
        .find(|a| a.id == attempt_id && a.outcome != "in_progress")
        .map(|a| (a.outcome == "succeeded", String::new())))
}

pub async fn run(
    backend: &dyn Backend,
    id: &str,
    wait: bool,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    if backend.info().mode == "embedded" {
        wait_for_a_verdict(backend, id).await?;
    }
    let mut events = backend.subscribe();
    let CommandReply::RecoveryStarted {
        neuron,
        attempt,
        strategy,
        attempt_id,
    } = backend.recover(id).await?
    else {
        return Err(ApiError::failed(
            "the engine answered recover with another reply",
        ));
    };
    let mut outcome = RecoveryOutcome {
        neuron,
        attempt,
        strategy,
        outcome: "started".into(),
        detail: String::new(),
        took_ms: 0,
    };
    if wait {
        let mut waited = Duration::ZERO;
        let mut polls = 0u32;
        outcome.outcome = "timeout".into();
        outcome.detail = format!("no outcome within {} s", WAIT_LIMIT.as_secs());
        while waited < WAIT_LIMIT {
            backend.sleep(POLL).await;
            waited += POLL;
            polls += 1;
            let read_log = polls.is_multiple_of(READ_EVERY);
            if let Some((succeeded, detail)) =
                finished(backend, &mut events, &outcome.neuron, attempt_id, read_log).await?
            {
                outcome.outcome = if succeeded { "succeeded" } else { "failed" }.into();
                outcome.detail = detail;
                // Paced by the backend's clock: engine time on --virtual-time.
                outcome.took_ms = waited.as_millis() as u64;
                break;
            }
        }
    }
    match format {
        OutputFormat::Json => output::json(&outcome)?,
        OutputFormat::Table => println!(
            "{}: recovery #{} ({}) {}{}",
            outcome.neuron,
            outcome.attempt,
            outcome.strategy,
            outcome.outcome,
            if outcome.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", outcome.detail)
            }
        ),
    }
    Ok(match outcome.outcome.as_str() {
        "succeeded" | "started" => 0,
        _ => 1,
    })
}
