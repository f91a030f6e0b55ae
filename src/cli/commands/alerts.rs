//! `plexus alerts [list|ack|silence|silences|expire]`: through the gate like every face.

use crate::api::alert::{Alert, AlertState, AlertsReport, Matcher, Silence};
use crate::api::chaos::parse_duration_ms;
use crate::api::{ApiError, Command, CommandReply, ask};
use crate::cli::args::{AlertsCommand, OutputFormat};
use crate::cli::output::{self, table};
use crate::client::{Backend, BackendExt};
use crate::engine::clock::rfc3339;

pub async fn run(
    backend: &dyn Backend,
    command: Option<AlertsCommand>,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command.unwrap_or(AlertsCommand::List) {
        AlertsCommand::List => {
            let report = report(backend).await?;
            match format {
                OutputFormat::Json => output::json(&report)?,
                OutputFormat::Table => crate::cli::output::print(&alerts_table(&report)),
            }
            Ok(0)
        }
        AlertsCommand::Ack { fingerprint } => {
            let fingerprint = resolve(backend, &fingerprint).await?;
            let reply = backend.submit(Command::AlertAck { fingerprint }).await?;
            print_reply(&reply, format)
        }
        AlertsCommand::Silence {
            matchers,
            duration,
            comment,
        } => {
            let matchers = Matcher::parse_list(&matchers.join(",")).map_err(ApiError::bad_input)?;
            let duration_ms = parse_duration_ms(&duration)
                .map_err(|e| ApiError::bad_input(format!("--for: {e}")))?;
            let reply = backend
                .submit(Command::SilenceCreate {
                    matchers,
                    duration_ms,
                    comment,
                })
                .await?;
            print_reply(&reply, format)
        }
        AlertsCommand::Silences => {
            let list = backend.ask(ask::silences()).await?;
            match format {
                OutputFormat::Json => output::json(&list)?,
                OutputFormat::Table => crate::cli::output::print(&silences_table(&list)),
            }
            Ok(0)
        }
        AlertsCommand::Expire { id } => {
            let reply = backend.submit(Command::SilenceExpire { id }).await?;
            print_reply(&reply, format)
        }
    }
}

async fn report(backend: &dyn Backend) -> Result<AlertsReport, ApiError> {
    backend.ask(ask::alerts()).await
}

/// A fingerprint or a unique prefix of one.
async fn resolve(backend: &dyn Backend, prefix: &str) -> Result<String, ApiError> {
    let report = report(backend).await?;
    let hits: Vec<&Alert> = report
        .active()
        .chain(&report.resolved)
        .filter(|a| a.fingerprint.starts_with(prefix))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.fingerprint.clone()),
        [] => Err(ApiError::not_found(format!(
            "no alert with fingerprint '{prefix}'"
        ))),
        _ => Err(ApiError::bad_input(format!(
            "fingerprint prefix '{prefix}' matches {} alerts",
            hits.len()
        ))),
    }
}

fn print_reply(reply: &CommandReply, format: OutputFormat) -> Result<i32, ApiError> {
    match format {
        OutputFormat::Json => output::json(reply)?,
        OutputFormat::Table => crate::cli::output::print(&reply.summary()),
    }
    Ok(0)
}

fn alerts_table(report: &AlertsReport) -> String {
    let row = |a: &Alert| {
        let since = match a.state {
            AlertState::Resolved => a.resolved_at,
            AlertState::Firing => a.fired_at,
            AlertState::Pending => Some(a.active_since),
        };
        vec![
            a.fingerprint.clone(),
            a.state_text(),
            a.severity.as_str().into(),
            a.rule.clone(),
            a.labels_text(","),
            since.map(rfc3339).unwrap_or_default(),
            a.acked_by.clone().unwrap_or_else(|| "-".into()),
            a.summary().into(),
        ]
    };
    let rows: Vec<Vec<String>> = report.active().chain(&report.resolved).map(row).collect();
    if rows.is_empty() {
        return "no alerts".into();
    }
    table(
        &[
            "FINGERPRINT",
            "STATE",
            "SEVERITY",
            "ALERT",
            "LABELS",
            "SINCE",
            "ACK",
            "SUMMARY",
        ],
        &rows,
    )
}

fn silences_table(list: &[Silence]) -> String {
    if list.is_empty() {
        return "no silences".into();
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.matchers_text(),
                rfc3339(s.starts_at),
                rfc3339(s.ends_at),
                s.created_by.clone(),
                s.comment.clone(),
            ]
        })
        .collect();
    table(
        &["ID", "MATCHERS", "STARTS", "ENDS", "BY", "COMMENT"],
        &rows,
    )
}
