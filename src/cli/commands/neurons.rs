//! `plexus neurons`, `plexus neurons show ID`, `plexus logs ID`.

use crate::api::{ApiError, LogLine, NeuronDetail};
use crate::cli::args::OutputFormat;
use crate::cli::output::{self, age, opt, table};
use crate::client::{Backend, BackendExt};

pub async fn list(backend: &dyn Backend, format: OutputFormat) -> Result<i32, ApiError> {
    let neurons = backend.neurons().await?;
    match format {
        OutputFormat::Json => output::json(&*neurons)?,
        OutputFormat::Table => crate::cli::output::print(&output::neuron_rows(&neurons)),
    }
    Ok(0)
}

pub async fn show(backend: &dyn Backend, id: &str, format: OutputFormat) -> Result<i32, ApiError> {
    let detail = backend.neuron(id).await?;
    match format {
        OutputFormat::Json => output::json(&detail)?,
        OutputFormat::Table => crate::cli::output::print(&detail_text(&detail)),
    }
    Ok(0)
}

pub async fn logs(
    backend: &dyn Backend,
    id: &str,
    tail: usize,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let lines = backend.logs(id, tail).await?;
    match format {
        OutputFormat::Json => output::json(&lines)?,
        OutputFormat::Table => {
            for line in &lines {
                crate::cli::output::print(&log_text(line));
            }
        }
    }
    Ok(0)
}

fn log_text(line: &LogLine) -> String {
    format!("{}  {:<5}  {}", line.at, line.level, line.message)
}

fn detail_text(d: &NeuronDetail) -> String {
    let n = &d.neuron;
    let labels: Vec<String> = d.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut out = vec![
        format!(
            "{}  {}{}",
            n.id,
            n.state,
            if n.escalated { " (escalated)" } else { "" }
        ),
        format!(
            "zone {}  kind {}  config {}  labels {}",
            n.zone,
            n.kind,
            n.config_version,
            labels.join(",")
        ),
        format!(
            "phi {}  last heartbeat {}  interval {} ms (observed mean {} stddev {})",
            n.phi_text(),
            age(n.last_heartbeat_ms),
            d.heartbeat_interval_ms,
            opt(d.interval_mean_ms, 0, "ms"),
            opt(d.interval_stddev_ms, 0, "ms")
        ),
        format!(
            "latency p50 {}  errors {}  load {}  rps {}",
            opt(n.latency_ms, 1, "ms"),
            opt(n.error_rate.map(|e| e * 100.0), 2, "%"),
            opt(n.load, 2, ""),
            opt(n.rps, 1, "")
        ),
    ];
    if let Some(i) = &d.identity {
        out.push(format!(
            "identity {}  credential #{} (issued {}x)  key {}  valid {} → {}{}",
            i.id,
            i.serial,
            i.issued,
            i.key_fingerprint,
            i.not_before,
            i.not_after,
            if i.session { "" } else { "  (no session)" }
        ));
    }
    if let Some(f) = &d.failure {
        out.push(format!(
            "failure: {} since {}, {} attempts{}: {}",
            f.mode,
            f.since,
            f.attempts,
            if f.escalated { ", escalated" } else { "" },
            f.evidence
        ));
    }
    if !d.recovery_attempts.is_empty() {
        out.push("recovery attempts:".into());
        let rows: Vec<Vec<String>> = d
            .recovery_attempts
            .iter()
            .map(|a| {
                vec![
                    format!("#{}", a.attempt),
                    a.strategy.clone(),
                    if a.manual { "manual" } else { "auto" }.into(),
                    a.started.clone(),
                    a.outcome.clone(),
                ]
            })
            .collect();
        let text = table(&["ATTEMPT", "STRATEGY", "BY", "STARTED", "OUTCOME"], &rows);
        out.extend(text.lines().map(|l| format!("  {l}")));
    }
    out.push("history:".into());
    if d.history.is_empty() {
        out.push("  (no transitions yet)".into());
    }
    for h in &d.history {
        out.push(format!("  {}  {} → {}  {}", h.at, h.from, h.to, h.reason));
    }
    out.push("log:".into());
    for line in &d.logs {
        out.push(format!("  {}", log_text(line)));
    }
    out.join("\n")
}

/// `plexus neurons forget ID`: release an agent id from its key (admin; audited).
pub async fn forget(
    backend: &dyn Backend,
    id: String,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let reply = backend
        .submit(crate::api::Command::ForgetNeuron { neuron: id })
        .await?;
    match format {
        OutputFormat::Json => output::json(&reply)?,
        OutputFormat::Table => crate::cli::output::print(&reply.summary()),
    }
    Ok(0)
}

/// `plexus neurons invite ID [--ttl 1h]`: a one-time join token, printed once.
pub async fn invite(
    backend: &dyn Backend,
    id: String,
    ttl_ms: u64,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let reply = backend
        .submit(crate::api::Command::InviteAgent { neuron: id, ttl_ms })
        .await?;
    match (&reply, format) {
        (crate::api::CommandReply::AgentInvited { invite, .. }, OutputFormat::Table) => {
            println!("{invite}");
            eprintln!("{}; shown once, stored only as a hash", reply.summary());
        }
        _ => output::json(&reply)?,
    }
    Ok(0)
}
