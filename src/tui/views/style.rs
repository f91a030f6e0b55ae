//! Colours by meaning, in one place (a theme file will later override these).

use ratatui::style::{Color, Modifier, Style};

use crate::api::NeuronState;

pub fn state(state: NeuronState) -> Style {
    let color = match state {
        NeuronState::Healthy => Color::Green,
        NeuronState::Pending => Color::DarkGray,
        NeuronState::Suspect => Color::Yellow,
        NeuronState::Degraded => Color::Magenta,
        NeuronState::Recovering => Color::Cyan,
        NeuronState::ConfigFailed => Color::LightRed,
        NeuronState::Offline => Color::Red,
    };
    let style = Style::new().fg(color);
    if state.is_failure() {
        style.add_modifier(Modifier::BOLD)
    } else {
        style
    }
}

/// A short label for the header's counts on narrow terminals.
pub fn short_state(state: NeuronState) -> &'static str {
    match state {
        NeuronState::Pending => "pend",
        NeuronState::Healthy => "ok",
        NeuronState::Suspect => "susp",
        NeuronState::Offline => "off",
        NeuronState::Degraded => "degr",
        NeuronState::ConfigFailed => "cfgfail",
        NeuronState::Recovering => "recov",
    }
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn key() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

pub fn dangerous() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

pub fn warning() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

pub fn ok() -> Style {
    Style::new().fg(Color::Green)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// Outcome words of recoveries (`succeeded`, `failed`, `in_progress`).
pub fn outcome(outcome: &str) -> Style {
    match outcome {
        "succeeded" => ok(),
        "failed" => error(),
        _ => Style::new().fg(Color::Cyan),
    }
}
