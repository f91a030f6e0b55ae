//! The rollout coordinator, owned by the engine thread: accepts config and experiment pushes
//! (one at a time; each names the version it replaces), versions them, drives the active
//! rollout on the tick, and resumes from the decision log after a restart.

pub mod machine;

use machine::{Draft, Rollout};

use crate::api::rollout::{
    NeuronConfig, RolloutKind, RolloutPhase, RolloutSummary, RolloutView, RolloutsReport, Selector,
    TargetStep, TargetView, VersionCount, WavePlan,
};
use crate::api::wire::RolloutReply;
use crate::api::{ApiError, Millis, NeuronState};
use crate::engine::effects::Effects;
use crate::engine::fleet::registry::Registry;
use crate::engine::store::{StoreOp, StoredRollout};

/// Finished rollouts kept in memory for `plexus rollouts`.
const HISTORY_KEPT: usize = 200;

/// A push as the coordinator receives it.
#[derive(Debug, Clone)]
pub struct Push {
    pub kind: RolloutKind,
    pub config: NeuronConfig,
    pub selector: String,
    /// The fleet version this push means to replace; `None` replaces whatever is there.
    pub expected: Option<String>,
    pub dry_run: bool,
    pub plan: WavePlan,
    pub experiment_ms: Option<Millis>,
    /// For a rollback: the earlier version it goes back to (no new version is made).
    pub back_to: Option<String>,
}

pub struct RolloutBook {
    /// The fleet's config version: the last one committed to all its targets.
    pub head: String,
    versions: Vec<(String, NeuronConfig)>,
    next_version: u64,
    next_id: u64,
    rollouts: Vec<Rollout>,
    heartbeat_ms: Millis,
}

fn version_number(v: &str) -> u64 {
    v.strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl RolloutBook {
    pub fn new(heartbeat_ms: Millis) -> Self {
        RolloutBook {
            head: "v1".into(),
            versions: vec![("v1".into(), NeuronConfig::initial())],
            next_version: 2,
            next_id: 1,
            rollouts: Vec::new(),
            heartbeat_ms,
        }
    }

    pub fn active(&self) -> Option<&Rollout> {
        self.rollouts.last().filter(|r| !r.is_done())
    }

    fn active_mut(&mut self) -> Option<&mut Rollout> {
        self.rollouts.last_mut().filter(|r| !r.is_done())
    }

    fn document(&self, version: &str) -> Option<&NeuronConfig> {
        self.versions
            .iter()
            .find(|(v, _)| v == version)
            .map(|(_, c)| c)
    }

    /// Refuse a push that would race another one.
    fn check_conflict(&self, expected: Option<&str>) -> Result<(), ApiError> {
        if let Some(r) = self.active() {
            return Err(ApiError::conflict(format!(
                "rollout r-{} ({} → {}, {}) is in progress; nothing of this push was applied (wait for it, or `plexus rollback` to stop it)",
                r.id,
                r.replaces,
                r.version,
                r.phase.as_str()
            )));
        }
        match expected {
            Some(e) if e != self.head => Err(ApiError::conflict(format!(
                "this push expected to replace {e} but the fleet is on {} now; nothing of it was applied (re-read with `plexus rollouts` and push again)",
                self.head
            ))),
            _ => Ok(()),
        }
    }

    /// Validate, version and start a push (or only plan it, for a dry run).
    pub fn start(
        &mut self,
        push: Push,
        by: &str,
        registry: &Registry,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<RolloutSummary, ApiError> {
        push.config
            .check()
            .map_err(|(field, why)| ApiError::bad_input(format!("field `{field}`: {why}")))?;
        let selector = Selector::parse(&push.selector)
            .map_err(|e| ApiError::bad_input(format!("selector: {e}")))?;
        let targets: Vec<(u32, String, String, bool)> = registry
            .neurons
            .iter()
            .enumerate()
            .filter(|(_, n)| selector.matches(&n.id, &n.zone, &n.labels))
            .map(|(i, n)| {
                (
                    i as u32,
                    n.id.to_string(),
                    n.config_version.to_string(),
                    n.state == NeuronState::Healthy,
                )
            })
            .collect();
        if targets.is_empty() {
            return Err(ApiError::bad_input(format!(
                "selector '{}' matches no neuron",
                push.selector
            )));
        }
        self.check_conflict(push.expected.as_deref())?;
        let version = match &push.back_to {
            Some(v) => v.clone(),
            None => format!("v{}", self.next_version),
        };
        let draft = Draft {
            id: self.next_id,
            kind: push.kind,
            version,
            replaces: self.head.clone(),
            config: push.config,
            selector: if push.selector.trim().is_empty() {
                "all".into()
            } else {
                push.selector.trim().to_string()
            },
            plan: push.plan,
            by: by.to_string(),
            started: crate::engine::clock::rfc3339(fx.wall(now)),
            targets,
            experiment_ms: push.experiment_ms,
        };
        let mut rollout = draft.build(now, self.heartbeat_ms);
        if push.dry_run {
            // A plan, not a rollout: it takes no id (0), so nobody looks for it later.
            let mut plan = rollout.summary();
            plan.id = 0;
            return Ok(plan);
        }
        self.next_id += 1;
        if push.back_to.is_none() {
            self.next_version += 1;
            self.versions
                .push((rollout.version.clone(), rollout.config.clone()));
        }
        fx.store(StoreOp::RolloutStarted(stored(&rollout)));
        rollout.prepare(now, fx);
        let summary = rollout.summary();
        fx.event(crate::api::Event::RolloutProgress {
            rollout: summary.clone(),
        });
        self.rollouts.push(rollout);
        if self.rollouts.len() > HISTORY_KEPT {
            self.rollouts.remove(0);
        }
        Ok(summary)
    }

    /// An experiment becomes a push of the head's config with its variant as the model.
    pub fn experiment_push(
        &self,
        e: &crate::api::rollout::Experiment,
        expected: Option<String>,
        dry_run: bool,
    ) -> Result<Push, ApiError> {
        e.check()
            .map_err(|(field, why)| ApiError::bad_input(format!("field `{field}`: {why}")))?;
        let mut config = self
            .document(&self.head)
            .cloned()
            .unwrap_or_else(NeuronConfig::initial);
        config.model = e.variant.clone();
        config.experiment = Some(crate::api::rollout::ExperimentTag {
            name: e.name.clone(),
            traffic_percent: e.traffic_percent,
        });
        Ok(Push {
            kind: RolloutKind::Experiment,
            config,
            selector: e.selector.clone(),
            expected,
            dry_run,
            plan: WavePlan::default(),
            experiment_ms: Some(e.duration_ms().map_err(ApiError::bad_input)?),
            back_to: None,
        })
    }

    /// Stop the active rollout (an experiment ends, a config rollout reverts), or start a
    /// rollout back to `to` (default: the version the head replaced).
    pub fn rollback(
        &mut self,
        to: Option<String>,
        by: &str,
        registry: &Registry,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<RolloutSummary, ApiError> {
        if let Some(r) = self.active_mut() {
            if to.is_some() {
                return Err(ApiError::conflict(format!(
                    "rollout r-{} is in progress; `plexus rollback` without --to stops it first",
                    r.id
                )));
            }
            let ends = if r.kind == RolloutKind::Experiment {
                RolloutPhase::Ended
            } else {
                RolloutPhase::RolledBack
            };
            let cause = format!("stopped by {by}");
            if r.phase == RolloutPhase::Preparing {
                r.abort(cause, now, fx);
            } else {
                r.revert(cause, ends, now, fx);
            }
            return Ok(r.summary());
        }
        let to = match to {
            Some(v) => v,
            None => self
                .rollouts
                .iter()
                .rev()
                .find(|r| r.phase == RolloutPhase::Committed && r.version == self.head)
                .map(|r| r.replaces.clone())
                .ok_or_else(|| {
                    ApiError::bad_input(format!(
                        "nothing to roll back to: {} was not pushed by a rollout (use --to VERSION)",
                        self.head
                    ))
                })?,
        };
        let config = self
            .document(&to)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no config version {to}")))?;
        let push = Push {
            kind: RolloutKind::Rollback,
            config,
            selector: String::new(),
            expected: None,
            dry_run: false,
            plan: WavePlan::default(),
            experiment_ms: None,
            back_to: Some(to),
        };
        self.start(push, by, registry, now, fx)
    }

    pub fn on_reply(&mut self, idx: u32, reply: &RolloutReply, at: Millis, fx: &mut Effects) {
        if let Some(r) = self
            .rollouts
            .iter_mut()
            .rev()
            .find(|r| r.id == reply.rollout)
        {
            r.on_reply(idx, reply, at, fx);
        }
    }

    /// Drive the active rollout; a committed config becomes the fleet's head.
    pub fn advance(&mut self, now: Millis, registry: &Registry, fx: &mut Effects) {
        let Some(r) = self.active_mut() else {
            return;
        };
        r.advance(now, registry, fx);
        if r.phase == RolloutPhase::Committed && r.kind != RolloutKind::Experiment {
            self.head = r.version.clone();
        }
    }

    /// After a restart: what the last run left. A rollout without a durable decision never
    /// sent a Commit, so it is aborted; one decided to commit is finished (re-prepared and
    /// committed: neurons already on the version answer at once); one reverting reverts.
    pub fn restore(
        &mut self,
        stored: Vec<StoredRollout>,
        registry: &Registry,
        now: Millis,
        fx: &mut Effects,
    ) {
        for s in stored {
            let Some(mut r) = rebuild(&s, registry, self.heartbeat_ms, now) else {
                continue;
            };
            self.next_id = self.next_id.max(r.id + 1);
            if r.kind != RolloutKind::Rollback {
                self.next_version = self.next_version.max(version_number(&r.version) + 1);
                self.versions.push((r.version.clone(), r.config.clone()));
            }
            match (s.finished_phase.as_deref(), s.decision.as_deref()) {
                (Some(_), _) => {}
                (None, None) => r.abort(
                    "the engine restarted before the decision; nothing was committed".into(),
                    now,
                    fx,
                ),
                (None, Some("commit")) => r.prepare(now, fx),
                (None, _) => {
                    for t in &mut r.targets {
                        t.step = TargetStep::Committed;
                    }
                    let cause = s
                        .cause
                        .clone()
                        .unwrap_or_else(|| "the engine restarted while reverting".into());
                    r.revert(cause, RolloutPhase::RolledBack, now, fx);
                }
            }
            if r.phase == RolloutPhase::Committed && r.kind != RolloutKind::Experiment {
                self.head = r.version.clone();
            }
            self.rollouts.push(r);
        }
    }

    pub fn report(&self, registry: &Registry) -> RolloutsReport {
        RolloutsReport {
            head: self.head.clone(),
            versions: version_counts(registry),
            rollouts: self.rollouts.iter().map(Rollout::summary).collect(),
        }
    }

    pub fn view(&self, id: u64) -> Result<RolloutView, ApiError> {
        self.rollouts
            .iter()
            .find(|r| r.id == id)
            .map(Rollout::view)
            .ok_or_else(|| {
                ApiError::not_found(format!("no rollout r-{id} (`plexus rollouts` lists them)"))
            })
    }
}

/// Neurons per config version, most common first.
pub fn version_counts(registry: &Registry) -> Vec<VersionCount> {
    let mut counts: Vec<VersionCount> = Vec::new();
    // Fleet members only: not removed neurons' tombstones, nor a stress test's mocks.
    for n in registry.neurons.iter().filter(|n| !n.removed && !n.mock) {
        match counts.iter_mut().find(|c| *c.version == *n.config_version) {
            Some(c) => c.neurons += 1,
            None => counts.push(VersionCount {
                version: n.config_version.to_string(),
                neurons: 1,
            }),
        }
    }
    counts.sort_by(|a, b| b.neurons.cmp(&a.neurons).then(a.version.cmp(&b.version)));
    counts
}

fn stored(r: &Rollout) -> StoredRollout {
    StoredRollout {
        id: r.id,
        kind: serde_json::to_value(r.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        version: r.version.clone(),
        replaces: r.replaces.clone(),
        config_json: serde_json::to_string(&r.config).unwrap_or_default(),
        selector: r.selector.clone(),
        plan_json: serde_json::to_string(&r.plan).unwrap_or_default(),
        by: r.by.clone(),
        started: r.started.clone(),
        targets_json: r.targets_json(),
        experiment_ms: r.experiment_ms,
        decision: None,
        finished_phase: None,
        cause: None,
        finished_unix_ms: None,
    }
}

/// A rollout as the store kept it; targets no longer registered are dropped.
fn rebuild(
    s: &StoredRollout,
    registry: &Registry,
    heartbeat_ms: Millis,
    now: Millis,
) -> Option<Rollout> {
    let kind: RolloutKind =
        serde_json::from_value(serde_json::Value::String(s.kind.clone())).ok()?;
    let config: NeuronConfig = serde_json::from_str(&s.config_json).ok()?;
    let plan: WavePlan = serde_json::from_str(&s.plan_json).unwrap_or_default();
    let views: Vec<TargetView> = serde_json::from_str(&s.targets_json).unwrap_or_default();
    let targets = views
        .iter()
        .filter_map(|t| {
            let idx = registry.find(&t.neuron)?;
            Some((idx, t.neuron.clone(), t.from.clone(), false))
        })
        .collect();
    let mut r = Draft {
        id: s.id,
        kind,
        version: s.version.clone(),
        replaces: s.replaces.clone(),
        config,
        selector: s.selector.clone(),
        plan,
        by: s.by.clone(),
        started: s.started.clone(),
        targets,
        experiment_ms: s.experiment_ms,
    }
    .build(now, heartbeat_ms);
    for t in &mut r.targets {
        if let Some(v) = views.iter().find(|v| v.neuron == t.neuron) {
            t.step = v.step;
            t.detail = v.detail.clone();
            t.wave = v.wave;
        }
    }
    if let Some(phase) = &s.finished_phase {
        r.phase = serde_json::from_value(serde_json::Value::String(phase.clone()))
            .unwrap_or(RolloutPhase::Aborted);
        r.cause = s.cause.clone();
        r.finished_at = Some(now);
        // How long it took, from the stored start and end (not the restart's instant).
        let started = chrono::DateTime::parse_from_rfc3339(&s.started)
            .map(|t| t.timestamp_millis())
            .ok();
        if let (Some(start), Some(end)) = (started, s.finished_unix_ms) {
            r.took_ms = Some(end.saturating_sub(start).max(0) as Millis);
        }
        // The last wave a Commit reached.
        r.wave = r
            .targets
            .iter()
            .filter(|t| {
                matches!(
                    t.step,
                    TargetStep::Committed | TargetStep::CommitFailed | TargetStep::Reverted
                )
            })
            .map(|t| t.wave)
            .max()
            .unwrap_or(0);
    }
    Some(r)
}
