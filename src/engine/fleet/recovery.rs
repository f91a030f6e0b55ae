//! Auto-recovery: per failure episode a chain of strategies with back-off, at most
//! `max_attempts` attempts, then one escalation. A neuron that fails again soon after a recovery
//! (within the flap window) continues its episode, so flapping cannot reset the count.

use std::collections::{BTreeMap, VecDeque};

use super::tracked::TrackedNeuron;
use crate::api::status::{DetectionCounts, RecentRecovery};
use crate::api::wire::NeuronCommand;
use crate::api::{ApiError, Event, FailureMode, Millis, NeuronState, RecoveryCounts};
use crate::engine::clock::rfc3339;
use crate::engine::config::{RecoveryConfig, Strategy};
use crate::engine::effects::Effects;
use crate::engine::store::StoreOp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    InProgress,
    Succeeded,
    Failed,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::InProgress => "in_progress",
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub id: u64,
    pub number: u32,
    pub strategy: Strategy,
    pub manual: bool,
    pub started: Millis,
    pub mode: FailureMode,
    pub outcome: AttemptOutcome,
}

#[derive(Debug, Clone)]
struct ActiveAttempt {
    record: usize,
    deadline: Millis,
    healthy_seen: u32,
}

/// One failure of one neuron, from detection until it has stayed healthy for the flap window.
#[derive(Debug, Clone)]
pub struct Episode {
    pub id: u64,
    pub mode: FailureMode,
    pub since: Millis,
    pub evidence: String,
    /// Attempts made in this episode, automatic and manual: they are numbered by it.
    pub attempts: u32,
    /// Attempts made before the operator last took over (a manual attempt gives the automatic
    /// chain a fresh budget without renumbering).
    budget_from: u32,
    pub escalated: bool,
    /// Currently failing (as opposed to recovered and inside the flap window).
    pub failing: bool,
    pub recovered_at: Option<Millis>,
    next_attempt_at: Millis,
    active: Option<ActiveAttempt>,
    pub log: Vec<AttemptRecord>,
}

impl Episode {
    pub fn attempt_in_progress(&self) -> bool {
        self.active.is_some()
    }

    /// Attempts counted against the automatic budget and its back-off.
    fn budget_used(&self) -> u32 {
        self.attempts - self.budget_from
    }
}

/// Wait before attempt `attempt` (1-based): the first goes at once, then base · 2^(k-2), capped.
fn backoff(cfg: &RecoveryConfig, attempt: u32) -> Millis {
    if attempt <= 1 {
        return 0;
    }
    let factor = 1u64 << (attempt - 2).min(20);
    cfg.backoff_base_ms
        .saturating_mul(factor)
        .min(cfg.backoff_max_ms)
}

/// Recent finished recoveries kept for the status report.
const RECENT_KEPT: usize = 20;

pub struct RecoveryBook {
    cfg: RecoveryConfig,
    episodes: BTreeMap<u32, Episode>,
    next_failure_id: u64,
    next_attempt_id: u64,
    pub counts: RecoveryCounts,
    finished: u64,
    pub detections: DetectionCounts,
    pub recent: VecDeque<RecentRecovery>,
}

impl RecoveryBook {
    pub fn new(cfg: RecoveryConfig, first_failure_id: u64, first_attempt_id: u64) -> Self {
        RecoveryBook {
            cfg,
            episodes: BTreeMap::new(),
            next_failure_id: first_failure_id,
            next_attempt_id: first_attempt_id,
            counts: RecoveryCounts::default(),
            finished: 0,
            detections: DetectionCounts::default(),
            recent: VecDeque::new(),
        }
    }

    pub fn episode(&self, neuron: u32) -> Option<&Episode> {
        self.episodes.get(&neuron)
    }

    /// The unique id of the attempt in progress on a neuron.
    pub fn active_attempt_id(&self, neuron: u32) -> Option<u64> {
        let e = self.episodes.get(&neuron)?;
        e.active.as_ref().map(|a| e.log[a.record].id)
    }

    /// Episodes currently failing, by neuron index.
    pub fn failing(&self) -> impl Iterator<Item = (u32, &Episode)> {
        self.episodes
            .iter()
            .filter(|(_, e)| e.failing)
            .map(|(i, e)| (*i, e))
    }

    fn backoff(&self, attempt: u32) -> Millis {
        backoff(&self.cfg, attempt)
    }

    fn chain(&self, mode: FailureMode) -> &[Strategy] {
        match mode {
            FailureMode::Offline => &self.cfg.offline_chain,
            FailureMode::ConfigFailure => &self.cfg.config_chain,
            FailureMode::Timeout | FailureMode::AnalyticsFailure | FailureMode::Byzantine => {
                &self.cfg.degraded_chain
            }
            FailureMode::Identity => &self.cfg.identity_chain,
        }
    }

    fn count_detection(&mut self, mode: FailureMode) {
        let d = &mut self.detections;
        match mode {
            FailureMode::Offline => d.offline += 1,
            FailureMode::Timeout => d.timeout += 1,
            FailureMode::ConfigFailure => d.config_failure += 1,
            FailureMode::AnalyticsFailure => d.analytics_failure += 1,
            FailureMode::Byzantine => d.byzantine += 1,
            FailureMode::Identity => d.identity += 1,
        }
    }

    /// The neuron's state became a failure (or its failure mode changed).
    pub fn on_failure(
        &mut self,
        idx: u32,
        n: &mut TrackedNeuron,
        mode: FailureMode,
        evidence: String,
        now: Millis,
        fx: &mut Effects,
    ) {
        let newly_detected = match self.episodes.get(&idx) {
            Some(e) if e.failing => e.mode != mode,
            _ => true,
        };
        if newly_detected {
            self.count_detection(mode);
            fx.event(Event::FailureDetected {
                neuron: n.id.to_string(),
                mode,
                evidence: evidence.clone(),
            });
        }
        let cfg = &self.cfg;
        let backoff_next = |used: u32| now + backoff(cfg, used + 1);
        match self.episodes.get_mut(&idx) {
            Some(e) if e.failing => {
                if e.mode != mode {
                    e.mode = mode;
                    e.evidence = evidence;
                }
            }
            Some(e) => {
                // Failed again inside the flap window: same episode, attempts carry on (and an
                // escalation with them).
                let next = backoff_next(e.budget_used());
                n.escalated = e.escalated;
                e.failing = true;
                e.mode = mode;
                e.evidence = evidence;
                e.recovered_at = None;
                e.next_attempt_at = next;
                fx.store(StoreOp::FailureUpdated {
                    failure_id: e.id,
                    attempts: e.attempts,
                    escalated: e.escalated,
                    resolved_at: None,
                });
            }
            None => {
                let id = self.next_failure_id;
                self.next_failure_id += 1;
                fx.store(StoreOp::FailureOpened {
                    failure_id: id,
                    neuron: n.id.to_string(),
                    mode,
                    since: fx.wall(now),
                    evidence: evidence.clone(),
                });
                self.episodes.insert(
                    idx,
                    Episode {
                        id,
                        mode,
                        since: now,
                        evidence,
                        attempts: 0,
                        budget_from: 0,
                        escalated: false,
                        failing: true,
                        recovered_at: None,
                        next_attempt_at: now + self.backoff(1),
                        active: None,
                        log: Vec::new(),
                    },
                );
            }
        }
    }

    /// The neuron is healthy again without an attempt in progress (it came back by itself):
    /// nothing is left for an operator to act on, so an escalation no longer holds either.
    pub fn on_healthy(&mut self, idx: u32, n: &mut TrackedNeuron, now: Millis) {
        if let Some(e) = self.episodes.get_mut(&idx)
            && e.failing
            && e.active.is_none()
        {
            e.failing = false;
            e.recovered_at = Some(now);
            n.escalated = false;
        }
    }

    /// A heartbeat arrived while an attempt may be in progress; `healthy` judges the neuron as
    /// if no attempt were running. Returns true when this heartbeat finished the attempt.
    pub fn on_heartbeat(
        &mut self,
        idx: u32,
        n: &mut TrackedNeuron,
        healthy: bool,
        now: Millis,
        fx: &mut Effects,
    ) -> bool {
        let needed = self.cfg.healthy_heartbeats;
        let Some(e) = self.episodes.get_mut(&idx) else {
            return false;
        };
        let Some(active) = e.active.as_mut() else {
            return false;
        };
        active.healthy_seen = if healthy { active.healthy_seen + 1 } else { 0 };
        if active.healthy_seen < needed {
            return false;
        }
        self.finish_attempt(idx, n, AttemptOutcome::Succeeded, now, fx);
        true
    }

    fn finish_attempt(
        &mut self,
        idx: u32,
        n: &mut TrackedNeuron,
        outcome: AttemptOutcome,
        now: Millis,
        fx: &mut Effects,
    ) {
        let Some(e) = self.episodes.get_mut(&idx) else {
            return;
        };
        let Some(active) = e.active.take() else {
            return;
        };
        n.recovering = false;
        let record = &mut e.log[active.record];
        record.outcome = outcome;
        let succeeded = outcome == AttemptOutcome::Succeeded;
        let detail = if succeeded {
            format!("{} healthy heartbeats", self.cfg.healthy_heartbeats)
        } else {
            format!(
                "not healthy within {:.1} s",
                self.cfg.attempt_timeout_ms as f64 / 1000.0
            )
        };
        fx.event(Event::RecoveryFinished {
            neuron: n.id.to_string(),
            attempt: record.number,
            succeeded,
            detail,
            attempt_id: record.id,
        });
        fx.store(StoreOp::AttemptFinished {
            attempt_id: record.id,
            finished_at: fx.wall(now),
            outcome: outcome.as_str(),
        });
        self.recent.push_front(RecentRecovery {
            neuron: n.id.to_string(),
            mode: record.mode,
            attempt: record.number,
            strategy: record.strategy.as_str().into(),
            outcome: outcome.as_str().into(),
            at: rfc3339(fx.wall(now)),
        });
        self.recent.truncate(RECENT_KEPT);
        self.finished += 1;
        if succeeded {
            self.counts.succeeded += 1;
            e.failing = false;
            e.escalated = false;
            n.escalated = false;
            e.recovered_at = Some(now);
        }
        if !succeeded {
            e.next_attempt_at = now + backoff(&self.cfg, e.budget_used() + 1);
        }
        self.counts.success_rate = Some(self.counts.succeeded as f64 / self.finished as f64);
    }

    fn start_attempt(
        &mut self,
        idx: u32,
        n: &mut TrackedNeuron,
        manual: bool,
        now: Millis,
        fx: &mut Effects,
    ) -> (u32, Strategy) {
        let attempt_id = self.next_attempt_id;
        self.next_attempt_id += 1;
        let timeout = self.cfg.attempt_timeout_ms;
        let e = self.episodes.get_mut(&idx).expect("episode exists");
        e.attempts += 1;
        let number = e.attempts;
        let mode = e.mode;
        let chain = self.chain(mode);
        let strategy = chain[(number as usize - 1).min(chain.len().saturating_sub(1))];
        let e = self.episodes.get_mut(&idx).expect("episode exists");
        e.log.push(AttemptRecord {
            id: attempt_id,
            number,
            strategy,
            manual,
            started: now,
            mode,
            outcome: AttemptOutcome::InProgress,
        });
        e.active = Some(ActiveAttempt {
            record: e.log.len() - 1,
            deadline: now + timeout,
            healthy_seen: 0,
        });
        self.counts.attempted += 1;
        n.recovering = true;
        let command = match strategy {
            Strategy::Restart => NeuronCommand::Restart,
            Strategy::ReapplyLastGoodConfig => NeuronCommand::ApplyConfig {
                version: n.last_good_config.to_string(),
            },
            Strategy::Reissue => NeuronCommand::Reenroll,
        };
        fx.send(idx, command);
        fx.event(Event::RecoveryStarted {
            neuron: n.id.to_string(),
            attempt: number,
            strategy: strategy.as_str().into(),
            manual,
            attempt_id,
        });
        fx.store(StoreOp::AttemptStarted {
            attempt_id,
            failure_id: e.id,
            neuron: n.id.to_string(),
            attempt: number,
            strategy: strategy.as_str(),
            manual,
            started_at: fx.wall(now),
        });
        fx.store(StoreOp::FailureUpdated {
            failure_id: e.id,
            attempts: number,
            escalated: e.escalated,
            resolved_at: None,
        });
        (number, strategy)
    }

    /// Time passes: finish timed-out attempts, start due ones, escalate exhausted episodes,
    /// close episodes that stayed healthy through the flap window. While `paused` (the
    /// local-health guard is up) no new attempt starts. Returns the neurons whose state may
    /// have changed, with why.
    /// Drop a removed neuron's recovery episode.
    pub fn forget(&mut self, idx: u32) {
        self.episodes.remove(&idx);
    }

    pub fn advance(
        &mut self,
        now: Millis,
        neurons: &mut [TrackedNeuron],
        paused: bool,
        fx: &mut Effects,
    ) -> Vec<(u32, String)> {
        let mut touched = Vec::new();
        let indexes: Vec<u32> = self.episodes.keys().copied().collect();
        for idx in indexes {
            let n = &mut neurons[idx as usize];
            let e = &self.episodes[&idx];
            if let Some(active) = &e.active {
                if now >= active.deadline {
                    let number = e.log[active.record].number;
                    self.finish_attempt(idx, n, AttemptOutcome::Failed, now, fx);
                    touched.push((idx, format!("recovery attempt #{number} failed")));
                }
                continue;
            }
            if e.failing && !e.escalated && !paused && now >= e.next_attempt_at {
                if e.budget_used() < self.cfg.max_attempts && self.cfg.enabled {
                    let (number, strategy) = self.start_attempt(idx, n, false, now, fx);
                    touched.push((
                        idx,
                        format!("recovery attempt #{number}: {}", strategy.as_str()),
                    ));
                } else if self.cfg.enabled {
                    self.escalate(idx, n, fx, now);
                    touched.push((idx, "escalated".to_string()));
                }
            } else if !e.failing
                && e.recovered_at
                    .is_some_and(|at| now >= at + self.cfg.flap_window_ms)
            {
                fx.store(StoreOp::FailureUpdated {
                    failure_id: e.id,
                    attempts: e.attempts,
                    escalated: e.escalated,
                    resolved_at: Some(fx.wall(now)),
                });
                self.episodes.remove(&idx);
            }
        }
        touched
    }

    fn escalate(&mut self, idx: u32, n: &mut TrackedNeuron, fx: &mut Effects, now: Millis) {
        let e = self.episodes.get_mut(&idx).expect("episode exists");
        e.escalated = true;
        n.escalated = true;
        self.counts.escalated += 1;
        fx.event(Event::RecoveryEscalated {
            neuron: n.id.to_string(),
            mode: e.mode,
            attempts: e.attempts,
        });
        fx.store(StoreOp::Escalated {
            failure_id: e.id,
            neuron: n.id.to_string(),
            at: fx.wall(now),
            attempts: e.attempts,
        });
        fx.store(StoreOp::FailureUpdated {
            failure_id: e.id,
            attempts: e.attempts,
            escalated: true,
            resolved_at: None,
        });
    }

    /// Operator override: recover now, whatever the attempt count. An escalated episode is taken
    /// back from the operator's queue and its automatic budget starts over; the attempt keeps
    /// the episode's numbering (#4 after three automatic ones).
    pub fn manual(
        &mut self,
        idx: u32,
        n: &mut TrackedNeuron,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<(u32, Strategy), ApiError> {
        if let Some(e) = self.episodes.get(&idx)
            && let Some(active) = &e.active
        {
            let number = e.log[active.record].number;
            return Err(ApiError::failed(format!(
                "{} is already recovering (attempt #{number} in progress)",
                n.id
            )));
        }
        let failing = self.episodes.get(&idx).is_some_and(|e| e.failing);
        if !failing {
            let (state, failure) = n.condition();
            let (mode, evidence) = match (state, failure) {
                (_, Some(failure)) => failure,
                (NeuronState::Suspect, None) => (
                    FailureMode::Offline,
                    "operator forced recovery of a suspect neuron".to_string(),
                ),
                _ => {
                    return Err(ApiError::failed(format!(
                        "{} is {state}: nothing to recover",
                        n.id
                    )));
                }
            };
            self.on_failure(idx, n, mode, evidence, now, fx);
        }
        let e = self.episodes.get_mut(&idx).expect("episode exists");
        e.budget_from = e.attempts;
        e.escalated = false;
        n.escalated = false;
        Ok(self.start_attempt(idx, n, true, now, fx))
    }
}
