//! The action registry: every scope (view, dialog, overlay) declares its actions once, and that one
//! list drives key handling, the hint bar and the `?` help overlay, so they cannot disagree.
//! It is plain data on purpose: a keymap file can later rebind keys by editing these lists.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::screens::{Screens, View};

/// What the user can ask for. The app's update function gives each its meaning. Keymap files
/// name them by [`Action::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    /// Show a screen (its tab).
    Show(View),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Recover,
    SortNext,
    SortReverse,
    /// Open the `:` command palette.
    Palette,
    /// Open the `/` filter of the current table.
    Filter,
    /// Drop the table filter.
    ClearFilter,
    /// Copy the selected neuron id to the clipboard (OSC 52).
    CopyId,
    ToggleMouse,
    /// Start a new session after the old one expired.
    RenewSession,
    /// Ctrl-Z: hand the terminal back to the shell until `fg`.
    Suspend,
    /// Dialog: move focus to the other button.
    SwitchButton,
    /// Dialog: run the focused button; input line: run it.
    Press,
    /// Dialog, input line and help: close without doing anything.
    Close,
    /// Input line: complete the word under the cursor.
    Complete,
    /// Input line: the previous (older) history entry.
    HistoryPrev,
    /// Input line: the next (newer) history entry.
    HistoryNext,
    /// FL view: start a run (asks first).
    FlStart,
    /// FL view: stop the shown run (asks first).
    FlStop,
    /// Alerts: acknowledge the selected alert.
    AckAlert,
    /// Alerts: open the palette with a silence of the selected alert's labels.
    SilenceAlert,
    /// Stress view: the palette with a start line to edit.
    StartStress,
    /// Stress view: stop the running test (asks first).
    StopStress,
    /// Stress view: remove mock neurons a test left behind (asks first).
    CleanupStress,
    /// Chaos view: the palette with a run line to edit.
    StartChaos,
    /// Chaos view: stop the selected drill or abort the running experiment (asks first).
    StopChaos,
}

impl Action {
    /// Every action: the fixed ones, then one `Show` per screen.
    pub fn all() -> Vec<Action> {
        let mut all = vec![
            Action::Quit,
            Action::Help,
            Action::Up,
            Action::Down,
            Action::PageUp,
            Action::PageDown,
            Action::Top,
            Action::Bottom,
            Action::Open,
            Action::Back,
            Action::Recover,
            Action::SortNext,
            Action::SortReverse,
            Action::Palette,
            Action::Filter,
            Action::ClearFilter,
            Action::CopyId,
            Action::ToggleMouse,
            Action::RenewSession,
            Action::Suspend,
            Action::SwitchButton,
            Action::Press,
            Action::Close,
            Action::Complete,
            Action::HistoryPrev,
            Action::HistoryNext,
            Action::FlStart,
            Action::FlStop,
            Action::AckAlert,
            Action::SilenceAlert,
            Action::StartStress,
            Action::StopStress,
            Action::CleanupStress,
            Action::StartChaos,
            Action::StopChaos,
        ];
        all.extend(Screens::ORDER.iter().map(|&v| Action::Show(v)));
        all
    }

    /// The name keymap files use.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Show(view) => view.show_action_name(),
            Action::Help => "help",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::Back => "back",
            Action::Recover => "recover",
            Action::SortNext => "sort_next",
            Action::SortReverse => "sort_reverse",
            Action::Palette => "palette",
            Action::Filter => "filter",
            Action::ClearFilter => "clear_filter",
            Action::CopyId => "copy_id",
            Action::ToggleMouse => "toggle_mouse",
            Action::RenewSession => "renew_session",
            Action::Suspend => "suspend",
            Action::SwitchButton => "switch_button",
            Action::Press => "press",
            Action::Close => "close",
            Action::Complete => "complete",
            Action::HistoryPrev => "history_prev",
            Action::HistoryNext => "history_next",
            Action::FlStart => "fl_start",
            Action::FlStop => "fl_stop",
            Action::AckAlert => "ack",
            Action::SilenceAlert => "silence",
            Action::StartStress => "start_stress",
            Action::StopStress => "stop_stress",
            Action::CleanupStress => "cleanup_stress",
            Action::StartChaos => "start_chaos",
            Action::StopChaos => "stop_chaos",
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::all().into_iter().find(|a| a.as_str() == name)
    }
}

/// Where a set of actions applies: the global keys, a screen, or a modal layer drawn on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Screen(View),
    Confirm,
    Help,
    /// The `:` palette and the `/` filter line.
    Input,
}

impl Scope {
    /// Every scope: global, each screen in header order, then the modal layers.
    pub fn all() -> Vec<Scope> {
        let mut all = vec![Scope::Global];
        all.extend(Screens::ORDER.iter().map(|&v| Scope::Screen(v)));
        all.extend([Scope::Confirm, Scope::Help, Scope::Input]);
        all
    }

    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Global",
            Scope::Screen(view) => view.title(),
            Scope::Confirm => "Confirm dialog",
            Scope::Help => "Help",
            Scope::Input => "Palette and filter line",
        }
    }

    /// The section name in keymap files.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Screen(view) => view.name(),
            Scope::Confirm => "confirm",
            Scope::Help => "help",
            Scope::Input => "input",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::all().into_iter().find(|s| s.as_str() == name)
    }

    /// Screens share their keys with the global scope; modal layers only have their own.
    pub fn is_view(self) -> bool {
        matches!(self, Scope::Screen(_))
    }
}

/// One key chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Self {
        Key {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }
    pub const fn char(c: char) -> Self {
        Key::plain(KeyCode::Char(c))
    }
    pub const fn ctrl(c: char) -> Self {
        Key {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }

    /// Whether a terminal key event is this chord. Shift is folded into the character for letters
    /// (terminals disagree on whether `S` carries SHIFT), so it is ignored for `Char` keys.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        if event.kind == KeyEventKind::Release {
            return false;
        }
        let significant = |m: KeyModifiers| match event.code {
            KeyCode::Char(_) => m - KeyModifiers::SHIFT,
            _ => m,
        };
        self.code == event.code && significant(self.modifiers) == significant(event.modifiers)
    }

    /// How the key is written in hints and help (arrows spelled out in `--ascii` mode).
    pub fn label(&self) -> String {
        let ascii = crate::tui::views::style::ascii();
        let arrow = |glyph: &str, word: &str| {
            if ascii {
                word.to_string()
            } else {
                glyph.to_string()
            }
        };
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => arrow("↑", "Up"),
            KeyCode::Down => arrow("↓", "Down"),
            KeyCode::Left => arrow("←", "Left"),
            KeyCode::Right => arrow("→", "Right"),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            other => format!("{other:?}"),
        };
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{}", base.to_uppercase())
        } else if self.modifiers.contains(KeyModifiers::ALT) {
            format!("Alt-{base}")
        } else {
            base
        }
    }
}

/// One entry of the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpec {
    pub action: Action,
    /// The first key is the one shown in the hint bar; help shows them all.
    pub keys: Vec<Key>,
    /// Short name for the hint bar.
    pub name: &'static str,
    /// One line for the help overlay.
    pub description: &'static str,
    /// Changes something in the fleet; shown in red and always behind a confirm dialog.
    pub dangerous: bool,
    /// Worth a place in the (narrow) hint bar.
    pub hint: bool,
    /// What the gate checks when the action reaches it (greyed out when the role lacks it).
    pub permission: Option<crate::api::Permission>,
}

impl ActionSpec {
    pub fn new(action: Action, name: &'static str, description: &'static str) -> Self {
        ActionSpec {
            action,
            keys: Vec::new(),
            name,
            description,
            dangerous: false,
            hint: true,
            permission: None,
        }
    }
    pub fn needs(mut self, permission: crate::api::Permission) -> Self {
        self.permission = Some(permission);
        self
    }
    pub fn dangerous(mut self) -> Self {
        self.dangerous = true;
        self
    }
    pub fn no_hint(mut self) -> Self {
        self.hint = false;
        self
    }
    pub fn key_labels(&self) -> String {
        let labels: Vec<String> = self.keys.iter().map(Key::label).collect();
        labels.join("/")
    }
}

/// All scopes' actions. Owned by the app so a keymap can rewrite it at start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    scopes: Vec<(Scope, Vec<ActionSpec>)>,
}

impl Registry {
    /// The actions of one scope, in display order.
    pub fn actions(&self, scope: Scope) -> &[ActionSpec] {
        self.scopes
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, a)| a.as_slice())
            .unwrap_or(&[])
    }

    /// The first action of `scopes` (searched in order) bound to `event`.
    pub fn lookup(&self, scopes: &[Scope], event: &KeyEvent) -> Option<Action> {
        scopes.iter().find_map(|scope| {
            self.actions(*scope)
                .iter()
                .find(|spec| spec.keys.iter().any(|k| k.matches(event)))
                .map(|spec| spec.action)
        })
    }
}

impl Registry {
    /// Every scope's actions with no keys bound: the keymap (built-in, then the user's) binds them.
    /// The global actions and the chrome's (dialogs, help, input line) are here; each screen's
    /// come from the screen.
    pub fn skeleton() -> Self {
        use Action as A;
        let spec = |action: Action, name: &'static str, description: &'static str| {
            ActionSpec::new(action, name, description)
        };
        let screens = super::screens::Screens::default();
        let mut global = vec![
            spec(A::Help, "help", "Show or hide this help"),
            spec(A::Palette, "command", "Open the command palette").no_hint(),
        ];
        // One "show" per screen with a tab, in header order.
        global.extend(screens.all().into_iter().filter_map(|(view, s)| {
            let tab = s.tab()?;
            let show = ActionSpec::new(A::Show(view), view.name(), tab.help).no_hint();
            Some(match tab.permission {
                Some(p) => show.needs(p),
                None => show,
            })
        }));
        global.extend([
            spec(
                A::ToggleMouse,
                "mouse",
                "Capture the mouse, or give it back",
            )
            .no_hint(),
            spec(
                A::RenewSession,
                "new session",
                "Start a new session after expiry",
            )
            .no_hint(),
            spec(
                A::Suspend,
                "suspend",
                "Suspend to the shell (resume with fg)",
            )
            .no_hint(),
            spec(A::Quit, "quit", "Leave Plexus"),
        ]);
        let confirm = vec![
            spec(A::SwitchButton, "switch", "Focus the other button"),
            spec(A::Press, "choose", "Run the focused button"),
            spec(A::Close, "cancel", "Close without doing anything"),
        ];
        let help = vec![
            spec(A::Close, "close", "Close the help"),
            spec(
                A::SwitchButton,
                "commands",
                "Show the palette's commands (or the keys again)",
            ),
        ];
        let input = vec![
            spec(A::Press, "run", "Run the line"),
            spec(A::Complete, "complete", "Complete the word"),
            spec(A::HistoryPrev, "older", "Previous line from history").no_hint(),
            spec(A::HistoryNext, "newer", "Next line from history").no_hint(),
            spec(A::Close, "cancel", "Close the line"),
        ];
        let mut scopes = vec![(Scope::Global, global)];
        // Each screen declares its own actions (`screens/`).
        scopes.extend(
            screens
                .all()
                .into_iter()
                .map(|(view, s)| (Scope::Screen(view), s.actions())),
        );
        scopes.extend([
            (Scope::Confirm, confirm),
            (Scope::Help, help),
            (Scope::Input, input),
        ]);
        Registry { scopes }
    }

    /// The spec of `action` in `scope`, to bind keys to it.
    pub fn spec_mut(&mut self, scope: Scope, action: Action) -> Option<&mut ActionSpec> {
        self.scopes
            .iter_mut()
            .find(|(s, _)| *s == scope)
            .and_then(|(_, specs)| specs.iter_mut().find(|spec| spec.action == action))
    }

    /// Scopes that declare `action`.
    pub fn scopes_with(&self, action: Action) -> Vec<Scope> {
        self.scopes
            .iter()
            .filter(|(_, specs)| specs.iter().any(|s| s.action == action))
            .map(|(scope, _)| *scope)
            .collect()
    }
}

impl Default for Registry {
    /// The skeleton bound by the built-in default keymap.
    fn default() -> Self {
        super::keymap::Keymap::builtin("default")
            .map(|k| k.registry)
            .unwrap_or_else(|_| Registry::skeleton())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn shifted_letters_match_with_or_without_the_shift_flag() {
        let r = Registry::default();
        let with = key(KeyCode::Char('S'), KeyModifiers::SHIFT);
        let without = key(KeyCode::Char('S'), KeyModifiers::NONE);
        assert_eq!(
            r.lookup(&[Scope::Screen(View::Neurons)], &with),
            Some(Action::SortReverse)
        );
        assert_eq!(
            r.lookup(&[Scope::Screen(View::Neurons)], &without),
            Some(Action::SortReverse)
        );
        assert_eq!(
            r.lookup(
                &[Scope::Screen(View::Neurons)],
                &key(KeyCode::Char('s'), KeyModifiers::NONE)
            ),
            Some(Action::SortNext)
        );
    }

    #[test]
    fn ctrl_c_is_quit_but_c_is_nothing() {
        let r = Registry::default();
        let scopes = [Scope::Screen(View::Neurons), Scope::Global];
        assert_eq!(
            r.lookup(&scopes, &key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            r.lookup(&scopes, &key(KeyCode::Char('c'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn no_key_is_bound_twice_in_a_view_and_global() {
        let r = Registry::default();
        for view in [View::Neurons, View::Overview, View::Detail].map(Scope::Screen) {
            let mut seen = std::collections::HashSet::new();
            for spec in r.actions(view).iter().chain(r.actions(Scope::Global)) {
                for k in &spec.keys {
                    assert!(seen.insert(*k), "{k:?} bound twice in {view:?}");
                }
            }
        }
    }
}
