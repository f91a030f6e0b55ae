//! What one step of the engine wants to happen outside the state it owns: events to publish,
//! rows to store, commands to send to neurons. Collected, then carried out by the core in one go.

use crate::api::Event;
use crate::api::Millis;
use crate::api::alert::Notification;
use crate::api::wire::NeuronCommand;

use super::store::StoreOp;

pub struct Effects {
    /// Unix milliseconds at engine time 0: engine times become wall times by addition.
    pub epoch_unix_ms: i64,
    pub events: Vec<Event>,
    pub store: Vec<StoreOp>,
    pub downlink: Vec<(u32, NeuronCommand)>,
    /// The store batch must be committed before the engine goes on (a rollout decision).
    pub sync: bool,
    /// Alert notifications to deliver (their log entries are in `store`): the runner hands
    /// them to the notifier thread, never blocking on a sink.
    pub notifications: Vec<Notification>,
    /// Alert states for an Alertmanager's v2 API (firing and recently resolved).
    pub alert_push: Option<Vec<crate::api::alert::Alert>>,
    /// Arrival times of the heartbeats judged in this step (the runner times their verdicts).
    pub heard: Vec<crate::api::Millis>,
}

impl Effects {
    pub fn new(epoch_unix_ms: i64) -> Self {
        Effects {
            epoch_unix_ms,
            events: Vec::new(),
            store: Vec::new(),
            downlink: Vec::new(),
            sync: false,
            notifications: Vec::new(),
            alert_push: None,
            heard: Vec::new(),
        }
    }

    pub fn wall(&self, at: Millis) -> i64 {
        self.epoch_unix_ms + at as i64
    }

    pub fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn store(&mut self, op: StoreOp) {
        self.store.push(op);
    }

    pub fn send(&mut self, to: u32, command: NeuronCommand) {
        self.downlink.push((to, command));
    }
}
