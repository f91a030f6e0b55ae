//! The simulated network between neurons and the engine: every message, both ways, is delayed by
//! latency ± jitter and may be lost. Chaos experiments impair it per neuron; the detector only ever
//! sees what arrives.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::config::LinkConfig;
use crate::api::Millis;
use crate::api::chaos::Direction;
use crate::api::wire::{NeuronCommand, NeuronMessage};

/// What travels on the link.
#[derive(Debug, Clone)]
pub enum Packet {
    Up(NeuronMessage),
    /// Up, from an agent whose report's MAC verified on arrival.
    Verified(NeuronMessage),
    Down(NeuronCommand),
}

/// A packet that arrived, with the neuron it came from or goes to.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub at: Millis,
    pub neuron: u32,
    pub packet: Packet,
}

/// A packet on its way: the heap orders these small keys (arrival time, then send order); the
/// packet itself waits in a slab slot, so the heap's sifting moves 24 bytes, not a message.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Millis,
    seq: u64,
    slot: u32,
}

/// Packets in flight by slot; freed slots are reused, so it holds at most the peak in flight.
#[derive(Default)]
struct Slab {
    slots: Vec<Option<(u32, Packet)>>,
    free: Vec<u32>,
}

impl Slab {
    fn put(&mut self, neuron: u32, packet: Packet) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some((neuron, packet));
                slot
            }
            None => {
                self.slots.push(Some((neuron, packet)));
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn take(&mut self, slot: u32) -> Option<(u32, Packet)> {
        let taken = self.slots.get_mut(slot as usize)?.take();
        self.free.push(slot);
        taken
    }
}

/// Counters of what the link did, for the overview and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub sent: u64,
    pub lost: u64,
    pub delivered: u64,
}

/// Slab slots beyond which a slab much larger than its traffic is compacted.
const COMPACT_ABOVE: usize = 4096;

pub struct Link {
    default: LinkConfig,
    /// Impairments per neuron: (neuron → engine, engine → neuron); `None` is the default link.
    per_neuron: HashMap<u32, (Option<LinkConfig>, Option<LinkConfig>)>,
    rng: Pcg64Mcg,
    queue: BinaryHeap<Reverse<InFlight>>,
    in_flight: Slab,
    seq: u64,
    stats: LinkStats,
    /// Packets sent since the last delivery: what one step needs room for.
    sent_since_delivery: usize,
    compactions: u64,
}

impl Link {
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        Link {
            default: config,
            per_neuron: HashMap::new(),
            rng: Pcg64Mcg::seed_from_u64(seed ^ 0x6c69_6e6b),
            queue: BinaryHeap::new(),
            in_flight: Slab::default(),
            seq: 0,
            stats: LinkStats::default(),
            sent_since_delivery: 0,
            compactions: 0,
        }
    }

    /// Override the link of one neuron (chaos: latency, loss, partition as loss = 1).
    pub fn impair(&mut self, neuron: u32, config: LinkConfig) {
        self.impair_direction(neuron, Direction::Both, config);
    }

    /// Override one or both directions of a neuron's link (a one-way partition cuts only one).
    pub fn impair_direction(&mut self, neuron: u32, direction: Direction, config: LinkConfig) {
        let entry = self.per_neuron.entry(neuron).or_default();
        if direction != Direction::Down {
            entry.0 = Some(config);
        }
        if direction != Direction::Up {
            entry.1 = Some(config);
        }
    }

    /// The link config of one direction of a neuron's link.
    pub fn config(&self, neuron: u32, up: bool) -> LinkConfig {
        self.per_neuron
            .get(&neuron)
            .and_then(|(u, d)| if up { *u } else { *d })
            .unwrap_or(self.default)
    }

    /// Whether one direction of a neuron's link is overridden (a real agent's messages pass
    /// through the simulated link only then: otherwise its real network is the whole link).
    pub fn is_impaired(&self, neuron: u32, up: bool) -> bool {
        self.per_neuron
            .get(&neuron)
            .is_some_and(|(u, d)| if up { u.is_some() } else { d.is_some() })
    }

    pub fn default_config(&self) -> LinkConfig {
        self.default
    }

    pub fn restore(&mut self, neuron: u32) {
        self.per_neuron.remove(&neuron);
    }

    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Put a packet on the wire at `sent_at`; it arrives later, or never.
    pub fn send(&mut self, sent_at: Millis, neuron: u32, packet: Packet) {
        let cfg = self.config(neuron, !matches!(packet, Packet::Down(_)));
        self.stats.sent += 1;
        self.sent_since_delivery += 1;
        if cfg.loss > 0.0 && self.rng.random::<f64>() < cfg.loss {
            self.stats.lost += 1;
            return;
        }
        let jitter = if cfg.jitter_ms > 0.0 {
            self.rng.random_range(-cfg.jitter_ms..=cfg.jitter_ms)
        } else {
            0.0
        };
        let delay = (cfg.latency_ms + jitter).max(0.0).round() as Millis;
        self.seq += 1;
        let slot = self.in_flight.put(neuron, packet);
        self.queue.push(Reverse(InFlight {
            at: sent_at.saturating_add(delay),
            seq: self.seq,
            slot,
        }));
    }

    /// Everything that has arrived by `now`, in arrival order.
    pub fn deliver_due(&mut self, now: Millis, out: &mut Vec<Arrival>) {
        while let Some(Reverse(head)) = self.queue.peek() {
            if head.at > now {
                break;
            }
            let Some(Reverse(head)) = self.queue.pop() else {
                break;
            };
            let Some((neuron, packet)) = self.in_flight.take(head.slot) else {
                continue;
            };
            self.stats.delivered += 1;
            out.push(Arrival {
                at: head.at,
                neuron,
                packet,
            });
        }
        let needed = self.queue.len().max(self.sent_since_delivery);
        self.sent_since_delivery = 0;
        if self.in_flight.slots.len() > COMPACT_ABOVE.max(needed * 8) {
            self.compact();
        }
    }

    /// After a burst (a whole fleet enrolling at once) the slab and the queue keep room for
    /// all of it; move what is still in flight into fresh ones of its own size.
    fn compact(&mut self) {
        let mut slab = Slab::default();
        let queue: Vec<_> = std::mem::take(&mut self.queue)
            .into_iter()
            .filter_map(|Reverse(mut f)| {
                let (neuron, packet) = self.in_flight.take(f.slot)?;
                f.slot = slab.put(neuron, packet);
                Some(Reverse(f))
            })
            .collect();
        self.queue = BinaryHeap::from(queue);
        self.in_flight = slab;
        self.compactions += 1;
    }

    /// How many times a burst's room was given back (the runner returns it to the OS).
    pub fn compactions(&self) -> u64 {
        self.compactions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(n: u64) -> Packet {
        Packet::Down(NeuronCommand::Probe { nonce: n })
    }

    /// A link with a fixed latency, no jitter, no loss.
    fn steady(latency_ms: f64) -> LinkConfig {
        LinkConfig {
            latency_ms,
            jitter_ms: 0.0,
            loss: 0.0,
        }
    }

    #[test]
    fn after_a_burst_the_slab_shrinks_to_its_traffic_and_nothing_in_flight_is_lost() {
        let mut link = Link::new(steady(10.0), 1);
        // A burst: 20,000 packets in flight at once, delivered.
        for n in 0..20_000u32 {
            link.send(0, n, probe(u64::from(n)));
        }
        let mut out = Vec::new();
        link.deliver_due(10, &mut out);
        assert_eq!(out.len(), 20_000);
        assert_eq!(
            link.compactions(),
            0,
            "the step that carried the burst keeps its room"
        );
        // Then a trickle, with some still in flight when the room is given back.
        out.clear();
        for n in 0..100u32 {
            link.send(20 + u64::from(n % 20), n, probe(u64::from(n)));
        }
        link.deliver_due(25, &mut out);
        assert_eq!(link.compactions(), 1);
        assert!(
            link.in_flight.slots.len() <= 100,
            "{}",
            link.in_flight.slots.len()
        );
        link.deliver_due(100, &mut out);
        assert_eq!(out.len(), 100, "every packet arrives, compaction or not");
        let order: Vec<_> = out.iter().map(|a| a.at).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "in arrival order");
        // A steady step's traffic is not mistaken for a burst.
        for round in 0..5u64 {
            for n in 0..5_000u32 {
                link.send(200 + round * 50, n, probe(u64::from(n)));
            }
            link.deliver_due(260 + round * 50, &mut out);
        }
        assert_eq!(link.compactions(), 1);
    }

    #[test]
    fn packets_arrive_after_latency_in_order_of_arrival() {
        let mut link = Link::new(steady(10.0), 1);
        link.send(0, 1, probe(1));
        link.send(5, 2, probe(2));
        let mut out = Vec::new();
        link.deliver_due(9, &mut out);
        assert!(out.is_empty());
        link.deliver_due(15, &mut out);
        assert_eq!(
            out.iter().map(|a| (a.at, a.neuron)).collect::<Vec<_>>(),
            vec![(10, 1), (15, 2)]
        );
    }

    #[test]
    fn loss_rate_is_honoured_and_per_neuron_impairment_overrides() {
        let mut link = Link::new(
            LinkConfig {
                latency_ms: 1.0,
                jitter_ms: 0.5,
                loss: 0.05,
            },
            7,
        );
        for i in 0..20_000 {
            link.send(i, 0, probe(i));
        }
        let lost = link.stats().lost as f64 / 20_000.0;
        assert!((0.04..0.06).contains(&lost), "loss {lost}");
        link.impair(
            3,
            LinkConfig {
                latency_ms: 1.0,
                jitter_ms: 0.0,
                loss: 1.0,
            },
        );
        let before = link.stats().lost;
        link.send(0, 3, probe(0));
        assert_eq!(link.stats().lost, before + 1);
    }

    #[test]
    fn a_one_way_partition_cuts_only_its_direction() {
        let clear = steady(1.0);
        let mut link = Link::new(clear, 3);
        link.impair_direction(4, Direction::Up, LinkConfig { loss: 1.0, ..clear });
        // Only the impaired direction of an agent's link passes through here.
        assert!(link.is_impaired(4, true) && !link.is_impaired(4, false));
        assert!(!link.is_impaired(5, true));
        link.send(0, 4, probe(1));
        let beat = Packet::Up(NeuronMessage::ProbeAck {
            nonce: 1,
            auth: None,
        });
        link.send(0, 4, beat);
        let mut out = Vec::new();
        link.deliver_due(10, &mut out);
        assert_eq!(out.len(), 1);
        assert!(matches!(out[0].packet, Packet::Down(_)));
        link.restore(4);
        assert_eq!(link.config(4, true), clear);
        assert!(!link.is_impaired(4, true));
    }
}
