//! One stress test from admission to report: the gate admits it (and audits it), the mock
//! neurons register, the profile runs while a sampler watches the system, and the results
//! directory is written.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::predict::PredictPool;
use super::profile::Profile;
use super::profile::Scenario;
use super::report::write_all;
use super::run::{Live, run};
use super::sample::sample;
use super::summary::{Registration, Summary};
use super::target::{BackendTarget, HttpStatus, register_pool};
use super::threshold::Threshold;
use super::ws::{Crowd, follow_phases};
use crate::api::security::AuditFilter;
use crate::api::{ApiError, Command, ask};
use crate::client::{Backend, BackendExt};

pub struct Plan {
    pub profile: Profile,
    /// The profile's thresholds plus the command line's.
    pub thresholds: Vec<Threshold>,
    pub seed: u64,
    /// The results directory of this test.
    pub out: PathBuf,
    /// `embedded` or the server's URL (for the reports).
    pub target: String,
    /// Against a server: its status endpoint, hit directly.
    pub http: Option<HttpStatus>,
    /// WebSocket subscribers to hold open through the run (against a server).
    pub subscribers: usize,
}

pub struct Done {
    pub summary: Summary,
    pub dir: PathBuf,
}

/// `st-` and the start time in ms, in hex: sortable, unique per process start.
/// A test id: the start time (so ids sort by it) and a random part (two tests started in the
/// same millisecond, by two operators or two tests in one process, must not share an id).
pub fn new_id() -> String {
    format!(
        "st-{:x}{:04x}",
        chrono::Utc::now().timestamp_millis(),
        rand::random::<u16>()
    )
}

/// Refuse what the generator cannot do before anything starts (exit 2).
/// (Every scenario is driven now; `fl-round` needs a running FL run, which each request checks.)
pub fn validate(_profile: &Profile) -> Result<(), ApiError> {
    Ok(())
}

/// The gate admits the test (Admin, Operator) and the audit log records it.
pub async fn admit(
    backend: &Arc<dyn Backend>,
    id: &str,
    profile: &Profile,
) -> Result<(), ApiError> {
    validate(profile)?;
    backend
        .submit(Command::StressStart {
            test_id: id.to_string(),
            profile: profile.name.clone(),
        })
        .await
        .map(|_| ())
}

/// Admit, run and report.
pub async fn execute(
    backend: Arc<dyn Backend>,
    plan: Plan,
    id: &str,
    live: Arc<Live>,
) -> Result<Done, ApiError> {
    let started = chrono::Utc::now();
    admit(&backend, id, &plan.profile).await?;
    execute_admitted(backend, plan, id, live, started).await
}

/// Run and report a test the gate has admitted at `started`. However it ends, the engine hears
/// that it finished, so its mock neurons leave the fleet.
pub async fn execute_admitted(
    backend: Arc<dyn Backend>,
    plan: Plan,
    id: &str,
    live: Arc<Live>,
    started: chrono::DateTime<chrono::Utc>,
) -> Result<Done, ApiError> {
    let outcome = run_admitted(backend.clone(), plan, id, live, started).await;
    if outcome.is_err() {
        let _ = backend
            .submit(Command::StressFinished {
                test_id: id.to_string(),
                verdicts: Vec::new(),
            })
            .await;
    }
    outcome
}

async fn run_admitted(
    backend: Arc<dyn Backend>,
    plan: Plan,
    id: &str,
    live: Arc<Live>,
    started: chrono::DateTime<chrono::Utc>,
) -> Result<Done, ApiError> {
    let pool = plan.profile.neurons as u64;
    let predict = if plan
        .profile
        .scenarios
        .iter()
        .any(|(s, w)| *s == Scenario::Predict && *w > 0)
    {
        Some(PredictPool::discover(backend.as_ref()).await?)
    } else {
        None
    };
    let (took, keys) = register_pool(&backend, pool, 64).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample(backend.clone(), stop.clone()));
    // Subscribers per phase: the phase's own count, at least the command line's.
    let crowd_plan: Vec<(String, std::time::Duration, usize)> = plan
        .profile
        .phases
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.duration,
                (p.subscribers as usize).max(plan.subscribers),
            )
        })
        .collect();
    let crowd_stop = Arc::new(AtomicBool::new(false));
    let crowd = match &plan.http {
        Some(http) if crowd_plan.iter().any(|(_, _, n)| *n > 0) => {
            let session = backend.session().map(|s| s.id);
            let first = crowd_plan.first().map_or(0, |(_, _, n)| *n);
            let crowd = Crowd::hold(&http.events, session, first).await;
            Some(tokio::spawn(follow_phases(
                crowd,
                crowd_plan,
                crowd_stop.clone(),
            )))
        }
        _ => None,
    };
    let target = Arc::new(BackendTarget {
        backend: backend.clone(),
        pool,
        keys,
        http: plan.http,
        predict,
    });
    let mut result = run(&plan.profile, &plan.thresholds, target, live, plan.seed).await;
    crowd_stop.store(true, Ordering::SeqCst);
    let subscribers = match crowd {
        Some(task) => task.await.ok(),
        None => None,
    };
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.await.unwrap_or_default();
    // The outcome goes on the record before the audit is read, so the report holds it too.
    if let Err(e) = backend
        .submit(Command::StressFinished {
            test_id: id.to_string(),
            verdicts: result.verdicts.clone(),
        })
        .await
    {
        result
            .warnings
            .push(format!("recording the outcome in the engine failed: {e}"));
    }
    // The engine stamps records with its own clock (start time + monotonic elapsed), which can
    // sit a few milliseconds off the wall clock read here: look back a second so the run's own
    // admission is never cut off.
    let filter = AuditFilter {
        since_unix_ms: Some(started.timestamp_millis() - 1000),
        ..AuditFilter::default()
    };
    // A role that may not read the audit log still gets its report, with an empty audit file.
    let audit = backend.ask(ask::audit(filter)).await.unwrap_or_default();
    let registration = Some(Registration {
        neurons: pool,
        took_ms: took.as_secs_f64() * 1e3,
    });
    let mut summary = Summary::new(
        id,
        &plan.profile,
        &plan.target,
        &started.to_rfc3339(),
        &result,
        registration,
    );
    summary.subscribers = subscribers;
    write_all(&plan.out, &summary, &result.recorder.rows, &samples, &audit)
        .map_err(ApiError::failed)?;
    Ok(Done {
        summary,
        dir: plan.out,
    })
}
