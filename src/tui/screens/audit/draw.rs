//! The audit view: a live tail of the tamper-evident log (newest at the bottom), with the `/`
//! filter (`user=`, `action=`, `outcome=`, or a regex) and the query filter of `:audit`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};

use super::Audit;
use crate::api::AuditRecord;
use crate::tui::screens::neurons::{visible_rows, window_start};
use crate::tui::views::{format, style};

const WIDTHS: [Constraint; 8] = [
    Constraint::Length(6),
    Constraint::Length(8),
    Constraint::Length(10),
    Constraint::Length(14),
    Constraint::Length(18),
    Constraint::Length(10),
    Constraint::Length(7),
    Constraint::Min(10),
];

fn row(r: &AuditRecord) -> Row<'static> {
    let detail = match (&r.error_code, &r.message) {
        (Some(code), Some(m)) => format!("{code}: {m}"),
        (Some(code), None) => code.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => String::new(),
    };
    Row::new(vec![
        Cell::from(r.seq.to_string()),
        Cell::from(format::clock(&r.at).to_string()),
        Cell::from(r.user.clone()),
        Cell::from(r.role.clone()),
        Cell::from(r.action.clone()),
        Cell::from(r.target.clone()),
        Cell::from(r.outcome.as_str()).style(style::outcome(r.outcome.as_str())),
        Cell::from(detail).style(style::dim()),
    ])
}

/// `user=alice outcome=denied` for the title, from the `:audit` query.
fn query_label(audit: &Audit) -> String {
    let q = &audit.query;
    [
        ("user", &q.user),
        ("action", &q.action),
        ("outcome", &q.outcome),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect::<Vec<_>>()
    .join(" ")
}

pub fn draw(frame: &mut Frame, area: Rect, audit: &Audit) {
    let visible = visible_rows(area.height);
    let len = audit.order.len();
    let start = window_start(audit.offset, audit.selected, visible, len);
    let end = (start + visible).min(len);
    let rows = audit.order[start..end]
        .iter()
        .map(|&i| row(&audit.records[i as usize]));
    let position = if len == 0 {
        "empty".to_string()
    } else {
        format!("{}/{len}", audit.selected + 1)
    };
    let mut title = vec![
        Span::styled(" Audit log ", style::title()),
        Span::styled(format!("[{position}] live "), style::dim()),
    ];
    let query = query_label(audit);
    if !query.is_empty() {
        title.push(Span::styled(format!(":audit {query} "), style::key()));
    }
    if let Some(f) = &audit.filter {
        title.push(Span::styled(format!("/{} ", f.text), style::key()));
    }
    let header = Row::new([
        "SEQ", "TIME", "USER", "ROLE", "ACTION", "TARGET", "OUTCOME", "DETAIL",
    ])
    .style(style::title());
    let table = Table::new(rows, WIDTHS)
        .header(header)
        .block(style::block().title(Line::from(title)))
        .row_highlight_style(style::selected())
        .highlight_symbol("> ")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected((len > 0).then(|| audit.selected - start));
    frame.render_stateful_widget(table, area, &mut state);
}
