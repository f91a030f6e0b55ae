//! `plexus neuron …`: a real neuron agent's flags (README, docs/neuron-protocol.md).

use clap::Args;
use std::path::PathBuf;

use super::args::parse_label;

#[derive(Debug, Args)]
pub struct NeuronArgs {
    /// The server's URL, e.g. http://127.0.0.1:7700.
    #[arg(long)]
    pub join: String,
    /// This neuron's id.
    #[arg(long)]
    pub id: String,
    /// Zone label.
    #[arg(long, default_value = "agents")]
    pub zone: String,
    /// Extra labels, as KEY=VALUE (repeatable).
    #[arg(long = "label", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// Read the bearer token from this file (mode 0600) rather than PLEXUS_TOKEN; a token
    /// on the command line is visible to every user of the machine.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Where the agent keeps its key and credential between processes (0600; default:
    /// agents/ID.json in the data dir). Its id is bound to that key: a restarted agent
    /// proves it holds it; without the file, an admin must release the id first.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// No push channel: report over HTTP only and pick up commands in the answers (one
    /// heartbeat late). By default the agent keeps a WebSocket open for them.
    #[arg(long)]
    pub no_push: bool,
    /// Train FL rounds on this CSV (label first, then the features, as the shipped data
    /// sets) instead of this agent's partition of the shipped set.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Be a malicious FL client (drills and tests): corrupt every update it sends.
    #[arg(long, value_name = "ATTACK", value_parser = parse_attack)]
    pub byzantine: Option<crate::api::fl::Attack>,
    /// Serve the federation's current model at HOST:PORT (`POST /v1/predict`,
    /// `GET /v1/model`); port 0 picks a free one. The address is part of its registration.
    #[arg(long, value_name = "HOST:PORT")]
    pub serve: Option<std::net::SocketAddr>,
    /// (internal) Run as the worker process an agent's supervisor starts.
    #[arg(long, hide = true)]
    pub worker: bool,
}

/// `--byzantine`: one of the attacks (not `none`).
fn parse_attack(text: &str) -> Result<crate::api::fl::Attack, String> {
    match text.parse::<crate::api::fl::Attack>()? {
        crate::api::fl::Attack::None => Err("'none' is no attack; leave --byzantine out".into()),
        attack => Ok(attack),
    }
}
