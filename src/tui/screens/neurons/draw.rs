//! The neurons table. It draws only the rows that fit: the sorted index is built elsewhere, and a
//! frame touches `visible_rows()` neurons whatever the fleet size.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};

use super::{Column, Neurons};
use crate::api::NeuronView;
use crate::tui::app::TextWidths;
use crate::tui::screens::Fleet;
use crate::tui::views::format;
use crate::tui::views::style;

/// Rows of data that fit a table body of `body_height` (borders and the header row excluded).
pub fn visible_rows(body_height: u16) -> usize {
    body_height.saturating_sub(3) as usize
}

/// The first row to show so that `selected` is visible, moving the window as little as possible.
pub fn window_start(offset: usize, selected: usize, visible: usize, len: usize) -> usize {
    if visible == 0 || len == 0 {
        return 0;
    }
    let max_start = len.saturating_sub(visible);
    let start = offset.min(max_start);
    let start = if selected < start {
        selected
    } else if selected >= start + visible {
        selected + 1 - visible
    } else {
        start
    };
    start.min(max_start)
}

/// Text columns take their longest value (within reason), numbers their widest form; the zone
/// takes what is left.
fn width(column: Column, widths: &TextWidths) -> Constraint {
    let text = |longest: usize, least: usize, most: usize| longest.clamp(least, most) as u16;
    match column {
        Column::Id => Constraint::Length(text(widths.id, 2, 40)),
        Column::State => Constraint::Length(13),
        Column::Phi => Constraint::Length(5),
        Column::Heartbeat => Constraint::Length(6),
        Column::Latency => Constraint::Length(8),
        Column::ErrorRate => Constraint::Length(6),
        Column::Config => Constraint::Length(text(widths.config, 6, 32)),
        Column::Zone => Constraint::Min(text(widths.zone, 4, 32)),
    }
}

fn numeric(column: Column) -> bool {
    matches!(
        column,
        Column::Phi | Column::Heartbeat | Column::Latency | Column::ErrorRate
    )
}

fn aligned(column: Column, text: String) -> Line<'static> {
    let line = Line::from(text);
    if numeric(column) {
        line.alignment(Alignment::Right)
    } else {
        line
    }
}

/// The text of one neuron in one column.
fn text(column: Column, n: &NeuronView) -> String {
    match column {
        Column::Id => n.id.to_string(),
        Column::State => n.state.as_str().to_string(),
        Column::Phi => n.phi_text(),
        Column::Heartbeat => format::age(n.last_heartbeat_ms),
        Column::Latency => format::millis(n.latency_ms),
        Column::ErrorRate => format::percent(n.error_rate),
        Column::Config => n.config_version.to_string(),
        Column::Zone => n.zone.to_string(),
    }
}

/// The cell of one neuron in one column.
pub fn cell(column: Column, n: &NeuronView) -> Cell<'static> {
    if column == Column::State {
        return Cell::from(n.state.as_str()).style(style::state(n.state));
    }
    Cell::from(aligned(column, text(column, n)))
}

fn header(table: &Neurons) -> Row<'static> {
    Row::new(Column::ALL.map(|column| {
        let mut title = column.title().to_string();
        if column == table.sort.column {
            title.push_str(match (table.sort.descending, style::ascii()) {
                (true, false) => "▼",
                (false, false) => "▲",
                (true, true) => "v",
                (false, true) => "^",
            });
        }
        Cell::from(aligned(column, title))
    }))
    .style(style::title())
}

pub fn draw(frame: &mut Frame, area: Rect, app: &Neurons, fleet: Fleet) {
    let visible = visible_rows(area.height);
    let len = app.order.len();
    let start = window_start(app.offset, app.selected, visible, len);
    let end = (start + visible).min(len);
    // Stale data is greyed whole: no colour may suggest a state that is no longer known.
    let stale = fleet.stale;
    let rows = app.order[start..end].iter().map(|&index| {
        let n = &fleet.neurons[index as usize];
        if stale {
            Row::new(Column::ALL.map(|column| Cell::from(aligned(column, text(column, n)))))
                .style(style::dim())
        } else {
            Row::new(Column::ALL.map(|column| cell(column, n)))
        }
    });
    let position = if len == 0 {
        "empty".to_string()
    } else {
        format!("{}/{len}", app.selected + 1)
    };
    let mut title = vec![
        Span::styled(" Neurons ", style::title()),
        Span::styled(format!("[{position}] "), style::dim()),
    ];
    if let Some(f) = &app.filter {
        title.push(Span::styled(format!("/{} ", f.text), style::key()));
    }
    let block = style::block().title(Line::from(title)).title_bottom(
        Line::styled(
            format!(
                " sort: {} {} ",
                app.sort.column.title().to_lowercase(),
                if app.sort.descending { "desc" } else { "asc" }
            ),
            style::dim(),
        )
        .alignment(Alignment::Right),
    );
    let table = Table::new(rows, Column::ALL.map(|c| width(c, &fleet.text_widths)))
        .header(header(app))
        .block(block)
        .row_highlight_style(style::selected())
        .highlight_symbol("> ")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected((len > 0).then(|| app.selected - start));
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_the_selection_visible_and_moves_minimally() {
        assert_eq!(window_start(0, 0, 10, 100), 0);
        assert_eq!(window_start(0, 9, 10, 100), 0);
        assert_eq!(window_start(0, 10, 10, 100), 1);
        assert_eq!(window_start(50, 40, 10, 100), 40);
        assert_eq!(window_start(95, 99, 10, 100), 90);
        assert_eq!(window_start(7, 3, 10, 5), 0);
        assert_eq!(window_start(3, 0, 0, 5), 0);
    }
}
