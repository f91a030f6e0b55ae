//! A fixed alerts report for snapshot tests and the demo backend: two groups (one critical and
//! firing, one acknowledged; a warning inhibited by it) and one resolved alert.

use crate::api::alert::{Alert, AlertGroup, AlertState, AlertsReport, Labels, Severity};
use crate::engine::alerts::fingerprint::fingerprint;

/// 2025-03-14T09:30:00Z, the fixtures' "now".
const AT: i64 = 1_741_944_600_000;

fn alert(
    rule: &str,
    severity: Severity,
    state: AlertState,
    pairs: &[(&str, &str)],
    summary: &str,
) -> Alert {
    let mut labels: Labels = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.insert("alertname".into(), rule.into());
    labels.insert("severity".into(), severity.as_str().into());
    let mut annotations = Labels::new();
    annotations.insert("summary".into(), summary.into());
    Alert {
        fingerprint: fingerprint(&labels),
        rule: rule.into(),
        labels,
        annotations,
        severity,
        state,
        active_since: AT - 120_000,
        fired_at: (state != AlertState::Pending).then_some(AT - 90_000),
        resolved_at: (state == AlertState::Resolved).then_some(AT - 30_000),
        acked_by: None,
        acked_at: None,
        silenced_by: Vec::new(),
        inhibited_by: None,
    }
}

pub fn alerts_report() -> AlertsReport {
    use AlertState::*;
    let mut acked = alert(
        "NeuronOffline",
        Severity::Critical,
        Firing,
        &[("neuron", "n-0003"), ("zone", "eu-west")],
        "n-0003 in zone eu-west is offline",
    );
    acked.acked_by = Some("ops".into());
    acked.acked_at = Some(AT - 60_000);
    let offline = alert(
        "NeuronOffline",
        Severity::Critical,
        Firing,
        &[("neuron", "n-0007"), ("zone", "us-east")],
        "n-0007 in zone us-east is offline",
    );
    let mut latency = alert(
        "NeuronLatencyHigh",
        Severity::Warning,
        Pending,
        &[("neuron", "n-0007"), ("zone", "us-east")],
        "n-0007 answers slowly: p50 812 ms",
    );
    latency.inhibited_by = Some(offline.fingerprint.clone());
    let mut silenced = alert(
        "NeuronConfigFailure",
        Severity::Info,
        Firing,
        &[("neuron", "n-0011"), ("zone", "ap-south")],
        "n-0011 failed to apply its config: v7 rejected",
    );
    silenced.silenced_by = vec!["s-1".into()];
    let resolved = alert(
        "ZoneUnreachable",
        Severity::Critical,
        Resolved,
        &[("zone", "ap-south")],
        "every neuron in zone ap-south is silent: 8 of 8 neurons",
    );
    let group = |rule: &str, alerts: Vec<Alert>| AlertGroup {
        labels: [("alertname".to_string(), rule.to_string())].into(),
        alerts,
    };
    AlertsReport {
        groups: vec![
            group("NeuronOffline", vec![acked, offline]),
            group("NeuronLatencyHigh", vec![latency]),
            group("NeuronConfigFailure", vec![silenced]),
        ],
        resolved: vec![resolved],
    }
}
