//! Chaos faults held by the engine: injected into the neurons a selector picks (on the neuron
//! through its host, or on its link), and reverted when their duration ends (checked every tick)
//! or when stopped. Nothing here tells the detector anything: it must notice on its own.

mod agents;
mod watch;

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::collections::{BTreeSet, VecDeque};

use super::config::LinkConfig;
use super::core::Core;
use super::effects::Effects;
use super::store::StoreOp;
use super::store::chaos::StoredChaos;
use crate::api::chaos::{ChaosFaultView, ChaosKind, ChaosSpec, Selector};
use crate::api::{ApiError, Event, Fault, Millis};

/// Reverted faults kept for `plexus chaos list` and the console.
const DONE_KEPT: usize = 100;

struct Held {
    view: ChaosFaultView,
    spec: ChaosSpec,
    neurons: Vec<u32>,
}

#[derive(Default)]
pub struct ChaosBook {
    next_id: u64,
    active: Vec<Held>,
    done: VecDeque<ChaosFaultView>,
    /// When each fault was detected and recovered (recorded once; views carry it).
    watch: watch::Watch,
}

impl ChaosBook {
    /// Active faults first (oldest first), then reverted ones (newest last).
    pub fn list(&self) -> Vec<ChaosFaultView> {
        self.active
            .iter()
            .map(|h| h.view.clone())
            .chain(self.done.iter().cloned())
            .map(|mut v| {
                self.watch.fill(&mut v);
                v
            })
            .collect()
    }

    pub fn active_count(&self) -> usize {
        self.active.len()
    }

    /// Ids of faults still held (a rollback reverts them all).
    pub fn active_ids(&self) -> Vec<String> {
        self.active.iter().map(|h| h.view.id.clone()).collect()
    }

    fn remember(&mut self, view: ChaosFaultView) {
        if self.done.len() == DONE_KEPT {
            self.done.pop_front();
        }
        self.done.push_back(view);
    }

    /// At start: faults the last run still held are reverted (the fleet and its links start
    /// clean; nothing stays applied), recorded as such, and fault numbers carry on.
    pub fn restore(&mut self, held: Vec<StoredChaos>, last: u64, now: Millis, fx: &mut Effects) {
        self.next_id = self.next_id.max(last);
        for h in held {
            let by = "engine restart";
            fx.store(StoreOp::ChaosReleased {
                id: h.id.clone(),
                at: fx.wall(now),
                by: by.into(),
            });
            fx.event(Event::ChaosReverted {
                id: h.id.clone(),
                kind: h.kind.clone(),
                by: by.into(),
            });
            let Ok(kind) = ChaosKind::parse(&h.kind) else {
                continue;
            };
            self.remember(ChaosFaultView {
                id: h.id,
                kind,
                target: h.target,
                neurons: h.neurons,
                injected_ms: 0,
                injected_at: crate::engine::clock::rfc3339(h.injected_at),
                until_ms: None,
                reverted_ms: Some(now),
                reverted_by: by.into(),
                detected_ms: None,
                detection: None,
                recovered_ms: None,
            });
        }
    }
}

impl Core {
    /// The neurons a selector picks, in registry order (random: in draw order).
    pub fn select(&self, selector: &Selector) -> Result<Vec<u32>, ApiError> {
        let n = self.registry.len();
        let all = || (0..n as u32).collect::<Vec<_>>();
        let picked = match selector {
            Selector::One { neuron } => vec![self.find(neuron)?],
            Selector::All => all(),
            Selector::Count { count } => all().into_iter().take(*count).collect(),
            Selector::Percent { percent } => {
                let take = ((n as f64) * percent / 100.0).ceil() as usize;
                all().into_iter().take(take).collect()
            }
            Selector::Zone { zone } => all()
                .into_iter()
                .filter(|i| &*self.registry.neurons[*i as usize].zone == zone.as_str())
                .collect(),
            Selector::Random { count, seed } => {
                let mut rng = Pcg64Mcg::seed_from_u64(*seed);
                rand::seq::index::sample(&mut rng, n, (*count).min(n))
                    .into_iter()
                    .map(|i| i as u32)
                    .collect()
            }
        };
        if picked.is_empty() {
            return Err(ApiError::bad_input(format!(
                "selector '{selector}' picks no neuron"
            )));
        }
        Ok(picked)
    }

    pub fn chaos_inject(
        &mut self,
        spec: ChaosSpec,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<ChaosFaultView, ApiError> {
        validate(&spec)?;
        let neurons = self.select(&spec.target)?;
        self.chaos.next_id += 1;
        let id = format!("c-{}", self.chaos.next_id);
        for &idx in &neurons {
            self.apply(&id, &spec, idx, now, fx);
        }
        self.send_downlink(now, fx);
        let view = ChaosFaultView {
            id: id.clone(),
            kind: spec.kind,
            target: spec.target.to_string(),
            neurons: neurons
                .iter()
                .map(|i| self.registry.neurons[*i as usize].id.to_string())
                .collect(),
            injected_ms: now,
            injected_at: self.wall(now),
            until_ms: spec.duration_ms.map(|d| now + d),
            reverted_ms: None,
            reverted_by: String::new(),
            detected_ms: None,
            detection: None,
            recovered_ms: None,
        };
        self.chaos.watch.injected(&view);
        fx.store(StoreOp::ChaosHeld {
            id: id.clone(),
            seq: self.chaos.next_id,
            kind: spec.kind.name().into(),
            target: view.target.clone(),
            neurons_json: serde_json::to_string(&view.neurons).unwrap_or_default(),
            injected_at: fx.wall(now),
            until_at: view.until_ms.map(|u| fx.wall(u)),
        });
        fx.event(Event::ChaosInjected {
            id,
            kind: spec.kind.name().into(),
            target: view.target.clone(),
            neurons: neurons.len(),
        });
        self.chaos.active.push(Held {
            view: view.clone(),
            spec,
            neurons,
        });
        Ok(view)
    }

    pub fn chaos_stop(
        &mut self,
        id: &str,
        now: Millis,
        fx: &mut Effects,
    ) -> Result<ChaosFaultView, ApiError> {
        let Some(pos) = self.chaos.active.iter().position(|h| h.view.id == id) else {
            let known = self.chaos.done.iter().any(|v| v.id == id);
            return Err(if known {
                ApiError::bad_input(format!("chaos fault {id} was already reverted"))
            } else {
                ApiError::bad_input(format!("no chaos fault {id}"))
            });
        };
        Ok(self.revert(pos, "stopped", now, fx))
    }

    /// Revert faults whose duration ended (called at the start of every tick).
    pub fn chaos_tick(&mut self, now: Millis, fx: &mut Effects) {
        while let Some(pos) = self
            .chaos
            .active
            .iter()
            .position(|h| h.view.until_ms.is_some_and(|until| now >= until))
        {
            self.revert(pos, "duration", now, fx);
        }
    }

    fn revert(&mut self, pos: usize, by: &str, now: Millis, fx: &mut Effects) -> ChaosFaultView {
        let mut held = self.chaos.active.remove(pos);
        let touched: BTreeSet<u32> = held.neurons.iter().copied().collect();
        for &idx in &touched {
            if held.spec.kind.is_network() {
                self.link.restore(idx);
            } else {
                self.clear_neuron_faults(idx, now, fx);
            }
        }
        // Faults still held on the same neurons stay in force.
        let still: Vec<(String, ChaosSpec, Vec<u32>)> = self
            .chaos
            .active
            .iter()
            .filter(|h| lasting(h.spec.kind))
            .map(|h| (h.view.id.clone(), h.spec.clone(), h.neurons.clone()))
            .collect();
        for (id, spec, neurons) in still {
            for idx in neurons.into_iter().filter(|i| touched.contains(i)) {
                self.apply(&id, &spec, idx, now, fx);
            }
        }
        held.view.reverted_ms = Some(now);
        held.view.reverted_by = by.into();
        fx.store(StoreOp::ChaosReleased {
            id: held.view.id.clone(),
            at: fx.wall(now),
            by: by.into(),
        });
        fx.event(Event::ChaosReverted {
            id: held.view.id.clone(),
            kind: held.spec.kind.name().into(),
            by: by.into(),
        });
        self.chaos.remember(held.view.clone());
        // An agent's revert is a command: out now, whoever asked for the revert.
        self.send_downlink(now, fx);
        held.view
    }

    fn apply(&mut self, id: &str, spec: &ChaosSpec, idx: u32, now: Millis, fx: &mut Effects) {
        let p = &spec.params;
        let base = self.link_base(idx);
        match spec.kind {
            ChaosKind::Crash => self.inject_into(
                idx,
                now,
                fx,
                Fault::Crash {
                    persistent: p.persistent,
                },
            ),
            ChaosKind::Hang => self.inject_into(idx, now, fx, Fault::Hang),
            ChaosKind::Slow => self.inject_into(
                idx,
                now,
                fx,
                Fault::Slow {
                    factor: p.factor,
                    persistent: p.persistent,
                },
            ),
            ChaosKind::AnalyticsFailure => self.inject_into(
                idx,
                now,
                fx,
                Fault::AnalyticsFailure {
                    garbage: p.garbage,
                    persistent: p.persistent,
                },
            ),
            ChaosKind::Byzantine => self.inject_into(
                idx,
                now,
                fx,
                Fault::Byzantine {
                    persistent: p.persistent,
                },
            ),
            ChaosKind::ConfigFailure => {
                // A bad config push: the neuron is told to apply a version it will reject.
                self.inject_into(idx, now, fx, Fault::ConfigFailure);
                fx.send(
                    idx,
                    crate::api::wire::NeuronCommand::ApplyConfig {
                        version: format!("bad-{id}"),
                    },
                );
            }
            ChaosKind::Partition => {
                self.link
                    .impair_direction(idx, p.direction, LinkConfig { loss: 1.0, ..base })
            }
            ChaosKind::Latency => self.link.impair_direction(
                idx,
                p.direction,
                LinkConfig {
                    latency_ms: base.latency_ms + p.latency_ms,
                    jitter_ms: base.jitter_ms + p.jitter_ms,
                    loss: base.loss,
                },
            ),
            ChaosKind::PacketLoss => self.link.impair_direction(
                idx,
                p.direction,
                LinkConfig {
                    loss: (base.loss + p.loss).min(1.0),
                    ..base
                },
            ),
            ChaosKind::IdentityFailure => {
                self.inject_into(idx, now, fx, Fault::Identity { mode: p.mode })
            }
        }
    }
}

/// Faults that are a state (re-applied when another fault on the same neuron is reverted), as
/// opposed to one-shot events (a crash, a config push) that must not happen twice.
fn lasting(kind: ChaosKind) -> bool {
    !matches!(kind, ChaosKind::Crash | ChaosKind::ConfigFailure)
}

fn validate(spec: &ChaosSpec) -> Result<(), ApiError> {
    spec.check("spec")?;
    let p = &spec.params;
    let bad = |field: &str, why: &str| Err(ApiError::bad_input(format!("params.{field}: {why}")));
    match spec.kind {
        ChaosKind::PacketLoss if !(p.loss > 0.0 && p.loss <= 1.0) => {
            bad("loss", "must be in 0 < loss <= 1")
        }
        ChaosKind::Latency if !(p.latency_ms >= 0.0 && p.jitter_ms >= 0.0) => {
            bad("latency_ms", "latency and jitter must be >= 0")
        }
        ChaosKind::Slow if !(p.factor >= 1.0 && p.factor.is_finite()) => {
            bad("factor", "must be a finite number >= 1")
        }
        _ if spec.duration_ms == Some(0) => bad("duration", "must be longer than 0"),
        _ => Ok(()),
    }
}
