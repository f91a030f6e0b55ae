//! Typing: keys that are not bound go into the open input line (or a dialog's name field);
//! the input line's own actions (run, complete, history, close).

use crossterm::event::KeyEvent;
use std::sync::Arc;

use super::actions::Action;
use super::app::{App, Confirm, Outcome};
use super::input::InputKind;

/// An unbound key: typing into the input line or a dialog's name field.
pub fn on_text_key(app: &mut App, key: KeyEvent) -> Outcome {
    use tui_input::backend::crossterm::EventHandler;
    let event = crossterm::event::Event::Key(key);
    let target = match (&mut app.input, &mut app.confirm) {
        (Some(line), _) => {
            line.error = None;
            if line.kind == InputKind::Palette {
                app.palette_history.reset();
            } else {
                app.filter_history.reset();
            }
            &mut line.input
        }
        (None, Some(Confirm { typed: Some(t), .. })) => &mut t.input,
        _ => return Outcome::default(),
    };
    let changed = target
        .handle_event(&event)
        .is_some_and(|c| c.value || c.cursor);
    Outcome {
        redraw: changed,
        effect: None,
    }
}

pub fn on_input_action(app: &mut App, action: Action) -> Outcome {
    let Some(line) = app.input.as_mut() else {
        return Outcome::default();
    };
    let history = match line.kind {
        InputKind::Palette => &mut app.palette_history,
        InputKind::Filter => &mut app.filter_history,
    };
    match action {
        Action::Close => {
            app.input = None;
            Outcome::redraw()
        }
        Action::HistoryPrev | Action::HistoryNext => {
            let entry = if action == Action::HistoryPrev {
                history.older()
            } else {
                history.newer()
            };
            if let Some(entry) = entry {
                line.set(entry);
            }
            Outcome::redraw()
        }
        Action::Complete => {
            if line.kind != InputKind::Palette {
                return Outcome::default();
            }
            let neurons = Arc::clone(&app.neurons);
            let ids = move |prefix: &str| -> Vec<String> {
                neurons
                    .iter()
                    .filter(|n| n.id.starts_with(prefix))
                    .take(1000)
                    .map(|n| n.id.to_string())
                    .collect()
            };
            match app.palette.complete(line.input.value(), &ids) {
                Some(done) => {
                    line.set(&done);
                    Outcome::redraw()
                }
                None => Outcome::default(),
            }
        }
        Action::Press => {
            let text = line.input.value().to_string();
            history.push(&text);
            match line.kind {
                InputKind::Palette => match app.palette.resolve(&text) {
                    Ok(run) => {
                        app.input = None;
                        app.run(run)
                    }
                    Err(e) => {
                        line.error = Some(e);
                        Outcome::redraw()
                    }
                },
                InputKind::Filter => match app.set_filter(&text) {
                    Ok(()) => {
                        app.input = None;
                        Outcome::redraw()
                    }
                    Err(e) => {
                        if let Some(line) = app.input.as_mut() {
                            line.error = Some(e);
                        }
                        Outcome::redraw()
                    }
                },
            }
        }
        _ => Outcome::default(),
    }
}
