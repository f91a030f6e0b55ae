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
