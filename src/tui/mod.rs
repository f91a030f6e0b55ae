//! The console face: a ratatui view of the fleet that talks only to a [`Backend`].
//!
//! Shape (one idea per file): `screens/` holds one folder per screen (its state, actions, fetch
//! and drawing behind the `Screen` trait); `app` routes messages and keys to them and owns what
//! they share; `actions` and `keymap` the key registry; `views/` the chrome (header, hints,
//! help, dialogs, input line); `event_loop` wires terminal input, polling and backend events to
//! the app; `terminal` sets the terminal up and always puts it back.

pub mod actions;
pub mod app;
pub mod chrome;
pub mod event_loop;
#[doc(hidden)]
pub mod filter;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
pub mod input;
pub mod keymap;
pub mod msg;
pub mod natural;
pub mod osc52;
pub mod palette;
pub mod screens;
pub mod setup;
pub mod terminal;
pub mod theme;
pub mod typing;
pub mod views;

use std::sync::Arc;

use crate::client::Backend;

pub use app::App;
pub use views::draw;

/// How the console behaves (see `setup::resolve` for how config and flags become this).
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// Polling period for status and neurons (and the open detail), in ms. Backend events also
    /// trigger a refresh, so this only bounds staleness.
    pub tick_ms: u64,
    /// Most frames per second (lower over SSH).
    pub max_fps: u32,
    pub registry: actions::Registry,
    pub theme: Arc<theme::Theme>,
    pub ascii: bool,
    pub palette: palette::Palette,
    /// Capture the mouse at start.
    pub mouse: bool,
    /// Shown in the flash line at start (config, keymap or theme errors).
    pub notices: Vec<String>,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            tick_ms: 250,
            max_fps: 60,
            registry: actions::Registry::default(),
            theme: Arc::new(theme::Theme::default()),
            ascii: false,
            palette: palette::Palette::default(),
            mouse: false,
            notices: Vec::new(),
        }
    }
}

impl App {
    /// Takes the look, keys and palette of `opts`.
    pub fn configure(&mut self, opts: &TuiOptions) {
        self.registry = opts.registry.clone();
        self.theme = Arc::clone(&opts.theme);
        self.ascii = opts.ascii;
        self.palette = opts.palette.clone();
        self.mouse = opts.mouse;
        if !opts.notices.is_empty() {
            self.notice(opts.notices.join("; "));
        }
    }
}

/// Runs the console until the user quits. Call it from inside a tokio runtime. The terminal is
/// restored on return, on error and on panic.
pub async fn run(backend: Arc<dyn Backend>, opts: TuiOptions) -> color_eyre::Result<()> {
    let mut guard = terminal::TerminalGuard::enter()?;
    event_loop::run(guard.terminal(), backend, &opts).await
}
