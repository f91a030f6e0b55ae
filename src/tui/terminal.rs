//! Terminal setup and teardown. Raw mode and the alternate screen are undone on every way out:
//! a normal return and `?` errors by the guard's `Drop`, panics by ratatui's panic hook (installed
//! by `try_init`, it restores the terminal before the previous hook prints the message).

use color_eyre::eyre::{WrapErr, eyre};
use ratatui::DefaultTerminal;
use std::io::IsTerminal;

pub struct TerminalGuard {
    terminal: DefaultTerminal,
}

impl TerminalGuard {
    pub fn enter() -> color_eyre::Result<Self> {
        if !std::io::stdout().is_terminal() {
            return Err(eyre!(
                "the console needs a terminal on stdout; use a subcommand for scripts"
            ));
        }
        match ratatui::try_init() {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                // A half-done setup (raw mode on, no alternate screen) must not outlive us.
                ratatui::restore();
                Err(e).wrap_err("could not set up the terminal")
            }
        }
    }

    pub fn terminal(&mut self) -> &mut DefaultTerminal {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
