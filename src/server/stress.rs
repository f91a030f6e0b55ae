//! The original stress-test paths. Starting and stopping pass the gate (`stress.start`,
//! `stress.stop`, audited); the run itself is the client-side generator, driven here against
//! this server's engine in the caller's session, with results under `test-results/<id>/`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

use super::auth::Caller;
use super::error::HttpError;
use super::routes::Body;
use super::state::AppState;
use crate::api::{ApiError, Command, CommandReply, Query, QueryReply};
use crate::client::{Backend, Embedded};
use crate::stress::job::{Plan, admit, execute_admitted, new_id};
use crate::stress::registry;
use crate::stress::run::{Live, Progress};
use crate::stress::threshold::Threshold;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// A built-in profile: smoke, federation, elasticity, soak.
    #[serde(default = "smoke")]
    pub profile: String,
    /// Scale the phases to this many seconds.
    pub duration_s: Option<f64>,
    /// Mock neurons to register first.
    pub neurons: Option<u32>,
    #[serde(default)]
    pub thresholds: Vec<String>,
}

fn smoke() -> String {
    "smoke".into()
}

#[derive(Debug, serde::Serialize)]
pub struct Started {
    pub test_id: String,
    pub status: String,
}

async fn backend_of(state: &AppState, caller: &Caller) -> Result<Arc<dyn Backend>, ApiError> {
    let session = state.session_of(caller).await?;
    match state.engine().query(&session, Query::Session).await? {
        QueryReply::Session(info) => {
            Ok(Arc::new(Embedded::in_session(state.engine().clone(), info)))
        }
        _ => Err(ApiError::failed(
            "the engine answered the session query oddly",
        )),
    }
}

pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Body(body): Body<StartBody>,
) -> Result<Json<Started>, HttpError> {
    // Only built-in profiles: a server does not read files named by a caller.
    let mut profile = crate::stress::BUILTIN_PROFILES
        .iter()
        .find(|(n, _)| *n == body.profile)
        .ok_or_else(|| ApiError::bad_input(format!("profile: unknown '{}'", body.profile)))
        .and_then(|_| {
            crate::stress::load_profile(&body.profile)
                .map_err(|e| ApiError::bad_input(e.to_string()))
        })?;
    if let Some(secs) = body.duration_s {
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
            return Err(ApiError::bad_input("duration_s: seconds, above 0, at most a day").into());
        }
        profile.scale_to(Duration::from_secs_f64(secs));
    }
    if let Some(n) = body.neurons {
        profile.neurons = n.min(100_000);
    }
    let mut thresholds = profile.thresholds.clone();
    for t in &body.thresholds {
        thresholds.push(
            Threshold::parse(t).map_err(|e| ApiError::bad_input(format!("thresholds: {e}")))?,
        );
    }
    let backend = backend_of(&state, &caller).await?;
    let id = new_id();
    let live = Live::new(&id, &profile);
    registry::insert(&id, live.clone());
    let id_ = id.clone();
    let plan = Plan {
        profile,
        thresholds,
        seed: 1,
        out: std::path::PathBuf::from("test-results").join(&id),
        target: "server (in-process)".into(),
        http: None,
    };
    let started = chrono::Utc::now();
    admit(&backend, &id, &plan.profile).await?;
    tokio::spawn(async move {
        if let Err(e) = execute_admitted(backend, plan, &id_, live.clone(), started).await {
            live.progress.lock().expect("progress lock").state = format!("failed: {}", e.message);
        }
    });
    Ok(Json(Started {
        status: format!("/api/federation/stress-test/status/{id}"),
        test_id: id,
    }))
}

pub async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Progress>, HttpError> {
    state.session_of(&caller).await?;
    let live =
        registry::get(&id).ok_or_else(|| ApiError::not_found(format!("no stress test '{id}'")))?;
    Ok(Json(live.snapshot()))
}

pub async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CommandReply>, HttpError> {
    let live =
        registry::get(&id).ok_or_else(|| ApiError::not_found(format!("no stress test '{id}'")))?;
    let reply = state
        .submit(&caller, Command::StressStop { test_id: id })
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
