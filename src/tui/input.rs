//! The one-line editor under the table: the `:` palette or the `/` filter (tui-input does the
//! editing; the app decides what Enter, Tab, Up and Down mean).

use tui_input::Input;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Palette,
    Filter,
}

impl InputKind {
    pub fn prompt(self) -> &'static str {
        match self {
            InputKind::Palette => ":",
            InputKind::Filter => "/",
        }
    }
}

#[derive(Debug, Clone)]
pub struct InputLine {
    pub kind: InputKind,
    pub input: Input,
    /// Why the last Enter was refused (bad regex, unknown verb); cleared on the next edit.
    pub error: Option<String>,
}

impl InputLine {
    pub fn new(kind: InputKind, value: &str) -> Self {
        InputLine {
            kind,
            input: Input::new(value.to_string()),
            error: None,
        }
    }

    pub fn set(&mut self, value: &str) {
        self.input = Input::new(value.to_string());
        self.error = None;
    }
}
