//! The original stress-test paths. Starting and stopping pass the gate (`stress.start`,
//! `stress.stop`, audited); the run itself is the client-side generator, driven here against
//! this server's engine in the caller's session, with results under `test-results/<id>/`.

use axum::Json;
use axum::extract::{Path, State};
use std::sync::Arc;

use super::auth::Caller;
use super::error::HttpError;
use super::routes::Body;
use super::state::AppState;
use crate::api::ask;
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::{ApiError, Command, CommandReply};
use crate::client::{Backend, Embedded};
use crate::stress::service;

async fn backend_of(state: &AppState, caller: &Caller) -> Result<Arc<dyn Backend>, ApiError> {
    let session = state.session_of(caller).await?;
    let info = state.engine().ask(&session, ask::session()).await?;
    Ok(Arc::new(Embedded::in_session(state.engine().clone(), info)))
}

pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<StressRequest>,
) -> Result<Json<StressStarted>, HttpError> {
    let backend = backend_of(&state, &caller).await?;
    Ok(Json(
        service::start(backend, &body, false, "server (in-process)").await?,
    ))
}

/// `latest` names the newest test.
pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Progress>, HttpError> {
    state.session_of(&caller).await?;
    Ok(Json(service::status(&id)?))
}

pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CommandReply>, HttpError> {
    // Through the caller's own session, so the audit record carries its source address.
    let live = service::find(&id)?;
    let test_id = live.snapshot().id;
    let reply = state
        .submit(&caller, Command::StressStop { test_id })
        .await?;
    live.stop();
    Ok(Json(reply))
}

pub async fn cleanup(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CommandReply>, HttpError> {
    Ok(Json(state.submit(&caller, Command::TestCleanup).await?))
}
