//! Inhibition (Alertmanager's): a firing source alert mutes the target alerts that share its
//! `equal` labels — a silent fleet or zone explains its neurons being offline, and an offline
//! neuron explains its own latency, error-rate and analytics alerts.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

use crate::api::alert::{Alert, AlertState, Matcher, matches_all};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InhibitRule {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    /// Labels that must have the same value on source and target.
    #[serde(default)]
    pub equal: Vec<String>,
}

fn rule(source: &str, target: &str, equal: &[&str]) -> InhibitRule {
    let parse = |text| Matcher::parse_list(text).expect("built-in matchers parse");
    InhibitRule {
        source: parse(source),
        target: parse(target),
        equal: equal.iter().map(|s| s.to_string()).collect(),
    }
}

pub fn builtin() -> Vec<InhibitRule> {
    let per_neuron_silence = "alertname=~NeuronOffline|NeuronSuspectTooLong";
    vec![
        rule(
            "alertname=~FleetSilence|EngineStall",
            "alertname=~NeuronOffline|NeuronSuspectTooLong|ZoneUnreachable",
            &[],
        ),
        rule("alertname=ZoneUnreachable", per_neuron_silence, &["zone"]),
        rule(
            "alertname=NeuronOffline",
            "alertname=~NeuronLatencyHigh|NeuronErrorRateHigh|NeuronAnalyticsFailure",
            &["neuron"],
        ),
    ]
}

/// Set `inhibited_by` on every alert (the fingerprint of a firing source, or none): the first
/// rule, in order, with a firing source (the first by fingerprint) that shares the `equal` labels.
/// Sources are indexed by those labels, so a fleet with thousands of offline neurons costs one
/// lookup per alert and rule, not a scan of every source.
pub fn apply(rules: &[InhibitRule], alerts: &mut BTreeMap<String, Alert>) {
    type Key = Vec<Option<String>>;
    let key = |r: &InhibitRule, a: &Alert| -> Key {
        r.equal.iter().map(|l| a.labels.get(l).cloned()).collect()
    };
    // Per rule: equal-label values → the first two sources (an alert never inhibits itself).
    let sources: Vec<HashMap<Key, Vec<String>>> = rules
        .iter()
        .map(|r| {
            let mut by_key: HashMap<Key, Vec<String>> = HashMap::new();
            for a in alerts.values() {
                if a.state == AlertState::Firing && matches_all(&r.source, &a.labels) {
                    let fps = by_key.entry(key(r, a)).or_default();
                    if fps.len() < 2 {
                        fps.push(a.fingerprint.clone());
                    }
                }
            }
            by_key
        })
        .collect();
    if sources.iter().all(HashMap::is_empty) {
        alerts.values_mut().for_each(|a| a.inhibited_by = None);
        return;
    }
    for alert in alerts.values_mut() {
        alert.inhibited_by = rules.iter().zip(&sources).find_map(|(r, by_key)| {
            if by_key.is_empty() || !matches_all(&r.target, &alert.labels) {
                return None;
            }
            by_key
                .get(&key(r, alert))?
                .iter()
                .find(|fp| **fp != alert.fingerprint)
                .cloned()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::alert::{Labels, Severity};

    fn alert(name: &str, pairs: &[(&str, &str)], state: AlertState) -> Alert {
        let mut labels: Labels = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        labels.insert("alertname".into(), name.into());
        Alert {
            fingerprint: crate::engine::alerts::fingerprint::fingerprint(&labels),
            rule: name.into(),
            labels,
            annotations: Labels::new(),
            severity: Severity::Warning,
            state,
            active_since: 0,
            fired_at: None,
            resolved_at: None,
            acked_by: None,
            acked_at: None,
            silenced_by: Vec::new(),
            inhibited_by: None,
        }
    }

    #[test]
    fn an_offline_neuron_mutes_its_own_symptoms_only_while_firing() {
        let offline = alert("NeuronOffline", &[("neuron", "n-1")], AlertState::Firing);
        let own = alert(
            "NeuronLatencyHigh",
            &[("neuron", "n-1")],
            AlertState::Firing,
        );
        let other = alert(
            "NeuronLatencyHigh",
            &[("neuron", "n-2")],
            AlertState::Firing,
        );
        let mut all: BTreeMap<String, Alert> = [offline.clone(), own.clone(), other.clone()]
            .into_iter()
            .map(|a| (a.fingerprint.clone(), a))
            .collect();
        apply(&builtin(), &mut all);
        assert_eq!(
            all[&own.fingerprint].inhibited_by.as_ref(),
            Some(&offline.fingerprint)
        );
        assert_eq!(all[&other.fingerprint].inhibited_by, None);
        assert_eq!(all[&offline.fingerprint].inhibited_by, None);
        // A pending source inhibits nothing.
        all.get_mut(&offline.fingerprint).unwrap().state = AlertState::Pending;
        apply(&builtin(), &mut all);
        assert_eq!(all[&own.fingerprint].inhibited_by, None);
    }

    #[test]
    fn a_silent_zone_mutes_offline_alerts_in_that_zone_only() {
        let zone = alert("ZoneUnreachable", &[("zone", "a")], AlertState::Firing);
        let inside = alert(
            "NeuronOffline",
            &[("neuron", "n-1"), ("zone", "a")],
            AlertState::Firing,
        );
        let outside = alert(
            "NeuronOffline",
            &[("neuron", "n-2"), ("zone", "b")],
            AlertState::Firing,
        );
        let mut all: BTreeMap<String, Alert> = [zone.clone(), inside.clone(), outside.clone()]
            .into_iter()
            .map(|a| (a.fingerprint.clone(), a))
            .collect();
        apply(&builtin(), &mut all);
        assert_eq!(
            all[&inside.fingerprint].inhibited_by.as_ref(),
            Some(&zone.fingerprint)
        );
        assert_eq!(all[&outside.fingerprint].inhibited_by, None);
    }
}
