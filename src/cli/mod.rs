//! The headless face: one module per subcommand group; all of them talk to a `dyn Backend`.

pub mod args;
pub mod boot;
pub mod chaos_args;
mod commands;
pub mod fl_args;
pub mod local;
pub mod neuron_args;
pub mod output;

use clap::Parser;
use std::io::IsTerminal;
use std::sync::Arc;

use crate::api::ApiError;
use crate::cli::fl_args::FlCommand;
use crate::client::{Backend, BackendExt};
use args::{Cli, OutputFormat};

use boot::WARM_UP;

/// clap's error usage repeats the options it was given, environment ones included, so with
/// `PLEXUS_DATA_DIR` set `--data-dir <DATA_DIR>` would read as required. Options that came from
/// the environment leave the usage line.
fn usage_without_env(text: &str) -> String {
    use clap::CommandFactory;
    let command = Cli::command();
    let from_env: Vec<String> = command
        .get_arguments()
        .filter(|a| {
            a.get_env()
                .is_some_and(|var| std::env::var_os(var).is_some())
        })
        .filter_map(|a| {
            let value = a.get_value_names()?.first()?.to_string();
            Some(format!(" --{} <{value}>", a.get_long()?))
        })
        .collect();
    text.lines()
        .map(|line| {
            if line.starts_with("Usage:") {
                from_env
                    .iter()
                    .fold(line.to_string(), |l, flag| l.replace(flag.as_str(), ""))
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Parse the command line, run, and return the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap: 0 for --help/--version, 2 for usage errors.
            if e.use_stderr() {
                eprint!("{}", usage_without_env(&e.render().to_string()));
            } else {
                let _ = e.print();
            }
            return e.exit_code();
        }
    };
    // Headless output piped into `head` must end quietly, as `cat` does, not panic on EPIPE.
    // Not for the server, the agent or the console, whose sockets and terminal report EPIPE
    // as errors they handle.
    let pipes_output = !matches!(
        cli.command,
        None | Some(args::CommandLine::Serve { .. }) | Some(args::CommandLine::Neuron(_))
    );
    if pipes_output {
        // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
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
            eprintln!("plexus: {}", output::escape_controls(&e.message));
            e.code.exit_code()
        }
    }
}

async fn run(mut cli: Cli) -> Result<i32, ApiError> {
    if let Some(command) = cli.command.as_ref().filter(|c| local::is_local(c)) {
        return local::run(command, Some(&cli.global));
    }
    // A bad config stops headless commands (exit 2); the console runs on the defaults and says so.
    let config = crate::config::Config::load_default();
    match &config {
        Ok(c) => {
            cli.global.read_only |= c.read_only;
            boot::alert_settings_from(&mut cli.global, c);
        }
        Err(e) if cli.command.is_some() => return Err(ApiError::bad_input(e.to_string())),
        Err(_) => {}
    }
    let format = cli.global.format();
    // `fl`, agents and the server make their own engine (or none).
    let command = match cli.command.take() {
        Some(args::CommandLine::Fl(FlCommand::Replay(a))) => {
            return commands::fl::replay(&cli.global, a);
        }
        Some(args::CommandLine::Fl(FlCommand::Run(a))) => {
            // Embedded, each round is engine time the run advances itself (see `fl::run_fl`).
            if cli.global.connect.is_none() && !cli.global.virtual_time {
                cli.global.virtual_time = true;
                cli.global.virtual_epoch_now = true;
            }
            let backend = boot::backend(&cli.global).await?;
            if cli.global.connect.is_none() {
                boot::warm_up(backend.as_ref(), WARM_UP).await?;
            }
            return commands::fl::run_fl(backend.as_ref(), &cli.global, a, format).await;
        }
        Some(args::CommandLine::Neuron(neuron)) => {
            return commands::agent::run(&cli.global, neuron).await;
        }
        Some(args::CommandLine::Bench(bench)) => {
            return commands::bench::run(bench, format).await;
        }
        Some(args::CommandLine::Serve {
            listen,
            tls_cert,
            tls_key,
        }) => return commands::serve::run(&cli.global, listen, tls_cert.zip(tls_key)).await,
        other => other,
    };
    // A one-off read of an embedded store's alerts must not judge them by the fleet this
    // process boots (new, and healthy): it shows them as the last engine on the store left them.
    let alerts_only = matches!(command, Some(args::CommandLine::Alerts { .. }));
    cli.global.alerts_as_stored = alerts_only && cli.global.connect.is_none();
    let backend = boot::backend(&cli.global).await?;
    if let Some(args::CommandLine::Stress(stress)) = command {
        return commands::stress::run(backend, stress, &cli.global, format).await;
    }
    let Some(command) = command else {
        return console(backend, format, config, &cli.global).await;
    };
    // `watch` streams from boot on, users and audit do not look at the fleet, a server is warm
    // already; everything else first lets the first heartbeats arrive.
    let needs_fleet = !matches!(
        command,
        args::CommandLine::Watch { .. }
            | args::CommandLine::Users { .. }
            | args::CommandLine::Audit { .. }
            | args::CommandLine::Alerts { .. }
    );
    if needs_fleet && cli.global.connect.is_none() {
        boot::warm_up(backend.as_ref(), WARM_UP).await?;
    }
    if cli.global.alerts_as_stored && format == OutputFormat::Table {
        eprintln!(
            "alerts as the last engine on this data dir left them (not re-evaluated here); \
             --connect a running `plexus serve` for live alerts"
        );
    }
    commands::run(backend.as_ref(), command, format).await
}

/// No subcommand: the console when stdout is a terminal, else a one-screen status.
async fn console(
    backend: Arc<dyn Backend>,
    format: OutputFormat,
    config: Result<crate::config::Config, crate::config::SourceError>,
    global: &args::Global,
) -> Result<i32, ApiError> {
    if std::io::stdout().is_terminal() && format == OutputFormat::Table {
        // The console's panic hook restores the terminal, then hands over to this report.
        let _ = color_eyre::install();
        let overrides = crate::tui::setup::Overrides {
            color: global.color,
            ascii: global.ascii,
        };
        let environment = backend.info().environment;
        let resolved = crate::tui::setup::resolve_from_env(config, &overrides, &environment);
        return crate::tui::run(backend, resolved.options)
            .await
            .map(|_| 0)
            .map_err(|e| ApiError::failed(format!("console: {e}")));
    }
    if global.connect.is_none() {
        boot::warm_up(backend.as_ref(), WARM_UP).await?;
    }
    let status = backend.status().await?;
    match format {
        OutputFormat::Json => output::json(&status)?,
        OutputFormat::Table => crate::cli::output::print(&output::status_text(&status)),
    }
    Ok(0)
}

pub use commands::run as run_command;
