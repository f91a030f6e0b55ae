//! Rollouts: the config documents neurons run, experiments, the wave plan, and what the engine
//! reports about a rollout. The parser for documents lives in [`super::rollout_doc`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::Millis;

/// A neuron config document (TOML or JSON). Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuronConfig {
    /// Non-empty.
    pub model: String,
    pub model_version: String,
    /// 1..=4096.
    pub batch_size: u32,
    /// 0 < x ≤ 10.
    pub learning_rate: f64,
    /// 100..=60000.
    pub heartbeat_interval_ms: u64,
    /// 1..=10000.
    pub max_concurrency: u32,
    #[serde(default)]
    pub features: BTreeMap<String, bool>,
    /// Set by the engine on a config derived for an experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<ExperimentTag>,
}

/// What a neuron running an experiment variant knows about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentTag {
    pub name: String,
    pub traffic_percent: u8,
}

impl NeuronConfig {
    /// The config every simulated neuron boots with (version `v1`).
    pub fn initial() -> Self {
        NeuronConfig {
            model: "resnet-50".into(),
            model_version: "1.0.0".into(),
            batch_size: 32,
            learning_rate: 0.01,
            heartbeat_interval_ms: 1000,
            max_concurrency: 64,
            features: BTreeMap::new(),
            experiment: None,
        }
    }

    /// The first out-of-range field and why; the parser adds file and line.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.model.trim().is_empty() {
            return Err(("model", "must be a non-empty string".into()));
        }
        if !(1..=4096).contains(&self.batch_size) {
            return Err((
                "batch_size",
                format!("{} is not in 1..=4096", self.batch_size),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 10.0) {
            return Err((
                "learning_rate",
                format!("{} is not in 0 < x ≤ 10", self.learning_rate),
            ));
        }
        if !(100..=60_000).contains(&self.heartbeat_interval_ms) {
            return Err((
                "heartbeat_interval_ms",
                format!("{} is not in 100..=60000", self.heartbeat_interval_ms),
            ));
        }
        if !(1..=10_000).contains(&self.max_concurrency) {
            return Err((
                "max_concurrency",
                format!("{} is not in 1..=10000", self.max_concurrency),
            ));
        }
        if let Some(tag) = &self.experiment {
            check_experiment(&tag.name, tag.traffic_percent)?;
        }
        Ok(())
    }
}

fn check_experiment(name: &str, traffic: u8) -> Result<(), (&'static str, String)> {
    if name.trim().is_empty() {
        return Err(("name", "must be a non-empty string".into()));
    }
    if !(1..=100).contains(&traffic) {
        return Err(("traffic_percent", format!("{traffic} is not in 1..=100")));
    }
    Ok(())
}

/// An experiment document: a named variant on a selection with a traffic share, for a while.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub name: String,
    /// The model the selected neurons serve instead.
    pub variant: String,
    /// 1..=100.
    pub traffic_percent: u8,
    /// Which neurons (see [`Selector`]); empty or `all` means every neuron.
    #[serde(default)]
    pub selector: String,
    /// How long it runs before it reverts by itself: `90s`, `30m`, `2h` (1 s ..= 7 d).
    pub duration: String,
}

impl Experiment {
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        check_experiment(&self.name, self.traffic_percent)?;
        if self.variant.trim().is_empty() {
            return Err(("variant", "must be a non-empty string".into()));
        }
        Selector::parse(&self.selector).map_err(|e| ("selector", e))?;
        self.duration_ms().map(|_| ()).map_err(|e| ("duration", e))
    }

    pub fn duration_ms(&self) -> Result<Millis, String> {
        parse_duration(&self.duration)
    }
}

/// `90s`, `30m`, `2h`, `1d` (1 s ..= 7 d).
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration like 90s, 30m or 2h"))?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("'{text}' is not a duration like 90s, 30m or 2h")),
    };
    let ms = n.saturating_mul(unit_ms);
    if !(1000..=7 * 86_400_000).contains(&ms) {
        return Err(format!("'{text}' is not between 1s and 7d"));
    }
    Ok(ms)
}

/// Which neurons a rollout targets: comma-separated terms that must all hold. `zone=eu-west`,
/// `id=n-0001`, any label (`hw=gpu`, `model=bert-base`), or a bare id; empty or `all` = every one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selector {
    pub terms: Vec<(String, String)>,
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        let mut terms = Vec::new();
        if text.is_empty() || text == "all" {
            return Ok(Selector { terms });
        }
        for term in text.split(',') {
            let term = term.trim();
            let (key, value) = match term.split_once('=') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => ("id", term),
            };
            if key.is_empty() || value.is_empty() {
                return Err(format!(
                    "'{term}' is not a selector term (zone=eu-west, hw=gpu, id=n-0001)"
                ));
            }
            terms.push((key.to_string(), value.to_string()));
        }
        Ok(Selector { terms })
    }

    /// Does a neuron with this id, zone and labels match?
    pub fn matches(&self, id: &str, zone: &str, labels: &[(String, String)]) -> bool {
        self.terms.iter().all(|(k, v)| match k.as_str() {
            "id" => id == v,
            "zone" => zone == v,
            _ => labels.iter().any(|(lk, lv)| lk == k && lv == v),
        })
    }
}

/// How a rollout commits: a canary wave, then batches; at most `max_unavailable` neurons
/// applying at once; a health gate between waves and a watch window after the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WavePlan {
    /// Neurons in the first wave (0 = no canary).
    pub canary: u32,
    /// Neurons per later wave (0 = all the rest in one wave).
    pub batch_size: u32,
    /// Commits in flight at once within a wave (0 = the whole wave).
    pub max_unavailable: u32,
    /// Health gate after each wave; `None` = two heartbeat intervals.
    pub gate_ms: Option<Millis>,
    /// Watch window after the last wave; `None` = three heartbeat intervals.
    pub watch_ms: Option<Millis>,
}

impl Default for WavePlan {
    fn default() -> Self {
        WavePlan {
            canary: 1,
            batch_size: 0,
            max_unavailable: 0,
            gate_ms: None,
            watch_ms: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutKind {
    Config,
    Experiment,
    Rollback,
}

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutPhase {
    Preparing,
    Committing,
    Gate,
    Watching,
    /// An experiment serving its variant until its duration ends.
    Running,
    Reverting,
    /// Every target runs the new version.
    Committed,
    /// A NACK before the decision: nobody changed.
    Aborted,
    /// After the decision something failed: every touched neuron went back.
    RolledBack,
    /// An experiment ended (duration over or stopped) and reverted.
    Ended,
}

impl RolloutPhase {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RolloutPhase::Committed
                | RolloutPhase::Aborted
                | RolloutPhase::RolledBack
                | RolloutPhase::Ended
        )
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutPhase::Preparing => "preparing",
            RolloutPhase::Committing => "committing",
            RolloutPhase::Gate => "gate",
            RolloutPhase::Watching => "watching",
            RolloutPhase::Running => "running",
            RolloutPhase::Reverting => "reverting",
            RolloutPhase::Committed => "committed",
            RolloutPhase::Aborted => "aborted",
            RolloutPhase::RolledBack => "rolled_back",
            RolloutPhase::Ended => "ended",
        }
    }
}

/// One target's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStep {
    Staging,
    Staged,
    Nacked,
    Committing,
    Committed,
    CommitFailed,
    Reverting,
    Reverted,
    Aborted,
}

impl TargetStep {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetStep::Staging => "staging",
            TargetStep::Staged => "staged",
            TargetStep::Nacked => "nacked",
            TargetStep::Committing => "committing",
            TargetStep::Committed => "committed",
            TargetStep::CommitFailed => "commit_failed",
            TargetStep::Reverting => "reverting",
            TargetStep::Reverted => "reverted",
            TargetStep::Aborted => "aborted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetView {
    pub neuron: String,
    pub wave: u32,
    /// The version it ran before this rollout (what a revert goes back to).
    pub from: String,
    pub step: TargetStep,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutSummary {
    pub id: u64,
    pub kind: RolloutKind,
    pub version: String,
    /// The fleet version it expected to replace.
    pub replaces: String,
    pub selector: String,
    pub by: String,
    pub started: String,
    pub phase: RolloutPhase,
    pub targets: usize,
    pub waves: u32,
    /// The wave being committed (1-based; 0 before the first).
    pub wave: u32,
    /// Why it rolled back or aborted.
    pub cause: Option<String>,
    pub took_ms: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutView {
    pub summary: RolloutSummary,
    pub config: NeuronConfig,
    pub plan: WavePlan,
    pub targets: Vec<TargetView>,
}

/// How many neurons run each version: more than one line is drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionCount {
    pub version: String,
    pub neurons: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutsReport {
    /// The fleet's current config version (the last one committed to all its targets).
    pub head: String,
    pub versions: Vec<VersionCount>,
    pub rollouts: Vec<RolloutSummary>,
}
