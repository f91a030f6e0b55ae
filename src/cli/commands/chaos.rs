//! `plexus chaos inject|stop|list`: drills through the gate (chaos.run: admin and operator).

use crate::api::chaos::{ChaosFaultView, ChaosParams, ChaosSpec};
use crate::api::{ApiError, Command, CommandReply, Query, QueryReply};
use crate::cli::args::OutputFormat;
use crate::cli::chaos_args::{ChaosCommand, InjectArgs};
use crate::cli::output::{self, table};
use crate::client::Backend;

pub async fn run(
    backend: &dyn Backend,
    command: ChaosCommand,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command {
        ChaosCommand::Inject(args) => {
            let spec = spec(args);
            let reply = backend.submit(Command::ChaosInject { spec }).await?;
            print_fault(&reply, format)
        }
        ChaosCommand::Stop { id } => {
            let reply = backend.submit(Command::ChaosStop { id }).await?;
            print_fault(&reply, format)
        }
        ChaosCommand::List => {
            let QueryReply::Chaos(faults) = backend.query(Query::Chaos).await? else {
                return Err(ApiError::failed("unexpected reply to chaos list"));
            };
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

pub fn fault_table(faults: &[ChaosFaultView]) -> String {
    let secs = |ms: u64| format!("{:.1}s", ms as f64 / 1000.0);
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
            ]
        })
        .collect();
    table(
        &[
            "ID", "KIND", "TARGET", "NEURONS", "INJECTED", "UNTIL", "REVERTED",
        ],
        &rows,
    )
}
