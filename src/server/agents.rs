//! Where real neuron agents talk to the orchestrator: they register, then send their messages
//! (heartbeats, probe answers) with any new log lines, and receive the commands waiting for them.

use axum::Json;
use axum::extract::{Path, State};

use super::auth::Caller;
use super::error::HttpError;
use super::routes::Body;
use super::state::AppState;
use axum::http::HeaderMap;

use crate::api::channel::AgentReply;
use crate::api::fl_agent::SERVE_LABEL;
use crate::api::identity::{REPORT_AUTH_HEADER, ReportAuth};
use crate::api::wire::{Commands, Registered, Registration, SealedReport};
use crate::engine::fleet::host::NeuronSpec;
use crate::engine::gate::token::INVITE_PREFIX;

pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    Body(registration): Body<Registration>,
) -> Result<Json<Registered>, HttpError> {
    crate::api::bounds::agent_id("id", &registration.id)?;
    crate::api::bounds::id("zone", &registration.zone)?;
    crate::api::bounds::id("config_version", &registration.config_version)?;
    crate::api::bounds::labels("labels", &registration.labels)?;
    // The serving address travels as the `serve` label (what the stress tool's `predict`
    // scenario and the engine's model pushes look for); only the registration field sets it.
    let mut labels: Vec<(String, String)> = registration
        .labels
        .into_iter()
        .filter(|(k, _)| k != SERVE_LABEL)
        .collect();
    if let Some(serve) = registration.serve {
        let addr: std::net::SocketAddr = serve.parse().map_err(|_| {
            crate::api::ApiError::bad_input(format!(
                "serve: '{serve}' is not HOST:PORT (an IP address and a port)"
            ))
        })?;
        labels.push((SERVE_LABEL.to_string(), addr.to_string()));
    }
    let spec = NeuronSpec {
        id: registration.id,
        zone: registration.zone,
        labels,
        config_version: registration.config_version,
    };
    // A one-time invite is spent here and becomes the agent's own token (answered once).
    if caller.token.starts_with(INVITE_PREFIX) {
        let token = state
            .engine()
            .redeem_invite(&caller.token, &caller.source, spec, registration.proof)
            .await?;
        return Ok(Json(Registered {
            heartbeat_ms: state.engine().config().heartbeat_ms,
            token: Some(token),
        }));
    }
    let session = state.session_of(&caller).await?;
    state
        .engine()
        .register_agent(&session, spec, registration.proof)
        .await?;
    Ok(Json(Registered {
        heartbeat_ms: state.engine().config().heartbeat_ms,
        token: None,
    }))
}

/// A report: the exact bytes of its body and the MAC over them (`X-Plexus-Auth`) go to the
/// engine, which verifies before anything in it takes effect.
pub async fn message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Commands>, HttpError> {
    let auth = match headers.get(REPORT_AUTH_HEADER) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| "not text".to_string())
                .and_then(ReportAuth::parse)
                .map_err(|e| {
                    HttpError::from(crate::api::ApiError::bad_input(format!(
                        "{REPORT_AUTH_HEADER}: {e}"
                    )))
                })?,
        ),
    };
    let report = SealedReport {
        body: body.to_vec(),
        auth,
    };
    let reply = relay(&state, &caller, &id, report).await?;
    Ok(Json(Commands {
        commands: reply.commands,
    }))
}

/// One report through the engine in the caller's session: what `POST …/messages` and the push
/// channel (`channel.rs`) both do with a report.
pub async fn relay(
    state: &AppState,
    caller: &Caller,
    id: &str,
    report: SealedReport,
) -> Result<AgentReply, crate::api::ApiError> {
    let engine = state.engine().clone();
    state
        .0
        .sessions
        .run(&engine, caller, |session| {
            let (engine, report) = (engine.clone(), report.clone());
            async move { engine.agent_message(&session, id, report).await }
        })
        .await
}
