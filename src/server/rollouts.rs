//! Rollout endpoints: config and experiment broadcasts (the original paths and `/api/v1/rollouts…`),
//! rollback, and the rollout list and detail. Bodies are the command's own fields, so a bad
//! document is refused (400, naming the field) before anything is sent.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::HttpError;
use super::routes::{Body, Reply};
use crate::api::ask;
use crate::api::rollout::{Experiment, NeuronConfig, WavePlan};
use crate::api::{ApiError, Command, CommandReply};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigBroadcast {
    config: NeuronConfig,
    #[serde(default)]
    selector: String,
    #[serde(default)]
    expected_version: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    plan: WavePlan,
}

pub async fn config(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<ConfigBroadcast>,
) -> Reply<CommandReply> {
    let command = Command::BroadcastConfig {
        config: Box::new(body.config),
        selector: body.selector,
        expected_version: body.expected_version,
        dry_run: body.dry_run,
        plan: body.plan,
    };
    Ok(Json(state.submit(&caller, command).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentBroadcast {
    experiment: Experiment,
    #[serde(default)]
    expected_version: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

pub async fn experiment(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<ExperimentBroadcast>,
) -> Reply<CommandReply> {
    let command = Command::BroadcastExperiment {
        experiment: Box::new(body.experiment),
        expected_version: body.expected_version,
        dry_run: body.dry_run,
    };
    Ok(Json(state.submit(&caller, command).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RollbackBody {
    #[serde(default)]
    to: Option<String>,
}

pub async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<RollbackBody>,
) -> Reply<CommandReply> {
    Ok(Json(
        state
            .submit(&caller, Command::Rollback { to: body.to })
            .await?,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.ask(&caller, ask::rollouts()).await?))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    let id: u64 = id
        .trim_start_matches("r-")
        .parse()
        .map_err(|_| ApiError::bad_input(format!("'{id}' is not a rollout id (r-3 or 3)")))?;
    Ok(Json(state.ask(&caller, ask::rollout(id)).await?))
}
