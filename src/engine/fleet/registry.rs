//! Every neuron the engine tracks, by dense index, with per-state counts kept incrementally and
//! one timer per neuron in a flat array (a scan of 100,000 timers is a few microseconds).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::detector::NEVER;
use super::tracked::{HistoryEntry, TrackedNeuron};
use crate::api::{Millis, NeuronState, StateCounts};

#[derive(Default)]
pub struct Registry {
    pub neurons: Vec<TrackedNeuron>,
    /// When each neuron's detector timer fires ([`NEVER`] for none).
    pub timers: Vec<Millis>,
    index: HashMap<Arc<str>, u32>,
    /// Per state, fleet members only (a stress test's mock neurons are not counted).
    counts: [u64; NeuronState::ALL.len()],
    removed: usize,
    /// Live mock neurons.
    mocks: usize,
    /// Zones, kinds and label sets, one copy of each (a simulated fleet of 100,000 has three
    /// zones and six label sets: ~100 bytes a neuron saved).
    names: HashSet<Arc<str>>,
    label_sets: HashSet<Arc<[(String, String)]>>,
}

/// The one shared copy of `value` in `set`.
fn intern<T: ?Sized + Eq + std::hash::Hash>(set: &mut HashSet<Arc<T>>, value: &Arc<T>) -> Arc<T> {
    match set.get(&**value) {
        Some(shared) => shared.clone(),
        None => {
            set.insert(value.clone());
            value.clone()
        }
    }
}

fn slot(state: NeuronState) -> usize {
    state as usize
}

impl Registry {
    /// Room for `more` neurons (a fleet registered at once: no doubling, no spare half).
    pub fn reserve(&mut self, more: usize) {
        self.neurons.reserve_exact(more);
        self.timers.reserve_exact(more);
        self.index.reserve(more);
    }

    pub fn add(&mut self, mut neuron: TrackedNeuron, timer: Millis) -> u32 {
        let idx = self.neurons.len() as u32;
        neuron.zone = intern(&mut self.names, &neuron.zone);
        neuron.kind = intern(&mut self.names, &neuron.kind);
        neuron.labels = intern(&mut self.label_sets, &neuron.labels);
        if neuron.mock {
            self.mocks += 1;
        } else {
            self.counts[slot(neuron.state)] += 1;
        }
        self.index.insert(neuron.id.clone(), idx);
        self.neurons.push(neuron);
        self.timers.push(timer);
        idx
    }

    pub fn find(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Slots, tombstones included (the range of valid indexes).
    pub fn len(&self) -> usize {
        self.neurons.len()
    }

    /// Neurons not removed.
    pub fn live(&self) -> usize {
        self.neurons.len() - self.removed
    }

    /// Fleet members: live neurons that are not a stress test's mocks.
    pub fn members(&self) -> usize {
        self.live() - self.mocks
    }

    /// Indexes of the neurons not removed.
    pub fn live_indexes(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.neurons.len() as u32).filter(|i| !self.neurons[*i as usize].removed)
    }

    /// Forget a neuron: out of the index, the counts and the timers; its slot stays a tombstone.
    pub fn remove(&mut self, idx: u32) -> bool {
        let Some(n) = self.neurons.get_mut(idx as usize).filter(|n| !n.removed) else {
            return false;
        };
        n.removed = true;
        if n.mock {
            self.mocks -= 1;
        } else {
            self.counts[slot(n.state)] -= 1;
        }
        self.index.remove(&n.id);
        self.timers[idx as usize] = NEVER;
        self.removed += 1;
        true
    }

    pub fn is_empty(&self) -> bool {
        self.neurons.is_empty()
    }

    pub fn count(&self, state: NeuronState) -> u64 {
        self.counts[slot(state)]
    }

    /// Move a neuron to `to`; returns the old state if it changed.
    pub fn set_state(
        &mut self,
        idx: u32,
        to: NeuronState,
        at: Millis,
        reason: &str,
    ) -> Option<NeuronState> {
        let n = &mut self.neurons[idx as usize];
        let from = n.state;
        if from == to || n.removed {
            return None;
        }
        if !n.mock {
            self.counts[slot(from)] -= 1;
            self.counts[slot(to)] += 1;
        }
        n.state = to;
        n.push_history(HistoryEntry {
            at,
            from,
            to,
            reason: reason.to_string(),
        });
        Some(from)
    }

    pub fn state_counts(&self) -> StateCounts {
        StateCounts {
            total: self.members() as u64,
            pending: self.count(NeuronState::Pending),
            healthy: self.count(NeuronState::Healthy),
            suspect: self.count(NeuronState::Suspect),
            offline: self.count(NeuronState::Offline),
            degraded: self.count(NeuronState::Degraded),
            recovering: self.count(NeuronState::Recovering),
            config_failed: self.count(NeuronState::ConfigFailed),
            mock: self.mocks as u64,
        }
    }

    /// Indexes whose timer is due at `now`.
    pub fn due(&self, now: Millis, out: &mut Vec<u32>) {
        out.extend(
            self.timers
                .iter()
                .enumerate()
                .filter(|(_, t)| **t != NEVER && **t <= now)
                .map(|(i, _)| i as u32),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fleet::host::NeuronSpec;

    fn neuron(id: &str, zone: &str, hw: &str) -> TrackedNeuron {
        let spec = NeuronSpec {
            id: id.into(),
            zone: zone.into(),
            labels: vec![("hw".into(), hw.into())],
            config_version: "v1".into(),
        };
        TrackedNeuron::new(spec, "simulated", 0, 1000, 8)
    }

    #[test]
    fn neurons_alike_share_one_copy_of_zone_kind_and_labels() {
        let mut r = Registry::default();
        r.reserve(3);
        let a = r.add(neuron("n-1", "eu-west", "gpu"), 0) as usize;
        let b = r.add(neuron("n-2", "eu-west", "gpu"), 0) as usize;
        let c = r.add(neuron("n-3", "us-east", "cpu"), 0) as usize;
        let (na, nb, nc) = (&r.neurons[a], &r.neurons[b], &r.neurons[c]);
        assert!(Arc::ptr_eq(&na.zone, &nb.zone) && Arc::ptr_eq(&na.kind, &nc.kind));
        assert!(Arc::ptr_eq(&na.labels, &nb.labels));
        assert!(!Arc::ptr_eq(&na.labels, &nc.labels));
        assert_eq!((&*nc.zone, &nc.labels[0].1[..]), ("us-east", "cpu"));
        assert_eq!(r.find("n-3"), Some(c as u32));
    }
}
