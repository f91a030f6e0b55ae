//! Federated-learning types printed as JSON: the capture/replay file, aggregation verdicts, round
//! reports and run summaries. Names on the command line parse here (`FromStr`) so every face agrees.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One neuron's update as received by the coordinator (capture file and replay input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientUpdate {
    pub neuron: String,
    pub examples: u64,
    pub weights: Vec<f32>,
}

/// The capture/replay file: `{"updates":[{"neuron":"n-0001","examples":120,"weights":[...]}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateBatch {
    pub updates: Vec<ClientUpdate>,
}

macro_rules! names {
    ($(#[$doc:meta])* $ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $ty { $(#[serde(rename = $name)] $variant),+ }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $ty {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.name() == text).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
                    format!("unknown {} '{text}' (one of: {})", stringify!($ty), known.join(", "))
                })
            }
        }
    };
}

names!(
    /// Aggregation rules.
    Rule { Mean = "mean", Median = "median", TrimmedMean = "trimmed-mean", GeoMed = "geomed",
           Krum = "krum", MultiKrum = "multi-krum", Bulyan = "bulyan" }
);
names!(
    /// Byzantine attacks of the simulation.
    Attack { None = "none", SignFlip = "sign-flip", Gaussian = "gaussian", Scale = "scale", Lie = "lie" }
);
names!(
    /// How rounds are orchestrated.
    Mode { Sync = "sync", Async = "async", Streaming = "streaming", Hierarchical = "hierarchical" }
);
names!(
    /// Bundled data sets.
    DatasetName { Digits = "digits", BreastCancer = "breast-cancer" }
);

/// What an aggregation did with one neuron's update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Used at full weight.
    Selected,
    /// Used, but with less than its fair share (geometric median) or flagged as far from the result.
    DownWeighted,
    /// Not used at all (Krum family, Bulyan).
    Excluded,
    /// Refused before aggregation: NaN/Inf or a wrong length (a Byzantine event).
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientVerdict {
    pub neuron: String,
    pub verdict: Verdict,
    /// The rule's score: Krum score for the Krum family, else L2 distance to the result.
    pub score: Option<f64>,
    /// Share of the result this update carried (0 when excluded or rejected).
    pub share: f64,
}

/// The outcome of one aggregation (replay output, capture investigation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregationReport {
    pub rule: Rule,
    pub updates: usize,
    pub dim: usize,
    pub selected: Vec<String>,
    pub excluded: Vec<String>,
    pub down_weighted: Vec<String>,
    pub rejected: Vec<String>,
    pub clients: Vec<ClientVerdict>,
}

/// `plexus fl replay --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayOutput {
    pub file: String,
    pub f: usize,
    pub beta: f64,
    pub report: AggregationReport,
    pub weights: Vec<f32>,
}

/// Precision and recall of the exclusions against the known attackers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub true_positives: u32,
    pub false_positives: u32,
    pub false_negatives: u32,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

/// One round (or one streaming checkpoint): what `plexus fl run --json` prints per round and
/// what an engine-owned run's history holds (the same type for both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlRound {
    pub round: u32,
    pub loss: f64,
    pub accuracy: f64,
    pub learning_rate: f64,
    pub participants: u32,
    /// How many of `participants` were real agents that trained in their own processes.
    #[serde(default)]
    pub agents: u32,
    pub dropped: u32,
    pub excluded: Vec<String>,
    /// The rule's score for each of `excluded`, in the same order (`null` where it gives none).
    #[serde(default)]
    pub excluded_scores: Vec<Option<f64>>,
    pub down_weighted: Vec<String>,
    pub byzantine_events: u32,
    pub update_norm: f64,
    pub detection: Detection,
    /// `training`, or `converged (<criterion>, round N)` from the round the run converged on.
    #[serde(default)]
    pub convergence: String,
    /// The global model after the round (sync and hierarchical; engine runs serve it to
    /// clients that train on their own). Not printed, not kept in a run's history.
    #[serde(skip)]
    pub model: Vec<f32>,
}

impl FlRound {
    /// Each excluded neuron with the rule's score for it.
    pub fn excluded_with_scores(&self) -> impl Iterator<Item = (&str, Option<f64>)> {
        self.excluded
            .iter()
            .enumerate()
            .map(|(k, n)| (n.as_str(), self.excluded_scores.get(k).copied().flatten()))
    }
}

/// Traffic of a run; `wan` counts bytes that cross zones (to or from the global aggregator).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BytesMoved {
    pub total: u64,
    pub wan: u64,
    /// What the flat mode would have moved over the WAN for the same rounds.
    pub flat_wan: u64,
}

/// `plexus fl run --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub dataset: DatasetName,
    pub rule: Rule,
    pub mode: Mode,
    pub attack: Attack,
    pub neurons: u32,
    pub attackers: Vec<String>,
    pub seed: u64,
    pub rounds: Vec<FlRound>,
    pub final_accuracy: f64,
    pub final_loss: f64,
    pub converged_round: Option<u32>,
    pub converged_by: Option<String>,
    pub diverged: bool,
    pub detection: Detection,
    pub bytes: BytesMoved,
    /// Streaming mode: updates applied per second of wall time.
    pub updates_per_sec: Option<f64>,
}
