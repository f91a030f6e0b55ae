//! Colours by meaning and symbols, in one place. The theme and the ASCII switch of the frame
//! being drawn are installed by `views::draw` (drawing is single-threaded and synchronous), so
//! every view asks for `style::state(..)` or `style::block()` without threading them through.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::widgets::Block;
use std::cell::RefCell;
use std::sync::Arc;

use crate::api::NeuronState;
use crate::tui::theme::{Meaning, Theme};

struct Look {
    theme: Arc<Theme>,
    ascii: bool,
}

thread_local! {
    static LOOK: RefCell<Option<Look>> = const { RefCell::new(None) };
}

/// Makes `theme` and `ascii` the look of what is drawn next on this thread.
pub fn install(theme: &Arc<Theme>, ascii: bool) {
    LOOK.with(|l| {
        *l.borrow_mut() = Some(Look {
            theme: Arc::clone(theme),
            ascii,
        })
    });
}

fn color(meaning: Meaning) -> Color {
    LOOK.with(|l| match &*l.borrow() {
        Some(look) => look.theme.color(meaning),
        None => Theme::default().color(meaning),
    })
}

fn fg(meaning: Meaning) -> Style {
    match color(meaning) {
        Color::Reset => Style::new(),
        c => Style::new().fg(c),
    }
}

pub fn ascii() -> bool {
    LOOK.with(|l| l.borrow().as_ref().is_some_and(|look| look.ascii))
}

/// Text as the look allows: in `--ascii` mode the few non-ASCII signs in help texts and usages
/// (`…`, `×`, `→`) spelled out.
pub fn text(s: &str) -> String {
    if !ascii() {
        return s.to_string();
    }
    s.replace('…', "...").replace('×', "x").replace('→', "->")
}

/// `unicode`, or `plain` in `--ascii` mode.
pub fn sym(unicode: &'static str, plain: &'static str) -> &'static str {
    if ascii() { plain } else { unicode }
}

const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// A bordered block in the theme's border colour (ASCII borders in `--ascii` mode).
pub fn block() -> Block<'static> {
    let b = Block::bordered().border_style(fg(Meaning::UiBorder));
    if ascii() {
        b.border_set(ASCII_BORDER)
    } else {
        b
    }
}

pub fn state_meaning(state: NeuronState) -> Meaning {
    match state {
        NeuronState::Healthy => Meaning::StateHealthy,
        NeuronState::Pending => Meaning::StatePending,
        NeuronState::Suspect => Meaning::StateSuspect,
        NeuronState::Degraded => Meaning::StateDegraded,
        NeuronState::Recovering => Meaning::StateRecovering,
        NeuronState::ConfigFailed => Meaning::StateConfigFailed,
        NeuronState::Offline => Meaning::StateOffline,
    }
}

pub fn state(state: NeuronState) -> Style {
    let style = fg(state_meaning(state));
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

/// The whole screen's base: text and background colours.
pub fn base() -> Style {
    let mut s = fg(Meaning::UiText);
    if let c @ (Color::Rgb(..) | Color::Indexed(_)) = color(Meaning::UiBackground) {
        s = s.bg(c);
    }
    s
}

pub fn title() -> Style {
    fg(Meaning::UiTitle).add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    fg(Meaning::UiDim)
}

pub fn key() -> Style {
    fg(Meaning::UiKey).add_modifier(Modifier::BOLD)
}

pub fn dangerous() -> Style {
    fg(Meaning::UiDanger).add_modifier(Modifier::BOLD)
}

/// An action the gate would refuse: greyed and crossed out, so it shows without colour too.
pub fn disabled() -> Style {
    fg(Meaning::UiDisabled).add_modifier(Modifier::CROSSED_OUT)
}

pub fn warning() -> Style {
    Style::new()
        .fg(color(Meaning::UiWarningText))
        .bg(color(Meaning::AlertWarning))
        .add_modifier(Modifier::BOLD)
}

pub fn critical() -> Style {
    Style::new()
        .fg(color(Meaning::UiWarningText))
        .bg(color(Meaning::AlertCritical))
        .add_modifier(Modifier::BOLD)
}

pub fn error() -> Style {
    fg(Meaning::UiError).add_modifier(Modifier::BOLD)
}

pub fn ok() -> Style {
    fg(Meaning::UiOk)
}

pub fn info() -> Style {
    fg(Meaning::AlertInfo)
}

pub fn chart_health() -> Style {
    fg(Meaning::ChartHealth)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// The `PLEXUS` badge.
pub fn brand() -> Style {
    Style::new()
        .fg(color(Meaning::HeaderBrandText))
        .bg(color(Meaning::HeaderBrand))
        .add_modifier(Modifier::BOLD)
}

/// The environment label; production gets its own colour (and is bold even without colour).
pub fn environment(environment: &str) -> Style {
    let prod = matches!(environment, "prod" | "production");
    let bg = if prod {
        Meaning::HeaderProd
    } else {
        Meaning::HeaderEnv
    };
    let s = Style::new()
        .fg(color(Meaning::HeaderBrandText))
        .bg(color(bg));
    if prod {
        s.add_modifier(Modifier::BOLD | Modifier::REVERSED)
    } else {
        s
    }
}

pub fn lock() -> Style {
    fg(Meaning::HeaderLock).add_modifier(Modifier::BOLD)
}

/// Outcome words of recoveries (`succeeded`, `failed`, `in_progress`) and audit records.
pub fn outcome(outcome: &str) -> Style {
    match outcome {
        "succeeded" | "allowed" => ok(),
        "failed" | "denied" => error(),
        _ => info(),
    }
}

/// Warning-level words in running text (log levels).
pub fn warning_text() -> Style {
    fg(Meaning::AlertWarning)
}
