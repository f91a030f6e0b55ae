//! What makes an agent a learner: invited to an FL round, it draws its own partition of the
//! shipped data set exactly as the run partitions it (or uses its own `--data FILE`), trains from
//! the global model it was sent with the FL library's local SGD, and answers with its update. A
//! `--byzantine` agent corrupts its update before sending it, for drills and tests.

use rand::SeedableRng;
use rand_pcg::Pcg64;

use crate::api::fl::{Attack, DatasetName};
use crate::api::fl_agent::{FlAnswer, FlInvite};
use crate::engine::fl::attack;
use crate::engine::fl::data::{self, Dataset, Partition};
use crate::engine::fl::model::{LocalSgd, LogReg};

/// The largest data file an agent reads (digits is 270 KB).
pub const MAX_DATA_BYTES: u64 = 64 * 1024 * 1024;

pub struct Learner {
    /// `--data FILE`, as parsed (standardised per run, for the run's split).
    own: Option<Dataset>,
    byzantine: Option<Attack>,
    /// The data trained on last: (run and place, its data).
    cached: Option<(String, Dataset)>,
    rng: Pcg64,
}

/// Read `--data FILE` (the bundled sets' CSV: label first, then the features).
pub fn read_data(path: &std::path::Path) -> Result<Dataset, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("--data {shown}: {e}"))?;
    if meta.len() > MAX_DATA_BYTES {
        return Err(format!(
            "--data {shown}: {} bytes is more than the {MAX_DATA_BYTES} an agent reads",
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("--data {shown}: {e}"))?;
    data::parse(&text).map_err(|e| format!("--data {shown}: {e}"))
}

impl Learner {
    pub fn new(own: Option<Dataset>, byzantine: Option<Attack>, seed: u64) -> Learner {
        let mut learner = Learner {
            own,
            byzantine: None,
            cached: None,
            rng: Pcg64::seed_from_u64(seed ^ 0xb42),
        };
        learner.set_attack(byzantine);
        learner
    }

    /// The attack this learner carries out (`--byzantine`, or a chaos fault).
    pub fn attack(&self) -> Option<Attack> {
        self.byzantine
    }

    pub fn set_attack(&mut self, attack: Option<Attack>) {
        self.byzantine = attack.filter(|a| *a != Attack::None);
    }

    /// This agent's data for the run `invite` belongs to (drawn once per run and place).
    fn data(&mut self, invite: &FlInvite) -> Result<&Dataset, String> {
        let key = format!(
            "{}/{}/{}/{:?}/{}/{}",
            invite.run, invite.dataset, invite.seed, invite.alpha, invite.clients, invite.client
        );
        if self.cached.as_ref().is_none_or(|(k, _)| *k != key) {
            let set = match &self.own {
                Some(own) => data::own_data(invite.dataset, invite.seed, own.clone())?,
                None => partition_of(invite)?,
            };
            self.cached = Some((key, set));
        }
        Ok(&self.cached.as_ref().expect("just cached").1)
    }

    /// Train one round; the answer to send (or why this invitation cannot be trained).
    pub fn train(&mut self, invite: &FlInvite) -> Result<FlAnswer, String> {
        let model = LogReg::for_data(self.data(invite)?);
        if invite.weights.len() != model.params() {
            return Err(format!(
                "the model sent has {} weights; {} takes {}",
                invite.weights.len(),
                invite.dataset,
                model.params()
            ));
        }
        let sgd = LocalSgd {
            epochs: (invite.epochs as usize).clamp(1, 100),
            batch: (invite.batch as usize).clamp(1, 4096),
            l2: invite.l2,
        };
        // The seed the run would have used for this client: a simulated neuron in this place
        // would send the same update.
        let seed = invite.seed ^ ((invite.round as u64) << 20) ^ invite.client as u64;
        let (lr, byzantine) = (invite.lr as f32, self.byzantine);
        let set = self.data(invite)?;
        let examples = set.len() as u64;
        let mut weights = model.train(&invite.weights, set, lr, sgd, seed);
        if let Some(attack) = byzantine {
            weights = self.corrupt(attack, &invite.weights, weights);
        }
        Ok(FlAnswer {
            run: invite.run.clone(),
            round: invite.round,
            examples,
            weights,
        })
    }

    /// A lone attacker: sign-flip, gaussian and scale as the simulation's attackers do; `lie`
    /// estimates the honest spread from its own step (μ ≈ its update, σ ≈ |its update − global|)
    /// and sends μ − σ, small enough to pass distance-based rules now and then.
    fn corrupt(&mut self, attack: Attack, global: &[f32], honest: Vec<f32>) -> Vec<f32> {
        if attack == Attack::Lie {
            return honest
                .iter()
                .zip(global)
                .map(|(u, g)| u - (u - g).abs())
                .collect();
        }
        let mut updates = [honest];
        attack::corrupt(attack, global, &mut updates, &[true], &mut self.rng);
        let [w] = updates;
        w
    }
}

/// The client's share of the shipped set, drawn as the run draws every client's.
fn partition_of(invite: &FlInvite) -> Result<Dataset, String> {
    if invite.clients == 0 || invite.client >= invite.clients || invite.clients > 100_000 {
        return Err(format!(
            "client {} of {} is not a place in a run",
            invite.client, invite.clients
        ));
    }
    let how = match invite.alpha {
        Some(a) if a.is_finite() && a > 0.0 => Partition::Dirichlet(a),
        Some(a) => return Err(format!("Dirichlet α {a} is not positive")),
        None => Partition::Iid,
    };
    let (train, _) = data::split(&data::load(invite.dataset), invite.seed);
    let mut parts = data::partition(&train, invite.clients as usize, how, invite.seed);
    Ok(parts.swap_remove(invite.client as usize))
}

/// The data set a `--data` file is meant for, by its width (what the agent checks at start).
pub fn dataset_of_width(width: usize) -> Option<DatasetName> {
    DatasetName::ALL
        .iter()
        .copied()
        .find(|&d| data::load(d).dim == width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fl::coordinator::{Federation, FlConfig};

    fn invite(client: u32, weights: Vec<f32>) -> FlInvite {
        let sgd = LocalSgd::default();
        FlInvite {
            run: "fl-1".into(),
            round: 3,
            dataset: DatasetName::Digits,
            seed: 7,
            alpha: Some(0.5),
            clients: 20,
            client,
            lr: 0.05,
            epochs: sgd.epochs as u32,
            batch: sgd.batch as u32,
            l2: sgd.l2,
            weights,
        }
    }

    #[test]
    fn an_agent_trains_the_update_a_simulated_neuron_in_its_place_would() {
        let fed = Federation::new(FlConfig {
            neurons: 20,
            seed: 7,
            partition: Partition::Dirichlet(0.5),
            ..FlConfig::default()
        });
        let global = fed.model.init();
        let expected = fed.model.train(
            &global,
            &fed.parts[4],
            0.05,
            LocalSgd::default(),
            7 ^ (3 << 20) ^ 4,
        );
        let answer = Learner::new(None, None, 1)
            .train(&invite(4, global))
            .unwrap();
        assert_eq!(answer.examples, fed.parts[4].len() as u64);
        assert_eq!(answer.weights, expected);
    }

    #[test]
    fn a_sign_flipping_agent_sends_the_opposite_step() {
        let global = vec![0.0; 650];
        let honest = Learner::new(None, None, 1)
            .train(&invite(2, global.clone()))
            .unwrap();
        let flipped = Learner::new(None, Some(Attack::SignFlip), 1)
            .train(&invite(2, global))
            .unwrap();
        let dot: f32 = honest
            .weights
            .iter()
            .zip(&flipped.weights)
            .map(|(a, b)| a * b)
            .sum();
        assert!(dot < 0.0, "the flipped update points the other way");
    }

    #[test]
    fn bad_invitations_and_data_are_refused_by_name() {
        let mut learner = Learner::new(None, None, 1);
        assert!(
            learner
                .train(&invite(2, vec![0.0; 3]))
                .unwrap_err()
                .contains("3 weights")
        );
        assert!(
            learner
                .train(&invite(25, vec![0.0; 650]))
                .unwrap_err()
                .contains("client 25")
        );
        let narrow = data::parse("1,0.5,0.5\n").unwrap();
        let err = data::own_data(DatasetName::Digits, 1, narrow).unwrap_err();
        assert!(err.contains("2 features"), "{err}");
        assert_eq!(dataset_of_width(30), Some(DatasetName::BreastCancer));
    }
}
