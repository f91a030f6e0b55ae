//! `plexus serve`: the engine with its simulated fleet behind HTTP and WebSocket.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::api::ApiError;
use crate::cli::args::Global;
use crate::cli::boot;
use crate::server::{Ended, ServeOptions, serve};

/// Exit code of `plexus serve` when its engine thread stopped under it (README, exit codes).
pub const ENGINE_STOPPED: i32 = 5;

pub async fn run(
    global: &Global,
    listen: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
) -> Result<i32, ApiError> {
    let engine = boot::engine(global)?;
    if global.virtual_time && global.ca_key.is_none() {
        eprintln!(
            "plexus: --virtual-time: the federation CA is derived from --seed {} (reproducible, not secret); never serve real neurons like this",
            global.seed
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!(
        "plexus: serving federation {} on {scheme}://{listen} ({} simulated neurons); Ctrl-C stops",
        engine.config().federation,
        global.neurons
    );
    let ended = serve(engine.clone(), ServeOptions { listen, tls }).await?;
    engine.shutdown();
    Ok(match ended {
        Ended::Signal => 0,
        Ended::EngineStopped => {
            eprintln!(
                "plexus: the engine stopped; exiting with {ENGINE_STOPPED} so a supervisor restarts the server"
            );
            ENGINE_STOPPED
        }
    })
}
