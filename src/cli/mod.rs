//! The headless face: one module per subcommand group; all of them talk to a `dyn Backend`.

pub mod args;
pub mod boot;
mod commands;
pub mod fl_args;
pub mod output;

use clap::Parser;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use crate::api::ApiError;
use crate::client::{Backend, BackendExt};
use args::{Cli, OutputFormat};

/// How long a headless command waits for the first heartbeats.
const WARM_UP: Duration = Duration::from_secs(2);

/// Parse the command line, run, and return the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return e.exit_code();
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("plexus: cannot start the runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("plexus: {}", e.message);
            e.code.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<i32, ApiError> {
    let format = cli.global.format();
    // `fl` drives its own simulated fleet: no embedded engine to boot.
    let command = match cli.command {
        Some(args::CommandLine::Fl(command)) => return commands::fl::run(&cli.global, command),
        Some(args::CommandLine::Neuron {
            join,
            id,
            zone,
            labels,
        }) => return commands::agent::run(&cli.global, join, id, zone, labels).await,
        Some(args::CommandLine::Serve {
            listen,
            tls_cert,
            tls_key,
        }) => return commands::serve::run(&cli.global, listen, tls_cert.zip(tls_key)).await,
        other => other,
    };
    let backend = boot::backend(&cli.global).await?;
    let Some(command) = command else {
        return console(backend, format).await;
    };
    // `watch` streams from boot on, users and audit do not look at the fleet, a server is warm
    // already; everything else first lets the first heartbeats arrive.
    let needs_fleet = !matches!(
        command,
        args::CommandLine::Watch { .. }
            | args::CommandLine::Users { .. }
            | args::CommandLine::Audit { .. }
    );
    if needs_fleet && cli.global.connect.is_none() {
        boot::warm_up(backend.as_ref(), WARM_UP).await?;
    }
    commands::run(backend.as_ref(), command, format).await
}

/// No subcommand: the console when stdout is a terminal, else a one-screen status.
async fn console(backend: Arc<dyn Backend>, format: OutputFormat) -> Result<i32, ApiError> {
    let is_remote = backend.info().mode.starts_with("remote");
    if std::io::stdout().is_terminal() && format == OutputFormat::Table {
        // The console's panic hook restores the terminal, then hands over to this report.
        let _ = color_eyre::install();
        return crate::tui::run(backend, crate::tui::TuiOptions::default())
            .await
            .map(|_| 0)
            .map_err(|e| ApiError::failed(format!("console: {e}")));
    }
    if !is_remote {
        boot::warm_up(backend.as_ref(), WARM_UP).await?;
    }
    let status = backend.status().await?;
    match format {
        OutputFormat::Json => output::json(&status)?,
        OutputFormat::Table => println!("{}", output::status_text(&status)),
    }
    Ok(0)
}

pub use commands::run as run_command;
