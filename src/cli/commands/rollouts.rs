//! `plexus broadcast config|experiment FILE`, `plexus rollouts [show ID]`, `plexus rollback`:
//! documents are checked here first (exit 2 naming file, line and field, nothing sent); a push
//! names the fleet version it read as the one it replaces (a race = conflict, exit 1); by default
//! the command waits for the rollout's outcome (exit 1 when it aborted or rolled back).

use std::time::Duration;

use crate::api::rollout::{RolloutPhase, RolloutView, RolloutsReport, WavePlan};
use crate::api::rollout_doc::{parse_config, parse_experiment};
use crate::api::{ApiError, Command, CommandReply, ask};
use crate::cli::args::{BroadcastCommand, OutputFormat, WaveArgs};
use crate::cli::output::{json, table};
use crate::client::{Backend, BackendExt};

const POLL: Duration = Duration::from_millis(200);
/// Longer than any rollout of the default plan takes on a healthy fleet.
const WAIT_LIMIT: Duration = Duration::from_secs(600);

fn read(file: &std::path::Path) -> Result<(String, String), ApiError> {
    let name = file.display().to_string();
    let text = crate::config::read_text(file)
        .map_err(|e| ApiError::bad_input(format!("{name}: cannot read: {e}")))?;
    Ok((name, text))
}

async fn report(backend: &dyn Backend) -> Result<RolloutsReport, ApiError> {
    backend.ask(ask::rollouts()).await
}

async fn view(backend: &dyn Backend, id: u64) -> Result<RolloutView, ApiError> {
    backend.ask(ask::rollout(id)).await
}

fn plan(w: &WaveArgs) -> WavePlan {
    WavePlan {
        canary: w.canary,
        batch_size: w.batch_size,
        max_unavailable: w.max_unavailable,
        gate_ms: w.gate_ms,
        watch_ms: w.watch_ms,
    }
}

pub async fn broadcast(
    backend: &dyn Backend,
    command: BroadcastCommand,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let (cmd, wait, until_running) = match command {
        BroadcastCommand::Config {
            file,
            selector,
            dry_run,
            expect,
            waves,
            no_wait,
        } => {
            let (name, text) = read(&file)?;
            let config =
                parse_config(&name, &text).map_err(|e| ApiError::bad_input(e.to_string()))?;
            let expected = match expect {
                Some(v) => v,
                None => report(backend).await?.head,
            };
            let cmd = Command::BroadcastConfig {
                config: Box::new(config),
                selector: selector.unwrap_or_default(),
                expected_version: Some(expected),
                dry_run,
                plan: plan(&waves),
            };
            (cmd, !no_wait && !dry_run, false)
        }
        BroadcastCommand::Experiment {
            file,
            dry_run,
            no_wait,
        } => {
            let (name, text) = read(&file)?;
            let experiment =
                parse_experiment(&name, &text).map_err(|e| ApiError::bad_input(e.to_string()))?;
            let cmd = Command::BroadcastExperiment {
                experiment: Box::new(experiment),
                expected_version: Some(report(backend).await?.head),
                dry_run,
            };
            (cmd, !no_wait && !dry_run, true)
        }
    };
    submit_and_wait(backend, cmd, wait, until_running, format).await
}

pub async fn rollback(
    backend: &dyn Backend,
    to: Option<String>,
    no_wait: bool,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    submit_and_wait(backend, Command::Rollback { to }, !no_wait, false, format).await
}

async fn submit_and_wait(
    backend: &dyn Backend,
    cmd: Command,
    wait: bool,
    until_running: bool,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let reply = backend.submit(cmd).await?;
    let CommandReply::RolloutStarted { rollout, dry_run } = &reply else {
        return Err(ApiError::failed("the engine answered with another reply"));
    };
    if !wait {
        match format {
            OutputFormat::Json => json(&reply)?,
            OutputFormat::Table => crate::cli::output::print(&reply.summary()),
        }
        return Ok(0);
    }
    let _ = dry_run;
    let id = rollout.id;
    let mut waited = Duration::ZERO;
    let done = loop {
        let v = view(backend, id).await?;
        let phase = v.summary.phase;
        if phase.is_final() || (until_running && phase == RolloutPhase::Running) {
            break v;
        }
        if waited >= WAIT_LIMIT {
            return Err(ApiError::failed(format!(
                "rollout r-{id} still {} after {} s; follow it with `plexus rollouts show {id}`",
                phase.as_str(),
                WAIT_LIMIT.as_secs()
            )));
        }
        backend.sleep(POLL).await;
        waited += POLL;
    };
    print_view(&done, format)?;
    Ok(match done.summary.phase {
        RolloutPhase::Committed | RolloutPhase::Running | RolloutPhase::Ended => 0,
        // Aborted or rolled back: the fleet is whole, but the push did not happen.
        _ => 1,
    })
}

pub async fn list(backend: &dyn Backend, format: OutputFormat) -> Result<i32, ApiError> {
    let r = report(backend).await?;
    if format == OutputFormat::Json {
        json(&r)?;
        return Ok(0);
    }
    let versions: Vec<String> = r
        .versions
        .iter()
        .map(|v| format!("{} ×{}", v.version, v.neurons))
        .collect();
    let drift = if r.versions.len() > 1 { "  DRIFT" } else { "" };
    println!(
        "fleet config {} · running: {}{drift}",
        r.head,
        versions.join(", ")
    );
    let rows: Vec<Vec<String>> = r
        .rollouts
        .iter()
        .rev()
        .map(|s| {
            vec![
                format!("r-{}", s.id),
                format!("{:?}", s.kind).to_lowercase(),
                format!("{} → {}", s.replaces, s.version),
                s.selector.clone(),
                s.targets.to_string(),
                format!("{}/{}", s.wave, s.waves),
                s.phase.as_str().into(),
                s.by.clone(),
                s.cause.clone().unwrap_or_default(),
            ]
        })
        .collect();
    println!(
        "{}",
        table(
            &[
                "ID", "KIND", "VERSION", "SELECTOR", "TARGETS", "WAVE", "PHASE", "BY", "CAUSE"
            ],
            &rows
        )
    );
    Ok(0)
}

pub async fn show(backend: &dyn Backend, id: &str, format: OutputFormat) -> Result<i32, ApiError> {
    let n: u64 = id
        .trim_start_matches("r-")
        .parse()
        .map_err(|_| ApiError::bad_input(format!("'{id}' is not a rollout id (r-3 or 3)")))?;
    print_view(&view(backend, n).await?, format)?;
    Ok(0)
}

fn print_view(v: &RolloutView, format: OutputFormat) -> Result<(), ApiError> {
    if format == OutputFormat::Json {
        return json(v);
    }
    let s = &v.summary;
    println!(
        "rollout r-{} ({:?}) {} → {} on '{}' by {} · {} · wave {}/{}{}",
        s.id,
        s.kind,
        s.replaces,
        s.version,
        s.selector,
        s.by,
        s.phase.as_str(),
        s.wave,
        s.waves,
        s.took_ms
            .map(|t| format!(" · took {t} ms"))
            .unwrap_or_default()
    );
    if let Some(cause) = &s.cause {
        println!("cause: {}", crate::cli::output::escape_controls(cause));
    }
    let rows: Vec<Vec<String>> = v
        .targets
        .iter()
        .map(|t| {
            vec![
                t.neuron.clone(),
                t.wave.to_string(),
                t.from.clone(),
                t.step.as_str().into(),
                t.detail.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        table(&["NEURON", "WAVE", "FROM", "STEP", "DETAIL"], &rows)
    );
    Ok(())
}
