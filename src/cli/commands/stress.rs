//! `plexus stress run|status|stop|cleanup`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{ApiError, Command};
use crate::cli::args::{Global, OutputFormat, StressCommand};
use crate::cli::output;
use crate::client::Backend;
use crate::stress::job::{Plan, execute, new_id};
use crate::stress::run::{Live, Progress};
use crate::stress::summary::{Summary, compare};
use crate::stress::target::HttpStatus;
use crate::stress::threshold::Threshold;

pub async fn run(
    backend: Arc<dyn Backend>,
    command: StressCommand,
    global: &Global,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command {
        StressCommand::Run {
            profile,
            mock_neurons,
            duration,
            out,
            thresholds,
            abort_on_breach,
            baseline,
            max_in_flight,
            subscribers,
        } => {
            let mut p = crate::stress::load_profile(&profile)
                .map_err(|e| ApiError::bad_input(e.to_string()))?;
            if let Some(n) = mock_neurons {
                p.neurons = n;
            }
            if let Some(secs) = duration {
                if !(secs.is_finite() && secs > 0.0 && secs <= 30.0 * 86_400.0) {
                    return Err(ApiError::bad_input("--duration: seconds, above 0"));
                }
                p.scale_to(Duration::from_secs_f64(secs));
            }
            if let Some(m) = max_in_flight {
                p.max_in_flight = m.max(1);
            }
            p.abort_on_breach |= abort_on_breach;
            let mut all = p.thresholds.clone();
            for t in &thresholds {
                all.push(
                    Threshold::parse(t)
                        .map_err(|e| ApiError::bad_input(format!("--threshold: {e}")))?,
                );
            }
            let baseline = match baseline {
                Some(path) => Some((
                    path.display().to_string(),
                    crate::config::read_text(&path)
                        .map_err(|e| ApiError::bad_input(format!("{}: {e}", path.display())))?,
                )),
                None => None,
            };
            let id = new_id();
            let out = out.unwrap_or_else(|| PathBuf::from("test-results").join(&id));
            let (target, http) = match (&global.connect, &global.token) {
                (Some(url), Some(token)) => (
                    url.clone(),
                    Some(HttpStatus::new(url, token).map_err(ApiError::bad_input)?),
                ),
                _ => ("embedded".to_string(), None),
            };
            if subscribers > 0 && http.is_none() {
                return Err(ApiError::bad_input(
                    "--subscribers: holds WebSocket subscribers on a server; give --connect URL and --token",
                ));
            }
            if http.is_none() && p.phases.iter().any(|ph| ph.subscribers > 0) {
                eprintln!(
                    "warning: the profile's phase subscribers are held only against a server (--connect)"
                );
            }
            let live = Live::new(&id, &p);
            let plan = Plan {
                profile: p,
                thresholds: all,
                seed: global.seed,
                out,
                target,
                http,
                subscribers,
            };
            let bar = std::io::stderr()
                .is_terminal()
                .then(|| tokio::spawn(progress_bar(live.clone())));
            let stopper = live.clone();
            let ctrl_c = tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stopper.stop();
                }
            });
            let done = execute(backend, plan, &id, live.clone()).await;
            ctrl_c.abort();
            if let Some(bar) = bar {
                bar.abort();
                eprintln!();
            }
            let done = done?;
            let s = &done.summary;
            for w in &s.warnings {
                eprintln!("warning: {w}");
            }
            let deltas = match &baseline {
                Some((file, text)) => {
                    compare(file, text, &s.metrics).map_err(ApiError::bad_input)?
                }
                None => Vec::new(),
            };
            match format {
                OutputFormat::Json => output::json(s)?,
                OutputFormat::Table => print_summary(s, &done.dir, &deltas),
            }
            if format == OutputFormat::Json && !deltas.is_empty() {
                for d in &deltas {
                    eprintln!("baseline: {d}");
                }
            }
            Ok(if s.passed { 0 } else { 1 })
        }
        StressCommand::Status { id, results } => {
            let value: serde_json::Value = match (&global.connect, &global.token) {
                (Some(url), Some(token)) => {
                    remote(url, token, "GET", &format!("status/{id}")).await?
                }
                _ => {
                    let path = results.join(&id).join("summary.json");
                    let text = crate::config::read_text(&path).map_err(|e| {
                        ApiError::not_found(format!(
                            "{}: {e} (a test running on a server needs --connect)",
                            path.display()
                        ))
                    })?;
                    serde_json::from_str(&text)
                        .map_err(|e| ApiError::bad_input(format!("{}: {e}", path.display())))?
                }
            };
            output::json(&value)?;
            Ok(0)
        }
        StressCommand::Stop { id } => match (&global.connect, &global.token) {
            (Some(url), Some(token)) => {
                let v = remote(url, token, "POST", &format!("stop/{id}")).await?;
                output::json(&v)?;
                Ok(0)
            }
            _ => Err(ApiError::bad_input(
                "stop reaches a test running on a server (--connect URL --token T); a local run stops with Ctrl-C",
            )),
        },
        StressCommand::Cleanup => {
            let reply = backend.submit(Command::TestCleanup).await?;
            match format {
                OutputFormat::Json => output::json(&reply)?,
                OutputFormat::Table => crate::cli::output::print(&reply.summary()),
            }
            Ok(0)
        }
    }
}

async fn remote(
    url: &str,
    token: &str,
    method: &str,
    path: &str,
) -> Result<serde_json::Value, ApiError> {
    let url = format!(
        "{}/api/federation/stress-test/{path}",
        url.trim_end_matches('/')
    );
    let client = reqwest::Client::new();
    let request = if method == "GET" {
        client.get(&url)
    } else {
        client.post(&url)
    };
    let r = request
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| ApiError::unreachable(format!("{url}: {e}")))?;
    let status = r.status();
    let v: serde_json::Value = r
        .json()
        .await
        .map_err(|e| ApiError::failed(format!("{url}: {e}")))?;
    if status.is_success() {
        Ok(v)
    } else {
        Err(serde_json::from_value::<ApiError>(v.clone())
            .unwrap_or_else(|_| ApiError::failed(format!("HTTP {status}: {v}"))))
    }
}

fn print_summary(s: &Summary, dir: &std::path::Path, deltas: &[String]) {
    let m = &s.metrics;
    let l = &m.latency_ms;
    let sl = &s.send_latency_ms;
    println!(
        "stress test {} ({}) against {}: {}",
        s.id,
        s.profile,
        s.target,
        if s.passed { "passed" } else { "FAILED" }
    );
    if !s.ended.is_empty() {
        println!("  ended early: {}", s.ended);
    }
    println!(
        "  achieved      {:.1} req/s ({} scheduled, {} dropped)",
        m.requests_per_sec, s.scheduled, m.dropped
    );
    println!(
        "  latency       p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2} ms (from intended start)",
        l.p50, l.p95, l.p99, l.max
    );
    println!(
        "  send latency  p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2} ms (from actual send)",
        sl.p50, sl.p95, sl.p99, sl.max
    );
    println!(
        "  outcomes      ok {}  refused {}  errors {} ({:.3}%)",
        s.ok,
        s.refused,
        s.errors,
        m.error_rate * 100.0
    );
    if let Some(phase) = &s.breaking_point {
        println!("  breaking point  phase {phase} (its thresholds were the first breached)");
    }
    if let Some(r) = &s.registration {
        println!(
            "  mock neurons  {} registered in {:.0} ms",
            r.neurons, r.took_ms
        );
    }
    if let Some(c) = &s.subscribers {
        let f = &c.fanout_lag_ms;
        println!(
            "  subscribers   {} of {} held ({} failed), {} events, {} lost; fan-out lag p50 {:.1}  p99 {:.1}  max {:.1} ms",
            c.held, c.wanted, c.failed, c.events_received, c.events_lost, f.p50, f.p99, f.max
        );
        for h in &c.phases {
            println!(
                "    phase {:<12} {} of {} connected at its end",
                h.phase, h.held, h.wanted
            );
        }
    }
    for t in &s.thresholds {
        let seen = t.observed.map_or("—".into(), |v| format!("{v:.4}"));
        println!(
            "  threshold     [{}] {} → {} {}",
            t.scope,
            t.threshold,
            seen,
            if t.passed { "pass" } else { "BREACH" }
        );
    }
    for d in deltas {
        println!("  vs baseline   {d}");
    }
    println!("  results       {}", dir.display());
}

/// One line on stderr, redrawn five times a second.
async fn progress_bar(live: Arc<Live>) {
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let p: Progress = live.snapshot();
        let width = 24usize;
        let done = if p.duration_s > 0.0 {
            (p.elapsed_s / p.duration_s).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let filled = (done * width as f64) as usize;
        let mut err = std::io::stderr();
        let _ = write!(
            err,
            "\r[{}{}] {:>5.1}/{:.0}s {:<10} target {:>7.1}/s achieved {:>7.1}/s in-flight {:>4} dropped {:>5} p99 {:>7.2}ms ",
            "#".repeat(filled),
            " ".repeat(width - filled),
            p.elapsed_s,
            p.duration_s,
            p.phase,
            p.target_rps,
            p.achieved_rps,
            p.in_flight,
            p.dropped,
            p.latency_ms.p99
        );
        let _ = err.flush();
    }
}
