//! Neuron behaviour: heartbeats, a workload that produces telemetry, config apply, restarts and a
//! log — run in-process by the simulated fleet, with faults injected into the real behaviour.

pub mod agent;
pub mod channel;
pub mod fleet;
pub mod identity;
pub mod keyforge;
pub mod learner;
pub mod logs;
pub mod serving;
pub mod sim;
pub mod staging;
pub mod state;
pub mod supervise;
pub mod wake;
pub mod worker;
pub mod workload;

pub use fleet::{SimConfig, SimFleet};
