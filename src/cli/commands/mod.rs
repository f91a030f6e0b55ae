//! Headless subcommands.

pub mod agent;
mod alerts;
mod audit;
pub mod bench;
pub mod chaos;
mod chaos_run;
pub mod fl;
mod neurons;
mod recover;
mod rollouts;
pub mod serve;
mod status;
pub mod stress;
mod users;
mod watch;

use super::args::{CommandLine, NeuronsCommand, OutputFormat, RolloutsCommand};
use crate::api::ApiError;
use crate::client::Backend;

pub async fn run(
    backend: &dyn Backend,
    command: CommandLine,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command {
        CommandLine::Status => status::run(backend, format).await,
        CommandLine::Neurons { show: None } => neurons::list(backend, format).await,
        CommandLine::Neurons {
            show: Some(NeuronsCommand::Show { id }),
        } => neurons::show(backend, &id, format).await,
        CommandLine::Neurons {
            show: Some(NeuronsCommand::Forget { id }),
        } => neurons::forget(backend, id, format).await,
        CommandLine::Neurons {
            show: Some(NeuronsCommand::Invite { id, ttl }),
        } => neurons::invite(backend, id, ttl, format).await,
        CommandLine::Logs { id, tail } => neurons::logs(backend, &id, tail, format).await,
        CommandLine::Recover { id, no_wait } => recover::run(backend, &id, !no_wait, format).await,
        CommandLine::Watch { count, for_secs } => watch::run(backend, count, for_secs).await,
        CommandLine::Users { command } => users::run(backend, command, format).await,
        CommandLine::Audit { command } => audit::run(backend, command, format).await,
        CommandLine::Chaos { command } => chaos::run(backend, command, format).await,
        CommandLine::Broadcast(command) => rollouts::broadcast(backend, command, format).await,
        CommandLine::Rollouts { show: None } => rollouts::list(backend, format).await,
        CommandLine::Rollouts {
            show: Some(RolloutsCommand::Show { id }),
        } => rollouts::show(backend, &id, format).await,
        CommandLine::Rollback { to, no_wait } => {
            rollouts::rollback(backend, to, no_wait, format).await
        }
        CommandLine::Alerts { command } => alerts::run(backend, command, format).await,
        // These run before any backend is made (cli::run).
        CommandLine::Fl(_)
        | CommandLine::Serve { .. }
        | CommandLine::Neuron { .. }
        | CommandLine::Bench(_)
        | CommandLine::Stress(_) => Err(ApiError::bad_input(
            "this command does not run against a backend",
        )),
        local @ (CommandLine::Completions { .. } | CommandLine::Man | CommandLine::Info { .. }) => {
            super::local::run(&local, None)
        }
    }
}
