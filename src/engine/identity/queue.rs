//! Identity requests waiting for the CA. Enrolments and handshakes cost signatures (tens of
//! microseconds each); a whole fleet asks within its first heartbeat interval, so the engine
//! answers a bounded number per step, oldest first, and keeps the rest here. One entry per
//! neuron: a repeat replaces the waiting request (the newest is what the neuron will accept)
//! and keeps its place, so the queue never holds more than the fleet.

use std::collections::{HashMap, VecDeque};

use crate::api::Millis;
use crate::api::wire::NeuronMessage;

/// Room kept for requests after a burst drains.
const RELEASE_ABOVE: usize = 1024;

/// A request taken off the queue, with when it first arrived.
#[derive(Debug)]
pub struct Waiting {
    pub idx: u32,
    pub since: Millis,
    pub message: NeuronMessage,
}

#[derive(Default)]
pub struct IdentityQueue {
    order: VecDeque<u32>,
    waiting: HashMap<u32, (Millis, NeuronMessage)>,
    /// The most requests waiting at once since [`IdentityQueue::take_peak`] last asked.
    peak: usize,
}

impl IdentityQueue {
    /// Queue `message` from neuron `idx`, received at `at`; false when it replaced one that was
    /// already waiting.
    pub fn push(&mut self, at: Millis, idx: u32, message: NeuronMessage) -> bool {
        match self.waiting.get_mut(&idx) {
            Some(entry) => {
                entry.1 = message;
                false
            }
            None => {
                self.waiting.insert(idx, (at, message));
                self.order.push_back(idx);
                self.peak = self.peak.max(self.waiting.len());
                true
            }
        }
    }

    /// Up to `budget` requests, oldest first.
    pub fn take(&mut self, budget: usize) -> Vec<Waiting> {
        let mut out = Vec::with_capacity(budget.min(self.order.len()));
        while out.len() < budget {
            let Some(idx) = self.order.pop_front() else {
                break;
            };
            if let Some((since, message)) = self.waiting.remove(&idx) {
                out.push(Waiting {
                    idx,
                    since,
                    message,
                });
            }
        }
        if self.order.is_empty() && self.waiting.capacity() > RELEASE_ABOVE {
            // A fleet's boot burst is over: give its room back (~27 MB at 100,000 neurons).
            self.waiting = HashMap::new();
            self.order = VecDeque::new();
        }
        out
    }

    /// Drop what neuron `idx` was waiting for (its slot was cleared or reused).
    pub fn forget(&mut self, idx: u32) {
        self.waiting.remove(&idx);
    }

    /// The most requests that waited at once since the last call (how big a burst was).
    pub fn take_peak(&mut self) -> usize {
        std::mem::take(&mut self.peak)
    }

    /// Whether neuron `idx` has a request waiting.
    pub fn holds(&self, idx: u32) -> bool {
        self.waiting.contains_key(&idx)
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_ack(nonce: u64) -> NeuronMessage {
        NeuronMessage::ProbeAck { nonce, auth: None }
    }

    fn nonce(m: &NeuronMessage) -> u64 {
        match m {
            NeuronMessage::ProbeAck { nonce, .. } => *nonce,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_budget_answers_the_oldest_first_and_keeps_the_rest() {
        let mut q = IdentityQueue::default();
        for i in 0..2_500u32 {
            assert!(q.push(u64::from(i), i, probe_ack(u64::from(i))));
        }
        let first = q.take(1_000);
        assert_eq!(first.len(), 1_000);
        assert_eq!(first[0].idx, 0);
        assert_eq!(first[999].idx, 999);
        assert_eq!(q.len(), 1_500);
        assert_eq!(q.take_peak(), 2_500, "the burst's size");
        assert_eq!(q.take_peak(), 0, "asked once");
        let second = q.take(1_000);
        assert_eq!(second.len(), 1_000);
        assert_eq!(second[0].since, 1_000, "the oldest left goes next");
        let last = q.take(1_000);
        assert_eq!(last.len(), 500, "only what is left");
        assert_eq!(last[499].idx, 2_499);
        assert!(q.is_empty());
        assert!(q.take(1_000).is_empty());
    }

    #[test]
    fn a_repeat_replaces_the_waiting_request_and_keeps_its_place() {
        let mut q = IdentityQueue::default();
        q.push(10, 7, probe_ack(1));
        q.push(20, 8, probe_ack(2));
        assert!(!q.push(30, 7, probe_ack(3)), "a repeat, not a new entry");
        assert_eq!(q.len(), 2, "one entry per neuron, however often it asks");
        let got = q.take(1);
        assert_eq!(
            (got[0].idx, got[0].since),
            (7, 10),
            "its place and first arrival kept"
        );
        assert_eq!(
            nonce(&got[0].message),
            3,
            "the newest request is the one answered"
        );
        assert!(q.holds(8) && !q.holds(7));
        q.forget(8);
        assert!(!q.holds(8));
        assert!(q.take(5).is_empty());
    }

    #[test]
    fn a_drained_burst_gives_its_room_back() {
        let mut q = IdentityQueue::default();
        for i in 0..5_000u32 {
            q.push(0, i, probe_ack(u64::from(i)));
        }
        assert!(q.waiting.capacity() >= 5_000);
        q.take(4_000);
        assert!(q.waiting.capacity() >= 5_000, "still draining: kept");
        q.take(4_000);
        assert!(q.is_empty());
        assert!(
            q.waiting.capacity() <= RELEASE_ABOVE,
            "{}",
            q.waiting.capacity()
        );
    }
}
