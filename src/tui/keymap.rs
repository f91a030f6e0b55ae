//! Keymaps as data. `keymaps/default.toml` and `keymaps/vim.toml` are built into the binary; the
//! user's `keymap.toml` in the config dir rebinds or unbinds single actions on top of the chosen
//! one. Format: `[scope]` sections (`global`, `neurons`, `overview`, `detail`, `audit`,
//! `confirm`, `help`, `input`) of `action = ["key", ...]`; a top-level `action = [...]` applies
//! to every scope that has the action; `action = []` unbinds it. Key syntax: a character (`r`,
//! `G`, `?`), a name (`enter`, `esc`, `tab`, `backtab`, `space`, `up`, `down`, `left`, `right`,
//! `pgup`, `pgdn`, `home`, `end`, `backspace`, `delete`, `f1`…`f12`) with optional `ctrl-`,
//! `alt-` or `shift-` prefixes.
//!
//! A user file with an unknown action, a bad key or a conflict is rejected as a whole with an
//! error naming file, line and key; the console then runs on the built-in map and shows the error.

use crossterm::event::{KeyCode, KeyModifiers};
use std::collections::HashMap;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::actions::{Action, Key, Registry, Scope};
use crate::config::SourceError;

/// The bundled keymaps, by name.
pub const BUILTIN: [(&str, &str); 2] = [
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// Keys a dangerous action may never sit on: a slip of the finger while scrolling must not
/// start anything.
fn forbidden_for_dangerous(key: &Key) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('d' | 'k') if ctrl => true,
        KeyCode::Char('j' | 'k' | 'h' | 'l' | 'g' | 'G' | ' ') if !ctrl => true,
        KeyCode::Up
        | KeyCode::Down
        | KeyCode::Left
        | KeyCode::Right
        | KeyCode::PageUp
        | KeyCode::PageDown
        | KeyCode::Home
        | KeyCode::End
        | KeyCode::Enter
        | KeyCode::Tab
        | KeyCode::BackTab
        | KeyCode::Esc => true,
        _ => false,
    }
}

/// Parses one key in keymap syntax.
pub fn parse_key(text: &str) -> Result<Key, String> {
    let mut modifiers = KeyModifiers::NONE;
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        let (prefix, flag) = if lower.starts_with("ctrl-") && rest.len() > 5 {
            (5, KeyModifiers::CONTROL)
        } else if lower.starts_with("alt-") && rest.len() > 4 {
            (4, KeyModifiers::ALT)
        } else if lower.starts_with("shift-") && rest.len() > 6 {
            (6, KeyModifiers::SHIFT)
        } else {
            break;
        };
        modifiers |= flag;
        rest = &rest[prefix..];
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => {
            if modifiers.contains(KeyModifiers::CONTROL) {
                KeyCode::Char(c.to_ascii_lowercase())
            } else {
                KeyCode::Char(c)
            }
        }
        _ => match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            f if f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(format!("unknown key '{text}'")),
            },
            _ => return Err(format!("unknown key '{text}'")),
        },
    };
    Ok(Key { code, modifiers })
}

/// Where a binding came from, for error messages.
#[derive(Debug, Clone)]
struct Origin {
    file: String,
    line: usize,
    key: String,
}

/// A registry with keys bound, and where the bindings came from.
#[derive(Debug, Clone)]
pub struct Keymap {
    pub registry: Registry,
    /// `default`, `vim`, plus ` + FILE` when a user file applied.
    pub name: String,
    origins: HashMap<(Scope, Action), Origin>,
}

impl Keymap {
    /// A bundled keymap alone.
    pub fn builtin(name: &str) -> Result<Keymap, SourceError> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(SourceError::new(
                "config",
                format!("unknown keymap '{name}' (bundled: {})", names.join(", ")),
            )
            .key("keymap"));
        };
        let mut map = Keymap {
            registry: Registry::skeleton(),
            name: name.to_string(),
            origins: HashMap::new(),
        };
        map.apply(&format!("built-in keymaps/{name}.toml"), text)?;
        map.validate()?;
        Ok(map)
    }

    /// `base` with the user's overrides in `text` (from `file`) on top.
    pub fn with_overrides(base: &str, file: &str, text: &str) -> Result<Keymap, SourceError> {
        let mut map = Keymap::builtin(base)?;
        map.apply(file, text)?;
        map.validate()?;
        map.name = format!("{base} + {file}");
        Ok(map)
    }

    /// What the console starts with: the named keymap plus the user file if there is one. On
    /// any error, the bundled default and the error to show.
    pub fn load(base: &str, user_file: Option<&Path>) -> (Keymap, Option<SourceError>) {
        let result = match user_file.map(|p| (p, crate::config::read_text(p))) {
            Some((path, Ok(text))) => {
                Keymap::with_overrides(base, &path.display().to_string(), &text)
            }
            Some((path, Err(e))) if e.kind() != std::io::ErrorKind::NotFound => Err(
                SourceError::new(&path.display().to_string(), format!("cannot read: {e}")),
            ),
            _ => Keymap::builtin(base),
        };
        match result {
            Ok(map) => (map, None),
            Err(e) => {
                let fallback = Keymap::builtin("default").unwrap_or_else(|_| Keymap {
                    registry: Registry::skeleton(),
                    name: "none".into(),
                    origins: HashMap::new(),
                });
                (fallback, Some(e))
            }
        }
    }

    fn apply(&mut self, file: &str, text: &str) -> Result<(), SourceError> {
        let doc = DeTable::parse(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        for (name, value) in doc.get_ref().iter() {
            match value.get_ref() {
                DeValue::Table(section) => {
                    let Some(scope) = Scope::parse(name.get_ref()) else {
                        let scopes: Vec<&str> = Scope::all().iter().map(|s| s.as_str()).collect();
                        return Err(SourceError::new(
                            file,
                            format!("unknown section (scopes: {})", scopes.join(", ")),
                        )
                        .at(text, Some(name.span().start))
                        .key(name.get_ref().to_string()));
                    };
                    for (action, keys) in section.iter() {
                        let dotted = format!("{}.{}", scope.as_str(), action.get_ref());
                        self.bind(file, text, &[scope], action, keys, &dotted)?;
                    }
                }
                _ => {
                    let action = Action::parse(name.get_ref());
                    let scopes = action
                        .map(|a| self.registry.scopes_with(a))
                        .unwrap_or_default();
                    self.bind(file, text, &scopes, name, value, name.get_ref())?;
                }
            }
        }
        Ok(())
    }

    fn bind(
        &mut self,
        file: &str,
        text: &str,
        scopes: &[Scope],
        action: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
        dotted: &str,
    ) -> Result<(), SourceError> {
        let err = |offset: usize, message: String| {
            SourceError::new(file, message)
                .at(text, Some(offset))
                .key(dotted.to_string())
        };
        let parsed = Action::parse(action.get_ref());
        let Some(parsed) = parsed.filter(|_| !scopes.is_empty()) else {
            return Err(err(action.span().start, "unknown action".into()));
        };
        let DeValue::Array(items) = value.get_ref() else {
            return Err(err(
                value.span().start,
                "expected a list of keys, e.g. [\"r\"] (or [] to unbind)".into(),
            ));
        };
        let mut keys = Vec::new();
        for item in items.iter() {
            let Some(text_key) = item.get_ref().as_str() else {
                return Err(err(item.span().start, "keys are strings".into()));
            };
            keys.push(parse_key(text_key).map_err(|m| err(item.span().start, m))?);
        }
        let origin = Origin {
            file: file.to_string(),
            line: crate::config::line_of(text, action.span().start),
            key: dotted.to_string(),
        };
        let mut bound = false;
        for scope in scopes {
            if let Some(spec) = self.registry.spec_mut(*scope, parsed) {
                spec.keys = keys.clone();
                self.origins.insert((*scope, parsed), origin.clone());
                bound = true;
            }
        }
        if !bound {
            return Err(err(
                action.span().start,
                format!("action '{}' does not exist in this scope", parsed.as_str()),
            ));
        }
        Ok(())
    }

    fn error_at(&self, scope: Scope, action: Action, message: String) -> SourceError {
        match self.origins.get(&(scope, action)) {
            Some(o) => SourceError {
                file: o.file.clone(),
                line: Some(o.line),
                key: Some(o.key.clone()),
                message,
            },
            None => SourceError::new("keymap", message),
        }
    }

    /// Checks the merged map: no key bound twice where both are live, no dangerous action on a
    /// navigation key, Ctrl-D or Ctrl-K.
    fn validate(&self) -> Result<(), SourceError> {
        for scope in Scope::all() {
            for spec in self.registry.actions(scope) {
                if let Some(key) = spec
                    .keys
                    .iter()
                    .find(|k| spec.dangerous && forbidden_for_dangerous(k))
                {
                    return Err(self.error_at(
                        scope,
                        spec.action,
                        format!(
                            "'{}' is dangerous and may not be bound to {} (navigation keys, Ctrl-D and Ctrl-K are reserved)",
                            spec.action.as_str(),
                            key.label()
                        ),
                    ));
                }
            }
            let mut live = vec![scope];
            if scope.is_view() {
                live.push(Scope::Global);
            } else if scope == Scope::Global {
                continue;
            }
            let mut seen: HashMap<Key, (Scope, Action)> = HashMap::new();
            for s in live {
                for spec in self.registry.actions(s) {
                    for key in &spec.keys {
                        if let Some((other_scope, other)) = seen.insert(*key, (s, spec.action))
                            && other != spec.action
                        {
                            // Blame the binding that came from the user's file when there is one.
                            let (blame_scope, blame) = match self.origins.get(&(s, spec.action)) {
                                Some(o) if !o.file.starts_with("built-in") => (s, spec.action),
                                _ => (other_scope, other),
                            };
                            return Err(self.error_at(
                                blame_scope,
                                blame,
                                format!(
                                    "{} is bound to both '{}' and '{}' in {}",
                                    key.label(),
                                    other.as_str(),
                                    spec.action.as_str(),
                                    scope.as_str()
                                ),
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_syntax() {
        assert_eq!(parse_key("r"), Ok(Key::char('r')));
        assert_eq!(parse_key("G"), Ok(Key::char('G')));
        assert_eq!(parse_key("ctrl-c"), Ok(Key::ctrl('c')));
        assert_eq!(parse_key("Ctrl-Z"), Ok(Key::ctrl('z')));
        assert_eq!(parse_key("-"), Ok(Key::char('-')));
        assert_eq!(parse_key("shift-tab"), Ok(Key::plain(KeyCode::BackTab)));
        assert_eq!(parse_key("f5"), Ok(Key::plain(KeyCode::F(5))));
        assert!(parse_key("ctrl-").is_err());
        assert!(parse_key("f13").is_err());
        assert!(parse_key("hyper-x").is_err());
        assert!(parse_key("").is_err());
    }

    #[test]
    fn both_bundled_keymaps_load() {
        for (name, _) in BUILTIN {
            let map = Keymap::builtin(name);
            assert!(map.is_ok(), "{name}: {map:?}");
        }
    }
}
