//! `plexus bench scale`: validates the flags, runs the sizes (stress::scale), prints the table.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::ApiError;
use crate::cli::args::{BenchCommand, OutputFormat};
use crate::cli::output;
use crate::stress::scale::measure::Probe;
use crate::stress::scale::report::{describe, size};
use crate::stress::scale::{Plan, ScaleSummary, run as run_scale};

/// The largest fleet a size may ask for (a typo guard: 10 million is ~120 GB at today's cost).
const MAX_SIZE: u64 = 10_000_000;

fn seconds(flag: &str, value: f64) -> Result<Duration, ApiError> {
    if value.is_finite() && (0.5..=3600.0).contains(&value) {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(ApiError::bad_input(format!(
            "--{flag}: seconds, from 0.5 to 3600 (got {value})"
        )))
    }
}

fn positive(flag: &str, value: f64) -> Result<f64, ApiError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ApiError::bad_input(format!(
            "--{flag}: a number above 0 (got {value})"
        )))
    }
}

pub async fn run(command: BenchCommand, format: OutputFormat) -> Result<i32, ApiError> {
    let BenchCommand::Scale {
        mut sizes,
        window,
        boot_limit,
        memory_budget,
        verdict_target,
        out,
    } = command;
    if let Some(bad) = sizes.iter().find(|n| !(1..=MAX_SIZE).contains(*n)) {
        return Err(ApiError::bad_input(format!(
            "--sizes: each from 1 to {MAX_SIZE} neurons (got {bad})"
        )));
    }
    sizes.sort_unstable();
    sizes.dedup();
    let exe = std::env::current_exe()
        .map_err(|e| ApiError::failed(format!("cannot find this program's path: {e}")))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let plan = Plan {
        sizes,
        probe: Probe {
            exe,
            user: crate::cli::boot::os_user(),
            window: seconds("window", window)?,
            boot_limit: seconds("boot-limit", boot_limit)?,
        },
        memory_budget_mb: positive("memory-budget", memory_budget)?,
        verdict_target_ms: positive("verdict-target", verdict_target)?,
        out: out.unwrap_or_else(|| PathBuf::from("test-results").join(format!("scale-{stamp}"))),
    };
    let terminal = std::io::stderr().is_terminal();
    let progress = |line: &str| {
        if terminal {
            eprintln!("{line}");
        }
    };
    // Ctrl-C drops the run, and with it the server being measured (killed on drop): no
    // `plexus serve` is left behind.
    let summary = tokio::select! {
        summary = run_scale(&plan, &progress) => summary.map_err(ApiError::failed)?,
        _ = tokio::signal::ctrl_c() => {
            return Err(ApiError::failed(
                "bench scale interrupted: the server being measured was stopped; no report written",
            ));
        }
    };
    match format {
        OutputFormat::Json => output::json(&summary)?,
        OutputFormat::Table => print(&summary, &plan),
    }
    Ok(if summary.all_healthy() { 0 } else { 1 })
}

fn print(s: &ScaleSummary, plan: &Plan) {
    println!(
        "{:>9}  {:>9}  {:>7}  {:>7}  {:>7}  {:>13}  {:>8}  {:>7}  conditions",
        "neurons", "healthy", "engine", "process", "RSS MB", "verdict p50/99", "status", "stop"
    );
    for p in &s.points {
        let cores = |c: Option<f64>| c.map_or("—".into(), |c| format!("{c:.3}"));
        println!(
            "{:>9}  {:>9}  {:>7}  {:>7}  {:>7}  {:>13}  {:>6.1}ms  {:>7}  {}",
            size(p.neurons as f64),
            p.healthy_after_s
                .map_or("never".into(), |t| format!("{t:.1} s")),
            cores(p.engine_cores),
            cores(p.process_cores),
            p.rss_mb.map_or("—".into(), |m| format!("{m:.0}")),
            format!("{:.0}/{:.0} ms", p.verdict_p50_ms, p.verdict_p99_ms),
            p.status_p50_ms,
            p.shutdown_s
                .map_or("killed".into(), |t| format!("{t:.2} s")),
            if p.conditions.is_empty() {
                "none".into()
            } else {
                p.conditions.join(",")
            }
        );
    }
    for f in &s.fits {
        if let Some(fit) = &f.fit {
            println!(
                "fit {:<16} {} (error {:.1}%)",
                f.measure,
                describe(fit, &f.unit),
                fit.error_pct
            );
        }
    }
    if let Some(h) = &s.holdout {
        for r in &h.rows {
            println!(
                "holdout {:<16} predicted {:.3}, measured {:.3} at {} ({:+.1}%)",
                r.measure,
                r.predicted,
                r.measured,
                size(h.predicted_size as f64),
                r.error_pct
            );
        }
    }
    for p in &s.predictions {
        let at = p.size.map_or("never, on this model".into(), |n| {
            format!("at about {} neurons", size(n))
        });
        println!("capacity: {} ({} {}): {at}", p.what, p.limit, p.unit);
    }
    println!("report: {}", plan.out.join("report.md").display());
}
