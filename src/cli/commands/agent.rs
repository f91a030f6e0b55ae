//! `plexus neuron --join URL --id ID`: a real neuron agent process.

use crate::api::ApiError;
use crate::cli::args::Global;
use crate::neuron::agent::{AgentOptions, run as run_agent};

pub async fn run(
    global: &Global,
    server: String,
    id: String,
    zone: String,
    labels: Vec<(String, String)>,
) -> Result<i32, ApiError> {
    let token = global.token.clone().ok_or_else(|| {
        ApiError::bad_input("an agent needs --token (or PLEXUS_TOKEN) of a neuron-manager user")
    })?;
    run_agent(AgentOptions {
        server,
        token,
        id,
        zone,
        labels,
        seed: global.seed,
    })
    .await
}
