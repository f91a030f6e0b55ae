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
        // Harmless when it was never captured; a captured mouse must not outlive the console.
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        ratatui::restore();
    }
}

/// Ctrl-Z: put the terminal back as the shell expects it, stop this process (as the shell's job
/// control would), and when `fg` continues it, take the terminal again and redraw everything.
pub fn suspend(terminal: &mut DefaultTerminal, mouse: bool) -> color_eyre::Result<()> {
    use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
    use crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
    if mouse {
        crossterm::execute!(std::io::stdout(), DisableMouseCapture)?;
    }
    ratatui::restore();
    // SAFETY: raising a signal on our own process has no memory-safety preconditions.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    // Continued (SIGCONT): back to raw mode on the alternate screen.
    enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), EnterAlternateScreen)?;
    if mouse {
        crossterm::execute!(std::io::stdout(), EnableMouseCapture)?;
    }
    terminal.clear()?;
    Ok(())
}

/// Resolves on the first SIGINT, SIGTERM or SIGHUP: every signal that ends the process ends the
/// console through its normal exit, so the terminal is always restored (raw mode off, main
/// screen, cursor shown).
pub async fn ending_signal() {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    async fn next(s: &mut Option<Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = next(&mut term) => {}
        _ = next(&mut hup) => {}
    }
}
