//! `plexus fl run` and `plexus fl replay`. A run is an engine-owned run like `fl start` from the
//! console or `POST /api/v1/fl/runs`: started through the Backend (so the gate admits it and the
//! audit log records it), on the embedded engine in virtual time (each round is `--round-ms` of
//! fleet life, at no wall-clock cost) or on the server `--connect` names. Replay needs no engine.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::api::fl::{Attack, RunSummary};
use crate::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState};
use crate::api::{ApiError, Command, CommandReply, ask};
use crate::cli::args::{Global, OutputFormat};
use crate::cli::fl_args::{FlReplayArgs, FlRunArgs, RuleArgs};
use crate::cli::output;
use crate::client::{Backend, BackendExt};
use crate::engine::fl::aggregate::Params;
use crate::engine::fl::capture;

/// Engine time per round on the embedded engine (virtual: free) and on a server (real).
const EMBEDDED_ROUND_MS: u64 = 5000;
const SERVER_ROUND_MS: u64 = 500;
/// A run that shows no new round for this long (wall clock) is reported, not waited on forever.
const STALL: Duration = Duration::from_secs(120);

fn params(rule: &RuleArgs, auto_f: usize) -> Result<Params, ApiError> {
    if !(0.0..0.5).contains(&rule.beta) {
        return Err(ApiError::bad_input(format!(
            "--beta must be in [0, 0.5), got {}",
            rule.beta
        )));
    }
    Ok(Params {
        f: rule.f.unwrap_or(auto_f),
        beta: rule.beta,
        keep: rule.keep,
    })
}

/// The run's spec from the flags; the engine validates it again (and names the field).
fn spec(global: &Global, a: &FlRunArgs) -> Result<FlRunSpec, ApiError> {
    params(&a.rule, Params::AUTO_F)?;
    let embedded = global.connect.is_none();
    let spec = FlRunSpec {
        rule: a.rule.rule,
        attack: if a.byzantine > 0.0 {
            a.attack
        } else {
            Attack::None
        },
        byzantine: a.byzantine,
        rounds: a.rounds,
        mode: a.mode,
        dataset: a.dataset,
        alpha: a.alpha,
        f: a.rule.f,
        beta: a.rule.beta,
        lr: a.lr,
        neurons: 0,
        round_ms: a.round_ms.unwrap_or(if embedded {
            EMBEDDED_ROUND_MS
        } else {
            SERVER_ROUND_MS
        }),
        seed: Some(global.seed),
        keep: a.rule.keep,
        zones: a.zones.max(1),
        sample: a.sample,
        dropout: a.dropout,
        async_k: a.async_k,
        capture: a.capture.is_some(),
    };
    spec.validate()
        .map_err(|e| ApiError::bad_input(format!("fl run: {e}")))?;
    Ok(spec)
}

/// `plexus fl run`: start the run, follow it round by round (advancing a virtual clock one
/// round at a time, so every round sees the fleet `round_ms` later), then print its summary.
pub async fn run_fl(
    backend: &dyn Backend,
    global: &Global,
    a: FlRunArgs,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let spec = spec(global, &a)?;
    if let Some(dir) = &a.capture {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::bad_input(format!("--capture {}: {e}", dir.display())))?;
    }
    let round_ms = Duration::from_millis(spec.round_ms);
    let total = spec.rounds;
    let reply = backend.submit(Command::FlStart { config: spec }).await?;
    let CommandReply::FlStarted { run } = reply else {
        return Err(ApiError::failed(format!("fl run: {}", reply.summary())));
    };
    let virtual_clock = global.connect.is_none();
    let progress = std::io::stderr().is_terminal();
    let (mut advanced, mut seen, mut moved) = (0u32, 0u32, Instant::now());
    let detail = loop {
        let detail = backend.ask(ask::fl_run(&run.id)).await?;
        let before = seen;
        for r in detail.history.iter().filter(|r| r.round > before) {
            if let Some(dir) = &a.capture {
                save_capture(backend, &run.id, r.round, dir).await?;
            }
            if progress {
                bar(r.round, total, r.accuracy);
            }
            seen = r.round;
            moved = Instant::now();
        }
        if detail.run.state != FlRunState::Running {
            break detail;
        }
        if moved.elapsed() > STALL {
            return Err(ApiError::failed(format!(
                "fl run {}: no round finished in {} s (round {seen} of {total})",
                run.id,
                STALL.as_secs()
            )));
        }
        if virtual_clock && seen >= advanced {
            // The worker waits for the next round's engine time: give it exactly that.
            backend.sleep(round_ms).await;
            advanced += 1;
        } else {
            let wait = if virtual_clock { 5 } else { 250 };
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
    };
    if progress {
        eprintln!();
    }
    finish(detail, format)
}

fn bar(round: u32, total: u32, accuracy: f64) {
    let done = (round as usize * 30) / total.max(1) as usize;
    eprint!(
        "\r[{}{}] round {round}/{total} acc {accuracy:.3}",
        "#".repeat(done.min(30)),
        " ".repeat(30 - done.min(30)),
    );
    let _ = std::io::stderr().flush();
}

async fn save_capture(
    backend: &dyn Backend,
    run: &str,
    round: u32,
    dir: &Path,
) -> Result<(), ApiError> {
    let batch = backend.ask(ask::fl_capture(run, round)).await?;
    let path: PathBuf = dir.join(capture::file_name(round));
    let bytes = serde_json::to_vec(&batch).map_err(|e| ApiError::failed(e.to_string()))?;
    std::fs::write(&path, bytes)
        .map_err(|e| ApiError::failed(format!("capture failed: {}: {e}", path.display())))
}

/// The run's summary (with its history as the rounds) in the shape `fl run` always printed;
/// exit 1 when it diverged.
fn finish(detail: FlRunDetail, format: OutputFormat) -> Result<i32, ApiError> {
    let id = &detail.run.id;
    let summary = match (detail.run.state, detail.summary) {
        (FlRunState::Failed, _) | (_, None) => {
            return Err(ApiError::bad_input(format!(
                "fl run {id} {}: {}",
                detail.run.state.as_str(),
                detail.run.error.as_deref().unwrap_or("no summary")
            )));
        }
        (FlRunState::Stopped, _) => {
            return Err(ApiError::failed(format!(
                "fl run {id} was stopped at round {}",
                detail.run.round
            )));
        }
        (_, Some(summary)) => RunSummary {
            rounds: detail.history,
            ..summary
        },
    };
    match format {
        OutputFormat::Json => output::json(&summary)?,
        OutputFormat::Table => crate::cli::output::print(&table(&summary)),
    }
    Ok(if summary.diverged { 1 } else { 0 })
}

fn table(s: &RunSummary) -> String {
    let rows: Vec<Vec<String>> = s
        .rounds
        .iter()
        .map(|r| {
            vec![
                r.round.to_string(),
                format!("{:.4}", r.loss),
                format!("{:.3}", r.accuracy),
                r.participants.to_string(),
                r.dropped.to_string(),
                r.excluded.join(" "),
            ]
        })
        .collect();
    let mut out = output::table(
        &[
            "ROUND",
            "LOSS",
            "ACCURACY",
            "PARTICIPANTS",
            "DROPPED",
            "EXCLUDED",
        ],
        &rows,
    );
    out.push_str(&format!(
        "\nfinal accuracy {:.3}, converged round {}, diverged {}",
        s.final_accuracy,
        s.converged_round.map_or("-".into(), |r| r.to_string()),
        s.diverged
    ));
    out
}

pub fn replay(global: &Global, a: FlReplayArgs) -> Result<i32, ApiError> {
    let name = a.file.display().to_string();
    let text = read(&a.file)?;
    let batch = capture::parse(&text, &name)?;
    let out = capture::replay(&batch, &name, a.rule.rule, params(&a.rule, 0)?)?;
    match global.format() {
        OutputFormat::Json => output::json(&out)?,
        OutputFormat::Table => {
            let rows: Vec<Vec<String>> = out
                .report
                .clients
                .iter()
                .map(|c| {
                    vec![
                        c.neuron.clone(),
                        format!("{:?}", c.verdict),
                        c.score.map_or("-".into(), |s| format!("{s:.6}")),
                        format!("{:.3}", c.share),
                    ]
                })
                .collect();
            println!(
                "{}",
                output::table(&["NEURON", "VERDICT", "SCORE", "SHARE"], &rows)
            );
        }
    }
    Ok(0)
}

fn read(path: &Path) -> Result<String, ApiError> {
    crate::config::read_text(path)
        .map_err(|e| ApiError::bad_input(format!("{}: {e}", path.display())))
}
