//! The `?` overlay: every action of the current view and the global ones, straight from the
//! registry (the same list that handles the keys and fills the hint bar).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Clear, Row, Table};

use super::{centered, style};
use crate::tui::actions::{ActionSpec, Scope};
use crate::tui::app::{App, Refusal};

fn action_row(spec: &ActionSpec, refusal: Option<Refusal>) -> Row<'static> {
    let (key_style, text_style) = if matches!(refusal, Some(Refusal::Greyed(_))) {
        (style::disabled(), style::disabled())
    } else if spec.dangerous {
        (style::dangerous(), style::dangerous())
    } else {
        (style::key(), ratatui::style::Style::new())
    };
    let description = match refusal {
        // The reason replaces the description: it is what the operator needs to know now.
        Some(Refusal::Greyed(reason)) => reason,
        _ if spec.dangerous => format!("{} (asks first)", spec.description),
        _ => spec.description.to_string(),
    };
    Row::new(vec![
        Cell::from(Span::styled(spec.key_labels(), key_style)),
        Cell::from(Span::styled(spec.name, text_style)),
        Cell::from(Span::styled(description, text_style)),
    ])
}

/// The scopes listed in the help for the current view.
pub fn scopes(app: &App) -> [Scope; 2] {
    [app.view.scope(), Scope::Global]
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let mut rows = Vec::new();
    for scope in scopes(app) {
        let actions = app.registry.actions(scope);
        if actions.is_empty() {
            continue;
        }
        if !rows.is_empty() {
            rows.push(Row::new(vec![Cell::from("")]));
        }
        rows.push(Row::new(vec![Cell::from(Span::styled(
            scope.title(),
            style::title(),
        ))]));
        rows.extend(
            actions
                .iter()
                .filter(|spec| !spec.keys.is_empty())
                .map(|spec| (spec, app.refusal(spec)))
                .filter(|(_, r)| *r != Some(Refusal::Hidden))
                .map(|(spec, r)| action_row(spec, r)),
        );
    }
    let height = rows.len() as u16 + 2;
    let popup = centered(area, area.width.saturating_sub(4).min(96), height);
    frame.render_widget(Clear, popup);
    let close = app
        .registry
        .actions(Scope::Help)
        .first()
        .map(|s| format!(" {} close ", s.key_labels()))
        .unwrap_or_default();
    let table = Table::new(
        rows,
        [
            Constraint::Length(14),
            Constraint::Length(11),
            Constraint::Min(10),
        ],
    )
    .block(
        style::block()
            .title(Span::styled(" Help ", style::title()))
            .title_bottom(Span::styled(close, style::dim())),
    );
    frame.render_widget(table, popup);
}
