//! `plexus chaos run FILE|NAME`: run an experiment, write its journal and report, exit 1 when it
//! deviated. Progress goes to stderr only when stderr is a terminal; Ctrl-C aborts after the
//! rollbacks.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::api::ApiError;
use crate::cli::args::OutputFormat;
use crate::cli::output;
use crate::client::Backend;
use crate::experiment::{Scenario, Verdict, report};

pub async fn run(
    backend: &dyn Backend,
    source: &str,
    out: Option<PathBuf>,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    let scenario = Scenario::load(source).map_err(|e| ApiError::bad_input(e.to_string()))?;
    let tty = std::io::stderr().is_terminal();
    let progress = |p: &crate::experiment::Progress| {
        let (now, end) = (p.now_ms, p.deadline_ms);
        if tty && p.verdict.is_none() {
            let done = (now * 30 / end.max(1)).min(30) as usize;
            eprint!(
                "\r[{}{}] {:.1}s",
                "#".repeat(done),
                ".".repeat(30 - done),
                now as f64 / 1000.0
            );
            let _ = std::io::stderr().flush();
        }
    };
    let cancel = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let journal = crate::experiment::run(backend, &scenario, source, cancel, progress).await?;
    if tty {
        eprintln!();
    }
    let dir = out.unwrap_or_else(|| {
        let id = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        PathBuf::from(format!("test-results/chaos-{id}"))
    });
    report::write(&dir, &journal)
        .map_err(|e| ApiError::failed(format!("cannot write {}: {e}", dir.display())))?;
    match format {
        OutputFormat::Json => output::json(&journal)?,
        OutputFormat::Table => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let mut stdout = std::io::stdout();
            // Text on a terminal; the Markdown itself (as in report.md) down a pipe.
            let markdown = report::markdown(&journal);
            let shown = if std::io::stdout().is_terminal() {
                crate::markup::to_text(&markdown, &|head, rows| {
                    let head: Vec<&str> = head.iter().map(String::as_str).collect();
                    output::table(&head, rows)
                })
            } else {
                markdown
            };
            let _ = writeln!(stdout, "{shown}");
            let _ = writeln!(stdout, "results: {}", dir.display());
        }
    }
    Ok(match journal.verdict {
        Verdict::Ok => 0,
        Verdict::Deviated | Verdict::Aborted => 1,
    })
}
