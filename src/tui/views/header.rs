//! The header: who and where we are, the views, fleet counts and any fleet-level warning.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use super::style;
use crate::api::{NeuronState, StateCounts};
use crate::tui::app::{App, View};

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

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let info = &app.info;
    let tab = |label: &'static str, view: View| {
        if app.view == view || (view == View::Neurons && app.view == View::Detail) {
            Span::styled(label, style::selected())
        } else {
            Span::styled(label, style::dim())
        }
    };
    let identity = Line::from(vec![
        Span::styled(" PLEXUS ", style::selected().patch(style::title())),
        Span::raw(format!(
            " {}/{} · {} · {} ({})",
            info.federation, info.environment, info.mode, info.user, info.role
        )),
    ]);
    let tabs = Line::from(vec![
        tab("[1] Overview", View::Overview),
        Span::raw(" "),
        tab("[2] Neurons", View::Neurons),
        Span::raw(" "),
    ])
    .alignment(Alignment::Right);
    // Tabs first so they win the overlap if the identity is too long for the terminal.
    let first = Rect { height: 1, ..area };
    frame.render_widget(Paragraph::new(identity), first);
    frame.render_widget(Paragraph::new(tabs), first);
    let mut lines = vec![Line::default(), counts_line(app, area.width)];
    if let Some(status) = &app.status {
        for c in status.conditions.iter().take(2) {
            lines.push(Line::styled(
                format!(
                    " ⚠ fleet condition {} since {}: {}",
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

fn counts_line(app: &App, width: u16) -> Line<'static> {
    let Some(status) = &app.status else {
        return Line::styled(" waiting for the first status report…", style::dim());
    };
    let counts = &status.neurons;
    let mut spans = vec![Span::styled(
        format!(" {} neurons ", counts.total),
        style::title(),
    )];
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
    Line::from(spans)
}
