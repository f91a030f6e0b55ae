//! Keys: what a key press means in the layer that has focus (input line, dialog, help, or the
//! shown screen behind the gate's preview).

use crossterm::event::KeyEvent;

use super::{App, Button, Confirm, Effect, FlashKind, Outcome};
use crate::tui::actions::{Action, Key};

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Outcome {
        // Nothing a key could act on is visible: only quitting is offered (as the screen says),
        // so no hidden dialog is confirmed or typed into.
        if self.too_small() {
            let quit = Key::ctrl('c').matches(&key)
                || (key.code == crossterm::event::KeyCode::Char('q') && key.modifiers.is_empty());
            return if quit {
                Outcome::effect(Effect::Quit)
            } else {
                Outcome::default()
            };
        }
        let Some(action) = self.registry.lookup(&self.active_scopes(), &key) else {
            // Ctrl-C quits from anywhere, dialogs included.
            if Key::ctrl('c').matches(&key) {
                return Outcome::effect(Effect::Quit);
            }
            return crate::tui::typing::on_text_key(self, key);
        };
        if self.input.is_some() {
            return crate::tui::typing::on_input_action(self, action);
        }
        if self.confirm.is_some() {
            return self.on_confirm_action(action);
        }
        if self.help {
            if action == Action::SwitchButton {
                self.help_commands = !self.help_commands;
            } else {
                self.help = false;
                self.help_commands = false;
            }
            return Outcome::redraw();
        }
        if let Some(refused) = self.refused(action) {
            self.set_flash(FlashKind::Error, refused);
            return Outcome::redraw();
        }
        self.on_action(action)
    }

    /// The refusal message when a key asks for something the gate would refuse.
    pub(in crate::tui) fn refused(&self, action: Action) -> Option<String> {
        let spec = self
            .active_scopes()
            .into_iter()
            .flat_map(|s| self.registry.actions(s))
            .find(|s| s.action == action)?;
        self.refusal(spec)
            .map(|r| crate::tui::chrome::refused_text(spec, r))
    }

    fn on_confirm_action(&mut self, action: Action) -> Outcome {
        let Some(dialog) = self.confirm.as_mut() else {
            return Outcome::default();
        };
        match action {
            Action::SwitchButton => {
                dialog.focus = match dialog.focus {
                    Button::Cancel => Button::Confirm,
                    Button::Confirm => Button::Cancel,
                };
                Outcome::redraw()
            }
            Action::Press if dialog.focus == Button::Confirm && !dialog.armed() => {
                Outcome::default()
            }
            Action::Press => match self.confirm.take() {
                Some(Confirm {
                    focus: Button::Confirm,
                    then: Some(effect),
                    ..
                }) => Outcome::effect(effect),
                Some(Confirm {
                    focus: Button::Confirm,
                    command,
                    ..
                }) => Outcome::effect(Effect::Submit(command)),
                _ => Outcome::redraw(),
            },
            Action::Close => {
                self.confirm = None;
                Outcome::redraw()
            }
            _ => Outcome::default(),
        }
    }
}
