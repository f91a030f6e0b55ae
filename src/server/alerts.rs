//! Alert endpoints: `/api/v1/alerts`, `/api/v1/alerts/{fingerprint}/ack` and
//! `/api/v1/silences` (GET, POST; DELETE `/api/v1/silences/{id}`), all through the gate.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::HttpError;
use super::routes::{Body, Reply};
use crate::api::alert::Matcher;
use crate::api::ask;
use crate::api::chaos::parse_duration_ms;
use crate::api::{ApiError, Command, CommandReply};

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.ask(&caller, ask::alerts()).await?))
}

pub async fn ack(
    State(state): State<AppState>,
    caller: Caller,
    Path(fingerprint): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state
            .submit(&caller, Command::AlertAck { fingerprint })
            .await?,
    ))
}

pub async fn silences(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.ask(&caller, ask::silences()).await?))
}

/// `{"matchers": "alertname=NeuronOffline,zone=eu-west", "duration": "2h", "comment": "…"}`
/// (matchers may also be a list of objects as `plexus alerts silences --json` shows them).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SilenceBody {
    matchers: MatchersBody,
    duration: String,
    #[serde(default)]
    comment: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum MatchersBody {
    Text(String),
    List(Vec<Matcher>),
}

pub async fn create_silence(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<SilenceBody>,
) -> Reply<CommandReply> {
    let matchers = match body.matchers {
        MatchersBody::Text(text) => {
            Matcher::parse_list(&text).map_err(|e| ApiError::bad_input(format!("matchers: {e}")))?
        }
        MatchersBody::List(list) => list,
    };
    let duration_ms = parse_duration_ms(&body.duration)
        .map_err(|e| ApiError::bad_input(format!("duration: {e}")))?;
    let command = Command::SilenceCreate {
        matchers,
        duration_ms,
        comment: body.comment,
    };
    Ok(Json(state.submit(&caller, command).await?))
}

pub async fn expire_silence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Reply<CommandReply> {
    Ok(Json(
        state.submit(&caller, Command::SilenceExpire { id }).await?,
    ))
}
