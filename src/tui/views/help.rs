//! The `?` overlay: every action of the current view and the global ones, straight from the
//! registry (the same list that handles the keys and fills the hint bar).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
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
        // Said once, whether or not the description already says it.
        _ if spec.dangerous && !spec.description.ends_with("(asks first)") => {
            format!("{} (asks first)", spec.description)
        }
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

/// One scope's rows: its title, then every offered action.
fn scope_rows(app: &App, scope: Scope) -> Vec<Row<'static>> {
    let mut rows = vec![Row::new(vec![Cell::from(Span::styled(
        scope.title(),
        style::title(),
    ))])];
    rows.extend(
        app.registry
            .actions(scope)
            .iter()
            .filter(|spec| !spec.keys.is_empty())
            .map(|spec| (spec, app.refusal(spec)))
            .filter(|(_, r)| *r != Some(Refusal::Hidden))
            .map(|(spec, r)| action_row(spec, r)),
    );
    rows
}

fn table(rows: Vec<Row<'static>>, key_width: u16) -> Table<'static> {
    Table::new(
        rows,
        [
            Constraint::Length(key_width),
            Constraint::Length(11),
            Constraint::Min(10),
        ],
    )
}

/// The palette's commands: `:name usage` and what it does, in name order; and the width of the
/// widest `:name usage`.
fn command_rows(app: &App) -> (Vec<Row<'static>>, usize) {
    let mut verbs: Vec<_> = app.palette.verbs().iter().collect();
    verbs.sort_by_key(|v| v.name);
    let usages: Vec<String> = verbs
        .iter()
        .map(|v| style::text(format!(":{} {}", v.name, v.usage).trim_end()))
        .collect();
    let widest = usages.iter().map(|u| u.chars().count()).max().unwrap_or(0);
    let rows = verbs
        .into_iter()
        .zip(usages)
        .map(|(v, usage)| {
            Row::new(vec![
                Cell::from(Span::styled(usage, style::key())),
                Cell::from(style::text(v.help)),
            ])
        })
        .collect();
    (rows, widest)
}

/// The bottom line: how to close, and how to switch between keys and commands.
fn footer(app: &App) -> String {
    let labels = |action| {
        app.registry
            .actions(Scope::Help)
            .iter()
            .find(|s| s.action == action)
            .map(|s| s.key_labels())
    };
    let mut parts = Vec::new();
    if let Some(keys) = labels(crate::tui::actions::Action::SwitchButton) {
        let other = if app.help_commands {
            "keys"
        } else {
            "commands"
        };
        parts.push(format!("{keys} {other}"));
    }
    if let Some(keys) = labels(crate::tui::actions::Action::Close) {
        parts.push(format!("{keys} close"));
    }
    format!(" {} ", parts.join(style::sym(" · ", " | ")))
}

fn draw_commands(frame: &mut Frame, area: Rect, app: &App) {
    let (rows, widest) = command_rows(app);
    let popup = centered(
        area,
        area.width.saturating_sub(4).min(140),
        rows.len() as u16 + 2,
    );
    frame.render_widget(Clear, popup);
    let block = style::block()
        .title(Span::styled(" Commands (:) ", style::title()))
        .title_bottom(Span::styled(footer(app), style::dim()));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    // The usage whole when it leaves the description 20 columns; else the usage is cut.
    let usage_width = (widest as u16 + 1).min(inner.width.saturating_sub(20));
    let table = Table::new(rows, [Constraint::Length(usage_width), Constraint::Min(10)]);
    frame.render_widget(table, inner);
}

/// The scopes one above the other when they fit the terminal, else side by side (descriptions
/// then get cut: the keys and names always show). Tab shows the palette's commands instead.
pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    if app.help_commands {
        return draw_commands(frame, area, app);
    }
    let [view, global] = scopes(app).map(|s| scope_rows(app, s));
    let stacked = view.len() + 1 + global.len() + 2;
    let side_by_side = stacked > area.height as usize;
    let height = if side_by_side {
        view.len().max(global.len()) + 2
    } else {
        stacked
    };
    let popup = centered(area, area.width.saturating_sub(4).min(96), height as u16);
    frame.render_widget(Clear, popup);
    let block = style::block()
        .title(Span::styled(" Help ", style::title()))
        .title_bottom(Span::styled(footer(app), style::dim()));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if side_by_side {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .spacing(1)
                .areas(inner);
        frame.render_widget(table(view, 8), left);
        frame.render_widget(table(global, 8), right);
    } else {
        let mut rows = view;
        rows.push(Row::new(vec![Cell::from("")]));
        rows.extend(global);
        frame.render_widget(table(rows, 14), inner);
    }
}
