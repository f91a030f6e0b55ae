//! `plexus neuron --join URL --id ID`: a real neuron agent — a supervisor process and the
//! worker it starts (the same command with `--worker`).

use crate::api::ApiError;
use crate::cli::args::Global;
use crate::cli::neuron_args::NeuronArgs;
use crate::neuron::agent::{AgentOptions, run as run_agent};
use crate::neuron::learner::{Learner, dataset_of_width, read_data};
use crate::neuron::supervise::worker_args;
use crate::neuron::worker::{WorkerOptions, run as run_worker};

pub async fn run(global: &Global, args: NeuronArgs) -> Result<i32, ApiError> {
    let NeuronArgs {
        join: server,
        id,
        zone,
        labels,
        token_file,
        state,
        no_push,
        data,
        byzantine,
        serve,
        worker,
    } = args;
    crate::api::bounds::id("--id", &id)?;
    crate::api::bounds::id("--zone", &zone)?;
    if worker {
        // The worker reads `--data` (the supervisor starts one before joining, so a bad file
        // is named, and the agent exits 2, before anything else happens).
        let own = match &data {
            Some(path) => Some(own_data(path)?),
            None => None,
        };
        return run_worker(WorkerOptions {
            seed: global.seed,
            learner: Learner::new(own, byzantine, global.seed),
            serve,
        })
        .await;
    }
    let token = match token_file {
        Some(path) => read_token(&path)?,
        None => global.token.clone().ok_or_else(|| {
            ApiError::bad_input(
                "an agent needs --token-file FILE (or PLEXUS_TOKEN) with the token of a neuron-manager user",
            )
        })?,
    };
    run_agent(AgentOptions {
        server,
        token,
        id: id.clone(),
        zone,
        labels,
        push: !no_push,
        worker_exe: std::env::current_exe()
            .map_err(|e| ApiError::failed(format!("cannot find this program: {e}")))?,
        worker_args: worker_args(std::env::args().skip(1)),
        state: state.or_else(|| {
            global
                .data_dir
                .clone()
                .or_else(crate::cli::boot::default_data_dir)
                .map(|dir| dir.join("agents").join(format!("{id}.json")))
        }),
    })
    .await
}

/// `--data FILE`: parsed, and its width matched to a model.
fn own_data(path: &std::path::Path) -> Result<crate::engine::fl::data::Dataset, ApiError> {
    let data = read_data(path).map_err(ApiError::bad_input)?;
    if dataset_of_width(data.dim).is_none() {
        return Err(ApiError::bad_input(format!(
            "--data {}: {} features per row fits no model (digits: 64, breast-cancer: 30)",
            path.display(),
            data.dim
        )));
    }
    Ok(data)
}

/// A token file: one line, the token; at most 4 KiB (a token is 68 bytes).
fn read_token(path: &std::path::Path) -> Result<String, ApiError> {
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| ApiError::bad_input(format!("--token-file {shown}: {e}")))?;
    if meta.len() > 4096 {
        return Err(ApiError::bad_input(format!(
            "--token-file {shown}: {} bytes is not a token",
            meta.len()
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ApiError::bad_input(format!("--token-file {shown}: {e}")))?;
    let token = text.trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(ApiError::bad_input(format!(
            "--token-file {shown}: line 1: expected one token"
        )));
    }
    Ok(token.to_string())
}
