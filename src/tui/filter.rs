//! The `/` filter of a table: a regular expression over the whole row (case-insensitive unless
//! it has a capital letter), `!re` inverts, `field=value` matches one column by substring
//! (`zone=eu`, `state=off`, `user=alice`). Parsed once when typed; rows are tested when data
//! arrives, never per frame.

use regex::{Regex, RegexBuilder};
use std::borrow::Cow;

use crate::api::{AuditRecord, NeuronView};

/// A row that can be filtered.
pub trait Filterable {
    /// Column names accepted in `field=value`.
    const FIELDS: &'static [&'static str];
    fn field(&self, name: &str) -> Option<Cow<'_, str>>;
}

#[derive(Debug, Clone)]
enum Matcher {
    Regex(Regex),
    Field { name: String, value: String },
}

#[derive(Debug, Clone)]
pub struct Filter {
    /// As typed, shown in the table title.
    pub text: String,
    invert: bool,
    matcher: Matcher,
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Filter {
    /// Parses a filter for rows of type `R`.
    pub fn parse<R: Filterable>(text: &str) -> Result<Filter, String> {
        let trimmed = text.trim();
        let (invert, body) = match trimmed.strip_prefix('!') {
            Some(rest) => (true, rest.trim_start()),
            None => (false, trimmed),
        };
        if body.is_empty() {
            return Err("empty filter".into());
        }
        let field = body.split_once('=').filter(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let matcher = match field {
            Some((name, value)) => {
                let name = name.to_ascii_lowercase();
                if !R::FIELDS.contains(&name.as_str()) {
                    return Err(format!(
                        "unknown field '{name}' (fields: {})",
                        R::FIELDS.join(", ")
                    ));
                }
                Matcher::Field {
                    name,
                    value: value.to_lowercase(),
                }
            }
            None => {
                let smart_case = !body.chars().any(char::is_uppercase);
                let re = RegexBuilder::new(body)
                    .case_insensitive(smart_case)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("bad regex: {}", first_line(&e.to_string())))?;
                Matcher::Regex(re)
            }
        };
        Ok(Filter {
            text: trimmed.to_string(),
            invert,
            matcher,
        })
    }

    pub fn matches<R: Filterable>(&self, row: &R) -> bool {
        let hit = match &self.matcher {
            Matcher::Field { name, value } => row
                .field(name)
                .is_some_and(|v| v.to_lowercase().contains(value.as_str())),
            Matcher::Regex(re) => R::FIELDS
                .iter()
                .filter_map(|f| row.field(f))
                .any(|v| re.is_match(&v)),
        };
        hit != self.invert
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim()
        .to_string()
}

impl Filterable for NeuronView {
    const FIELDS: &'static [&'static str] = &["id", "state", "zone", "config", "kind"];
    fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        Some(match name {
            "id" => Cow::Borrowed(&*self.id),
            "state" => Cow::Borrowed(self.state.as_str()),
            "zone" => Cow::Borrowed(&*self.zone),
            "config" => Cow::Borrowed(&*self.config_version),
            "kind" => Cow::Borrowed(&*self.kind),
            _ => return None,
        })
    }
}

impl Filterable for AuditRecord {
    const FIELDS: &'static [&'static str] = &[
        "user", "role", "action", "target", "outcome", "source", "code",
    ];
    fn field(&self, name: &str) -> Option<Cow<'_, str>> {
        Some(match name {
            "user" => Cow::Borrowed(&self.user),
            "role" => Cow::Borrowed(&self.role),
            "action" => Cow::Borrowed(&self.action),
            "target" => Cow::Borrowed(&self.target),
            "outcome" => Cow::Borrowed(self.outcome.as_str()),
            "source" => Cow::Borrowed(&self.source),
            "code" => Cow::Borrowed(self.error_code.as_deref().unwrap_or("")),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures;

    fn hits(filter: &str) -> Vec<String> {
        let f = Filter::parse::<NeuronView>(filter);
        let Ok(f) = f else {
            panic!("{filter}: {f:?}");
        };
        fixtures::neurons(40)
            .iter()
            .filter(|n| f.matches(*n))
            .map(|n| n.id.to_string())
            .collect()
    }

    #[test]
    fn regex_field_and_inversion() {
        let all = fixtures::neurons(40);
        assert_eq!(hits("n-000[1-3]"), ["n-0001", "n-0002", "n-0003"]);
        let eu = hits("zone=eu");
        assert!(!eu.is_empty());
        assert!(
            all.iter()
                .filter(|n| eu.contains(&n.id.to_string()))
                .all(|n| n.zone.starts_with("eu"))
        );
        assert_eq!(hits("!zone=eu").len() + eu.len(), all.len());
        assert_eq!(hits("ZONE=EU"), eu, "field names and values ignore case");
        assert!(hits("offline").iter().all(|id| {
            all.iter()
                .any(|n| *n.id == **id && n.state.as_str() == "offline")
        }));
    }

    #[test]
    fn mistakes_are_explained() {
        assert!(
            Filter::parse::<NeuronView>("colour=red")
                .is_err_and(|e| e.contains("unknown field 'colour'"))
        );
        assert!(Filter::parse::<NeuronView>("n-(").is_err_and(|e| e.starts_with("bad regex")));
        assert!(Filter::parse::<NeuronView>("!").is_err());
    }
}
