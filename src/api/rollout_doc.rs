//! Parsing config and experiment documents (TOML or JSON) into checked values. Every refusal
//! names the file, the line and the field, so an operator fixes it without guessing.

use serde::de::DeserializeOwned;
use std::fmt;

use super::rollout::{Experiment, NeuronConfig};

/// Why a document was refused. `field` is never empty: a syntax error names the key on its line,
/// or `<document>` when the line has none.
#[derive(Debug, Clone, PartialEq)]
pub struct DocError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: field `{}`: {}",
            self.file, self.line, self.field, self.message
        )
    }
}

pub fn parse_config(file: &str, text: &str) -> Result<NeuronConfig, DocError> {
    parse(file, text, NeuronConfig::check)
}

pub fn parse_experiment(file: &str, text: &str) -> Result<Experiment, DocError> {
    parse(file, text, Experiment::check)
}

fn is_json(file: &str, text: &str) -> bool {
    file.ends_with(".json") || text.trim_start().starts_with('{')
}

fn parse<T: DeserializeOwned>(
    file: &str,
    text: &str,
    check: impl Fn(&T) -> Result<(), (&'static str, String)>,
) -> Result<T, DocError> {
    let json = is_json(file, text);
    let fail = |line: usize, field: String, message: String| DocError {
        file: file.to_string(),
        line: line.max(1),
        field: if field.is_empty() {
            "<document>".into()
        } else {
            field
        },
        message,
    };
    let value: T = if json {
        serde_json::from_str(text).map_err(|e| {
            let line = e.line();
            let message = strip_position(&e.to_string());
            let field = quoted_field(&message).unwrap_or_else(|| key_on_line(text, line, true));
            fail(line, field, message)
        })?
    } else {
        toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            let field = quoted_field(&message).unwrap_or_else(|| key_on_line(text, line, false));
            fail(line, field, message)
        })?
    };
    check(&value)
        .map_err(|(field, message)| fail(find_key(text, field, json), field.into(), message))?;
    Ok(value)
}

/// serde_json appends " at line L column C"; the line is reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// "unknown field `colour`", "missing field `model`", "duplicate key `model`".
fn quoted_field(message: &str) -> Option<String> {
    for marker in ["field `", "key `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            if let Some(end) = rest.find('`') {
                return Some(rest[..end].to_string());
            }
        }
    }
    None
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key written on a (1-based) line, with its TOML table as a prefix (`features.fast`).
fn key_on_line(text: &str, line: usize, json: bool) -> String {
    let Some(content) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let key = if json {
        content
            .split_once(':')
            .map(|(k, _)| {
                k.trim()
                    .trim_matches(|c| c == '"' || c == '{' || c == ',')
                    .trim()
            })
            .unwrap_or("")
            .to_string()
    } else {
        content
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    if key.is_empty() || key.contains(char::is_whitespace) {
        return String::new();
    }
    if json {
        return key;
    }
    let table = text
        .lines()
        .take(line.saturating_sub(1))
        .filter_map(|l| {
            let l = l.trim();
            (l.starts_with('[') && l.ends_with(']')).then(|| l.trim_matches(['[', ']']).trim())
        })
        .last();
    match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key,
    }
}

/// The line on which `field` is written (1 when it cannot be found).
fn find_key(text: &str, field: &str, json: bool) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches(['{', ',']).trim_start();
            if json {
                l.strip_prefix('"')
                    .and_then(|r| r.strip_prefix(field))
                    .is_some_and(|r| r.starts_with('"'))
            } else {
                l.strip_prefix(field)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            }
        })
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "model = \"resnet-50\"\nmodel_version = \"2.1\"\nbatch_size = 64\n\
        learning_rate = 0.01\nheartbeat_interval_ms = 1000\nmax_concurrency = 32\n\n[features]\nfast = true\n";

    #[test]
    fn a_good_toml_document_parses() {
        let c = parse_config("c.toml", GOOD).unwrap();
        assert_eq!(c.batch_size, 64);
        assert_eq!(c.features.get("fast"), Some(&true));
    }

    #[test]
    fn out_of_range_names_file_line_and_field() {
        let bad = GOOD.replace("batch_size = 64", "batch_size = 5000");
        let e = parse_config("c.toml", &bad).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "batch_size"));
        assert!(
            e.to_string().starts_with("c.toml:3: field `batch_size`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let e = parse_config("c.toml", &format!("{GOOD}colour = 1\n")).unwrap_err();
        assert_eq!(e.field, "features.colour");
        let e = parse_config("c.toml", &GOOD.replace("fast = true", "fast = \"yes\"")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (9, "features.fast"));
        let json = r#"{"model": "m", "model_version": "1", "batch_size": 1,
 "learning_rate": 0.5, "heartbeat_interval_ms": 100, "max_concurrency": 1, "extra": 2}"#;
        let e = parse_config("c.json", json).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "extra"));
        let e = parse_config(
            "c.json",
            &json.replace(", \"extra\": 2", "").replace("0.5", "11"),
        )
        .unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "learning_rate"));
    }

    #[test]
    fn experiments_check_share_selector_and_duration() {
        let doc = "name = \"b\"\nvariant = \"model-b\"\ntraffic_percent = 10\nselector = \"zone=eu-west\"\nduration = \"30m\"\n";
        assert_eq!(
            parse_experiment("e.toml", doc).unwrap().duration_ms(),
            Ok(1_800_000)
        );
        let e = parse_experiment("e.toml", &doc.replace("= 10", "= 101")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (3, "traffic_percent"));
        let e = parse_experiment("e.toml", &doc.replace("30m", "soon")).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (5, "duration"));
    }
}
