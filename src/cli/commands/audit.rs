//! `plexus audit list|export|verify`.

use chrono::{DateTime, Utc};

use crate::api::security::AuditFilter;
use crate::api::{ApiError, AuditRecord, Command, CommandReply, ask};
use crate::cli::args::{AuditCommand, AuditFilterArgs, OutputFormat};
use crate::cli::output::{self, table};
use crate::client::{Backend, BackendExt};
use crate::engine::audit::export::render;

/// `30m`, `12h`, `7d`, `45s` → milliseconds.
fn parse_age(text: &str) -> Option<i64> {
    let (number, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = number.parse().ok().filter(|n| *n >= 0)?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// `--since`: an RFC 3339 time or an age before now.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<i64, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    parse_age(text)
        .map(|age| now.timestamp_millis() - age)
        .ok_or_else(|| {
            ApiError::bad_input(format!(
                "--since '{text}': use an RFC 3339 time (2026-11-22T10:00:00Z) or an age like 30m, 12h, 7d"
            ))
        })
}

fn filter(args: AuditFilterArgs, limit: Option<usize>) -> Result<AuditFilter, ApiError> {
    Ok(AuditFilter {
        user: args.user,
        action: args.action,
        outcome: args.outcome,
        since_unix_ms: args
            .since
            .as_deref()
            .map(|s| parse_since(s, Utc::now()))
            .transpose()?,
        limit,
    })
}

fn records_table(records: &[AuditRecord]) -> String {
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                r.at.clone(),
                format!("{} ({})", r.user, r.role),
                r.action.clone(),
                r.target.clone(),
                r.outcome.as_str().into(),
                r.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(
        &[
            "SEQ", "AT", "USER", "ACTION", "TARGET", "OUTCOME", "MESSAGE",
        ],
        &rows,
    )
}

pub async fn run(
    backend: &dyn Backend,
    command: AuditCommand,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command {
        AuditCommand::List {
            filter: args,
            limit,
        } => {
            let records = backend.ask(ask::audit(filter(args, Some(limit))?)).await?;
            match format {
                OutputFormat::Json => output::json(&records)?,
                OutputFormat::Table => crate::cli::output::print(&records_table(&records)),
            }
            Ok(0)
        }
        AuditCommand::Export {
            format: export_format,
            out,
            filter: args,
        } => {
            let command = Command::ExportAudit {
                format: export_format,
                filter: filter(args, None)?,
            };
            let CommandReply::AuditExported { records } = backend.submit(command).await? else {
                return Err(ApiError::failed("unexpected reply to audit export"));
            };
            let text = render(&records, export_format)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| {
                        ApiError::failed(format!("cannot write {}: {e}", path.display()))
                    })?;
                    eprintln!(
                        "{} audit records written to {}",
                        records.len(),
                        path.display()
                    );
                }
                None => print!("{text}"),
            }
            Ok(0)
        }
        AuditCommand::Verify => {
            let report = backend.ask(ask::verify_audit()).await?;
            match format {
                OutputFormat::Json => output::json(&report)?,
                OutputFormat::Table if report.intact => println!(
                    "audit chain intact: {} records{}",
                    report.records,
                    if report.checkpoint_seq > 0 {
                        format!(
                            " after the retention checkpoint at {}",
                            report.checkpoint_seq
                        )
                    } else {
                        String::new()
                    }
                ),
                OutputFormat::Table => println!(
                    "audit chain BROKEN at record {}: {}",
                    report.first_bad_seq.unwrap_or_default(),
                    output::escape_controls(&report.problem.clone().unwrap_or_default())
                ),
            }
            if format == OutputFormat::Table && !report.trust.is_empty() {
                eprintln!("checked: {}", report.trust);
            }
            Ok(if report.intact { 0 } else { 1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_and_ages() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            parse_since("2h", now).unwrap(),
            now.timestamp_millis() - 7_200_000
        );
        assert_eq!(
            parse_since("2026-11-22T11:00:00Z", now).unwrap(),
            now.timestamp_millis() - 3_600_000
        );
        for bad in ["", "h", "-1h", "2w", "yesterday"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
