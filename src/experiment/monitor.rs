//! The recovery monitor experiments run on: the one the engine records every fault with
//! (`api::chaos_monitor`), here fed with the experiment's own hypothesis.

pub use crate::api::chaos_monitor::*;
