//! Shown instead of a broken layout when the terminal is below the minimum size.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{MIN_HEIGHT, MIN_WIDTH, style};

pub fn message(width: u16, height: u16) -> String {
    format!("Plexus needs at least {MIN_WIDTH}×{MIN_HEIGHT} (now {width}×{height})")
}

pub fn draw(frame: &mut Frame, area: Rect) {
    let lines = vec![
        Line::styled(message(area.width, area.height), style::warning()),
        Line::from("Enlarge the window (keys wait until then), or press q to quit."),
    ];
    // Vertically centre what fits; wrap so even a very narrow terminal shows the whole message.
    let top = area.height.saturating_sub(2) / 2;
    let body = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        body,
    );
}
