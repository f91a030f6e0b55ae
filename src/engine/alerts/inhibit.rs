//! Inhibition (Alertmanager's): a firing source alert mutes the target alerts that share its
//! `equal` labels — a silent fleet or zone explains its neurons being offline, and an offline
//! neuron explains its own latency, error-rate and analytics alerts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

/// Set `inhibited_by` on every alert (the fingerprint of a firing source, or none).
pub fn apply(rules: &[InhibitRule], alerts: &mut BTreeMap<String, Alert>) {
    let sources: Vec<(usize, String, crate::api::alert::Labels)> = rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            alerts
                .values()
                .filter(move |a| a.state == AlertState::Firing && matches_all(&r.source, &a.labels))
                .map(move |a| (i, a.fingerprint.clone(), a.labels.clone()))
        })
        .collect();
    for alert in alerts.values_mut() {
        alert.inhibited_by = sources
            .iter()
            .find(|(i, fp, source)| {
                let r = &rules[*i];
                *fp != alert.fingerprint
                    && matches_all(&r.target, &alert.labels)
                    && r.equal.iter().all(|l| source.get(l) == alert.labels.get(l))
            })
            .map(|(_, fp, _)| fp.clone());
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
