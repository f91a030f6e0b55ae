//! `plexus fl run` and `plexus fl replay`. These need no orchestrator: the run drives its own
//! simulated fleet on a fake clock (`engine::testkit::SimRun` through `FleetLiveness`), so
//! `cli::run` skips the embedded engine boot for them.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::api::ApiError;
use crate::api::fl::{Mode, RoundReport, RunSummary};
use crate::cli::args::{Global, OutputFormat};
use crate::cli::fl_args::{FlCommand, FlReplayArgs, FlRunArgs, RuleArgs};
use crate::cli::output;
use crate::engine::fl::aggregate::Params;
use crate::engine::fl::capture;
use crate::engine::fl::coordinator::{self, FlConfig};
use crate::engine::fl::data::Partition;
use crate::engine::fl::liveness::FleetLiveness;

/// Simulated seconds per round for the fleet behind the liveness model.
const ROUND_MS: u64 = 5000;

pub fn run(global: &Global, command: FlCommand) -> Result<i32, ApiError> {
    match command {
        FlCommand::Run(args) => run_fl(global, args),
        FlCommand::Replay(args) => replay(global, args),
    }
}

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

fn run_fl(global: &Global, a: FlRunArgs) -> Result<i32, ApiError> {
    let valid = (0.0..=1.0).contains(&a.byzantine)
        && (0.0..=1.0).contains(&a.dropout)
        && a.sample > 0.0
        && a.sample <= 1.0;
    if !valid {
        return Err(ApiError::bad_input(
            "--byzantine and --dropout must be in [0, 1], --sample in (0, 1]",
        ));
    }
    if a.alpha.is_some_and(|x| x <= 0.0 || !x.is_finite()) {
        return Err(ApiError::bad_input("--alpha must be > 0"));
    }
    let neurons = global.neurons as usize;
    if neurons == 0 || a.rounds == 0 {
        return Err(ApiError::bad_input(
            "fl run needs --neurons ≥ 1 and --rounds ≥ 1",
        ));
    }
    let cfg = FlConfig {
        dataset: a.dataset,
        rule: a.rule.rule,
        params: params(&a.rule, Params::AUTO_F)?,
        mode: a.mode,
        attack: if a.byzantine > 0.0 {
            a.attack
        } else {
            crate::api::fl::Attack::None
        },
        byzantine: a.byzantine,
        neurons,
        rounds: a.rounds,
        zones: a.zones.max(1),
        partition: a.alpha.map_or(Partition::Iid, Partition::Dirichlet),
        seed: global.seed,
        lr: a.lr,
        sample_fraction: a.sample,
        async_k: a.async_k,
        ..FlConfig::default()
    };
    if let Some(dir) = &a.capture {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::bad_input(format!("--capture {}: {e}", dir.display())))?;
    }
    let mut liveness =
        FleetLiveness::new(neurons, global.seed, &global.faults, ROUND_MS, a.dropout);
    let mut capture_error = None;
    let mut sink = |round: u32, batch: &crate::api::fl::UpdateBatch| {
        if let Some(dir) = &a.capture {
            let path = dir.join(capture::file_name(round));
            let written = serde_json::to_vec(batch)
                .map_err(|e| e.to_string())
                .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
            if let Err(e) = written {
                capture_error.get_or_insert(format!("{}: {e}", path.display()));
            }
        }
    };
    let progress = std::io::stderr().is_terminal();
    let total = a.rounds;
    let mut on_round = |r: &RoundReport| {
        if progress {
            let done = (r.round as usize * 30) / total as usize;
            eprint!(
                "\r[{}{}] round {}/{} acc {:.3}",
                "#".repeat(done),
                " ".repeat(30 - done.min(30)),
                r.round,
                total,
                r.accuracy
            );
            let _ = std::io::stderr().flush();
        }
    };
    let capture_sink: Option<coordinator::CaptureSink<'_>> =
        if a.capture.is_some() && a.mode != Mode::Streaming {
            Some(&mut sink)
        } else {
            None
        };
    let summary = coordinator::run(cfg, &mut liveness, capture_sink, &mut on_round)
        .map_err(|e| ApiError::bad_input(e.0))?;
    if progress {
        eprintln!();
    }
    if let Some(e) = capture_error {
        return Err(ApiError::failed(format!("capture failed: {e}")));
    }
    match global.format() {
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

fn replay(global: &Global, a: FlReplayArgs) -> Result<i32, ApiError> {
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
