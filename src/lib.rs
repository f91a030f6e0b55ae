//! Plexus: an operations console with an embedded orchestrator for a neuron federation.
//! Layers (see docs/ARCHITECTURE.md): `api` (wire types) ← `engine` (orchestrator) ← `neuron`
//! (behaviour); `client` is the boundary faces talk through; `cli` and `tui` are faces.

pub mod api;
pub mod cli;
pub mod client;
pub mod config;
pub mod engine;
pub mod experiment;
pub mod markup;
pub mod neuron;
pub mod server;
pub mod stress;
pub mod tui;
