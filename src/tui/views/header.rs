//! The header: who and where we are, the views, fleet counts and any fleet-level warning.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use super::style;
use crate::api::{NeuronState, StateCounts};
use crossterm::event::KeyCode;

use crate::tui::actions::{Action, Key, Scope};
use crate::tui::app::{App, View};
use crate::tui::screens::Screens;

/// Rows the header needs: identity, counts, and one per raised fleet condition (at most 2).
pub fn height(app: &App) -> u16 {
    let conditions = app.status.as_ref().map_or(0, |s| s.conditions.len().min(2));
    2 + conditions as u16
}

fn count(counts: &StateCounts, state: NeuronState) -> u64 {
    match state {
        NeuronState::Pending => counts.pending,
        NeuronState::Healthy => counts.healthy,
        NeuronState::Suspect => counts.suspect,
        NeuronState::Offline => counts.offline,
        NeuronState::Degraded => counts.degraded,
        NeuronState::ConfigFailed => counts.config_failed,
        NeuronState::Recovering => counts.recovering,
    }
}

/// The tabs, in the screen list's order, each with the key the keymap binds to show it.
fn tabs(app: &App) -> Vec<(String, View)> {
    Screens::ORDER
        .iter()
        .filter_map(|&view| {
            let tab = app.screens.get(view).tab()?;
            let key = app
                .registry
                .actions(Scope::Global)
                .iter()
                .find(|s| s.action == Action::Show(view))
                .and_then(|s| {
                    // Tabs are numbered: the digit that shows it, else its first key.
                    let digit = |k: &&Key| matches!(k.code, KeyCode::Char(c) if c.is_ascii_digit());
                    s.keys.iter().find(digit).or(s.keys.first())
                })
                .map(|k| k.label());
            let label = match key {
                Some(k) => format!("[{k}] {}", tab.label),
                None => tab.label.to_string(),
            };
            Some((label, view))
        })
        .collect()
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let identity = identity_line(app, area.width);
    let current =
        |view: View| app.view == view || (view == View::Neurons && app.view == View::Detail);
    let all = tabs(app);
    let full_width: usize = all.iter().map(|(l, _)| l.chars().count() + 1).sum();
    // Narrow terminals show only the current tab, so who and where always fit.
    let roomy = identity.width() + full_width < area.width as usize;
    let mut spans = Vec::new();
    for (label, view) in all {
        if current(view) {
            spans.push(Span::styled(label, style::selected()));
        } else if roomy {
            spans.push(Span::styled(label, style::dim()));
        } else {
            continue;
        }
        spans.push(Span::raw(" "));
    }
    let tabs = Line::from(spans).alignment(Alignment::Right);
    // Tabs first so they win the overlap if the identity is too long for the terminal.
    let first = Rect { height: 1, ..area };
    frame.render_widget(Paragraph::new(identity), first);
    frame.render_widget(Paragraph::new(tabs), first);
    let mut lines = vec![Line::default(), counts_line(app, area.width)];
    if let Some(status) = &app.status {
        for c in status.conditions.iter().take(2) {
            lines.push(Line::styled(
                format!(
                    " {} fleet condition {} since {}: {}",
                    style::sym("⚠", "!"),
                    c.kind,
                    format::clock(&c.since),
                    c.detail
                ),
                style::warning(),
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Federation, environment, mode, who (user, role, session age) and the read-only lock.
pub fn identity_line(app: &App, width: u16) -> Line<'static> {
    let wide = width >= 120;
    let info = &app.info;
    let dot = style::sym(" · ", " | ");
    let (user, role) = match &app.session {
        Some(s) => (s.user.clone(), s.role.to_string()),
        None => (info.user.clone(), info.role.clone()),
    };
    let mut spans = vec![
        Span::styled(" PLEXUS ", style::brand()),
        Span::raw(format!(" {} ", info.federation)),
        Span::styled(
            format!(" {} ", info.environment),
            style::environment(&info.environment),
        ),
        Span::raw(if wide {
            format!("{dot}{}{dot}{user} ({role})", info.mode)
        } else {
            format!(" {user} ({role})")
        }),
    ];
    if app.session_expired {
        spans.push(Span::raw(dot));
        spans.push(Span::styled("session expired", style::error()));
    } else if let Some(age) = app.session_age() {
        spans.push(Span::raw(format!("{dot}session {age}")));
    }
    if app.read_only() {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            match (wide, style::ascii()) {
                (true, false) => " 🔒 read-only ",
                (true, true) => " [RO] read-only ",
                (false, false) => " 🔒 RO ",
                (false, true) => " [RO] ",
            },
            style::lock(),
        ));
    }
    Line::from(spans)
}

fn counts_line(app: &App, width: u16) -> Line<'static> {
    let Some(status) = &app.status else {
        return Line::styled(
            style::sym(
                " waiting for the first status report…",
                " waiting for the first status report...",
            ),
            style::dim(),
        );
    };
    let counts = &status.neurons;
    let mut spans = Vec::new();
    if app.stale() {
        let age = app.data_age_ms().unwrap_or(0) / 1000;
        spans.push(Span::styled(
            format!(" {} STALE {age}s ", style::sym("⚠", "!")),
            style::error(),
        ));
    }
    spans.push(Span::styled(
        format!(" {} neurons ", counts.total),
        style::title(),
    ));
    // Full state names need ~100 columns; below that the short labels keep one line.
    let wide = width >= 110;
    for state in NeuronState::ALL {
        let label = if wide {
            state.as_str()
        } else {
            style::short_state(state)
        };
        let n = count(counts, state);
        let s = if n == 0 {
            style::dim()
        } else {
            style::state(state)
        };
        spans.push(Span::styled(format!(" {label} {n} "), s));
    }
    // Fleet-wide config drift: more than one version running.
    let versions = &status.config_versions;
    let drift = versions.len() > 1;
    if wide && !versions.is_empty() {
        let text: Vec<String> = versions
            .iter()
            .map(|v| format!("{}{}{}", v.version, style::sym("×", "x"), v.neurons))
            .collect();
        let label = if drift { "config drift" } else { "config" };
        let look = if drift {
            style::warning()
        } else {
            style::dim()
        };
        spans.push(Span::styled(format!(" {label} {} ", text.join(" ")), look));
    } else if drift {
        spans.push(Span::styled(" DRIFT ", style::warning()));
    }
    Line::from(spans)
}
