//! Which clients are alive this round. The coordinator asks a [`ClientLiveness`]; the CLI derives it
//! from the simulated fleet (crashed or partitioned neurons drop out) plus a seeded availability
//! model, and the engine can later wire its real failure detector in the same place.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use crate::api::{Fault, NeuronState};
use crate::engine::config::LinkConfig;
use crate::engine::testkit::SimRun;

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

/// The simulated fleet on a fake clock, advanced one round's worth of time per round; a neuron
/// takes part only while the engine sees it healthy. Faults (e.g. `n-0003=crash`) are injected
/// at the start, so a crash makes it drop out until the engine's recovery brings it back.
pub struct FleetLiveness {
    sim: SimRun,
    round_ms: u64,
    availability: Availability,
}

impl FleetLiveness {
    pub fn new(
        neurons: usize,
        seed: u64,
        faults: &[(String, Fault)],
        round_ms: u64,
        p_drop: f64,
    ) -> Self {
        let mut sim = SimRun::new(neurons, 1000, LinkConfig::default(), seed);
        // Let the first heartbeats arrive so every healthy neuron is known healthy.
        sim.run_for(3000);
        for (id, fault) in faults {
            if sim.core.registry.find(id).is_some() {
                sim.inject(id, fault.clone());
            }
        }
        FleetLiveness {
            sim,
            round_ms,
            availability: Availability::new(p_drop, seed),
        }
    }
}

impl ClientLiveness for FleetLiveness {
    fn alive(&mut self, round: u32, neurons: &[String]) -> Vec<bool> {
        self.sim.run_for(self.round_ms);
        let available = self.availability.alive(round, neurons);
        neurons
            .iter()
            .zip(available)
            .map(|(id, up)| {
                up && self
                    .sim
                    .core
                    .registry
                    .find(id)
                    .is_none_or(|_| self.sim.state(id) == NeuronState::Healthy)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crashed_neuron_drops_out() {
        let ids: Vec<String> = (1..=6).map(|i| format!("n-{i:04}")).collect();
        let mut live = FleetLiveness::new(
            6,
            1,
            &[("n-0002".into(), Fault::Crash { persistent: true })],
            5000,
            0.0,
        );
        let alive = live.alive(1, &ids);
        assert!(!alive[1], "{alive:?}");
        assert!(alive[0] && alive[2]);
    }
}
