//! Errors in user-editable TOML files (config, keymaps, themes) that name the file, the line and
//! the key, so the operator can go straight to the mistake.

use std::fmt;

/// One mistake in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file as the user knows it (a path, or `built-in keymaps/default.toml`).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The dotted key the mistake is at, e.g. `neurons.recover`.
    pub key: Option<String>,
    pub message: String,
}

impl SourceError {
    pub fn new(file: &str, message: impl Into<String>) -> Self {
        SourceError {
            file: file.to_string(),
            line: None,
            key: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, text: &str, offset: Option<usize>) -> Self {
        self.line = offset.map(|o| line_of(text, o));
        self
    }

    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// A TOML syntax or shape error, located by the span the parser reports.
    pub fn from_toml(file: &str, text: &str, error: &toml::de::Error) -> Self {
        let offset = error.span().map(|s| s.start);
        let mut e = SourceError::new(file, error.message().trim().to_string()).at(text, offset);
        e.key = offset.and_then(|o| key_at(text, o));
        e
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key '{key}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SourceError {}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted key defined on the line of `offset` (`[section]` header + `key = ...`), if any.
pub fn key_at(text: &str, offset: usize) -> Option<String> {
    let line = line_of(text, offset);
    let mut section: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.starts_with('[') {
            section = Some(l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        }
        if i + 1 == line {
            let key = l
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string());
            return match (section, key) {
                (Some(s), Some(k)) => Some(format!("{s}.{k}")),
                (None, Some(k)) => Some(k),
                (s, None) => s,
            };
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_clamped() {
        let text = "a = 1\nb = 2\n";
        assert_eq!(line_of(text, 0), 1);
        assert_eq!(line_of(text, 6), 2);
        assert_eq!(line_of(text, 999), 3);
    }

    #[test]
    fn keys_carry_their_section() {
        let text = "top = 1\n[neurons]\nrecover = [\"x\"]\n";
        assert_eq!(key_at(text, 2).as_deref(), Some("top"));
        assert_eq!(
            key_at(text, text.find("recover").unwrap_or(0)).as_deref(),
            Some("neurons.recover")
        );
    }

    #[test]
    fn display_names_file_line_and_key() {
        let e = SourceError::new("k.toml", "bad key 'ctrl-'")
            .at("x\ny", Some(2))
            .key("neurons.recover");
        assert_eq!(
            e.to_string(),
            "k.toml:2: key 'neurons.recover': bad key 'ctrl-'"
        );
    }
}
