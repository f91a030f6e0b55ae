//! The alert rules file (`--alert-rules FILE` or `alert_rules` in config.toml): extra rules,
//! replacements for built-in ones (same name), inhibition rules and grouping timers. Every
//! mistake names the file, the line and the key; see docs/alerts.md for the format.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

use super::SourceError;
use crate::api::NeuronState;
use crate::api::alert::{Matcher, Severity};
use crate::api::chaos::parse_duration_ms;
use crate::engine::alerts::config::AlertConfig;
use crate::engine::alerts::inhibit::InhibitRule;
use crate::engine::alerts::rules::{Condition, Rule};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Keep the built-in rules and inhibitions (default true).
    #[serde(default = "yes")]
    builtin: bool,
    #[serde(default)]
    grouping: Grouping,
    #[serde(default)]
    rule: Vec<RuleEntry>,
    #[serde(default)]
    inhibit: Vec<InhibitEntry>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Grouping {
    group_by: Option<Vec<String>>,
    group_wait: Option<String>,
    group_interval: Option<String>,
    repeat_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    condition: String,
    #[serde(rename = "for", default)]
    for_: Option<String>,
    severity: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// `error_rate`: the share above which it holds.
    threshold: Option<f64>,
    /// `event`: the event type.
    event: Option<String>,
    /// `event`: how long after the event it holds.
    hold: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InhibitEntry {
    source: String,
    target: String,
    #[serde(default)]
    equal: Vec<String>,
}

/// The event types the event condition accepts.
const EVENTS: &[&str] = &[
    "fl_divergence",
    "byzantine_detected",
    "stress_threshold_breached",
];

/// Parse a rules file's text into the alert config it describes (on top of `base`).
pub fn parse(file: &str, text: &str, base: &AlertConfig) -> Result<AlertConfig, SourceError> {
    let parsed: File = toml::from_str(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
    // Locate the n-th occurrence of `key` under the n-th `[[table]]` for the message.
    let locate = |table: &str, index: usize, key: &str, message: String| {
        let header = format!("[[{table}]]");
        let start = text
            .match_indices(&header)
            .nth(index)
            .map_or(0, |(at, _)| at);
        let offset = text[start..]
            .find(&format!("{key} "))
            .or_else(|| text[start..].find(key))
            .map(|o| o + start)
            .or(Some(start));
        let mut e = SourceError::new(file, message).at(text, offset);
        e.key = Some(format!("{table}[{index}].{key}"));
        e
    };
    let grouping_err = |key: &str, message: String| {
        let offset = text.find(&format!("{key} ")).or_else(|| text.find(key));
        let mut e = SourceError::new(file, message).at(text, offset);
        e.key = Some(format!("grouping.{key}"));
        e
    };
    let mut cfg = base.clone();
    if !parsed.builtin {
        cfg.rules.clear();
        cfg.inhibit.clear();
    }
    let g = parsed.grouping;
    if let Some(by) = g.group_by {
        cfg.group_by = by;
    }
    for (key, value, slot) in [
        ("group_wait", g.group_wait, &mut cfg.group_wait_ms),
        (
            "group_interval",
            g.group_interval,
            &mut cfg.group_interval_ms,
        ),
        (
            "repeat_interval",
            g.repeat_interval,
            &mut cfg.repeat_interval_ms,
        ),
    ] {
        if let Some(v) = value {
            *slot = parse_duration_ms(&v).map_err(|m| grouping_err(key, m))?;
        }
    }
    for (i, r) in parsed.rule.into_iter().enumerate() {
        let err = |key: &str, message: String| locate("rule", i, key, message);
        if r.name.trim().is_empty()
            || !r
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(err(
                "name",
                format!("'{}' is not a rule name (letters, digits, _)", r.name),
            ));
        }
        let severity = Severity::parse(&r.severity).ok_or_else(|| {
            err(
                "severity",
                format!("'{}' is not critical, warning or info", r.severity),
            )
        })?;
        let for_ms = match &r.for_ {
            Some(v) => parse_duration_ms(v).map_err(|m| err("for", m))?,
            None => 0,
        };
        let condition = match r.condition.as_str() {
            "neuron_offline" => Condition::NeuronState(NeuronState::Offline),
            "neuron_suspect" => Condition::NeuronState(NeuronState::Suspect),
            "latency_high" => Condition::LatencyHigh,
            "error_rate" => {
                let t = r.threshold.ok_or_else(|| {
                    err(
                        "condition",
                        "error_rate needs `threshold` (a share, 0..1)".into(),
                    )
                })?;
                if !(0.0..=1.0).contains(&t) {
                    return Err(err(
                        "threshold",
                        format!("{t} is not a share between 0 and 1"),
                    ));
                }
                Condition::ErrorRateAbove(t)
            }
            "analytics_failure" => Condition::AnalyticsFailure,
            "config_failure" => Condition::ConfigFailure,
            "recovery_escalated" => Condition::RecoveryEscalated,
            "zone_unreachable" => Condition::ZoneUnreachable,
            "fleet_silence" | "engine_stall" => Condition::FleetCondition(r.condition.clone()),
            "event" => {
                let kind = r.event.clone().ok_or_else(|| {
                    err(
                        "condition",
                        format!("event needs `event` (one of {})", EVENTS.join(", ")),
                    )
                })?;
                if !EVENTS.contains(&kind.as_str()) {
                    return Err(err(
                        "event",
                        format!("unknown event '{kind}' (one of {})", EVENTS.join(", ")),
                    ));
                }
                let hold_ms = match &r.hold {
                    Some(v) => parse_duration_ms(v).map_err(|m| err("hold", m))?,
                    None => 300_000,
                };
                Condition::Event { kind, hold_ms }
            }
            other => {
                return Err(err(
                    "condition",
                    format!(
                        "unknown condition '{other}' (one of {})",
                        Condition::NAMES.join(", ")
                    ),
                ));
            }
        };
        let rule = Rule {
            summary: r.summary.unwrap_or_else(|| format!("{} {{value}}", r.name)),
            name: r.name,
            condition,
            for_ms,
            severity,
            labels: r.labels,
        };
        match cfg.rules.iter_mut().find(|x| x.name == rule.name) {
            Some(slot) => *slot = rule,
            None => cfg.rules.push(rule),
        }
    }
    for (i, entry) in parsed.inhibit.into_iter().enumerate() {
        let source =
            Matcher::parse_list(&entry.source).map_err(|m| locate("inhibit", i, "source", m))?;
        let target =
            Matcher::parse_list(&entry.target).map_err(|m| locate("inhibit", i, "target", m))?;
        cfg.inhibit.push(InhibitRule {
            source,
            target,
            equal: entry.equal,
        });
    }
    Ok(cfg)
}

/// Read and parse `path` on top of `base`.
pub fn load(path: &Path, base: &AlertConfig) -> Result<AlertConfig, SourceError> {
    let file = path.display().to_string();
    let text = crate::config::read_text(path)
        .map_err(|e| SourceError::new(&file, format!("cannot read: {e}")))?;
    parse(&file, &text, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rules_file_adds_replaces_and_sets_grouping() {
        let text = r#"
[grouping]
group_by = ["alertname", "zone"]
group_wait = "10s"

[[rule]]
name = "NeuronOffline"
condition = "neuron_offline"
for = "5s"
severity = "warning"
labels = { team = "infra" }

[[rule]]
name = "ManyErrors"
condition = "error_rate"
threshold = 0.5
for = "1m"
severity = "info"
summary = "{neuron}: {value}"

[[inhibit]]
source = "alertname=ManyErrors"
target = "alertname=NeuronErrorRateHigh"
equal = ["neuron"]
"#;
        let base = AlertConfig::default();
        let cfg = parse("rules.toml", text, &base).unwrap();
        assert_eq!(cfg.group_by, ["alertname", "zone"]);
        assert_eq!(cfg.group_wait_ms, 10_000);
        assert_eq!(cfg.rules.len(), base.rules.len() + 1);
        let offline = cfg
            .rules
            .iter()
            .find(|r| r.name == "NeuronOffline")
            .unwrap();
        assert_eq!(
            (offline.for_ms, offline.severity),
            (5000, Severity::Warning)
        );
        assert_eq!(offline.labels["team"], "infra");
        assert_eq!(cfg.inhibit.len(), base.inhibit.len() + 1);
    }

    #[test]
    fn mistakes_name_file_line_and_key() {
        let base = AlertConfig::default();
        let text = "[[rule]]\nname = \"A\"\ncondition = \"neuron_offline\"\nseverity = \"loud\"\n";
        let e = parse("r.toml", text, &base).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(4), Some("rule[0].severity"))
        );
        assert!(e.to_string().starts_with("r.toml:4"), "{e}");

        let text = "[[rule]]\nname = \"A\"\ncondition = \"neuron_offline\"\nseverity = \"info\"\n\n[[rule]]\nname = \"B\"\ncondition = \"nope\"\nseverity = \"info\"\n";
        let e = parse("r.toml", text, &base).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(8), Some("rule[1].condition"))
        );

        let e = parse("r.toml", "[[rule]]\nname = 3\n", &base).unwrap_err();
        assert_eq!(e.line, Some(2));

        let e = parse("r.toml", "[grouping]\ngroup_wait = \"soon\"\n", &base).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(2), Some("grouping.group_wait"))
        );
    }
}
