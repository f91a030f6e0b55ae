//! Federated learning across the fleet: real data and a real model, Byzantine-robust
//! aggregation, attacks for the simulation, convergence detection, learning-rate schedules, and
//! four orchestration modes (sync, batch-async, streaming, hierarchical). See docs/fl.md.

pub mod aggregate;
pub mod attack;
pub mod capture;
pub mod convergence;
pub mod coordinator;
pub mod data;
pub mod liveness;
pub mod model;
pub mod schedule;
pub mod streaming;
