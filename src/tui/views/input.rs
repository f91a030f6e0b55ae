//! The `:` palette or `/` filter line, drawn where the flash line is, with its cursor. Its
//! error and the verbs it could become go on the line below (see `hints`), never over the input.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style;
use crate::tui::input::InputLine;

pub fn draw(frame: &mut Frame, area: Rect, line: &InputLine) {
    let prompt = line.kind.prompt();
    let room = (area.width as usize)
        .saturating_sub(prompt.len() + 2)
        .max(1);
    let scroll = line.input.visual_scroll(room);
    let value: String = line.input.value().chars().skip(scroll).take(room).collect();
    let text = Line::from(vec![
        Span::styled(format!(" {prompt}"), style::key()),
        Span::raw(value),
    ]);
    frame.render_widget(Paragraph::new(text), area);
    let x = area.x
        + 1
        + prompt.len() as u16
        + (line.input.visual_cursor().saturating_sub(scroll)) as u16;
    frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
}
