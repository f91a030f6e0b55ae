//! `summary.json`: the whole run in one document, with the compact `metrics` block CI reads, and
//! the comparison against an earlier summary (`--baseline`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::profile::Profile;
use super::recorder::{Latency, Stats};
use super::run::RunResult;
use super::threshold::{Measured, Verdict};

/// The CI block: what `--baseline` compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Answered requests per second, achieved (not targeted).
    pub requests_per_sec: f64,
    /// From the intended start (corrected for coordinated omission).
    pub latency_ms: Latency,
    pub error_rate: f64,
    pub dropped: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopeSummary {
    pub name: String,
    pub target_rps: Option<f64>,
    pub requests_per_sec: f64,
    pub latency_ms: Latency,
    pub send_latency_ms: Latency,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    pub dropped: u64,
    pub error_rate: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    pub neurons: u64,
    pub took_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub profile: String,
    /// `embedded` or the server's URL.
    pub target: String,
    pub started_at: String,
    pub duration_s: f64,
    /// Empty when the run went to its end; else why not.
    pub ended: String,
    pub passed: bool,
    pub metrics: Metrics,
    pub send_latency_ms: Latency,
    pub refused_rate: f64,
    pub scheduled: u64,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    pub codes: BTreeMap<String, u64>,
    pub registration: Option<Registration>,
    pub phases: Vec<ScopeSummary>,
    pub scenarios: Vec<ScopeSummary>,
    pub thresholds: Vec<VerdictRow>,
    pub warnings: Vec<String>,
    /// The first phase, in the profile's order, whose own thresholds were breached: where a
    /// stepped profile (`high`) broke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaking_point: Option<String>,
    /// The WebSocket subscribers held through the run (`--subscribers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribers: Option<super::ws::CrowdReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerdictRow {
    pub scope: String,
    pub threshold: String,
    pub observed: Option<f64>,
    pub passed: bool,
}

impl From<&Verdict> for VerdictRow {
    fn from(v: &Verdict) -> Self {
        VerdictRow {
            scope: v.scope.clone(),
            threshold: v.threshold.clone(),
            observed: v.observed,
            passed: v.passed,
        }
    }
}

fn breaking_point<'a>(
    mut phases: impl Iterator<Item = &'a str>,
    verdicts: &[VerdictRow],
) -> Option<String> {
    phases
        .find(|name| {
            verdicts
                .iter()
                .any(|t| !t.passed && t.scope.strip_prefix("phase:") == Some(name))
        })
        .map(str::to_string)
}

fn scope(name: &str, target_rps: Option<f64>, s: &Stats) -> ScopeSummary {
    ScopeSummary {
        name: name.to_string(),
        target_rps,
        requests_per_sec: s.rps(),
        latency_ms: s.latency(),
        send_latency_ms: s.send_latency(),
        ok: s.ok,
        refused: s.refused,
        errors: s.errors,
        dropped: s.dropped,
        error_rate: s.error_rate(),
    }
}

impl Summary {
    pub fn new(
        id: &str,
        profile: &Profile,
        target: &str,
        started_at: &str,
        result: &RunResult,
        registration: Option<Registration>,
    ) -> Summary {
        let r = &result.recorder;
        let t = &r.total;
        let thresholds: Vec<VerdictRow> = result.verdicts.iter().map(VerdictRow::from).collect();
        Summary {
            id: id.to_string(),
            profile: profile.name.clone(),
            target: target.to_string(),
            started_at: started_at.to_string(),
            duration_s: result.elapsed.as_secs_f64(),
            ended: result.ended.clone(),
            passed: result.verdicts.iter().all(|v| v.passed),
            metrics: Metrics {
                requests_per_sec: t.rps(),
                latency_ms: t.latency(),
                error_rate: t.error_rate(),
                dropped: t.dropped,
            },
            send_latency_ms: t.send_latency(),
            refused_rate: t.refused_rate(),
            scheduled: result.scheduled,
            ok: t.ok,
            refused: t.refused,
            errors: t.errors,
            codes: t.codes.clone(),
            registration,
            phases: profile
                .phases
                .iter()
                .zip(&r.phases)
                .map(|(p, s)| {
                    let open = p.concurrency == 0;
                    scope(
                        &p.name,
                        open.then_some((p.arrival_rate + p.ramp_to) / 2.0),
                        s,
                    )
                })
                .collect(),
            scenarios: r
                .scenarios
                .iter()
                .map(|(sc, s)| scope(sc.as_str(), None, s))
                .collect(),
            breaking_point: breaking_point(
                profile.phases.iter().map(|p| p.name.as_str()),
                &thresholds,
            ),
            thresholds,
            warnings: result.warnings.clone(),
            subscribers: None,
        }
    }
}

/// Only the part of an earlier summary a baseline needs.
#[derive(Deserialize)]
struct Baseline {
    metrics: Metrics,
}

/// Read `file` (an earlier summary.json) and describe how `now` differs from it.
pub fn compare(file: &str, text: &str, now: &Metrics) -> Result<Vec<String>, String> {
    let base: Baseline =
        serde_json::from_str(text).map_err(|e| format!("{file}:{}: {e}", e.line()))?;
    let b = &base.metrics;
    let pct = |new: f64, old: f64| {
        if old == 0.0 {
            String::new()
        } else {
            format!(" ({:+.1}%)", (new - old) / old * 100.0)
        }
    };
    let line = |name: &str, new: f64, old: f64, unit: &str| {
        format!("{name}: {old:.2}{unit} → {new:.2}{unit}{}", pct(new, old))
    };
    Ok(vec![
        line(
            "requests_per_sec",
            now.requests_per_sec,
            b.requests_per_sec,
            "",
        ),
        line("p50", now.latency_ms.p50, b.latency_ms.p50, "ms"),
        line("p95", now.latency_ms.p95, b.latency_ms.p95, "ms"),
        line("p99", now.latency_ms.p99, b.latency_ms.p99, "ms"),
        line("max", now.latency_ms.max, b.latency_ms.max, "ms"),
        line(
            "error_rate",
            now.error_rate * 100.0,
            b.error_rate * 100.0,
            "%",
        ),
        format!("dropped: {} → {}", b.dropped, now.dropped),
    ])
}

#[cfg(test)]
mod tests {
    use super::{VerdictRow, breaking_point};

    fn verdict(scope: &str, passed: bool) -> VerdictRow {
        VerdictRow {
            scope: scope.into(),
            threshold: "p99 < 500ms".into(),
            observed: None,
            passed,
        }
    }

    #[test]
    fn the_breaking_point_is_the_first_phase_in_order_whose_own_threshold_failed() {
        let phases = ["s-1000", "s-2000", "s-3000"];
        let verdicts = [
            verdict("global", false),
            verdict("phase:s-3000", false),
            verdict("phase:s-2000", false),
            verdict("phase:s-1000", true),
        ];
        assert_eq!(
            breaking_point(phases.into_iter(), &verdicts).as_deref(),
            Some("s-2000")
        );
        // A global breach alone names no phase.
        assert_eq!(breaking_point(phases.into_iter(), &verdicts[..1]), None);
    }
}
