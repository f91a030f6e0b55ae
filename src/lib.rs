//! Plexus: an operations console with an embedded orchestrator for a neuron federation.
//! Layers (see docs/ARCHITECTURE.md): api ← engine ← neuron; client wraps the engine; tui, cli are faces.

pub mod api;
pub mod client;
pub mod tui;
