//! Runs a scenario against any backend: hypothesis before (abort when it does not hold), the
//! method with the monitor fed by the engine's events, probes during and after, and rollbacks
//! that always run (also on abort and on cancel, e.g. Ctrl-C).

use serde::Serialize;
use std::future::Future;
use std::time::Duration;

use super::monitor::{FaultRecord, Monitor};
use super::progress::{Phase, Progress};
use super::scenario::{ProbeKind, Scenario};
use crate::api::fl_run::FlRunState;
use crate::api::{ApiError, Command, CommandReply, ErrorCode, Millis, NeuronState, ask};
use crate::client::{Backend, BackendExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Deviated,
    Aborted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    pub probe: String,
    pub value: f64,
    pub holds: bool,
}

/// Everything that happened in one run (written as journal.json).
#[derive(Debug, Clone, Serialize)]
pub struct Journal {
    pub title: String,
    pub source: String,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub before: Vec<ProbeResult>,
    pub after: Vec<ProbeResult>,
    /// Probes marked `during` that failed while faults were in force (first failure each).
    pub during_failures: Vec<(Millis, ProbeResult)>,
    pub faults: Vec<FaultRecord>,
    pub rollbacks: Vec<String>,
    pub duration_ms: Millis,
}

/// Run `scenario`; `cancel` resolving (Ctrl-C) aborts the run, after its rollbacks. `progress`
/// sees the run after every poll and once more with the verdict.
pub async fn run(
    backend: &dyn Backend,
    scenario: &Scenario,
    source: &str,
    cancel: impl Future<Output = ()>,
    mut progress: impl FnMut(&Progress),
) -> Result<Journal, ApiError> {
    let mut seen = Progress::new(scenario);
    let journal = run_inner(backend, scenario, source, cancel, &mut seen, &mut progress).await?;
    seen.faults = journal.faults.clone();
    seen.probed(Phase::After, &journal.after);
    seen.verdict = Some(journal.verdict);
    seen.reasons = journal.reasons.clone();
    seen.rollbacks = journal.rollbacks.clone();
    seen.now_ms = journal.duration_ms;
    progress(&seen);
    Ok(journal)
}

async fn run_inner(
    backend: &dyn Backend,
    scenario: &Scenario,
    source: &str,
    cancel: impl Future<Output = ()>,
    seen: &mut Progress,
    progress: &mut impl FnMut(&Progress),
) -> Result<Journal, ApiError> {
    let mut journal = Journal {
        title: scenario.title.clone(),
        source: source.into(),
        verdict: Verdict::Ok,
        reasons: Vec::new(),
        before: Vec::new(),
        after: Vec::new(),
        during_failures: Vec::new(),
        faults: Vec::new(),
        rollbacks: Vec::new(),
        duration_ms: 0,
    };
    let fl_run = match start_fl(backend, scenario).await {
        Ok(id) => id,
        Err(e) => {
            journal.verdict = Verdict::Aborted;
            journal.reasons.push(format!(
                "the experiment's FL run did not start: {}",
                e.message
            ));
            return Ok(journal);
        }
    };
    let fl = fl_run.as_deref();
    journal.before = probe_all(backend, scenario, false, fl).await?;
    seen.probed(Phase::Before, &journal.before);
    if journal.before.iter().any(|p| !p.holds) {
        journal.verdict = Verdict::Aborted;
        journal
            .reasons
            .push("the steady-state hypothesis did not hold before the method".into());
        stop_fl(backend, fl, &mut journal).await;
        return Ok(journal);
    }
    let settings = &scenario.settings;
    let mut monitor = Monitor::new(settings.stability);
    let mut ids = Vec::new();
    let mut next_step = 0;
    let mut seq = last_seq(backend).await?;
    let mut epoch: Option<i64> = None;
    let deadline = scenario.method_end() + settings.recovery_timeout;
    let mut now: Millis = 0;
    tokio::pin!(cancel);
    let outcome: Result<(), ApiError> = async {
        loop {
            while next_step < scenario.method.len() && scenario.method[next_step].at <= now {
                let step = &scenario.method[next_step];
                let reply = backend
                    .submit(Command::ChaosInject { spec: step.spec() })
                    .await?;
                let CommandReply::ChaosInjected { fault } = reply else {
                    return Err(ApiError::failed("unexpected reply to chaos inject"));
                };
                // Engine wall time of experiment time 0, to place events on our axis.
                let wall = unix_ms(&fault.injected_at)?;
                let e = *epoch.get_or_insert(wall - now as i64);
                monitor.injected((wall - e).max(0) as Millis, &fault, step.expect_detection);
                ids.push(fault.id.clone());
                seen.steps[next_step].fault = Some(fault.id.clone());
                next_step += 1;
            }
            let events = backend.ask(ask::events_since(seq)).await?;
            for env in events {
                seq = env.seq;
                if let Some(e) = epoch {
                    let at = (unix_ms(&env.at)? - e).max(0) as Millis;
                    monitor.on_event(at, &env.event);
                }
            }
            let neurons = neurons(backend).await?;
            let faults_active = next_step > 0 && now < scenario.method_end();
            let results = probe_all(backend, scenario, faults_active, fl).await?;
            if faults_active {
                seen.probed(Phase::During, &results);
            }
            for r in results.iter().filter(|r| !r.holds) {
                if faults_active
                    && !journal
                        .during_failures
                        .iter()
                        .any(|(_, d)| d.probe == r.probe)
                {
                    journal.during_failures.push((now, r.clone()));
                }
            }
            let hypothesis = probe_all(backend, scenario, false, fl)
                .await?
                .iter()
                .all(|r| r.holds);
            monitor.on_poll(now, hypothesis, |id| {
                neurons
                    .iter()
                    .any(|(n, s)| n == id && *s == NeuronState::Healthy)
            });
            seen.now_ms = now;
            seen.faults = monitor.faults.clone();
            progress(seen);
            let done = next_step == scenario.method.len()
                && now >= scenario.method_end()
                && monitor.all_settled();
            if done || now >= deadline {
                return Ok(());
            }
            tokio::select! {
                _ = backend.sleep(Duration::from_millis(settings.poll)) => {}
                _ = &mut cancel => return Err(ApiError::failed("cancelled")),
            }
            now += settings.poll;
        }
    }
    .await;
    // Rollbacks always run: revert whatever this run still holds.
    if let Ok(held) = backend.ask(ask::chaos()).await {
        for f in held.iter().filter(|f| f.active() && ids.contains(&f.id)) {
            let r = backend
                .submit(Command::ChaosStop { id: f.id.clone() })
                .await;
            journal.rollbacks.push(match r {
                Ok(_) => format!("stopped {} ({})", f.id, f.kind),
                Err(e) => format!("could not stop {}: {}", f.id, e.message),
            });
        }
    }
    journal.duration_ms = now;
    journal.faults = monitor.faults;
    // The FL accuracy after the method is read before the run is stopped.
    let after = probe_all(backend, scenario, false, fl).await;
    stop_fl(backend, fl, &mut journal).await;
    if let Err(e) = outcome {
        journal.verdict = Verdict::Aborted;
        journal.reasons.push(format!("aborted: {}", e.message));
        return Ok(journal);
    }
    journal.after = after?;
    judge(&mut journal);
    Ok(journal)
}

fn judge(j: &mut Journal) {
    let mut reasons = Vec::new();
    for f in &j.faults {
        if f.expect_detection && f.detected_ms.is_none() {
            reasons.push(format!("{} {} was never detected", f.id, f.kind));
        }
        if f.recovered_ms.is_none() {
            reasons.push(format!(
                "{} {}: no recovery within the timeout",
                f.id, f.kind
            ));
        }
    }
    for (at, p) in &j.during_failures {
        reasons.push(format!(
            "during the method at {at} ms: {} was {}",
            p.probe, p.value
        ));
    }
    for p in j.after.iter().filter(|p| !p.holds) {
        reasons.push(format!("after the method: {} was {}", p.probe, p.value));
    }
    if !reasons.is_empty() {
        j.verdict = Verdict::Deviated;
    }
    j.reasons = reasons;
}

async fn last_seq(backend: &dyn Backend) -> Result<u64, ApiError> {
    backend
        .ask(ask::recent_events(1))
        .await
        .map(|e| e.last().map_or(0, |e| e.seq))
}

async fn neurons(backend: &dyn Backend) -> Result<Vec<(String, NeuronState)>, ApiError> {
    backend
        .ask(ask::neurons())
        .await
        .map(|n| n.iter().map(|v| (v.id.to_string(), v.state)).collect())
}

/// The hypothesis' probes: all of them (`during` false), or only those checked during.
async fn probe_all(
    backend: &dyn Backend,
    scenario: &Scenario,
    during: bool,
    fl_run: Option<&str>,
) -> Result<Vec<ProbeResult>, ApiError> {
    let mut out = Vec::new();
    for probe in scenario.hypothesis.iter().filter(|p| p.during == during) {
        let value = measure(backend, probe.probe, fl_run).await?;
        let holds = match probe.probe {
            ProbeKind::NoLostWrites => value >= 1.0,
            _ => probe.holds(value),
        };
        out.push(ProbeResult {
            probe: probe.name(),
            value,
            holds,
        });
    }
    Ok(out)
}

async fn measure(
    backend: &dyn Backend,
    kind: ProbeKind,
    fl_run: Option<&str>,
) -> Result<f64, ApiError> {
    match kind {
        ProbeKind::HealthyShare => {
            let s = backend.ask(ask::status()).await?;
            Ok(s.neurons.healthy as f64 / s.neurons.total.max(1) as f64)
        }
        ProbeKind::LatencyP95Ms => {
            let n = backend.ask(ask::neurons()).await?;
            let mut l: Vec<f64> = n.iter().filter_map(|v| v.latency_ms).collect();
            l.sort_by(f64::total_cmp);
            Ok(l.get((l.len() * 95).div_ceil(100).saturating_sub(1))
                .copied()
                .unwrap_or(0.0))
        }
        ProbeKind::NoLostWrites => {
            let v = backend.ask(ask::verify_audit()).await?;
            Ok(if v.intact { 1.0 } else { 0.0 })
        }
        ProbeKind::FlAccuracy => {
            let runs = backend.ask(ask::fl_runs()).await?;
            let run = match fl_run {
                Some(id) => runs.iter().find(|r| r.id == id),
                None => runs.last(),
            };
            Ok(run.and_then(|r| r.accuracy).unwrap_or(0.0))
        }
    }
}

/// Start the scenario's FL run and wait until it trained its warm-up rounds. Training runs on
/// its own thread at its own pace: on virtual time the engine can run far ahead of it, so the
/// wait is bounded by the recovery timeout in real time without a new round.
async fn start_fl(backend: &dyn Backend, scenario: &Scenario) -> Result<Option<String>, ApiError> {
    let Some(setup) = &scenario.fl else {
        return Ok(None);
    };
    let reply = backend
        .submit(Command::FlStart {
            config: setup.run.clone(),
        })
        .await?;
    let CommandReply::FlStarted { run } = reply else {
        return Err(ApiError::failed("unexpected reply to fl start"));
    };
    let patience = Duration::from_millis(scenario.settings.recovery_timeout);
    let mut progress = (std::time::Instant::now(), 0u32);
    loop {
        let runs = backend.ask(ask::fl_runs()).await?;
        let Some(now) = runs.iter().find(|r| r.id == run.id) else {
            return Err(ApiError::failed(format!("fl run {} vanished", run.id)));
        };
        if now.round >= setup.warmup_rounds {
            return Ok(Some(run.id.clone()));
        }
        if now.round > progress.1 {
            progress = (std::time::Instant::now(), now.round);
        }
        if now.state != FlRunState::Running || progress.0.elapsed() > patience {
            return Err(ApiError::failed(format!(
                "fl run {} is {:?} at round {} of its {} warm-up rounds",
                run.id, now.state, now.round, setup.warmup_rounds
            )));
        }
        // Engine time for the next round to fall due, real time for it to be trained.
        backend
            .sleep(Duration::from_millis(scenario.settings.poll))
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A rollback: the experiment's FL run stops with the experiment.
async fn stop_fl(backend: &dyn Backend, fl_run: Option<&str>, journal: &mut Journal) {
    let Some(id) = fl_run else { return };
    let r = backend.submit(Command::FlStop { id: id.into() }).await;
    journal.rollbacks.push(match r {
        Ok(_) => format!("stopped fl run {id}"),
        // A run that already finished needs no stop.
        Err(e) if e.code == ErrorCode::Conflict => format!("fl run {id} had finished"),
        Err(e) => format!("could not stop fl run {id}: {}", e.message),
    });
}

fn unix_ms(rfc3339: &str) -> Result<i64, ApiError> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp_millis())
        .map_err(|e| ApiError::failed(format!("bad engine time '{rfc3339}': {e}")))
}
