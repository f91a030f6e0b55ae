//! The load generator: profiles of phases and weighted scenarios, an open-model schedule,
//! HDR-histogram recording corrected for coordinated omission, thresholds and reports.
//!
//! It acts as a client — it drives a `dyn Backend` (or HTTP directly) like any face — so it lives
//! beside the faces, not inside the engine (docs/stress.md says why).

pub mod profile;
pub mod recorder;
pub mod schedule;
pub mod threshold;
