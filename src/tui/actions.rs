//! The action registry: every scope (view, dialog, overlay) declares its actions once, and that one
//! list drives key handling, the hint bar and the `?` help overlay, so they cannot disagree.
//! It is plain data on purpose: a keymap file can later rebind keys by editing these lists.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What the user can ask for. The app's update function gives each its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    ShowOverview,
    ShowNeurons,
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
    /// Dialog: move focus to the other button.
    SwitchButton,
    /// Dialog: run the focused button.
    Press,
    /// Dialog and help: close without doing anything.
    Close,
}

/// Where a set of actions applies. Views first, then the modal layers drawn on top of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Neurons,
    Overview,
    Detail,
    Confirm,
    Help,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Global",
            Scope::Neurons => "Neurons",
            Scope::Overview => "Overview",
            Scope::Detail => "Neuron detail",
            Scope::Confirm => "Confirm dialog",
            Scope::Help => "Help",
        }
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

    /// How the key is written in hints and help.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
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
}

impl ActionSpec {
    fn new(action: Action, keys: &[Key], name: &'static str, description: &'static str) -> Self {
        ActionSpec {
            action,
            keys: keys.to_vec(),
            name,
            description,
            dangerous: false,
            hint: true,
        }
    }
    fn dangerous(mut self) -> Self {
        self.dangerous = true;
        self
    }
    fn no_hint(mut self) -> Self {
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

impl Default for Registry {
    fn default() -> Self {
        use Action as A;
        use KeyCode as K;
        let spec = ActionSpec::new;
        let moves = || {
            vec![
                spec(
                    A::Up,
                    &[Key::plain(K::Up), Key::char('k')],
                    "up",
                    "Select the row above",
                ),
                spec(
                    A::Down,
                    &[Key::plain(K::Down), Key::char('j')],
                    "down",
                    "Select the row below",
                ),
                spec(
                    A::PageUp,
                    &[Key::plain(K::PageUp)],
                    "page up",
                    "Move one page up",
                )
                .no_hint(),
                spec(
                    A::PageDown,
                    &[Key::plain(K::PageDown)],
                    "page down",
                    "Move one page down",
                )
                .no_hint(),
                spec(
                    A::Top,
                    &[Key::plain(K::Home), Key::char('g')],
                    "top",
                    "Jump to the first row",
                )
                .no_hint(),
                spec(
                    A::Bottom,
                    &[Key::plain(K::End), Key::char('G')],
                    "bottom",
                    "Jump to the last row",
                )
                .no_hint(),
            ]
        };
        let recover = || {
            spec(
                A::Recover,
                &[Key::char('r')],
                "recover",
                "Force recovery of the selected neuron (asks first)",
            )
            .dangerous()
        };

        let global = vec![
            spec(A::Help, &[Key::char('?')], "help", "Show or hide this help"),
            spec(
                A::ShowOverview,
                &[Key::char('o'), Key::char('1')],
                "overview",
                "Show the fleet overview",
            ),
            spec(
                A::ShowNeurons,
                &[Key::char('n'), Key::char('2')],
                "neurons",
                "Show the neurons table",
            ),
            spec(
                A::Quit,
                &[Key::char('q'), Key::ctrl('c')],
                "quit",
                "Leave Plexus",
            ),
        ];
        let mut neurons = moves();
        neurons.extend([
            spec(
                A::Open,
                &[Key::plain(K::Enter)],
                "detail",
                "Open the selected neuron",
            ),
            recover(),
            spec(
                A::SortNext,
                &[Key::char('s')],
                "sort",
                "Sort by the next column",
            ),
            spec(
                A::SortReverse,
                &[Key::char('S')],
                "reverse",
                "Reverse the sort order",
            ),
        ]);
        let overview = vec![spec(
            A::Back,
            &[Key::plain(K::Esc)],
            "back",
            "Back to the neurons table",
        )];
        let detail = vec![
            spec(
                A::Back,
                &[Key::plain(K::Esc)],
                "back",
                "Back to the previous view",
            ),
            recover(),
        ];
        let confirm = vec![
            spec(
                A::SwitchButton,
                &[
                    Key::plain(K::Tab),
                    Key::plain(K::BackTab),
                    Key::plain(K::Left),
                    Key::plain(K::Right),
                ],
                "switch",
                "Focus the other button",
            ),
            spec(
                A::Press,
                &[Key::plain(K::Enter)],
                "choose",
                "Run the focused button",
            ),
            spec(
                A::Close,
                &[Key::plain(K::Esc)],
                "cancel",
                "Close without doing anything",
            ),
        ];
        let help = vec![spec(
            A::Close,
            &[Key::plain(K::Esc), Key::char('?'), Key::char('q')],
            "close",
            "Close the help",
        )];
        Registry {
            scopes: vec![
                (Scope::Global, global),
                (Scope::Neurons, neurons),
                (Scope::Overview, overview),
                (Scope::Detail, detail),
                (Scope::Confirm, confirm),
                (Scope::Help, help),
            ],
        }
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
            r.lookup(&[Scope::Neurons], &with),
            Some(Action::SortReverse)
        );
        assert_eq!(
            r.lookup(&[Scope::Neurons], &without),
            Some(Action::SortReverse)
        );
        assert_eq!(
            r.lookup(
                &[Scope::Neurons],
                &key(KeyCode::Char('s'), KeyModifiers::NONE)
            ),
            Some(Action::SortNext)
        );
    }

    #[test]
    fn ctrl_c_is_quit_but_c_is_nothing() {
        let r = Registry::default();
        let scopes = [Scope::Neurons, Scope::Global];
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
        for view in [Scope::Neurons, Scope::Overview, Scope::Detail] {
            let mut seen = std::collections::HashSet::new();
            for spec in r.actions(view).iter().chain(r.actions(Scope::Global)) {
                for k in &spec.keys {
                    assert!(seen.insert(*k), "{k:?} bound twice in {view:?}");
                }
            }
        }
    }
}
