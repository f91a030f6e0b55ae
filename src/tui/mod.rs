//! The console face: a ratatui view of the fleet that talks only to a [`Backend`].
//!
//! Shape (one idea per file): `app` holds state and the pure update function, `actions` the
//! per-view action registry, `views/` pure drawing, `event_loop` wires terminal input, polling
//! and backend events to the app, `terminal` sets the terminal up and always puts it back.

pub mod actions;
pub mod app;
pub mod event_loop;
#[doc(hidden)]
pub mod fixtures;
pub mod terminal;
pub mod views;

use std::sync::Arc;

use crate::client::Backend;

pub use app::App;
pub use views::draw;

/// How the console behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuiOptions {
    /// Polling period for status and neurons (and the open detail), in ms. Backend events also
    /// trigger a refresh, so this only bounds staleness.
    pub tick_ms: u64,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions { tick_ms: 250 }
    }
}

/// Runs the console until the user quits. Call it from inside a tokio runtime. The terminal is
/// restored on return, on error and on panic.
pub async fn run(backend: Arc<dyn Backend>, opts: TuiOptions) -> color_eyre::Result<()> {
    let mut guard = terminal::TerminalGuard::enter()?;
    event_loop::run(guard.terminal(), backend, &opts).await
}
