//! Runs a profile against a target: requests start at their scheduled moment (open model), at
//! most `max_in_flight` at once; a request that finds no free slot waits up to `max_wait` and is
//! then dropped. Latency is measured from the intended start (what a user would have waited)
//! and from the actual send. Time is tokio's, so tests run on a paused (virtual) clock.

use rand::{Rng, SeedableRng};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use super::profile::{Profile, Scenario};
use super::recorder::{Recorder, RequestOutcome, Stats};
use super::schedule::{Schedule, rate_at};
use super::target::Target;
use super::threshold::{Measured, Scope, Threshold, Verdict, evaluate};
use crate::api::{ApiError, ErrorCode};

/// A request that has not answered after this long counts as an error (`timeout`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::api::stress::Progress;

/// Shared between a run and whoever watches or stops it.
pub struct Live {
    stop: AtomicBool,
    wake: Notify,
    in_flight: AtomicU64,
    waiting: AtomicU64,
    pub progress: Mutex<Progress>,
}

impl Live {
    pub fn new(id: &str, profile: &Profile) -> Arc<Live> {
        Arc::new(Live {
            stop: AtomicBool::new(false),
            wake: Notify::new(),
            in_flight: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            progress: Mutex::new(Progress {
                id: id.to_string(),
                profile: profile.name.clone(),
                state: "running".into(),
                duration_s: profile.duration().as_secs_f64(),
                ..Progress::default()
            }),
        })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn snapshot(&self) -> Progress {
        self.progress.lock().expect("progress lock").clone()
    }
}

/// What a run produced.
pub struct RunResult {
    pub recorder: Recorder,
    pub elapsed: Duration,
    pub scheduled: u64,
    pub verdicts: Vec<Verdict>,
    /// Why it ended early, if it did.
    pub ended: String,
    pub warnings: Vec<String>,
}

/// The stats a threshold's scope points at; `None` when nothing ran there.
pub fn scope_stats<'a>(rec: &'a Recorder, profile: &Profile, scope: &Scope) -> Option<&'a Stats> {
    let s = match scope {
        Scope::Global => Some(&rec.total),
        Scope::Phase(name) => profile
            .phases
            .iter()
            .position(|p| &p.name == name)
            .and_then(|i| rec.phases.get(i)),
        Scope::Scenario(sc) => rec.scenarios.get(sc),
    }?;
    (s.answered() + s.dropped > 0).then_some(s)
}

fn check(rec: &Recorder, profile: &Profile, thresholds: &[Threshold]) -> Vec<Verdict> {
    evaluate(thresholds, |scope| {
        scope_stats(rec, profile, scope).map(|s| s as &dyn Measured)
    })
}

/// Picks scenarios by weight, reproducibly for a seed.
struct Picker {
    cumulative: Vec<(u64, Scenario)>,
    total: u64,
    rng: rand_pcg::Pcg64,
}

impl Picker {
    fn new(scenarios: &[(Scenario, u32)], seed: u64) -> Self {
        let mut total = 0;
        let cumulative = scenarios
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|(s, w)| {
                total += *w as u64;
                (total, *s)
            })
            .collect();
        Picker {
            cumulative,
            total,
            rng: rand_pcg::Pcg64::seed_from_u64(seed),
        }
    }

    fn pick(&mut self) -> Scenario {
        let x = self.rng.random_range(0..self.total.max(1));
        self.cumulative
            .iter()
            .find(|(c, _)| x < *c)
            .map_or(Scenario::Status, |(_, s)| *s)
    }
}

fn classify(
    result: &Result<Result<(), ApiError>, tokio::time::error::Elapsed>,
) -> (RequestOutcome, Option<String>) {
    match result {
        Ok(Ok(())) => (RequestOutcome::Ok, None),
        Ok(Err(e)) => {
            let code = serde_json::to_value(e.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string));
            let outcome = match e.code {
                ErrorCode::Denied | ErrorCode::Unauthenticated => RequestOutcome::Refused,
                _ => RequestOutcome::Error,
            };
            (outcome, code)
        }
        Err(_) => (RequestOutcome::Error, Some("timeout".into())),
    }
}

/// What every request of a run shares: where it goes, where it is recorded, its numbering.
struct Shots {
    target: Arc<dyn Target>,
    rec: Arc<Mutex<Recorder>>,
    live: Arc<Live>,
    /// The next request's number (heartbeat sequence numbers grow with it, open or closed).
    next_seq: AtomicU64,
    scheduled: AtomicU64,
}

impl Shots {
    /// Send one request, wait for its answer (bounded), record it.
    async fn shoot(&self, phase: usize, scenario: Scenario, intended: Instant) {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        self.live.in_flight.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let result = tokio::time::timeout(REQUEST_TIMEOUT, self.target.call(scenario, seq)).await;
        let end = Instant::now();
        let (outcome, code) = classify(&result);
        self.rec.lock().expect("recorder lock").record(
            phase,
            scenario,
            outcome,
            code.as_deref(),
            end - intended,
            end - sent,
        );
        self.live.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    fn drop_one(&self, phase: usize, scenario: Scenario) {
        self.rec
            .lock()
            .expect("recorder lock")
            .drop_one(phase, scenario);
    }
}

/// The closed phases, each in its own window of the run: `concurrency` workers sending back to
/// back until the phase ends. (The open schedule has no arrivals there: their rate is 0.)
async fn closed_phases(profile: Profile, start: Instant, shots: Arc<Shots>, seed: u64) {
    let mut phase_start = Duration::ZERO;
    for (phase, p) in profile.phases.iter().enumerate() {
        let (from, until) = (start + phase_start, start + phase_start + p.duration);
        phase_start += p.duration;
        if p.concurrency == 0 {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(from) => {}
            _ = shots.live.wake.notified() => return,
        }
        let workers: Vec<_> = (0..p.concurrency as u64)
            .map(|w| {
                let shots = shots.clone();
                // Each worker its own reproducible draw of scenarios.
                let mut picker = Picker::new(&profile.scenarios, seed ^ (phase as u64) << 32 ^ w);
                tokio::spawn(async move {
                    while Instant::now() < until && !shots.live.stopped() {
                        shots.scheduled.fetch_add(1, Ordering::Relaxed);
                        shots.shoot(phase, picker.pick(), Instant::now()).await;
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.await;
        }
    }
}

/// Run `profile` against `target` until its phases end or `live` is stopped.
pub async fn run(
    profile: &Profile,
    thresholds: &[Threshold],
    target: Arc<dyn Target>,
    live: Arc<Live>,
    seed: u64,
) -> RunResult {
    let start = Instant::now();
    let rec = Arc::new(Mutex::new(Recorder::new(profile.phases.len())));
    let shots = Arc::new(Shots {
        target,
        rec: rec.clone(),
        live: live.clone(),
        next_seq: AtomicU64::new(0),
        scheduled: AtomicU64::new(0),
    });
    let slots = Arc::new(Semaphore::new(profile.max_in_flight));
    // Waiting for a slot is bounded by what can arrive within `max_wait` at the peak rate.
    let peak = profile
        .phases
        .iter()
        .map(|p| p.arrival_rate.max(p.ramp_to))
        .fold(0.0, f64::max);
    let max_waiting = ((profile.max_in_flight as f64) * 16.0)
        .max(peak * profile.max_wait.as_secs_f64() + 1.0) as u64;
    let done = Arc::new(AtomicBool::new(false));
    let aborted = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn(tick_seconds(
        profile.clone(),
        thresholds.to_vec(),
        start,
        rec.clone(),
        live.clone(),
        done.clone(),
        aborted.clone(),
    ));
    let closed = tokio::spawn(closed_phases(profile.clone(), start, shots.clone(), seed));
    let mut picker = Picker::new(&profile.scenarios, seed);
    for slot in Schedule::new(&profile.phases) {
        let intended = start + slot.at;
        if live.stopped() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(intended) => {}
            _ = live.wake.notified() => break,
        }
        if live.stopped() {
            break;
        }
        shots.scheduled.fetch_add(1, Ordering::Relaxed);
        let scenario = picker.pick();
        if live.waiting.load(Ordering::Relaxed) >= max_waiting {
            shots.drop_one(slot.phase, scenario);
            continue;
        }
        let (slots, shots) = (slots.clone(), shots.clone());
        let max_wait = profile.max_wait;
        tokio::spawn(async move {
            let permit = match slots.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => {
                    shots.live.waiting.fetch_add(1, Ordering::Relaxed);
                    let got =
                        tokio::time::timeout_at(intended + max_wait, slots.acquire_owned()).await;
                    shots.live.waiting.fetch_sub(1, Ordering::Relaxed);
                    match got {
                        Ok(Ok(p)) => p,
                        _ => {
                            shots.drop_one(slot.phase, scenario);
                            return;
                        }
                    }
                }
            };
            shots.shoot(slot.phase, scenario, intended).await;
            drop(permit);
        });
    }
    // Let what is in flight (or waiting for a slot) finish, bounded.
    let all = profile.max_in_flight as u32;
    let _ = tokio::time::timeout(profile.max_wait + REQUEST_TIMEOUT, slots.acquire_many(all)).await;
    let _ = tokio::time::timeout(profile.max_wait, async {
        while live.waiting.load(Ordering::Relaxed) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let _ = closed.await;
    done.store(true, Ordering::SeqCst);
    let _ = ticker.await;
    let elapsed = start.elapsed();
    finish(
        profile,
        thresholds,
        rec,
        live,
        elapsed,
        shots.scheduled.load(Ordering::Relaxed),
        aborted.load(Ordering::SeqCst),
    )
}

fn finish(
    profile: &Profile,
    thresholds: &[Threshold],
    rec: Arc<Mutex<Recorder>>,
    live: Arc<Live>,
    elapsed: Duration,
    scheduled: u64,
    aborted: bool,
) -> RunResult {
    let mut recorder = std::mem::take(&mut *rec.lock().expect("recorder lock"));
    set_seconds(&mut recorder, profile, elapsed);
    let verdicts = check(&recorder, profile, thresholds);
    let ended = if aborted {
        "aborted: a threshold was breached".to_string()
    } else if live.stopped() {
        "stopped".to_string()
    } else {
        String::new()
    };
    let mut warnings = Vec::new();
    for (i, p) in profile.phases.iter().enumerate() {
        let s = &recorder.phases[i];
        let target = (p.arrival_rate + p.ramp_to) / 2.0;
        if s.seconds > 0.0 && target > 0.0 && s.rps() < 0.9 * target {
            warnings.push(format!(
                "phase {}: achieved {:.1} req/s of the {:.1} targeted ({} dropped) — the \
                 generator or the target could not keep up",
                p.name,
                s.rps(),
                target,
                s.dropped
            ));
        }
    }
    {
        let mut p = live.progress.lock().expect("progress lock");
        p.state = match (aborted, live.stopped()) {
            (true, _) => "aborted",
            (_, true) => "stopped",
            _ => "finished",
        }
        .into();
        p.elapsed_s = elapsed.as_secs_f64();
        p.in_flight = 0;
        p.phase_left_s = 0.0;
        p.verdicts = verdicts.clone();
    }
    RunResult {
        recorder,
        elapsed,
        scheduled,
        verdicts,
        ended,
        warnings,
    }
}

/// Give each scope its duration, so rates mean per second of that scope.
fn set_seconds(rec: &mut Recorder, profile: &Profile, elapsed: Duration) {
    let total = elapsed.as_secs_f64();
    rec.total.seconds = total;
    let mut start = 0.0;
    for (i, p) in profile.phases.iter().enumerate() {
        let d = p.duration.as_secs_f64();
        rec.phases[i].seconds = (total - start).clamp(0.0, d);
        start += d;
    }
    for s in rec.scenarios.values_mut() {
        s.seconds = total;
    }
}

/// Once a second: close the second into a row, refresh the live progress, and stop the run when
/// a threshold is breached and the profile says to abort.
async fn tick_seconds(
    profile: Profile,
    thresholds: Vec<Threshold>,
    start: Instant,
    rec: Arc<Mutex<Recorder>>,
    live: Arc<Live>,
    done: Arc<AtomicBool>,
    aborted: Arc<AtomicBool>,
) {
    let mut second = 0u64;
    loop {
        let end = start + Duration::from_secs(second + 1);
        while Instant::now() < end && !done.load(Ordering::SeqCst) {
            let step = (end - Instant::now()).min(Duration::from_millis(50));
            tokio::time::sleep(step).await;
        }
        let finished = done.load(Ordering::SeqCst);
        // The target at mid-second: a ramp's rate over that second on average.
        let at = Duration::from_millis(second * 1000 + 500);
        let (phase, target) = rate_at(&profile.phases, at);
        let name = profile.phases.get(phase).map_or("", |p| p.name.as_str());
        let in_flight = live.in_flight.load(Ordering::Relaxed);
        let mut r = rec.lock().expect("recorder lock");
        r.close_second(second, name, target, in_flight);
        update(&live, &r, name, target, start.elapsed(), in_flight);
        // Thresholds as of this second, for the live view and abort-on-breach.
        let verdicts = if thresholds.is_empty() {
            Vec::new()
        } else {
            let mut probe = r.totals();
            set_seconds(&mut probe, &profile, start.elapsed());
            check(&probe, &profile, &thresholds)
        };
        drop(r);
        let breached = verdicts.iter().any(|v| !v.passed);
        {
            let phase_end: Duration = profile
                .phases
                .iter()
                .take(phase + 1)
                .map(|p| p.duration)
                .sum();
            let mut p = live.progress.lock().expect("progress lock");
            p.phase_left_s = phase_end.saturating_sub(start.elapsed()).as_secs_f64();
            p.verdicts = verdicts;
        }
        if profile.abort_on_breach && breached && !aborted.load(Ordering::SeqCst) {
            aborted.store(true, Ordering::SeqCst);
            live.stop();
        }
        if finished {
            return;
        }
        second += 1;
    }
}

fn update(live: &Live, r: &Recorder, phase: &str, target: f64, elapsed: Duration, in_flight: u64) {
    let mut p = live.progress.lock().expect("progress lock");
    p.phase = phase.to_string();
    p.elapsed_s = elapsed.as_secs_f64();
    p.target_rps = target;
    p.achieved_rps = r.rows.last().map_or(0.0, |row| row.achieved_rps);
    p.in_flight = in_flight;
    p.ok = r.total.ok;
    p.refused = r.total.refused;
    p.errors = r.total.errors;
    p.dropped = r.total.dropped;
    p.latency_ms = r.total.latency();
    p.send_latency_ms = r.total.send_latency();
    let from = r.rows.len().saturating_sub(120);
    p.rps_series = r.rows[from..].iter().map(|row| row.achieved_rps).collect();
    p.codes = r.total.codes.iter().map(|(k, v)| (k.clone(), *v)).collect();
}
