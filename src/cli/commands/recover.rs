//! `plexus recover ID`: force a recovery attempt and, unless --no-wait, wait for its outcome.

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
        outcome.outcome = "timeout".into();
        outcome.detail = format!("no outcome within {} s", WAIT_LIMIT.as_secs());
        'wait: while waited < WAIT_LIMIT {
            backend.sleep(POLL).await;
            waited += POLL;
            loop {
                match events.try_recv() {
                    Ok(envelope) => {
                        if let Event::RecoveryFinished {
                            neuron,
                            attempt,
                            succeeded,
                            detail,
                        } = envelope.event
                            && neuron == outcome.neuron
                            && attempt == outcome.attempt
                        {
                            outcome.outcome = if succeeded { "succeeded" } else { "failed" }.into();
                            outcome.detail = detail;
                            outcome.took_ms = waited.as_millis() as u64;
                            break 'wait;
                        }
                    }
                    Err(TryRecvError::Lagged(_)) => continue,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => {
                        return Err(ApiError::unreachable("the engine stopped while waiting"));
                    }
                }
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
