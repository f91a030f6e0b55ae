//! `/metrics` in the Prometheus text format: fleet states, detections, recoveries, escalations,
//! gate decisions and per-route request latency histograms.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use crate::api::StatusReport;
use crate::api::metrics::EngineMetrics;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request latencies per (method, route, status).
#[derive(Default)]
pub struct HttpMetrics {
    routes: Mutex<BTreeMap<(String, String, u16), Histogram>>,
}

impl HttpMetrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().expect("metrics lock");
        let h = routes
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    fn render(&self, out: &mut String) {
        let routes = self.routes.lock().expect("metrics lock").clone();
        header(
            out,
            "plexus_http_request_duration_seconds",
            "histogram",
            "HTTP request latency by route",
        );
        for ((method, route, status), h) in &routes {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "plexus_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "plexus_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "plexus_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "plexus_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// The whole exposition.
pub fn render(
    status: &StatusReport,
    engine: &EngineMetrics,
    http: &HttpMetrics,
    subscribers: usize,
) -> String {
    let mut out = String::new();
    let c = &status.neurons;
    header(&mut out, "plexus_neurons", "gauge", "Neurons by state");
    for (state, n) in [
        ("pending", c.pending),
        ("healthy", c.healthy),
        ("suspect", c.suspect),
        ("offline", c.offline),
        ("degraded", c.degraded),
        ("config_failed", c.config_failed),
        ("recovering", c.recovering),
    ] {
        let _ = writeln!(out, "plexus_neurons{{state=\"{state}\"}} {n}");
    }
    let d = &status.detections;
    header(
        &mut out,
        "plexus_failure_detections_total",
        "counter",
        "Failures detected by mode",
    );
    for (mode, n) in [
        ("offline", d.offline),
        ("timeout", d.timeout),
        ("config_failure", d.config_failure),
        ("analytics_failure", d.analytics_failure),
        ("byzantine", d.byzantine),
    ] {
        let _ = writeln!(
            out,
            "plexus_failure_detections_total{{mode=\"{mode}\"}} {n}"
        );
    }
    let r = &status.recoveries;
    single(
        &mut out,
        "plexus_recovery_attempts_total",
        "counter",
        "Recovery attempts started",
        r.attempted,
    );
    single(
        &mut out,
        "plexus_recoveries_succeeded_total",
        "counter",
        "Recovery attempts that succeeded",
        r.succeeded,
    );
    single(
        &mut out,
        "plexus_escalations_total",
        "counter",
        "Failures escalated to an operator",
        r.escalated,
    );
    single(
        &mut out,
        "plexus_fleet_conditions",
        "gauge",
        "Fleet-level conditions raised by the local-health guard",
        status.conditions.len(),
    );
    header(
        &mut out,
        "plexus_gate_decisions_total",
        "counter",
        "Gate decisions by action and outcome",
    );
    for g in &engine.gate {
        let _ = writeln!(
            out,
            "plexus_gate_decisions_total{{action=\"{}\",outcome=\"{}\"}} {}",
            escape(&g.action),
            g.outcome,
            g.count
        );
    }
    single(
        &mut out,
        "plexus_events_published_total",
        "counter",
        "Events published on the live stream",
        engine.events_published,
    );
    single(
        &mut out,
        "plexus_event_subscribers",
        "gauge",
        "Live event subscribers",
        subscribers,
    );
    single(
        &mut out,
        "plexus_link_messages_sent_total",
        "counter",
        "Messages put on the simulated link",
        engine.link_sent,
    );
    single(
        &mut out,
        "plexus_link_messages_lost_total",
        "counter",
        "Messages the simulated link lost",
        engine.link_lost,
    );
    single(
        &mut out,
        "plexus_agents",
        "gauge",
        "Real neuron agents registered",
        engine.agents,
    );
    http.render(&mut out);
    out
}
