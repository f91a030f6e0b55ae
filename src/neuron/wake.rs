//! When each simulated neuron next acts: a calendar of one-millisecond slots.
//!
//! A binary heap of 100,000 wake-ups costs a sift through 17 levels per heartbeat, most of it
//! cache misses. Wake-ups here are mostly one interval ahead and times are whole milliseconds,
//! so a ring of slots (one per millisecond over the next `SLOTS` ms) files each in O(1); the
//! few further out wait in a heap and move into the ring as it turns. Entries come out in the
//! order a heap would give them: by time, then by neuron index.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::api::Millis;

/// Milliseconds the ring covers (a power of two).
const SLOTS: usize = 4096;
const MASK: u64 = SLOTS as u64 - 1;

pub struct WakeQueue {
    /// Slot `t & MASK` holds the neurons due at `t`, for `cursor <= t < cursor + SLOTS`.
    slots: Vec<Vec<u32>>,
    in_slots: usize,
    /// The first millisecond whose slot has not been taken yet.
    cursor: Millis,
    /// Due now, in reverse order (the next one last): a taken slot, and anything filed for a
    /// time already passed.
    ready: Vec<(Millis, u32)>,
    later: BinaryHeap<Reverse<(Millis, u32)>>,
}

impl Default for WakeQueue {
    fn default() -> Self {
        WakeQueue {
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            in_slots: 0,
            cursor: 0,
            ready: Vec::new(),
            later: BinaryHeap::new(),
        }
    }
}

impl WakeQueue {
    pub fn push(&mut self, at: Millis, neuron: u32) {
        if at < self.cursor {
            let entry = (at, neuron);
            let pos = self.ready.partition_point(|e| *e > entry);
            self.ready.insert(pos, entry);
        } else if at - self.cursor < SLOTS as u64 {
            self.slots[(at & MASK) as usize].push(neuron);
            self.in_slots += 1;
        } else {
            self.later.push(Reverse((at, neuron)));
        }
    }

    /// The next wake-up due by `now`, earliest first.
    pub fn pop_due(&mut self, now: Millis) -> Option<(Millis, u32)> {
        loop {
            if let Some(&(at, neuron)) = self.ready.last()
                && at <= now
            {
                self.ready.pop();
                return Some((at, neuron));
            }
            if self.cursor > now || !self.ready.is_empty() {
                return None;
            }
            if self.in_slots == 0 {
                // Nothing in the ring: jump to the next time anything is due.
                match self.later.peek() {
                    Some(Reverse((at, _))) if *at <= now => self.cursor = *at,
                    _ => {
                        self.cursor = now + 1;
                        self.refill();
                        return None;
                    }
                }
                self.refill();
            }
            self.take_slot();
        }
    }

    /// The neuron that comes next if it is already due (to load its state ahead).
    pub fn peek_ready(&self) -> Option<u32> {
        self.ready.last().map(|e| e.1)
    }

    /// Move the slot at the cursor into `ready` and turn the ring one millisecond.
    fn take_slot(&mut self) {
        let at = self.cursor;
        let slot = &mut self.slots[(at & MASK) as usize];
        if !slot.is_empty() {
            self.in_slots -= slot.len();
            slot.sort_unstable_by(|a, b| b.cmp(a));
            self.ready.extend(slot.drain(..).map(|n| (at, n)));
        }
        self.cursor += 1;
        self.refill();
    }

    /// File the wake-ups from `later` that the ring now covers.
    fn refill(&mut self) {
        while let Some(&Reverse((at, neuron))) = self.later.peek() {
            if at - self.cursor.min(at) >= SLOTS as u64 {
                break;
            }
            self.later.pop();
            self.push(at, neuron);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        /// File a wake-up this far from the last `now` (negative: already passed).
        Push(i64, u32),
        /// Advance `now` by this much and take everything due.
        Drain(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (-50i64..10_000, 0u32..64).prop_map(|(d, n)| Op::Push(d, n)),
            1 => (0u64..3_000).prop_map(Op::Drain),
        ]
    }

    proptest! {
        /// Whatever is filed, it comes out when and in the order a binary heap would give it.
        #[test]
        fn it_pops_what_a_heap_pops(ops in proptest::collection::vec(op(), 1..200)) {
            let mut queue = WakeQueue::default();
            let mut heap = BinaryHeap::new();
            let mut now: Millis = 100;
            for op in ops {
                match op {
                    Op::Push(delta, neuron) => {
                        let at = now.saturating_add_signed(delta);
                        queue.push(at, neuron);
                        heap.push(Reverse((at, neuron)));
                    }
                    Op::Drain(step) => {
                        now += step;
                        let mut expected = Vec::new();
                        while let Some(&Reverse(e)) = heap.peek() {
                            if e.0 > now { break; }
                            heap.pop();
                            expected.push(e);
                        }
                        let got: Vec<_> = std::iter::from_fn(|| queue.pop_due(now)).collect();
                        prop_assert_eq!(got, expected);
                    }
                }
            }
        }
    }

    #[test]
    fn what_is_filed_while_draining_comes_out_in_order() {
        let mut queue = WakeQueue::default();
        queue.push(10, 5);
        queue.push(10, 9);
        assert_eq!(queue.pop_due(10), Some((10, 5)));
        // Rescheduled for the moment being drained, before one still waiting.
        queue.push(10, 7);
        queue.push(4_000_000, 1);
        assert_eq!(queue.pop_due(10), Some((10, 7)));
        assert_eq!(queue.pop_due(10), Some((10, 9)));
        assert_eq!(queue.pop_due(10), None);
        assert_eq!(queue.pop_due(3_999_999), None);
        assert_eq!(queue.pop_due(4_000_000), Some((4_000_000, 1)));
    }
}
