//! Starting, watching and stopping stress tests that run in this process in the background: a
//! server runs them for its callers, an embedded console for its user. Either way the gate admits
//! the start (and audits it) before anything runs, and the job registers in [`registry`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::job::{Plan, admit, execute_admitted, new_id};
use super::registry;
use super::run::Live;
use super::threshold::Threshold;
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::{ApiError, Command, CommandReply};
use crate::client::Backend;

/// The id that names the newest test (the console follows it).
pub const LATEST: &str = "latest";

/// The profile a request names; `files` lets a local caller name a TOML file too (a server
/// does not read files named by a caller).
fn profile_of(req: &StressRequest, files: bool) -> Result<super::profile::Profile, ApiError> {
    let builtin = super::BUILTIN_PROFILES
        .iter()
        .any(|(n, _)| *n == req.profile);
    if !builtin && !files {
        return Err(ApiError::bad_input(format!(
            "profile: unknown '{}' ({})",
            req.profile,
            super::builtin_names()
        )));
    }
    let mut profile =
        super::load_profile(&req.profile).map_err(|e| ApiError::bad_input(e.to_string()))?;
    if let Some(secs) = req.duration_s {
        if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
            return Err(ApiError::bad_input(
                "duration_s: seconds, above 0, at most a day",
            ));
        }
        profile.scale_to(Duration::from_secs_f64(secs));
    }
    if let Some(n) = req.neurons {
        profile.neurons = n.min(100_000);
    }
    Ok(profile)
}

/// Check the request, pass the gate, then run in the background; answers once admitted.
pub async fn start(
    backend: Arc<dyn Backend>,
    req: &StressRequest,
    files: bool,
    target: &str,
) -> Result<StressStarted, ApiError> {
    let profile = profile_of(req, files)?;
    let mut thresholds = profile.thresholds.clone();
    for t in &req.thresholds {
        thresholds.push(
            Threshold::parse(t).map_err(|e| ApiError::bad_input(format!("thresholds: {e}")))?,
        );
    }
    let id = new_id();
    let started = chrono::Utc::now();
    admit(&backend, &id, &profile).await?;
    let live = Live::new(&id, &profile);
    registry::insert(&id, live.clone());
    let plan = Plan {
        profile,
        thresholds,
        seed: 1,
        out: PathBuf::from("test-results").join(&id),
        target: target.to_string(),
        http: None,
        subscribers: 0,
    };
    let id_ = id.clone();
    tokio::spawn(async move {
        if let Err(e) = execute_admitted(backend, plan, &id_, live.clone(), started).await {
            live.progress.lock().expect("progress lock").state = format!("failed: {}", e.message);
        }
    });
    Ok(StressStarted {
        status: format!("/api/federation/stress-test/status/{id}"),
        test_id: id,
    })
}

/// The test `id` names (`latest`: the newest).
pub fn find(id: &str) -> Result<Arc<Live>, ApiError> {
    let found = if id == LATEST {
        registry::latest()
    } else {
        registry::get(id)
    };
    found.ok_or_else(|| match id {
        LATEST => ApiError::not_found("no stress test has run here yet"),
        _ => ApiError::not_found(format!("no stress test '{id}'")),
    })
}

pub fn status(id: &str) -> Result<Progress, ApiError> {
    find(id).map(|live| live.snapshot())
}

/// The gate decides (and audits) first; only then does the run stop.
pub async fn stop(backend: &dyn Backend, id: &str) -> Result<CommandReply, ApiError> {
    let live = find(id)?;
    let test_id = live.snapshot().id;
    let reply = backend.submit(Command::StressStop { test_id }).await?;
    live.stop();
    Ok(reply)
}
