//! The simulated fleet: many [`SimNeuron`]s in one process, driven by one timer queue (no
//! thread or timer per neuron, so 100,000 of them cost only their state).

use std::sync::Arc;

use super::keyforge::KeyForge;
use super::sim::SimNeuron;
use super::wake::WakeQueue;
use crate::api::wire::NeuronCommand;
use crate::api::{Fault, Millis};
use crate::engine::fleet::host::{FlBehaviour, NeuronHost, NeuronSpec, RawLogLine, Uplink};
use crate::engine::prefetch::prefetch_at;

pub const ZONES: [&str; 3] = ["eu-west", "us-east", "ap-south"];
const MODELS: [&str; 3] = ["resnet-50", "bert-base", "whisper-small"];

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub neurons: usize,
    pub heartbeat_ms: Millis,
    pub seed: u64,
    /// How long a restart takes, uniformly in this range.
    pub restart_ms: (Millis, Millis),
    /// Neurons wait for keys made ahead on the forge thread (reproducible: virtual time) rather
    /// than ask later when theirs is not ready (real time: the engine never waits).
    pub wait_for_keys: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            neurons: 24,
            heartbeat_ms: 1000,
            seed: 1,
            restart_ms: (600, 1400),
            wait_for_keys: true,
        }
    }
}

/// `n-0001` … with at least four digits.
pub fn neuron_id(index: usize) -> String {
    format!("n-{:04}", index + 1)
}

/// When neuron `index` of `count` first beats: the fleet starts spread evenly over one interval,
/// in index order, so the engine walks each neuron's state (here and in its own tables) in the
/// order it is laid out in memory rather than at random (at 100,000 neurons a random walk is a
/// cache miss per table per heartbeat).
fn first_beat(index: usize, count: usize, interval_ms: Millis) -> Millis {
    (index as u128 * interval_ms as u128 / count.max(1) as u128) as Millis
}

pub struct SimFleet {
    neurons: Vec<SimNeuron>,
    wake: WakeQueue,
}

impl SimFleet {
    pub fn new(cfg: &SimConfig) -> Self {
        let version: Arc<str> = "v1".into();
        let mut fleet = SimFleet {
            neurons: Vec::with_capacity(cfg.neurons),
            wake: WakeQueue::default(),
        };
        for i in 0..cfg.neurons {
            let id = neuron_id(i);
            let neuron = SimNeuron::new(
                i as u32,
                &id,
                cfg.seed,
                cfg.heartbeat_ms,
                version.clone(),
                cfg.restart_ms,
                first_beat(i, cfg.neurons, cfg.heartbeat_ms),
            );
            fleet.schedule(&neuron);
            fleet.neurons.push(neuron);
        }
        // Keys are made off the engine's thread, in the order the neurons will first ask.
        let forge = KeyForge::start(cfg.wait_for_keys);
        let mut first: Vec<(Millis, u32)> = fleet
            .neurons
            .iter()
            .map(|n| (n.next_wake.unwrap_or(Millis::MAX), n.index))
            .collect();
        first.sort_unstable();
        for (_, idx) in first {
            fleet.neurons[idx as usize].forge_keys_ahead(&forge);
        }
        fleet
    }

    fn schedule(&mut self, neuron: &SimNeuron) {
        if let Some(at) = neuron.next_wake {
            self.wake.push(at, neuron.index);
        }
    }

    fn with_neuron(&mut self, idx: u32, act: impl FnOnce(&mut SimNeuron)) {
        let Some(neuron) = self.neurons.get_mut(idx as usize) else {
            return;
        };
        let before = neuron.next_wake;
        act(neuron);
        let after = neuron.next_wake;
        if after != before
            && let Some(at) = after
        {
            self.wake.push(at, idx);
        }
    }

    pub fn neuron(&self, idx: u32) -> Option<&SimNeuron> {
        self.neurons.get(idx as usize)
    }

    /// Neuron `i` as registered: its placement follows from its index (made when asked rather
    /// than kept: ~350 bytes a neuron the engine holds anyway).
    fn spec(i: usize, neuron: &SimNeuron) -> NeuronSpec {
        NeuronSpec {
            id: neuron.id.to_string(),
            zone: ZONES[i % ZONES.len()].into(),
            labels: vec![
                (
                    "model".into(),
                    MODELS[(i / ZONES.len()) % MODELS.len()].into(),
                ),
                (
                    "hw".into(),
                    if i.is_multiple_of(4) { "gpu" } else { "cpu" }.into(),
                ),
            ],
            config_version: neuron.config_version().to_string(),
        }
    }
}

impl NeuronHost for SimFleet {
    fn roster(&self) -> Vec<NeuronSpec> {
        self.neurons
            .iter()
            .enumerate()
            .map(|(i, n)| Self::spec(i, n))
            .collect()
    }

    fn count(&self) -> usize {
        self.neurons.len()
    }

    fn step(&mut self, now: Millis, out: &mut Vec<Uplink>) {
        while let Some((at, idx)) = self.wake.pop_due(now) {
            if let Some(next) = self.wake.peek_ready() {
                prefetch_at(&self.neurons, next as usize);
            }
            let neuron = &mut self.neurons[idx as usize];
            // Entries superseded by a reschedule (restart, hang, crash) are skipped.
            if neuron.next_wake != Some(at) {
                continue;
            }
            neuron.wake(at, now, out);
            if let Some(next) = neuron.next_wake {
                self.wake.push(next, idx);
            }
        }
    }

    fn deliver(&mut self, at: Millis, to: u32, command: NeuronCommand, out: &mut Vec<Uplink>) {
        self.with_neuron(to, |n| n.deliver(at, command, out));
    }

    fn inject(&mut self, at: Millis, to: u32, fault: Fault) {
        self.with_neuron(to, |n| n.inject(at, fault));
    }

    fn clear_faults(&mut self, at: Millis, to: u32) {
        self.with_neuron(to, |n| n.clear_faults(at));
    }

    fn fl_behaviour(&self, of: u32) -> FlBehaviour {
        self.neurons.get(of as usize).map_or(
            FlBehaviour {
                answers: false,
                byzantine: false,
            },
            SimNeuron::fl_behaviour,
        )
    }

    fn adopt_config(&mut self, to: u32, version: &str) {
        if let Some(n) = self.neurons.get_mut(to as usize) {
            n.adopt_config(version);
        }
    }

    fn logs(&self, of: u32, tail: usize) -> Vec<RawLogLine> {
        self.neurons
            .get(of as usize)
            .map(|n| n.logs(tail))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::wire::NeuronMessage;
    use crate::engine::identity::IdentityBook;

    fn fleet(n: usize) -> SimFleet {
        SimFleet::new(&SimConfig {
            neurons: n,
            heartbeat_ms: 500,
            ..SimConfig::default()
        })
    }

    /// Steps the fleet and plays the engine's CA: enrolments and handshakes are answered, so
    /// what reaches `out` is what the neurons send once they hold a session.
    fn step(f: &mut SimFleet, ca: &mut IdentityBook, t: Millis, out: &mut Vec<Uplink>) {
        let mut batch = Vec::new();
        f.step(t, &mut batch);
        while !batch.is_empty() {
            let mut more = Vec::new();
            for up in batch.drain(..) {
                let id = neuron_id(up.from as usize);
                let reply = match &up.message {
                    NeuronMessage::Enroll(e) => {
                        ca.enroll(up.from, &id, e, t as i64, false).map(|i| i.reply)
                    }
                    NeuronMessage::Handshake(h) => ca.handshake(up.from, &id, h, t as i64, false),
                    _ => {
                        out.push(up);
                        continue;
                    }
                };
                f.deliver(t, up.from, reply.expect("verifies"), &mut more);
                f.step(t, &mut more);
            }
            batch = more;
        }
    }

    fn ca(n: u32) -> IdentityBook {
        let mut book = IdentityBook::new(crate::engine::identity::ca::Ca::from_seed(1), 600_000);
        (0..n).for_each(|i| book.open_enrolment(i));
        book
    }

    fn heartbeats(out: &[Uplink]) -> usize {
        out.iter()
            .filter(|u| matches!(u.message, NeuronMessage::Heartbeat(_)))
            .count()
    }

    #[test]
    fn the_fleet_starts_spread_over_one_interval_in_index_order() {
        let starts: Vec<Millis> = (0..10).map(|i| first_beat(i, 10, 1000)).collect();
        assert_eq!(starts, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
        let big: Vec<Millis> = (0..100_000).map(|i| first_beat(i, 100_000, 1000)).collect();
        assert!(big.windows(2).all(|w| w[0] <= w[1]) && *big.last().unwrap() < 1000);
    }

    #[test]
    fn every_neuron_beats_once_per_interval() {
        let mut f = fleet(10);
        let mut ca = ca(10);
        let mut out = Vec::new();
        for t in (0..=10_000).step_by(50) {
            step(&mut f, &mut ca, t, &mut out);
        }
        // 10 s at 500 ms: 20 each, ±1 for phase and send jitter.
        let n = heartbeats(&out);
        assert!((190..=210).contains(&n), "{n} heartbeats");
    }

    #[test]
    fn a_crashed_neuron_is_silent_until_restarted_and_a_crash_loop_stays_down() {
        let mut f = fleet(2);
        let mut ca = ca(2);
        let mut out = Vec::new();
        for t in (0..=1000).step_by(50) {
            step(&mut f, &mut ca, t, &mut out);
        }
        f.inject(1000, 0, Fault::Crash { persistent: false });
        f.inject(1000, 1, Fault::Crash { persistent: true });
        out.clear();
        for t in (1000..=5000).step_by(50) {
            step(&mut f, &mut ca, t, &mut out);
        }
        assert_eq!(heartbeats(&out), 0);
        f.deliver(5000, 0, NeuronCommand::Restart, &mut out);
        f.deliver(5000, 1, NeuronCommand::Restart, &mut out);
        for t in (5000..=8000).step_by(50) {
            step(&mut f, &mut ca, t, &mut out);
        }
        assert!(
            out.iter().all(|u| u.from == 0),
            "the crash loop never beats"
        );
        assert!(heartbeats(&out) >= 3);
    }

    #[test]
    fn a_hung_neuron_answers_no_probe() {
        let mut f = fleet(1);
        let mut ca = ca(1);
        let mut out = Vec::new();
        for t in (0..=1000).step_by(50) {
            step(&mut f, &mut ca, t, &mut out);
        }
        out.clear();
        f.inject(1000, 0, Fault::Hang);
        f.deliver(1010, 0, NeuronCommand::Probe { nonce: 7 }, &mut out);
        assert!(out.is_empty());
        f.clear_faults(1020, 0);
        f.deliver(1030, 0, NeuronCommand::Probe { nonce: 8 }, &mut out);
        assert!(matches!(
            out[0].message,
            NeuronMessage::ProbeAck {
                nonce: 8,
                auth: Some(_)
            }
        ));
    }
}
