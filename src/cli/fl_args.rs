//! `plexus fl …`: federated-learning runs and replay of captured rounds. `--neurons` and `--seed`
//! are the global flags.

use clap::{Args, Subcommand};
use std::path::PathBuf;

use crate::api::fl::{Attack, DatasetName, Mode, Rule};

#[derive(Debug, Subcommand)]
pub enum FlCommand {
    /// Train across the simulated fleet and print per-round loss, accuracy and exclusions.
    /// Exit 1 when the run diverged.
    Run(FlRunArgs),
    /// Re-aggregate a captured round (or any file in the capture format) and show which neurons
    /// were selected or excluded. Exit 2 on a malformed file.
    Replay(FlReplayArgs),
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Aggregation rule: mean, median, trimmed-mean, geomed, krum, multi-krum, bulyan.
    #[arg(long, default_value = "mean")]
    pub rule: Rule,
    /// Assumed Byzantine neurons per aggregation (default: --byzantine × participants; 0 for replay).
    #[arg(long)]
    pub f: Option<usize>,
    /// Trimmed fraction per end for trimmed-mean (0 ≤ beta < 0.5).
    #[arg(long, default_value_t = 0.1)]
    pub beta: f64,
    /// Multi-Krum: updates kept (default n − f).
    #[arg(long)]
    pub keep: Option<usize>,
}

#[derive(Debug, Args)]
pub struct FlRunArgs {
    #[command(flatten)]
    pub rule: RuleArgs,
    /// Rounds (streaming: checkpoints of 2,000 updates).
    #[arg(long, default_value_t = 50)]
    pub rounds: u32,
    /// Share of neurons that are Byzantine (0..=1).
    #[arg(long, default_value_t = 0.0)]
    pub byzantine: f64,
    /// Attack of the Byzantine neurons: sign-flip, gaussian, scale, lie.
    #[arg(long, default_value = "sign-flip")]
    pub attack: Attack,
    /// Orchestration: sync, async, streaming, hierarchical.
    #[arg(long, default_value = "sync")]
    pub mode: Mode,
    /// Zones of the hierarchical mode (neurons are placed round-robin).
    #[arg(long, default_value_t = 3)]
    pub zones: usize,
    /// Data set: digits or breast-cancer.
    #[arg(long, default_value = "digits")]
    pub dataset: DatasetName,
    /// Dirichlet α of the label skew; omit for an IID split.
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Local learning rate.
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// Share of alive neurons sampled per round.
    #[arg(long, default_value_t = 1.0)]
    pub sample: f64,
    /// Per-round probability that a neuron is unavailable (on top of injected --fault crashes).
    #[arg(long, default_value_t = 0.0)]
    pub dropout: f64,
    /// Batch-async: aggregate when K updates arrived (default half the fleet).
    #[arg(long, default_value_t = 0)]
    pub async_k: usize,
    /// Save each round's received updates as DIR/round-NNNN.json.
    #[arg(long, value_name = "DIR")]
    pub capture: Option<PathBuf>,
    /// Engine time per round: the fleet lives this long between rounds (default 5000 on the
    /// embedded engine, where it is virtual and costs nothing; 500 on a server).
    #[arg(long, value_name = "MS")]
    pub round_ms: Option<u64>,
}

#[derive(Debug, Args)]
pub struct FlReplayArgs {
    /// A capture file: {"updates":[{"neuron":"n-0001","examples":120,"weights":[...]}]}
    pub file: PathBuf,
    #[command(flatten)]
    pub rule: RuleArgs,
}
