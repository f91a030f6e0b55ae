//! FL run endpoints: start (the body is an `FlRunSpec`, refused with 400 naming the field before
//! anything starts), list, one run with its history, stop.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;

use super::AppState;
use super::auth::Caller;
use super::error::HttpError;
use super::routes::{Body, Reply};
use crate::api::ask;
use crate::api::fl_run::FlRunSpec;
use crate::api::{Command, CommandReply};

pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Body(config): Body<FlRunSpec>,
) -> Reply<CommandReply> {
    Ok(Json(
        state.submit(&caller, Command::FlStart { config }).await?,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.ask(&caller, ask::fl_runs()).await?))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.ask(&caller, ask::fl_run(&id)).await?))
}

pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(state.submit(&caller, Command::FlStop { id }).await?))
}
