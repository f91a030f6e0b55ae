//! `plexus chaos …`: fault drills now, experiments from scenario files.

use clap::{Args, Subcommand};

use crate::api::chaos::{ChaosKind, Direction, Selector, parse_duration_ms};
use crate::api::identity::IdentityMode;

#[derive(Debug, Subcommand)]
pub enum ChaosCommand {
    /// Inject one fault outside any experiment (a drill); reverted after --for, or by `stop`.
    Inject(InjectArgs),
    /// Revert a fault now.
    Stop {
        /// The fault id printed by `inject` (c-1, …).
        id: String,
    },
    /// Faults held now and recently reverted.
    List,
    /// Run an experiment: a scenario file, or a shipped one by name (see `chaos scenarios`).
    /// Exit 1 when it deviated.
    Run {
        /// A TOML file or a shipped name (single-crash, zone-partition, …).
        scenario: String,
        /// Results directory (journal.json, report.md); default test-results/chaos-<id>/.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The scenarios shipped with plexus.
    Scenarios,
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    /// crash, hang, slow, partition, latency, packet-loss, byzantine, config-failure,
    /// analytics-failure, identity-failure.
    #[arg(value_parser = ChaosKind::parse)]
    pub kind: ChaosKind,
    /// Which neurons: ID, all, count:N, P%, zone:NAME, random:N[:SEED].
    #[arg(long, value_parser = Selector::parse)]
    pub target: Selector,
    /// How long before the engine reverts it (500ms, 30s, 2m); held until stopped when absent.
    #[arg(long = "for", value_parser = parse_duration_ms)]
    pub duration_ms: Option<u64>,
    /// latency: added one-way delay in ms.
    #[arg(long)]
    pub latency_ms: Option<f64>,
    /// latency: ± jitter in ms.
    #[arg(long)]
    pub jitter_ms: Option<f64>,
    /// packet-loss: share lost, 0..1.
    #[arg(long)]
    pub loss: Option<f64>,
    /// slow: slowdown factor.
    #[arg(long)]
    pub factor: Option<f64>,
    /// Network faults: both, up (neuron → engine) or down (engine → neuron).
    #[arg(long, value_parser = parse_direction)]
    pub direction: Option<Direction>,
    /// crash: a crash loop; slow/analytics/byzantine: survives restarts.
    #[arg(long)]
    pub persistent: bool,
    /// analytics-failure: send invalid numbers instead of nothing.
    #[arg(long)]
    pub garbage: bool,
    /// identity-failure: bad-signature (default), expired or unknown-ca.
    #[arg(long, value_parser = IdentityMode::parse)]
    pub mode: Option<IdentityMode>,
}

pub fn parse_direction(text: &str) -> Result<Direction, String> {
    match text {
        "both" => Ok(Direction::Both),
        "up" => Ok(Direction::Up),
        "down" => Ok(Direction::Down),
        _ => Err(format!("unknown direction '{text}' (both, up, down)")),
    }
}
