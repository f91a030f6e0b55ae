//! One rollout's state machine: prepare (stage + vote) → durable decision → commit in waves with
//! a health gate between them → watch window; any NACK, commit failure or health regression
//! after the decision reverts every touched neuron. Driven by [`Rollout::advance`] on each tick.

use crate::api::rollout::{
    NeuronConfig, RolloutKind, RolloutPhase, RolloutSummary, RolloutView, TargetStep, TargetView,
    WavePlan,
};
use crate::api::wire::{NeuronCommand, RolloutReply, RolloutStep};
use crate::api::{Event, Millis, NeuronState};
use crate::engine::effects::Effects;
use crate::engine::fleet::registry::Registry;
use crate::engine::store::StoreOp;

#[derive(Debug, Clone)]
pub struct Target {
    pub idx: u32,
    pub neuron: String,
    pub wave: u32,
    pub from: String,
    pub step: TargetStep,
    pub detail: String,
    pub healthy_before: bool,
}

/// Timings derived from the heartbeat interval (agents answer on their heartbeat).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// How long a vote or a commit acknowledgement may take.
    pub step_timeout_ms: Millis,
    pub gate_ms: Millis,
    pub watch_ms: Millis,
    /// How often an unanswered Stage, Commit or Revert is sent again (the link may lose it).
    pub resend_ms: Millis,
}

impl Timing {
    pub fn new(heartbeat_ms: Millis, plan: &WavePlan) -> Self {
        Timing {
            step_timeout_ms: 4 * heartbeat_ms + 1000,
            gate_ms: plan.gate_ms.unwrap_or(2 * heartbeat_ms),
            watch_ms: plan.watch_ms.unwrap_or(3 * heartbeat_ms),
            resend_ms: 2 * heartbeat_ms,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rollout {
    pub id: u64,
    pub kind: RolloutKind,
    pub version: String,
    pub replaces: String,
    pub config: NeuronConfig,
    pub selector: String,
    pub plan: WavePlan,
    pub by: String,
    pub started: String,
    pub started_at: Millis,
    pub targets: Vec<Target>,
    pub waves: u32,
    /// 1-based wave being committed; 0 before the first.
    pub wave: u32,
    pub wave_started: bool,
    pub phase: RolloutPhase,
    pub cause: Option<String>,
    pub timing: Timing,
    /// Deadline of the current step, end of a gate, watch window or experiment.
    pub until: Millis,
    /// How long an experiment serves its variant once committed.
    pub experiment_ms: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// How long a rollout finished by an earlier engine took (engine time does not carry over).
    pub took_ms: Option<Millis>,
    /// When unanswered Stage or Commit messages go out again.
    next_resend: Millis,
    /// The phase a revert ends in (RolledBack after a failure, Ended for an experiment).
    revert_ends: RolloutPhase,
}

/// Wave numbers (1-based) for `n` targets: the canary, then batches of `batch_size`.
pub fn assign_waves(n: usize, plan: &WavePlan) -> Vec<u32> {
    let canary = (plan.canary as usize).min(n);
    let rest = n - canary;
    let batch = match plan.batch_size as usize {
        0 => rest.max(1),
        b => b,
    };
    let first_batch = if canary > 0 { 2 } else { 1 };
    (0..n)
        .map(|i| {
            if i < canary {
                1
            } else {
                first_batch + ((i - canary) / batch) as u32
            }
        })
        .collect()
}

impl Rollout {
    pub fn summary(&self) -> RolloutSummary {
        RolloutSummary {
            id: self.id,
            kind: self.kind,
            version: self.version.clone(),
            replaces: self.replaces.clone(),
            selector: self.selector.clone(),
            by: self.by.clone(),
            started: self.started.clone(),
            phase: self.phase,
            targets: self.targets.len(),
            waves: self.waves,
            wave: self.wave,
            cause: self.cause.clone(),
            took_ms: self
                .took_ms
                .or_else(|| self.finished_at.map(|f| f.saturating_sub(self.started_at))),
        }
    }

    pub fn view(&self) -> RolloutView {
        RolloutView {
            summary: self.summary(),
            config: self.config.clone(),
            plan: self.plan.clone(),
            targets: self
                .targets
                .iter()
                .map(|t| TargetView {
                    neuron: t.neuron.clone(),
                    wave: t.wave,
                    from: t.from.clone(),
                    step: t.step,
                    detail: t.detail.clone(),
                })
                .collect(),
        }
    }

    pub fn targets_json(&self) -> String {
        serde_json::to_string(&self.view().targets).unwrap_or_default()
    }

    /// Send Stage to every target (the start, or a resume after an engine restart).
    pub fn prepare(&mut self, now: Millis, fx: &mut Effects) {
        self.phase = RolloutPhase::Preparing;
        self.until = now + self.timing.step_timeout_ms;
        for t in &mut self.targets {
            t.step = TargetStep::Staging;
        }
        self.next_resend = now;
        self.resend(TargetStep::Staging, now, fx);
    }

    /// Send (again) the message of the current step to every target still waiting in `step`;
    /// every step is idempotent on the neuron, so a duplicate is harmless.
    fn resend(&mut self, step: TargetStep, now: Millis, fx: &mut Effects) {
        if now < self.next_resend {
            return;
        }
        self.next_resend = now + self.timing.resend_ms;
        for t in self.targets.iter().filter(|t| t.step == step) {
            let command = match step {
                TargetStep::Staging => NeuronCommand::Stage {
                    rollout: self.id,
                    version: self.version.clone(),
                    config: self.config.clone(),
                },
                TargetStep::Committing => NeuronCommand::Commit {
                    rollout: self.id,
                    version: self.version.clone(),
                },
                TargetStep::Reverting => NeuronCommand::Revert {
                    rollout: self.id,
                    to: t.from.clone(),
                },
                _ => continue,
            };
            fx.send(t.idx, command);
        }
    }

    /// A neuron answered a step of this rollout.
    pub fn on_reply(&mut self, idx: u32, reply: &RolloutReply, at: Millis, fx: &mut Effects) {
        let Some(t) = self.targets.iter_mut().find(|t| t.idx == idx) else {
            return;
        };
        let next = match (reply.step, t.step, reply.ok) {
            (RolloutStep::Stage, TargetStep::Staging, true) => TargetStep::Staged,
            (RolloutStep::Stage, TargetStep::Staging, false) => TargetStep::Nacked,
            (RolloutStep::Commit, TargetStep::Committing, true) => TargetStep::Committed,
            (RolloutStep::Commit, TargetStep::Committing, false) => TargetStep::CommitFailed,
            (RolloutStep::Revert, TargetStep::Reverting, _) => TargetStep::Reverted,
            // Late or repeated answers change nothing (every step is idempotent).
            _ => return,
        };
        t.step = next;
        t.detail = reply.detail.clone();
        let applied = match next {
            TargetStep::Committed => Some(self.version.clone()),
            TargetStep::Reverted => Some(t.from.clone()),
            _ => None,
        };
        if let Some(version) = applied {
            // What each neuron runs is kept, so a restarted engine knows the fleet it left.
            fx.store(StoreOp::NeuronConfig {
                neuron: t.neuron.clone(),
                version,
                at: fx.wall(at),
            });
        }
    }

    pub fn is_done(&self) -> bool {
        self.phase.is_final()
    }

    /// One step on the engine's tick.
    pub fn advance(&mut self, now: Millis, registry: &Registry, fx: &mut Effects) {
        match self.phase {
            RolloutPhase::Preparing => self.advance_prepare(now, fx),
            RolloutPhase::Committing => self.advance_commit(now, fx),
            RolloutPhase::Gate | RolloutPhase::Watching | RolloutPhase::Running => {
                if let Some(cause) = self.regression(registry) {
                    return self.revert(cause, RolloutPhase::RolledBack, now, fx);
                }
                if now < self.until {
                    return;
                }
                match self.phase {
                    RolloutPhase::Gate => {
                        self.wave += 1;
                        self.wave_started = false;
                        self.phase = RolloutPhase::Committing;
                        self.advance_commit(now, fx);
                    }
                    RolloutPhase::Watching => match self.experiment_ms {
                        Some(ms) => {
                            self.phase = RolloutPhase::Running;
                            self.until = now + ms;
                            self.announce(fx);
                        }
                        None => self.finish(RolloutPhase::Committed, now, fx),
                    },
                    _ => self.revert(
                        "experiment duration over".into(),
                        RolloutPhase::Ended,
                        now,
                        fx,
                    ),
                }
            }
            RolloutPhase::Reverting => self.advance_revert(now, fx),
            _ => {}
        }
    }

    fn advance_prepare(&mut self, now: Millis, fx: &mut Effects) {
        if let Some(t) = self.targets.iter().find(|t| t.step == TargetStep::Nacked) {
            let cause = format!("{} voted NACK: {}", t.neuron, t.detail);
            return self.abort(cause, now, fx);
        }
        if self.targets.iter().all(|t| t.step == TargetStep::Staged) {
            // The decision is durable before any Commit leaves: the runner waits for this
            // batch to commit, then advances again (`Core::after_sync`) to send the first wave.
            fx.store(StoreOp::RolloutDecided {
                id: self.id,
                decision: "commit",
                at: fx.wall(now),
            });
            fx.sync = true;
            self.phase = RolloutPhase::Committing;
            self.wave = 1;
            self.wave_started = false;
            self.announce(fx);
            return;
        }
        if now >= self.until {
            let silent = self
                .targets
                .iter()
                .find(|t| t.step == TargetStep::Staging)
                .map_or("-".into(), |t| t.neuron.clone());
            let cause = format!(
                "{silent} did not vote within {} ms",
                self.timing.step_timeout_ms
            );
            return self.abort(cause, now, fx);
        }
        self.resend(TargetStep::Staging, now, fx);
    }

    fn advance_commit(&mut self, now: Millis, fx: &mut Effects) {
        let wave = self.wave;
        if !self.wave_started {
            self.wave_started = true;
            self.until = now + self.timing.step_timeout_ms;
            self.next_resend = now + self.timing.resend_ms;
            self.announce(fx);
        }
        if let Some(t) = self
            .targets
            .iter()
            .find(|t| t.wave == wave && t.step == TargetStep::CommitFailed)
        {
            let cause = format!("commit failed on {} (wave {wave}): {}", t.neuron, t.detail);
            return self.revert(cause, RolloutPhase::RolledBack, now, fx);
        }
        let limit = match self.plan.max_unavailable as usize {
            0 => usize::MAX,
            m => m,
        };
        let in_flight = self
            .targets
            .iter()
            .filter(|t| t.wave == wave && t.step == TargetStep::Committing)
            .count();
        let mut room = limit.saturating_sub(in_flight);
        for t in self.targets.iter_mut() {
            if room == 0 {
                break;
            }
            if t.wave == wave && t.step == TargetStep::Staged {
                t.step = TargetStep::Committing;
                room -= 1;
                fx.send(
                    t.idx,
                    NeuronCommand::Commit {
                        rollout: self.id,
                        version: self.version.clone(),
                    },
                );
            }
        }
        let in_wave = || self.targets.iter().filter(|t| t.wave == wave);
        if in_wave().all(|t| t.step == TargetStep::Committed) {
            if wave >= self.waves {
                self.phase = RolloutPhase::Watching;
                self.until = now + self.timing.watch_ms;
            } else {
                self.phase = RolloutPhase::Gate;
                self.until = now + self.timing.gate_ms;
            }
            self.announce(fx);
        } else if now >= self.until {
            let slow = in_wave()
                .find(|t| t.step != TargetStep::Committed)
                .map_or("-".into(), |t| t.neuron.clone());
            let cause = format!(
                "{slow} did not confirm the commit within {} ms (wave {wave})",
                self.timing.step_timeout_ms
            );
            self.revert(cause, RolloutPhase::RolledBack, now, fx);
        } else {
            self.resend(TargetStep::Committing, now, fx);
        }
    }

    /// A committed neuron that was healthy before and is failing now.
    fn regression(&self, registry: &Registry) -> Option<String> {
        self.targets.iter().find_map(|t| {
            let n = registry.neurons.get(t.idx as usize)?;
            let failing = matches!(
                n.state,
                NeuronState::Offline
                    | NeuronState::Degraded
                    | NeuronState::ConfigFailed
                    | NeuronState::Recovering
            );
            (t.step == TargetStep::Committed && t.healthy_before && failing).then(|| {
                format!(
                    "health regression: {} went {} after the commit",
                    t.neuron,
                    n.state.as_str()
                )
            })
        })
    }

    /// Before the decision: drop what was staged; nobody changed version.
    pub fn abort(&mut self, cause: String, now: Millis, fx: &mut Effects) {
        for t in &mut self.targets {
            if t.step != TargetStep::Nacked {
                t.step = TargetStep::Aborted;
            }
            fx.send(
                t.idx,
                NeuronCommand::Abort {
                    rollout: self.id,
                    version: self.version.clone(),
                },
            );
        }
        self.cause = Some(cause);
        self.finish(RolloutPhase::Aborted, now, fx);
    }

    /// After the decision: every neuron a Commit may have reached goes back to its version.
    pub fn revert(&mut self, cause: String, ends: RolloutPhase, now: Millis, fx: &mut Effects) {
        fx.store(StoreOp::RolloutDecided {
            id: self.id,
            decision: "revert",
            at: fx.wall(now),
        });
        fx.sync = true;
        self.cause = Some(cause);
        self.revert_ends = ends;
        self.phase = RolloutPhase::Reverting;
        for t in &mut self.targets {
            t.step = match t.step {
                TargetStep::Committing | TargetStep::Committed | TargetStep::Reverting => {
                    TargetStep::Reverting
                }
                TargetStep::Staged | TargetStep::Staging => {
                    fx.send(
                        t.idx,
                        NeuronCommand::Abort {
                            rollout: self.id,
                            version: self.version.clone(),
                        },
                    );
                    TargetStep::Aborted
                }
                other => other,
            };
        }
        self.next_resend = now;
        self.announce(fx);
        self.advance_revert(now, fx);
    }

    fn advance_revert(&mut self, now: Millis, fx: &mut Effects) {
        if self.targets.iter().all(|t| t.step != TargetStep::Reverting) {
            let ends = self.revert_ends;
            return self.finish(ends, now, fx);
        }
        if now < self.until {
            return;
        }
        // Unanswered reverts go out again until every touched neuron confirmed.
        self.until = now + self.timing.resend_ms;
        for t in self
            .targets
            .iter()
            .filter(|t| t.step == TargetStep::Reverting)
        {
            fx.send(
                t.idx,
                NeuronCommand::Revert {
                    rollout: self.id,
                    to: t.from.clone(),
                },
            );
        }
    }

    fn finish(&mut self, phase: RolloutPhase, now: Millis, fx: &mut Effects) {
        self.phase = phase;
        self.finished_at = Some(now);
        fx.store(StoreOp::RolloutFinished {
            id: self.id,
            phase: phase.as_str(),
            cause: self.cause.clone(),
            targets_json: self.targets_json(),
            at: fx.wall(now),
        });
        self.announce(fx);
    }

    fn announce(&self, fx: &mut Effects) {
        fx.event(Event::RolloutProgress {
            rollout: self.summary(),
        });
    }
}

/// Everything a new rollout needs; [`super::RolloutBook`] fills it in.
pub struct Draft {
    pub id: u64,
    pub kind: RolloutKind,
    pub version: String,
    pub replaces: String,
    pub config: NeuronConfig,
    pub selector: String,
    pub plan: WavePlan,
    pub by: String,
    pub started: String,
    pub targets: Vec<(u32, String, String, bool)>,
    pub experiment_ms: Option<Millis>,
}

impl Draft {
    pub fn build(self, now: Millis, heartbeat_ms: Millis) -> Rollout {
        let waves = assign_waves(self.targets.len(), &self.plan);
        let targets: Vec<Target> = self
            .targets
            .into_iter()
            .zip(&waves)
            .map(|((idx, neuron, from, healthy), wave)| Target {
                idx,
                neuron,
                wave: *wave,
                from,
                step: TargetStep::Staging,
                detail: String::new(),
                healthy_before: healthy,
            })
            .collect();
        Rollout {
            id: self.id,
            kind: self.kind,
            version: self.version,
            replaces: self.replaces,
            timing: Timing::new(heartbeat_ms, &self.plan),
            config: self.config,
            selector: self.selector,
            plan: self.plan,
            by: self.by,
            started: self.started,
            started_at: now,
            waves: waves.iter().copied().max().unwrap_or(0),
            targets,
            wave: 0,
            wave_started: false,
            phase: RolloutPhase::Preparing,
            cause: None,
            until: now,
            experiment_ms: self.experiment_ms,
            finished_at: None,
            took_ms: None,
            next_resend: now,
            revert_ends: RolloutPhase::RolledBack,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_are_a_canary_then_batches() {
        let plan = WavePlan {
            canary: 1,
            batch_size: 3,
            ..WavePlan::default()
        };
        assert_eq!(assign_waves(8, &plan), vec![1, 2, 2, 2, 3, 3, 3, 4]);
        assert_eq!(assign_waves(3, &WavePlan::default()), vec![1, 2, 2]);
        let no_canary = WavePlan {
            canary: 0,
            ..WavePlan::default()
        };
        assert_eq!(assign_waves(3, &no_canary), vec![1, 1, 1]);
    }
}
