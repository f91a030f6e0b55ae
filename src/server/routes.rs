//! The HTTP API: every command and query of the `Backend` trait under `/api/v1`, the original
//! `/api/federation/...` paths on the same handlers, health and metrics. The JSON of each query
//! is exactly what the matching headless command prints.

use axum::Json;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::auth::Caller;
use super::error::HttpError;
use super::state::AppState;
use crate::api::ask;
use crate::api::security::AuditFilter;
use crate::api::{ApiError, Command, CommandReply, Query, QueryReply, Role};

pub type Reply<T> = Result<Json<T>, HttpError>;

/// A JSON body whose errors become 400s that name the field.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = HttpError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(HttpError(
                ApiError::bad_input("expected a JSON body (Content-Type: application/json)"),
                Some(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                HttpError(
                    ApiError::bad_input(format!("request body: {}", rejection.body_text())),
                    Some(rejection.status()),
                )
            })?;
        Ok(Body(super::json::parse(&bytes)?))
    }
}

/// A typed answer as a JSON response (or its error with the matching status).
fn json<T>(answer: Result<T, ApiError>) -> Result<Json<T>, HttpError> {
    Ok(Json(answer?))
}

/// 200 while the engine runs; 503 once its thread has stopped, so a load balancer or supervisor
/// sees what every other route would answer.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.engine().is_running() {
        (axum::http::StatusCode::OK, "ok\n")
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "engine stopped\n",
        )
    }
}

/// Open a session for the token's user (the remote console names it in later requests).
pub async fn open_session(
    State(state): State<AppState>,
    caller: Caller,
) -> Reply<crate::api::SessionInfo> {
    Ok(Json(
        state
            .engine()
            .open_token_session(&caller.token, &caller.source)
            .await?,
    ))
}

pub async fn command(
    State(state): State<AppState>,
    caller: Caller,
    Body(command): Body<Command>,
) -> Reply<CommandReply> {
    Ok(Json(state.submit(&caller, command).await?))
}

pub async fn query(
    State(state): State<AppState>,
    caller: Caller,
    Body(query): Body<Query>,
) -> Reply<QueryReply> {
    Ok(Json(state.query(&caller, query).await?))
}

pub async fn status(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    json(state.ask(&caller, ask::status()).await)
}

pub async fn neurons(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    json(state.ask(&caller, ask::neurons()).await)
}

pub async fn neuron(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> impl IntoResponse {
    json(state.ask(&caller, ask::neuron(&id)).await)
}

#[derive(Deserialize)]
pub struct Tail {
    tail: Option<usize>,
}

pub async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    tail: Result<UrlQuery<Tail>, axum::extract::rejection::QueryRejection>,
) -> impl IntoResponse {
    let UrlQuery(tail) = tail?;
    let tail = tail.tail.unwrap_or(50).min(1000);
    json(state.ask(&caller, ask::logs(&id, tail)).await)
}

pub async fn failures(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    json(state.ask(&caller, ask::failures()).await)
}

pub async fn recover(
    State(state): State<AppState>,
    caller: Caller,
    Path(neuron): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state.submit(&caller, Command::Recover { neuron }).await?,
    ))
}

/// The original failure-detection status: current failures with evidence, detection counters
/// and fleet conditions.
pub async fn failure_detection_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Reply<serde_json::Value> {
    let status = state.ask(&caller, ask::status()).await?;
    Ok(Json(serde_json::json!({
        "failures": status.failures,
        "detections": status.detections,
        "recoveries": status.recoveries,
        "conditions": status.conditions,
        "neurons": status.neurons,
    })))
}

/// The original per-neuron failure view: the current failure and its recovery attempts.
pub async fn neuron_failures(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<serde_json::Value> {
    let detail = state.ask(&caller, ask::neuron(&id)).await?;
    Ok(Json(serde_json::json!({
        "neuron": detail.neuron.id,
        "state": detail.neuron.state,
        "failure": detail.failure,
        "recovery_attempts": detail.recovery_attempts,
        "history": detail.history,
    })))
}

pub async fn users(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    json(state.ask(&caller, ask::users()).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    name: String,
    role: Role,
}

pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Body(user): Body<NewUser>,
) -> Reply<CommandReply> {
    let command = Command::AddUser {
        name: user.name,
        role: user.role,
    };
    Ok(Json(state.submit(&caller, command).await?))
}

pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state.submit(&caller, Command::IssueToken { name }).await?,
    ))
}

/// Release an agent id from its key (admin).
pub async fn forget_neuron(
    State(state): State<AppState>,
    caller: Caller,
    Path(neuron): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state
            .submit(&caller, Command::ForgetNeuron { neuron })
            .await?,
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state.submit(&caller, Command::RevokeToken { name }).await?,
    ))
}

pub async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state.submit(&caller, Command::RemoveUser { name }).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    role: Role,
}

pub async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Body(body): Body<NewRole>,
) -> Reply<CommandReply> {
    let command = Command::SetRole {
        name,
        role: body.role,
    };
    Ok(Json(state.submit(&caller, command).await?))
}

pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    filter: Result<UrlQuery<AuditFilter>, axum::extract::rejection::QueryRejection>,
) -> impl IntoResponse {
    let UrlQuery(filter) = filter?;
    json(state.ask(&caller, ask::audit(filter)).await)
}

pub async fn audit_verify(State(state): State<AppState>, caller: Caller) -> impl IntoResponse {
    json(state.ask(&caller, ask::verify_audit()).await)
}

pub async fn metrics(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, HttpError> {
    let status = state.ask(&caller, ask::status()).await?;
    let engine = state.ask(&caller, ask::metrics()).await?;
    let text = super::metrics::render(
        &status,
        &engine,
        &state.0.http,
        state.engine().subscribers(),
    );
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
