//! `plexus chaos inject|stop|list`: drills through the gate (chaos.run: admin and operator).

use crate::api::chaos::{ChaosFaultView, ChaosParams, ChaosSpec};
use crate::api::{ApiError, Command, CommandReply, ask};
use crate::cli::args::OutputFormat;
use crate::cli::chaos_args::{ChaosCommand, InjectArgs};
use crate::cli::output::{self, table};
use crate::client::{Backend, BackendExt};

pub async fn run(
    backend: &dyn Backend,
    command: ChaosCommand,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command {
        ChaosCommand::Inject(args) => {
            let spec = spec(args);
            let embedded = backend.info().mode == "embedded";
            // An embedded engine ends with this process, and the next start reverts what it
            // held: a drill here either holds for its duration or is not started at all.
            if embedded && spec.duration_ms.is_none() {
                return Err(ApiError::bad_input(
                    "an embedded drill ends with this command: give --for D to hold it that long here, or inject into a running server (`plexus serve`, then --connect URL) to hold it until `chaos stop`",
                ));
            }
            let reply = backend.submit(Command::ChaosInject { spec }).await?;
            let code = print_fault(&reply, format)?;
            if let (true, CommandReply::ChaosInjected { fault }) = (embedded, &reply) {
                hold(backend, fault).await?;
            }
            Ok(code)
        }
        ChaosCommand::Stop { id } => {
            let reply = backend.submit(Command::ChaosStop { id }).await?;
            print_fault(&reply, format)
        }
        ChaosCommand::List => {
            let faults = backend.ask(ask::chaos()).await?;
            match format {
                OutputFormat::Json => output::json(&faults)?,
                OutputFormat::Table => crate::cli::output::print(&fault_table(&faults)),
            }
            Ok(0)
        }
        ChaosCommand::Run { scenario, out } => {
            super::chaos_run::run(backend, &scenario, out, format).await
        }
        ChaosCommand::Scenarios => {
            let rows: Vec<Vec<String>> = crate::experiment::scenario::SHIPPED
                .iter()
                .map(|(name, text)| {
                    let title = crate::experiment::Scenario::parse(name, text)
                        .map_or_else(|e| e.to_string(), |s| s.title);
                    vec![name.to_string(), title]
                })
                .collect();
            match format {
                OutputFormat::Json => output::json(&rows)?,
                OutputFormat::Table => crate::cli::output::print(&table(&["NAME", "TITLE"], &rows)),
            }
            Ok(0)
        }
    }
}

fn spec(args: InjectArgs) -> ChaosSpec {
    let d = ChaosParams::default();
    ChaosSpec {
        kind: args.kind,
        target: args.target,
        duration_ms: args.duration_ms,
        params: ChaosParams {
            latency_ms: args.latency_ms.unwrap_or(d.latency_ms),
            jitter_ms: args.jitter_ms.unwrap_or(d.jitter_ms),
            loss: args.loss.unwrap_or(d.loss),
            factor: args.factor.unwrap_or(d.factor),
            direction: args.direction.unwrap_or(d.direction),
            persistent: args.persistent,
            garbage: args.garbage,
            mode: args.mode.unwrap_or(d.mode),
        },
    }
}

/// Hold an embedded drill until the engine reverts it (its duration), with a countdown on stderr
/// when that is a terminal; then say so.
async fn hold(backend: &dyn Backend, fault: &ChaosFaultView) -> Result<(), ApiError> {
    use std::io::{IsTerminal, Write};
    let total_ms = fault.until_ms.unwrap_or(fault.injected_ms) - fault.injected_ms;
    let tty = std::io::stderr().is_terminal();
    let step = std::time::Duration::from_millis(250);
    let mut held_ms = 0;
    while held_ms < total_ms {
        if tty {
            eprint!(
                "\rholding {} ({}) on this embedded engine: {:.1} s left ",
                fault.id,
                fault.kind,
                (total_ms - held_ms) as f64 / 1000.0
            );
            let _ = std::io::stderr().flush();
        }
        backend.sleep(step).await;
        held_ms += step.as_millis() as u64;
    }
    // One more step for the engine to revert it on its own clock.
    backend.sleep(step).await;
    if tty {
        eprintln!();
    }
    let faults = backend.ask(ask::chaos()).await?;
    match faults.iter().find(|f| f.id == fault.id) {
        Some(f) if f.reverted_ms.is_some() => {
            eprintln!("{} reverted after {:.1} s", f.id, total_ms as f64 / 1000.0);
            Ok(())
        }
        _ => Err(ApiError::failed(format!(
            "{} was not reverted when its duration ended",
            fault.id
        ))),
    }
}

fn print_fault(reply: &CommandReply, format: OutputFormat) -> Result<i32, ApiError> {
    let (CommandReply::ChaosInjected { fault } | CommandReply::ChaosStopped { fault }) = reply
    else {
        return Err(ApiError::failed("unexpected reply to a chaos command"));
    };
    match format {
        OutputFormat::Json => output::json(fault)?,
        OutputFormat::Table => crate::cli::output::print(&reply.summary()),
    }
    Ok(0)
}

fn secs(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

pub fn fault_table(faults: &[ChaosFaultView]) -> String {
    let rows: Vec<Vec<String>> = faults
        .iter()
        .map(|f| {
            vec![
                f.id.clone(),
                f.kind.to_string(),
                f.target.clone(),
                f.neurons.len().to_string(),
                secs(f.injected_ms),
                f.until_ms.map_or("until stopped".into(), secs),
                match f.reverted_ms {
                    Some(at) => format!("{} ({})", secs(at), f.reverted_by),
                    None => "active".into(),
                },
                // The engine's record: from injection to detection, and to recovery.
                since_injected(f.injected_ms, f.detected_ms),
                since_injected(f.injected_ms, f.recovered_ms),
            ]
        })
        .collect();
    table(
        &[
            "ID", "KIND", "TARGET", "NEURONS", "INJECTED", "UNTIL", "REVERTED", "TTD", "TTR",
        ],
        &rows,
    )
}

/// `2.1s` after injection, or `-` while not seen.
fn since_injected(injected_ms: u64, at: Option<u64>) -> String {
    at.map_or("-".into(), |t| secs(t.saturating_sub(injected_ms)))
}
