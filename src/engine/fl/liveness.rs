//! Which clients are alive this round. The coordinator asks a [`ClientLiveness`]; an engine-owned
//! run answers from the engine's view of the fleet (`flrun/worker.rs`: crashed, hung, offline or
//! partitioned neurons drop out) plus a seeded availability model (a spec's `dropout`).

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

pub trait ClientLiveness {
    /// One flag per client (same order as `neurons`), for `round`.
    fn alive(&mut self, round: u32, neurons: &[String]) -> Vec<bool>;

    /// Clients that turned Byzantine on their own (the chaos `byzantine` fault), asked right
    /// after `alive` for the same round. The simulation's chosen attackers come on top.
    fn byzantine(&mut self, neurons: &[String]) -> Vec<bool> {
        vec![false; neurons.len()]
    }

    /// Updates that arrived from outside the simulation since the last round (clients that
    /// fetched the model and trained on their own), taken once.
    fn external(&mut self) -> Vec<crate::api::fl::ClientUpdate> {
        Vec::new()
    }

    /// Someone asked the run to stop: the coordinator ends it after the current round.
    fn stopped(&self) -> bool {
        false
    }

    /// Which clients train in processes of their own (real agents): the coordinator invites
    /// them through [`ClientLiveness::train_remote`] instead of training on their behalf.
    fn remote(&self, neurons: &[String]) -> Vec<bool> {
        vec![false; neurons.len()]
    }

    /// Invite remote `clients` (indexes into the run's clients) to train round `round` from
    /// `global` at `lr`, and wait for their updates until the round's deadline: one entry per
    /// client, `None` for one that did not answer in time (it dropped out of the round).
    fn train_remote(
        &mut self,
        _round: u32,
        _lr: f64,
        _global: &[f32],
        clients: &[usize],
    ) -> Vec<Option<RemoteUpdate>> {
        vec![None; clients.len()]
    }
}

/// What a remote client sent back: the examples it trained on and its model.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteUpdate {
    pub examples: u64,
    pub weights: Vec<f32>,
}

/// Everyone, always (unit tests, benchmarks).
pub struct AllAlive;

impl ClientLiveness for AllAlive {
    fn alive(&mut self, _round: u32, neurons: &[String]) -> Vec<bool> {
        vec![true; neurons.len()]
    }
}

/// Each client independently unavailable with probability `p_drop` per round, seeded.
pub struct Availability {
    pub p_drop: f64,
    rng: Pcg64,
}

impl Availability {
    pub fn new(p_drop: f64, seed: u64) -> Self {
        Availability {
            p_drop: p_drop.clamp(0.0, 1.0),
            rng: Pcg64::seed_from_u64(seed ^ 0xa7a1),
        }
    }
}

impl ClientLiveness for Availability {
    fn alive(&mut self, _round: u32, neurons: &[String]) -> Vec<bool> {
        neurons
            .iter()
            .map(|_| !self.rng.random_bool(self.p_drop))
            .collect()
    }
}
