//! The fleet as the engine sees it: registry, failure detection, the local-health guard and
//! auto-recovery.

pub mod agents;
pub mod detector;
pub mod guard;
pub mod host;
pub mod phi;
pub mod recovery;
pub mod registry;
pub mod tracked;
