//! A deterministic driver for the engine core on a fake clock: no threads, no store, every tick
//! at an exact time. Tests and benchmarks use it to run minutes of fleet life in milliseconds.

use super::config::{EngineConfig, LinkConfig};
use super::core::Core;
use super::effects::Effects;
use super::store::StoreInit;
use crate::api::{Event, Fault, Millis, NeuronState};
use crate::engine::clock::FakeClock;
use crate::neuron::{SimConfig, SimFleet};

pub struct SimRun {
    pub core: Core,
    pub now: Millis,
    /// Every event since the start (or the last [`SimRun::take_events`]), with its time.
    pub events: Vec<(Millis, Event)>,
    /// Every alert notification handed out, in order.
    pub notifications: Vec<crate::api::alert::Notification>,
}

impl SimRun {
    /// `neurons` simulated neurons at `heartbeat_ms` over `link`, seeded.
    pub fn new(neurons: usize, heartbeat_ms: Millis, link: LinkConfig, seed: u64) -> Self {
        let cfg = EngineConfig {
            heartbeat_ms,
            link,
            ..EngineConfig::default()
        };
        Self::with_config(neurons, cfg, seed)
    }

    pub fn with_config(neurons: usize, cfg: EngineConfig, seed: u64) -> Self {
        let fleet = SimFleet::new(&SimConfig {
            neurons,
            heartbeat_ms: cfg.heartbeat_ms,
            seed,
            ..SimConfig::default()
        });
        let mut fx = Effects::new(FakeClock::EPOCH_UNIX_MS);
        let init = StoreInit {
            next_failure_id: 1,
            next_attempt_id: 1,
            ..StoreInit::default()
        };
        let core = Core::new(
            cfg,
            Box::new(fleet),
            seed,
            FakeClock::EPOCH_UNIX_MS,
            init,
            0,
            &mut fx,
        );
        let mut run = SimRun {
            core,
            now: 0,
            events: Vec::new(),
            notifications: Vec::new(),
        };
        run.collect(0, fx);
        run
    }

    fn collect(&mut self, at: Millis, fx: Effects) {
        self.notifications.extend(fx.notifications);
        self.events.extend(fx.events.into_iter().map(|e| (at, e)));
    }

    fn effects(&self) -> Effects {
        Effects::new(FakeClock::EPOCH_UNIX_MS)
    }

    /// Tick through `ms` of time.
    pub fn run_for(&mut self, ms: Millis) {
        let end = self.now + ms;
        let tick = self.core.cfg.tick_ms;
        while self.now < end {
            self.now = (self.now + tick).min(end);
            self.tick_at(self.now);
        }
    }

    /// One tick at an exact time (a jump forward models an engine stall).
    pub fn tick_at(&mut self, at: Millis) {
        self.now = at;
        let mut fx = self.effects();
        self.core.tick(at, &mut fx);
        if fx.sync {
            // No store here: the decision is "durable" at once, as the runner makes it.
            self.core.after_sync(at, &mut fx);
        }
        self.collect(at, fx);
    }

    /// Tick until `done` holds or `limit` ms passed; returns the time it held.
    pub fn run_until(
        &mut self,
        limit: Millis,
        mut done: impl FnMut(&SimRun) -> bool,
    ) -> Option<Millis> {
        let end = self.now + limit;
        while self.now < end {
            self.run_for(self.core.cfg.tick_ms);
            if done(self) {
                return Some(self.now);
            }
        }
        None
    }

    pub fn inject(&mut self, id: &str, fault: Fault) {
        let mut fx = self.effects();
        self.core
            .inject(id, fault, self.now, &mut fx)
            .expect("known neuron");
        self.collect(self.now, fx);
    }

    /// Clear every fault of neuron `id` now.
    pub fn clear_faults(&mut self, id: &str) {
        let mut fx = self.effects();
        self.core
            .clear_faults(id, self.now, &mut fx)
            .expect("known neuron");
        self.collect(self.now, fx);
    }

    /// Inject a chaos fault now.
    pub fn chaos(
        &mut self,
        spec: crate::api::chaos::ChaosSpec,
    ) -> Result<crate::api::chaos::ChaosFaultView, crate::api::ApiError> {
        let mut fx = self.effects();
        let result = self.core.chaos_inject(spec, self.now, &mut fx);
        self.collect(self.now, fx);
        result
    }

    /// Revert a chaos fault now.
    pub fn chaos_stop(
        &mut self,
        id: &str,
    ) -> Result<crate::api::chaos::ChaosFaultView, crate::api::ApiError> {
        let mut fx = self.effects();
        let result = self.core.chaos_stop(id, self.now, &mut fx);
        self.collect(self.now, fx);
        result
    }

    pub fn recover(&mut self, id: &str) -> Result<(u32, &'static str), crate::api::ApiError> {
        let mut fx = self.effects();
        let result = self.core.recover(id, self.now, &mut fx);
        self.collect(self.now, fx);
        result
    }

    pub fn apply_config(&mut self, id: &str, version: &str) {
        let mut fx = self.effects();
        self.core
            .apply_config(id, version, self.now, &mut fx)
            .expect("known neuron");
        self.collect(self.now, fx);
    }

    /// Start a rollout as user `test` (the gate is not part of this driver).
    pub fn push(
        &mut self,
        push: crate::engine::rollout::Push,
    ) -> Result<crate::api::rollout::RolloutSummary, crate::api::ApiError> {
        let mut fx = self.effects();
        let result = self
            .core
            .rollouts
            .start(push, "test", &self.core.registry, self.now, &mut fx);
        self.core.send_downlink(self.now, &mut fx);
        self.collect(self.now, fx);
        result
    }

    /// Each neuron's config version as the engine last heard it, fleet order.
    pub fn versions(&self) -> Vec<String> {
        self.core
            .registry
            .neurons
            .iter()
            .map(|n| n.config_version.to_string())
            .collect()
    }

    pub fn state(&self, id: &str) -> NeuronState {
        let idx = self.core.registry.find(id).expect("known neuron");
        self.core.registry.neurons[idx as usize].state
    }

    pub fn take_events(&mut self) -> Vec<(Millis, Event)> {
        std::mem::take(&mut self.events)
    }

    /// Times at which `neuron` entered `state`.
    pub fn entered(&self, neuron: &str, state: NeuronState) -> Vec<Millis> {
        self.events
            .iter()
            .filter_map(|(at, e)| match e {
                Event::NeuronStateChanged { neuron: n, to, .. } if n == neuron && *to == state => {
                    Some(*at)
                }
                _ => None,
            })
            .collect()
    }

    /// When the events that match happened.
    pub fn events_at(&self, matches: impl Fn(&Event) -> bool) -> Vec<Millis> {
        self.events
            .iter()
            .filter(|(_, e)| matches(e))
            .map(|(at, _)| *at)
            .collect()
    }

    /// How many events match.
    pub fn count(&self, matches: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| matches(e)).count()
    }
}
