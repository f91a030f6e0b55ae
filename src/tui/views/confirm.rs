//! The confirm dialog in front of every dangerous action. It opens with Cancel focused, so a
//! reflexive Enter does nothing.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Padding, Paragraph, Wrap};

use super::{centered, hints, style};
use crate::tui::app::{App, Button, Confirm};

fn button(label: &str, focused: bool, dangerous: bool) -> Span<'static> {
    // Brackets mark focus too, so it shows without colour (and in text snapshots).
    let text = if focused {
        format!("[ {label} ]")
    } else {
        format!("  {label}  ")
    };
    let base = if dangerous {
        style::dangerous()
    } else {
        ratatui::style::Style::new()
    };
    if focused {
        Span::styled(text, base.patch(style::selected()))
    } else {
        Span::styled(text, base)
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, dialog: &Confirm) {
    let height = if dialog.typed.is_some() { 10 } else { 8 };
    let popup = centered(area, 60, height);
    frame.render_widget(Clear, popup);
    let block = style::block()
        .title(Span::styled(
            format!(" {} ", dialog.title),
            style::dangerous(),
        ))
        .border_style(style::dangerous())
        .padding(Padding::horizontal(1));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let typed_rows = if dialog.typed.is_some() { 2 } else { 0 };
    let [question, typed, buttons, keys] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(typed_rows),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(dialog.question.as_str()).wrap(Wrap { trim: true }),
        question,
    );
    if let Some(t) = &dialog.typed {
        let ok = t.input.value() == t.expected;
        let mark = if ok { style::sym(" ✓", " ok") } else { "" };
        let lines = vec![
            Line::styled(
                format!("Type '{}' to arm {}:", t.expected, dialog.confirm_label),
                style::dim(),
            ),
            Line::from(vec![
                Span::styled("> ", style::key()),
                Span::raw(t.input.value().to_string()),
                Span::styled(mark, style::ok()),
            ]),
        ];
        frame.render_widget(Paragraph::new(lines), typed);
    }
    let line = Line::from(vec![
        button("Cancel", dialog.focus == Button::Cancel, false),
        Span::raw("    "),
        button(
            dialog.confirm_label,
            dialog.focus == Button::Confirm,
            dialog.armed(),
        ),
    ])
    .alignment(Alignment::Center);
    frame.render_widget(Paragraph::new(line), buttons);
    frame.render_widget(
        // The dialog's keys come from the registry, like every other hint.
        Paragraph::new(hints::hint_line(app, keys.width)).alignment(Alignment::Center),
        keys,
    );
}
