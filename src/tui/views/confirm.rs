//! The confirm dialog in front of every dangerous action. It opens with Cancel focused, so a
//! reflexive Enter does nothing.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Wrap};

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
    let popup = centered(area, 56, 7);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(
            format!(" {} ", dialog.title),
            style::dangerous(),
        ))
        .border_style(style::dangerous())
        .padding(Padding::horizontal(1));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [question, buttons, keys] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(dialog.question.as_str()).wrap(Wrap { trim: true }),
        question,
    );
    let line = Line::from(vec![
        button("Cancel", dialog.focus == Button::Cancel, false),
        Span::raw("    "),
        button(dialog.confirm_label, dialog.focus == Button::Confirm, true),
    ])
    .alignment(Alignment::Center);
    frame.render_widget(Paragraph::new(line), buttons);
    frame.render_widget(
        // The dialog's keys come from the registry, like every other hint.
        Paragraph::new(hints::hint_line(app, keys.width)).alignment(Alignment::Center),
        keys,
    );
}
