//! Engine-owned federated-learning runs: what a face asks for (`FlRunSpec`) and what it reads
//! back (a run's summary and its per-round history).

use serde::{Deserialize, Serialize};

use super::fl::{Attack, DatasetName, FlRound, Mode, Rule, RunSummary};

fn default_rounds() -> u32 {
    30
}
fn default_lr() -> f64 {
    0.05
}
fn default_beta() -> f64 {
    0.1
}
fn default_round_ms() -> u64 {
    500
}
fn default_alpha() -> Option<f64> {
    Some(0.5)
}
fn default_zones() -> usize {
    3
}
fn default_sample() -> f64 {
    1.0
}

/// `FlStart`'s config; every field has a default so `{}` starts a plain FedAvg run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlRunSpec {
    #[serde(default = "default_rule")]
    pub rule: Rule,
    #[serde(default = "default_attack")]
    pub attack: Attack,
    /// Share of the run's clients the simulation makes Byzantine (with `attack`).
    #[serde(default)]
    pub byzantine: f64,
    #[serde(default = "default_rounds")]
    pub rounds: u32,
    #[serde(default = "default_mode")]
    pub mode: Mode,
    #[serde(default = "default_dataset")]
    pub dataset: DatasetName,
    /// Dirichlet α of the non-IID split; `null` = IID.
    #[serde(default = "default_alpha")]
    pub alpha: Option<f64>,
    /// Assumed number of Byzantine clients (Krum family, Bulyan); default: the expected count.
    #[serde(default)]
    pub f: Option<usize>,
    #[serde(default = "default_beta")]
    pub beta: f64,
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Clients: the first N neurons of the fleet (0 = every neuron, mock neurons aside).
    #[serde(default)]
    pub neurons: usize,
    /// Engine time per round: the run waits for it, so the fleet's state moves between rounds
    /// (0 = as fast as the worker trains).
    #[serde(default = "default_round_ms")]
    pub round_ms: u64,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Multi-Krum: updates kept (default n − f).
    #[serde(default)]
    pub keep: Option<usize>,
    /// Zones of the hierarchical mode (clients are placed round-robin).
    #[serde(default = "default_zones")]
    pub zones: usize,
    /// Share of the alive clients sampled per round (sync, hierarchical).
    #[serde(default = "default_sample")]
    pub sample: f64,
    /// Per-round probability that a client is unavailable, on top of what the engine sees.
    #[serde(default)]
    pub dropout: f64,
    /// Batch-async: aggregate when this many updates arrived (0 = half the clients).
    #[serde(default)]
    pub async_k: usize,
    /// Keep each round's received updates for `Query::FlCapture` (the last
    /// [`CAPTURE_KEPT`] rounds), so a client can save them in the `fl replay` format.
    #[serde(default)]
    pub capture: bool,
}

/// Captured rounds a run keeps (a client fetches each one as its round ends).
pub const CAPTURE_KEPT: usize = 16;

fn default_rule() -> Rule {
    Rule::Mean
}
fn default_attack() -> Attack {
    Attack::None
}
fn default_mode() -> Mode {
    Mode::Sync
}
fn default_dataset() -> DatasetName {
    DatasetName::Digits
}

impl Default for FlRunSpec {
    fn default() -> Self {
        serde_json::from_str("{}").expect("every field has a default")
    }
}

impl FlRunSpec {
    /// Whether a neuron may train in an engine-owned run: every fleet member, not a stress
    /// test's mock neurons (which hold no data).
    pub fn takes_part(id: &str) -> bool {
        !id.starts_with(super::neuron::MOCK_NEURON_PREFIX)
    }

    /// How many of `eligible` fleet members the run will train on (the first `neurons`, or all).
    pub fn participants(&self, eligible: usize) -> usize {
        if self.neurons == 0 {
            eligible
        } else {
            self.neurons.min(eligible)
        }
    }

    /// Refuse nonsense before anything starts; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.byzantine) {
            return Err(format!(
                "byzantine must be in [0, 1], got {}",
                self.byzantine
            ));
        }
        if self.rounds == 0 || self.rounds > 10_000 {
            return Err(format!("rounds must be in 1..=10000, got {}", self.rounds));
        }
        if !(0.0..0.5).contains(&self.beta) {
            return Err(format!("beta must be in [0, 0.5), got {}", self.beta));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(format!("lr must be > 0, got {}", self.lr));
        }
        if self.alpha.is_some_and(|a| !(a.is_finite() && a > 0.0)) {
            return Err("alpha must be > 0".into());
        }
        if self.f.is_some_and(|f| f > 10_000) {
            return Err("f must be ≤ 10000".into());
        }
        if self.neurons > 10_000_000 {
            return Err(format!("neurons must be ≤ 10000000, got {}", self.neurons));
        }
        if !(0.0..=1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1], got {}", self.dropout));
        }
        if !(self.sample > 0.0 && self.sample <= 1.0) {
            return Err(format!("sample must be in (0, 1], got {}", self.sample));
        }
        if self.zones == 0 || self.zones > 1000 {
            return Err(format!("zones must be in 1..=1000, got {}", self.zones));
        }
        if self.async_k > 10_000_000 || self.keep.is_some_and(|k| k > 10_000_000) {
            return Err("async_k and keep must be ≤ 10000000".into());
        }
        if self.round_ms > 600_000 {
            return Err(format!("round_ms must be ≤ 600000, got {}", self.round_ms));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlRunState {
    Running,
    Finished,
    Stopped,
    /// The worker could not go on (e.g. the rule refused every round).
    Failed,
}

impl FlRunState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlRunState::Running => "running",
            FlRunState::Finished => "finished",
            FlRunState::Stopped => "stopped",
            FlRunState::Failed => "failed",
        }
    }
}

/// A run at a glance (`GET /api/v1/fl/runs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlRunView {
    pub id: String,
    pub state: FlRunState,
    pub spec: FlRunSpec,
    pub started_by: String,
    pub clients: u32,
    /// Neurons the simulation made Byzantine (chaos-faulted ones show in each round's exclusions).
    pub attackers: Vec<String>,
    /// Clients that are real agents, training in their own processes (the rest are simulated
    /// neurons the engine trains for).
    #[serde(default)]
    pub agents: Vec<String>,
    pub round: u32,
    pub rounds: u32,
    pub loss: Option<f64>,
    pub accuracy: Option<f64>,
    pub learning_rate: Option<f64>,
    pub convergence: String,
    pub final_accuracy: Option<f64>,
    pub converged_round: Option<u32>,
    pub diverged: bool,
    pub error: Option<String>,
}

/// The global model a client trains from (`Query::FlModel`): after round `round` (0: untrained).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlModelView {
    pub run: String,
    pub round: u32,
    pub dataset: DatasetName,
    pub weights: Vec<f32>,
}

/// One run with its history (`GET /api/v1/fl/runs/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlRunDetail {
    pub run: FlRunView,
    pub history: Vec<FlRound>,
    /// Once the run ended: its summary (`plexus fl run --json` prints it with `history` as its
    /// rounds; `rounds` here is empty).
    #[serde(default)]
    pub summary: Option<RunSummary>,
}
