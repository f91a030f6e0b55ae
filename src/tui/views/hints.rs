//! The bottom two lines: the flash line (command results, errors) and the hint bar, which is
//! generated from the action registry of the scopes that are live right now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format;
use super::style;
use crate::tui::actions::ActionSpec;
use crate::tui::app::{App, FlashKind, Refusal};
use crate::tui::input::InputKind;

/// The actions shown in the hint bar, in order: live scopes, most specific first. Read-only
/// sessions do not offer what would change the fleet; unbound actions have nothing to show.
pub fn hinted(app: &App) -> Vec<&ActionSpec> {
    app.active_scopes()
        .into_iter()
        .flat_map(|scope| app.registry.actions(scope))
        .filter(|spec| spec.hint && !spec.keys.is_empty())
        .filter(|spec| app.refusal(spec) != Some(Refusal::Hidden))
        .collect()
}

/// Hints that fit `width`, dropping whole entries rather than cutting one in half.
pub fn hint_line(app: &App, width: u16) -> Line<'static> {
    let mut spans = Vec::new();
    let mut used = 0usize;
    for spec in hinted(app) {
        let key = spec.keys.first().map(|k| k.label()).unwrap_or_default();
        let entry_width = 1 + key.chars().count() + 1 + spec.name.chars().count() + 1;
        if used + entry_width > width as usize {
            break;
        }
        used += entry_width;
        let greyed = matches!(app.refusal(spec), Some(Refusal::Greyed(_)));
        let key_style = if greyed {
            style::disabled()
        } else if spec.dangerous {
            style::dangerous()
        } else {
            style::key()
        };
        let name_style = if greyed {
            style::disabled()
        } else {
            style::dim()
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(key, key_style));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(spec.name.to_string(), name_style));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let line = match &app.input {
        Some(input) => match &input.error {
            Some(error) => Line::styled(format!(" {error}"), style::error()),
            None if input.kind == InputKind::Palette => {
                palette_line(app, input.input.value(), area.width)
            }
            None => hint_line(app, area.width),
        },
        None => hint_line(app, area.width),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Under an open palette: the one verb the line names, with its usage and help; or every verb
/// it could still become, as many as fit, and how many more (typing narrows them, Tab completes,
/// `?` outside the palette lists them all).
pub fn palette_line(app: &App, typed: &str, width: u16) -> Line<'static> {
    let matching = app.palette.matching(typed);
    let first = typed.trim_start().split(' ').next().unwrap_or("");
    if let Some(verb) = matching
        .iter()
        .find(|v| v.name == first)
        .or(match matching.as_slice() {
            [only] => Some(only),
            _ => None,
        })
    {
        let usage = if verb.usage.is_empty() {
            String::new()
        } else {
            format!(" {}", verb.usage)
        };
        return Line::from(vec![
            Span::styled(
                style::text(&format!(" :{}{usage}", verb.name)),
                style::key(),
            ),
            Span::styled(style::text(&format!("  {}", verb.help)), style::dim()),
        ]);
    }
    if matching.is_empty() {
        return Line::styled(" no command starts so (Esc closes)", style::dim());
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1usize;
    for (i, verb) in matching.iter().enumerate() {
        let rest = matching.len() - i;
        let more = format!("+{rest} more, type to narrow");
        let entry = verb.name.chars().count() + 1;
        // Leave room to say how many did not fit.
        let tail = if rest > 1 {
            more.chars().count() + 1
        } else {
            0
        };
        if used + entry + tail > width as usize {
            spans.push(Span::styled(more, style::dim()));
            break;
        }
        used += entry;
        spans.push(Span::styled(verb.name.to_string(), style::key()));
        spans.push(Span::raw(" "));
    }
    Line::from(spans)
}

/// The line above the hints: the open palette or filter, else the flash message, else the time
/// of the last update.
pub fn draw_flash(frame: &mut Frame, area: Rect, app: &App) {
    if let Some(input) = &app.input {
        super::input::draw(frame, area, input);
        return;
    }
    let line = match &app.flash {
        Some(flash) => {
            let s = match flash.kind {
                FlashKind::Info => style::ok(),
                FlashKind::Error => style::error(),
            };
            Line::styled(format!(" {}", flash.text), s)
        }
        None => match &app.status {
            Some(status) => Line::styled(
                format!(" updated {}", format::clock(&status.at)),
                style::dim(),
            ),
            None => Line::default(),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}
