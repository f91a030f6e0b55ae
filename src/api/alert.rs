//! Alerts, silences and notification groups: what `plexus alerts --json`, the server's
//! `/api/v1/alerts` and the Alerts view show. Semantics after Prometheus and Alertmanager.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Labels identify an alert; sorted so the fingerprint and the JSON are stable.
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Critical, Severity::Warning, Severity::Info]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds, not yet for the rule's `for` duration.
    Pending,
    Firing,
    /// Was firing; the condition no longer holds.
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// One alert instance: a rule whose condition holds for one label set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable hash of the sorted label set (16 hex digits).
    pub fingerprint: String,
    pub rule: String,
    /// Includes `alertname` (= rule) and `severity`.
    pub labels: Labels,
    /// `summary` and `description`, templates filled in.
    pub annotations: Labels,
    pub severity: Severity,
    pub state: AlertState,
    /// Unix ms the condition started holding.
    pub active_since: i64,
    pub fired_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub acked_by: Option<String>,
    pub acked_at: Option<i64>,
    /// Ids of the silences that match it now.
    #[serde(default)]
    pub silenced_by: Vec<String>,
    /// Fingerprint of the alert that inhibits it now.
    #[serde(default)]
    pub inhibited_by: Option<String>,
}

impl Alert {
    /// The labels an operator reads beside the rule name (`alertname` and `severity` have
    /// columns of their own), as `k=v` joined by `sep`.
    pub fn labels_text(&self, sep: &str) -> String {
        self.labels
            .iter()
            .filter(|(k, _)| *k != "alertname" && *k != "severity")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// The state, and why the alert is muted when it is: `firing inhibited`.
    pub fn state_text(&self) -> String {
        let mut out = self.state.as_str().to_string();
        if self.inhibited_by.is_some() {
            out.push_str(" inhibited");
        } else if !self.silenced_by.is_empty() {
            out.push_str(" silenced");
        }
        out
    }

    pub fn summary(&self) -> &str {
        self.annotations.get("summary").map_or("", String::as_str)
    }

    /// Silenced or inhibited: shown, never notified.
    pub fn muted(&self) -> bool {
        !self.silenced_by.is_empty() || self.inhibited_by.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "=~")]
    Re,
    #[serde(rename = "!~")]
    NotRe,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// `name=value`, `name!=value`, `name=~regex`, `name!~regex` (regexes anchored, as in
/// Alertmanager).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.name, self.op.as_str(), self.value)
    }
}

impl Matcher {
    /// One matcher; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Matcher, String> {
        let text = text.trim();
        // Longest operators first: `!=` before `=`, `=~` before `=`.
        let found = ["=~", "!~", "!=", "="]
            .iter()
            .filter_map(|op| text.find(op).map(|at| (at, *op)))
            .min_by_key(|(at, op)| (*at, std::cmp::Reverse(op.len())));
        let Some((at, op)) = found else {
            return Err(format!("matcher '{text}' has no operator (=, !=, =~, !~)"));
        };
        let name = text[..at].trim();
        let value = text[at + op.len()..].trim().trim_matches('"');
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "matcher '{text}': label name '{name}' is not a label name"
            ));
        }
        let op = match op {
            "=" => MatchOp::Eq,
            "!=" => MatchOp::Ne,
            "=~" => MatchOp::Re,
            _ => MatchOp::NotRe,
        };
        if matches!(op, MatchOp::Re | MatchOp::NotRe) {
            regex::Regex::new(&format!("^(?:{value})$"))
                .map_err(|e| format!("matcher '{text}': bad regex: {e}"))?;
        }
        Ok(Matcher {
            name: name.into(),
            op,
            value: value.into(),
        })
    }

    /// Comma- or space-separated matchers, optionally in braces: `{alertname="X", zone=~"a|b"}`.
    pub fn parse_list(text: &str) -> Result<Vec<Matcher>, String> {
        let inner = text.trim().trim_start_matches('{').trim_end_matches('}');
        let list: Vec<Matcher> = inner
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(Matcher::parse)
            .collect::<Result<_, _>>()?;
        if list.is_empty() {
            return Err("no matchers given (e.g. alertname=NeuronOffline)".into());
        }
        Ok(list)
    }

    /// Whether `labels` satisfy this matcher (a missing label is the empty string).
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.name).map_or("", String::as_str);
        match self.op {
            MatchOp::Eq => value == self.value,
            MatchOp::Ne => value != self.value,
            MatchOp::Re | MatchOp::NotRe => {
                let hit = anchored_match(&self.value, value).unwrap_or(false);
                hit == (self.op == MatchOp::Re)
            }
        }
    }
}

/// Whether `value` matches the anchored regex `pattern` (`None`: it does not compile). Each
/// pattern is compiled once: inhibition and silences match every alert every evaluation, and
/// compiling costs far more than matching. Matched in place: a cloned `Regex` builds a fresh
/// match cache, which at 100,000 alerts an evaluation cost the engine seconds.
fn anchored_match(pattern: &str, value: &str) -> Option<bool> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    static CACHE: LazyLock<Mutex<HashMap<String, regex::Regex>>> = LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(re) = cache.get(pattern) {
        return Some(re.is_match(value));
    }
    let re = regex::Regex::new(&format!("^(?:{pattern})$")).ok()?;
    // Patterns come from rules and silences: few. A flood of distinct ones starts over.
    if cache.len() >= 1024 {
        cache.clear();
    }
    let hit = re.is_match(value);
    cache.insert(pattern.to_string(), re);
    Some(hit)
}

/// Every matcher holds.
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// A silence mutes the alerts its matchers select between `starts_at` and `ends_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<Matcher>,
    /// Unix ms.
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn active_at(&self, wall: i64) -> bool {
        self.starts_at <= wall && wall < self.ends_at
    }

    pub fn matchers_text(&self) -> String {
        let parts: Vec<String> = self.matchers.iter().map(Matcher::to_string).collect();
        parts.join(",")
    }
}

/// Alerts sharing the values of the group-by labels: notified together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertGroup {
    /// The group-by labels and their values.
    pub labels: Labels,
    pub alerts: Vec<Alert>,
}

/// `plexus alerts list --json`, `GET /api/v1/alerts`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertsReport {
    /// Pending and firing alerts (muted ones too, marked), grouped.
    pub groups: Vec<AlertGroup>,
    /// Recently resolved, newest first.
    pub resolved: Vec<Alert>,
}

impl AlertsReport {
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.groups.iter().flat_map(|g| g.alerts.iter())
    }
}

/// One notification for one group: what every sink delivers (the webhook body follows
/// Alertmanager's webhook format, see `engine::alerts::sinks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Group key: the group-by labels as `{a="x",b="y"}`.
    pub group_key: String,
    pub group_labels: Labels,
    /// `firing` when any alert in it fires, else `resolved`.
    pub status: String,
    pub alerts: Vec<Alert>,
    /// Unix ms the engine decided to send it.
    pub at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matchers_parse_every_operator() {
        let list = Matcher::parse_list(
            "{alertname=\"NeuronOffline\", zone!=b, neuron=~n-00.*, severity!~info}",
        )
        .unwrap();
        let ops: Vec<MatchOp> = list.iter().map(|m| m.op).collect();
        assert_eq!(ops, [MatchOp::Eq, MatchOp::Ne, MatchOp::Re, MatchOp::NotRe]);
        assert_eq!(list[0].value, "NeuronOffline");
        let l = labels(&[
            ("alertname", "NeuronOffline"),
            ("zone", "a"),
            ("neuron", "n-0001"),
            ("severity", "critical"),
        ]);
        assert!(matches_all(&list, &l));
        let other = labels(&[("alertname", "NeuronOffline"), ("zone", "b")]);
        assert!(!matches_all(&list, &other));
    }

    #[test]
    fn regexes_are_anchored_and_bad_input_is_named() {
        let m = Matcher::parse("neuron=~n-1").unwrap();
        assert!(!m.matches(&labels(&[("neuron", "n-10")])));
        assert!(
            Matcher::parse("neuron")
                .unwrap_err()
                .contains("no operator")
        );
        assert!(
            Matcher::parse("neuron=~(")
                .unwrap_err()
                .contains("bad regex")
        );
        assert!(Matcher::parse_list(" ").is_err());
    }
}
