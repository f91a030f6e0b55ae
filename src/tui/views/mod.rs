//! The chrome around the screens — header, flash line and hints, help, confirm dialogs, the input
//! line, the too-small notice — and the one `draw` of the whole console: pure functions of `&App`
//! into a ratatui `Frame`, so tests render them on a `TestBackend`. Each screen draws its own
//! body (`screens/`). Nothing here sorts or filters; that happened when the data arrived.

pub mod confirm;
pub mod format;
pub mod header;
pub mod help;
pub mod hints;
pub mod input;
pub mod style;
pub mod too_small;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::App;

/// The smallest terminal the layout is designed for.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Draws the whole console for the current state.
pub fn draw(frame: &mut Frame, app: &App) {
    draw_with(frame, app, true);
}

/// Everything but the header (its rows stay blank): what a screen's snapshot compares, so a new
/// tab in the header changes the header's snapshots only.
pub fn draw_without_header(frame: &mut Frame, app: &App) {
    draw_with(frame, app, false);
}

fn draw_with(frame: &mut Frame, app: &App, with_header: bool) {
    style::install(&app.theme, app.ascii);
    let area = frame.area();
    frame.render_widget(ratatui::widgets::Block::new().style(style::base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small::draw(frame, area);
        return;
    }
    let [top, body, flash, hint_bar] = Layout::vertical([
        Constraint::Length(header::height(app)),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if with_header {
        header::draw(frame, top, app);
    }
    app.screens.get(app.view).draw(frame, body, app.fleet());
    hints::draw_flash(frame, flash, app);
    hints::draw(frame, hint_bar, app);
    if app.help {
        help::draw(frame, area, app);
    }
    if let Some(dialog) = &app.confirm {
        confirm::draw(frame, area, app, dialog);
    }
}

/// A `width`×`height` rectangle centred in `area`, clamped to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}
