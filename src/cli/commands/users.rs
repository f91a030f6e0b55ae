//! `plexus users list|add|token|revoke|remove|role` (admin only, decided by the gate).

use crate::api::{ApiError, Command, CommandReply, ask};
use crate::cli::args::{OutputFormat, UsersCommand};
use crate::cli::output::{self, table};
use crate::client::{Backend, BackendExt};

pub async fn run(
    backend: &dyn Backend,
    command: UsersCommand,
    format: OutputFormat,
) -> Result<i32, ApiError> {
    match command {
        UsersCommand::List => {
            let users = backend.ask(ask::users()).await?;
            match format {
                OutputFormat::Json => output::json(&users)?,
                OutputFormat::Table => {
                    let rows: Vec<Vec<String>> = users
                        .iter()
                        .map(|u| {
                            vec![
                                u.name.clone(),
                                u.role.to_string(),
                                u.created.clone(),
                                if u.has_token { "yes" } else { "no" }.into(),
                            ]
                        })
                        .collect();
                    crate::cli::output::print(&table(&["NAME", "ROLE", "CREATED", "TOKEN"], &rows));
                }
            }
        }
        UsersCommand::Add { name, role } => {
            let reply = backend.submit(Command::AddUser { name, role }).await?;
            print_reply(&reply, format)?;
        }
        UsersCommand::Token { name } => {
            let reply = backend.submit(Command::IssueToken { name }).await?;
            match (&reply, format) {
                (CommandReply::TokenIssued { name, token }, OutputFormat::Table) => {
                    println!("{token}");
                    eprintln!("token for {name}: shown once, stored only as a hash; keep it safe");
                }
                _ => print_reply(&reply, format)?,
            }
        }
        UsersCommand::Revoke { name } => {
            print_reply(
                &backend.submit(Command::RevokeToken { name }).await?,
                format,
            )?;
        }
        UsersCommand::Remove { name } => {
            print_reply(&backend.submit(Command::RemoveUser { name }).await?, format)?;
        }
        UsersCommand::Role { name, role } => {
            print_reply(
                &backend.submit(Command::SetRole { name, role }).await?,
                format,
            )?;
        }
    }
    Ok(0)
}

fn print_reply(reply: &CommandReply, format: OutputFormat) -> Result<(), ApiError> {
    match format {
        OutputFormat::Json => output::json(reply),
        OutputFormat::Table => {
            crate::cli::output::print(&reply.summary());
            Ok(())
        }
    }
}
