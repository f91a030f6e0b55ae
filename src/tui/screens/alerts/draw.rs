//! The alerts view: firing and pending alerts by notification group, severity coloured by
//! meaning (the theme's `alert.*` keys), muted ones marked, then the recently resolved.
//! `a` acknowledges the selected alert, `s` opens the palette with a silence of its labels.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::Alerts;
use crate::api::alert::{Alert, AlertState, Severity};
use crate::tui::views::style;

fn severity_style(a: &Alert) -> Style {
    match (a.state, a.severity) {
        (AlertState::Resolved, _) => style::dim(),
        (_, Severity::Critical) => style::critical(),
        (_, Severity::Warning) => style::warning(),
        (_, Severity::Info) => style::info(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, state: &Alerts) {
    let Some(report) = &state.report else {
        let text = Paragraph::new(style::sym("loading alerts…", "loading alerts..."))
            .block(style::block().title(" Alerts "));
        frame.render_widget(text, area);
        return;
    };
    let firing = report
        .active()
        .filter(|a| a.state == AlertState::Firing)
        .count();
    let pending = report.active().count() - firing;
    let title = format!(
        " Alerts {dot} {firing} firing {dot} {pending} pending {dot} {} groups {dot} {} resolved ",
        report.groups.len(),
        report.resolved.len(),
        dot = style::sym("·", "-")
    );
    let rows: Vec<Row> = state
        .rows()
        .into_iter()
        .map(|a| {
            let state = if a.state == AlertState::Resolved {
                style::dim()
            } else {
                Style::default()
            };
            Row::new(vec![
                Cell::from(format!(" {} ", a.severity.as_str())).style(severity_style(a)),
                Cell::from(a.state_text()),
                Cell::from(a.rule.clone()),
                Cell::from(a.labels_text(" ")),
                Cell::from(a.acked_by.clone().unwrap_or_else(|| "-".into())),
                Cell::from(a.summary().to_string()),
            ])
            .style(state)
        })
        .collect();
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new("no alerts: every rule's condition is quiet")
                .style(style::dim())
                .block(style::block().title(Line::styled(title, style::title()))),
            area,
        );
        return;
    }
    let widths = [
        Constraint::Length(10),
        Constraint::Length(19),
        Constraint::Length(24),
        Constraint::Length(26),
        Constraint::Length(8),
        Constraint::Min(10),
    ];
    let header =
        Row::new(["SEVERITY", "STATE", "ALERT", "LABELS", "ACK", "SUMMARY"]).style(style::dim());
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(style::selected())
        .block(style::block().title(Line::styled(title, style::title())));
    let mut table_state = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, area, &mut table_state);
}
