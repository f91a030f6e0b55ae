//! A neuron's side of the rollout protocol, shared by simulated neurons and real agents: stage
//! and vote, commit what was staged, abort, revert. Every step is idempotent per (rollout id,
//! version), and a rollout once aborted or reverted never commits here afterwards (a late Commit
//! overtaken by its Revert on the network must not win).

use crate::api::rollout::NeuronConfig;
use crate::api::wire::{ConfigStatus, NeuronCommand, RolloutReply, RolloutStep};

pub struct ConfigSlot {
    pub version: std::sync::Arc<str>,
    pub status: ConfigStatus,
    staged: Option<(u64, String)>,
    /// Highest rollout id aborted or reverted here.
    closed: u64,
}

/// What handling a rollout command produced: the answer (if any) and a log line.
pub struct Handled {
    pub reply: Option<RolloutReply>,
    pub log: (&'static str, String),
}

impl ConfigSlot {
    /// Running `version`: a simulated fleet hands every neuron the same allocation, so a
    /// heartbeat carries a pointer the engine compares without reading the text.
    pub fn new(version: std::sync::Arc<str>) -> Self {
        ConfigSlot {
            version,
            status: ConfigStatus::Applied,
            staged: None,
            closed: 0,
        }
    }

    /// Apply `version` directly (`apply_config`: a chaos bad push, a recovery's last good
    /// config); `fail_next` is an armed config failure, consumed here. The log line.
    pub fn apply(&mut self, version: String, fail_next: &mut bool) -> (&'static str, String) {
        if std::mem::take(fail_next) {
            let reason = "validation hook rejected the config (injected fault)".to_string();
            let line = format!("config {version} failed to apply: {reason}");
            self.status = ConfigStatus::Failed { version, reason };
            return ("error", line);
        }
        let line = format!("config {version} applied");
        self.version = version.into();
        self.status = ConfigStatus::Applied;
        ("info", line)
    }

    /// Handle a rollout command; `fail_next` is an armed config failure (consumed by the
    /// next Stage or Commit). Other commands return `None`.
    pub fn handle(&mut self, command: &NeuronCommand, fail_next: &mut bool) -> Option<Handled> {
        let reply = |rollout: u64, version: &str, step, ok, detail: String| RolloutReply {
            rollout,
            version: version.to_string(),
            step,
            ok,
            detail,
        };
        Some(match command {
            NeuronCommand::Stage {
                rollout,
                version,
                config,
            } => {
                let (ok, detail) = self.stage(*rollout, version, config, fail_next);
                let level = if ok { "info" } else { "error" };
                Handled {
                    log: (
                        level,
                        format!("stage {version} (rollout r-{rollout}): {detail}"),
                    ),
                    reply: Some(reply(*rollout, version, RolloutStep::Stage, ok, detail)),
                }
            }
            NeuronCommand::Commit { rollout, version } => {
                let (ok, detail) = self.commit(*rollout, version, fail_next);
                let level = if ok { "info" } else { "error" };
                Handled {
                    log: (
                        level,
                        format!("commit {version} (rollout r-{rollout}): {detail}"),
                    ),
                    reply: Some(reply(*rollout, version, RolloutStep::Commit, ok, detail)),
                }
            }
            NeuronCommand::Abort { rollout, version } => {
                self.close(*rollout);
                Handled {
                    reply: None,
                    log: (
                        "warn",
                        format!("abort {version} (rollout r-{rollout}): staged config dropped"),
                    ),
                }
            }
            NeuronCommand::Revert { rollout, to } => {
                self.close(*rollout);
                let detail = if *self.version == **to {
                    format!("already on {to}")
                } else {
                    let was = std::mem::replace(&mut self.version, to.as_str().into());
                    self.status = ConfigStatus::Applied;
                    format!("reverted from {was} to {to}")
                };
                Handled {
                    log: ("warn", format!("revert (rollout r-{rollout}): {detail}")),
                    reply: Some(reply(*rollout, to, RolloutStep::Revert, true, detail)),
                }
            }
            _ => return None,
        })
    }

    fn stage(
        &mut self,
        rollout: u64,
        version: &str,
        config: &NeuronConfig,
        fail_next: &mut bool,
    ) -> (bool, String) {
        if rollout <= self.closed {
            return (false, "rollout already aborted here".into());
        }
        if *self.version == *version {
            return (true, format!("already running {version}"));
        }
        if let Err((field, why)) = config.check() {
            return (false, format!("refused: {field} {why}"));
        }
        if std::mem::take(fail_next) {
            return (
                false,
                "validation hook rejected the config (injected fault)".into(),
            );
        }
        self.staged = Some((rollout, version.to_string()));
        (true, format!("staged (model {})", config.model))
    }

    fn commit(&mut self, rollout: u64, version: &str, fail_next: &mut bool) -> (bool, String) {
        if *self.version == *version {
            return (true, format!("already running {version}"));
        }
        if rollout <= self.closed {
            return (false, "rollout already aborted here".into());
        }
        if self.staged.as_ref() != Some(&(rollout, version.to_string())) {
            return (false, "nothing staged for this rollout".into());
        }
        self.staged = None;
        if std::mem::take(fail_next) {
            let reason = "apply hook failed (injected fault)".to_string();
            self.status = ConfigStatus::Failed {
                version: version.to_string(),
                reason: reason.clone(),
            };
            return (false, reason);
        }
        let was = std::mem::replace(&mut self.version, version.into());
        self.status = ConfigStatus::Applied;
        (true, format!("applied (was {was})"))
    }

    fn close(&mut self, rollout: u64) {
        self.closed = self.closed.max(rollout);
        if self.staged.as_ref().is_some_and(|(r, _)| *r <= rollout) {
            self.staged = None;
        }
    }
}
