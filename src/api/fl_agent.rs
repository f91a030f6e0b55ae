//! Federated learning on real agents, on the wire: the engine invites an agent to a round
//! ([`FlInvite`], a command) and the agent answers with its update ([`FlAnswer`], a MAC'd
//! message). The invite carries everything the agent needs to draw its own partition of the
//! shipped data set exactly as the run partitions it (data set, split seed, IID or Dirichlet α,
//! the number of clients and its own place among them). A serving agent is sent each new global
//! model ([`ModelPush`]) to answer predictions with. See docs/fl.md.

use serde::{Deserialize, Serialize};

use super::fl::DatasetName;

/// Examples one update may claim (a weight in the average): more is refused as a lie.
pub const MAX_EXAMPLES: u64 = 10_000_000;
/// Weights one update may carry (the largest bundled model has 650).
pub const MAX_WEIGHTS: usize = 65_536;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlInvite {
    pub run: String,
    pub round: u32,
    pub dataset: DatasetName,
    /// The run's split and partition seed.
    pub seed: u64,
    /// Dirichlet α of the run's partition; `None` = IID.
    pub alpha: Option<f64>,
    /// Clients in the run, and this agent's place among them (its partition).
    pub clients: u32,
    pub client: u32,
    pub lr: f64,
    pub epochs: u32,
    pub batch: u32,
    pub l2: f32,
    /// The global model to train from.
    pub weights: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlAnswer {
    pub run: String,
    pub round: u32,
    /// Examples trained on (the update's weight in the average).
    pub examples: u64,
    pub weights: Vec<f32>,
}

impl FlAnswer {
    /// What makes an answer unusable whatever the round: no examples or implausibly many, a
    /// model of the wrong size, a non-finite weight.
    pub fn check(&self, model_len: usize) -> Result<(), String> {
        if self.examples == 0 || self.examples > MAX_EXAMPLES {
            return Err(format!("{} examples (1..={MAX_EXAMPLES})", self.examples));
        }
        if self.weights.len() != model_len {
            return Err(format!(
                "{} weights, the model has {model_len}",
                self.weights.len()
            ));
        }
        if let Some(i) = self.weights.iter().position(|w| !w.is_finite()) {
            return Err(format!("weight {i} is not finite"));
        }
        Ok(())
    }
}

/// The label a serving agent's registration carries: its prediction endpoint (`host:port`).
pub const SERVE_LABEL: &str = "serve";

/// A global model for a serving agent: from now on it answers predictions with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPush {
    /// `RUN.rROUND`, e.g. `fl-1.r12`.
    pub version: String,
    pub run: String,
    pub round: u32,
    pub dataset: DatasetName,
    /// The run's split seed: features are standardised with that split's train statistics.
    pub seed: u64,
    pub weights: Vec<f32>,
}

impl ModelPush {
    pub fn version_of(run: &str, round: u32) -> String {
        format!("{run}.r{round}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(examples: u64, weights: Vec<f32>) -> FlAnswer {
        FlAnswer {
            run: "fl-1".into(),
            round: 1,
            examples,
            weights,
        }
    }

    #[test]
    fn unusable_answers_are_named() {
        assert!(answer(10, vec![0.5; 4]).check(4).is_ok());
        assert!(
            answer(0, vec![0.5; 4])
                .check(4)
                .unwrap_err()
                .contains("examples")
        );
        assert!(answer(MAX_EXAMPLES + 1, vec![0.5; 4]).check(4).is_err());
        assert!(
            answer(10, vec![0.5; 3])
                .check(4)
                .unwrap_err()
                .contains("3 weights")
        );
        let err = answer(10, vec![0.5, f32::INFINITY, 0.0, 0.0])
            .check(4)
            .unwrap_err();
        assert!(err.contains("weight 1"), "{err}");
    }
}
