//! Writes a run's files into its results directory: summary.json, metrics.csv (one row per
//! second), report.md, report.html (self-contained, inline SVG), audit-log.json,
//! system-metrics.json and health-overview.json.

use std::fmt::Write as _;
use std::path::Path;

use super::recorder::Row;
use super::sample::Samples;
use super::summary::Summary;
use crate::api::AuditRecord;

pub const FILES: [&str; 7] = [
    "report.md",
    "report.html",
    "metrics.csv",
    "summary.json",
    "audit-log.json",
    "system-metrics.json",
    "health-overview.json",
];

pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

pub(crate) fn write_json(
    dir: &Path,
    name: &str,
    value: &impl serde::Serialize,
) -> Result<(), String> {
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(value).map_err(|e| io(&path, e))?;
    std::fs::write(&path, text + "\n").map_err(|e| io(&path, e))
}

pub fn write_all(
    dir: &Path,
    summary: &Summary,
    rows: &[Row],
    samples: &Samples,
    audit: &[AuditRecord],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    write_json(dir, "summary.json", summary)?;
    write_json(dir, "audit-log.json", &audit)?;
    write_json(dir, "system-metrics.json", &samples.system)?;
    write_json(dir, "health-overview.json", &samples.health)?;
    let csv_path = dir.join("metrics.csv");
    let mut w = csv::Writer::from_path(&csv_path).map_err(|e| io(&csv_path, e))?;
    for row in rows {
        w.serialize(row).map_err(|e| io(&csv_path, e))?;
    }
    if rows.is_empty() {
        w.write_record(CSV_HEADER).map_err(|e| io(&csv_path, e))?;
    }
    w.flush().map_err(|e| io(&csv_path, e))?;
    let md = dir.join("report.md");
    std::fs::write(&md, markdown(summary)).map_err(|e| io(&md, e))?;
    let html = dir.join("report.html");
    std::fs::write(&html, super::html::page(summary, rows, samples)).map_err(|e| io(&html, e))
}

/// The CSV columns (the `Row` fields), written even when a run had no full second.
pub const CSV_HEADER: [&str; 14] = [
    "second",
    "phase",
    "target_rps",
    "achieved_rps",
    "ok",
    "refused",
    "errors",
    "dropped",
    "in_flight",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "send_p99_ms",
];

pub fn markdown(s: &Summary) -> String {
    let mut o = String::new();
    let m = &s.metrics;
    let _ = writeln!(o, "# Stress test {} — profile `{}`\n", s.id, s.profile);
    let _ = writeln!(
        o,
        "Target: {} · started {} · {:.1} s · **{}**{}\n",
        s.target,
        s.started_at,
        s.duration_s,
        if s.passed { "PASSED" } else { "FAILED" },
        if s.ended.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.ended)
        }
    );
    let _ = writeln!(o, "| metric | value |\n|---|---|");
    let _ = writeln!(o, "| achieved req/s | {:.1} |", m.requests_per_sec);
    let l = &m.latency_ms;
    let sl = &s.send_latency_ms;
    let _ = writeln!(
        o,
        "| latency p50 / p95 / p99 / max (from intended start) | {:.2} / {:.2} / {:.2} / {:.2} ms |",
        l.p50, l.p95, l.p99, l.max
    );
    let _ = writeln!(
        o,
        "| latency p50 / p95 / p99 / max (from actual send) | {:.2} / {:.2} / {:.2} / {:.2} ms |",
        sl.p50, sl.p95, sl.p99, sl.max
    );
    let _ = writeln!(
        o,
        "| ok / refused / errors / dropped | {} / {} / {} / {} |",
        s.ok, s.refused, s.errors, m.dropped
    );
    let _ = writeln!(o, "| error rate | {:.3}% |", m.error_rate * 100.0);
    if let Some(r) = &s.registration {
        let _ = writeln!(
            o,
            "| mock neurons registered | {} in {:.0} ms |",
            r.neurons, r.took_ms
        );
    }
    let _ = writeln!(
        o,
        "\n## Phases\n\n| phase | target req/s | achieved | p50 | p95 | p99 | errors | dropped |\n|---|---|---|---|---|---|---|---|"
    );
    for p in &s.phases {
        let _ = writeln!(
            o,
            "| {} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} |",
            p.name,
            p.target_rps.unwrap_or(0.0),
            p.requests_per_sec,
            p.latency_ms.p50,
            p.latency_ms.p95,
            p.latency_ms.p99,
            p.errors,
            p.dropped
        );
    }
    let _ = writeln!(
        o,
        "\n## Scenarios\n\n| scenario | req/s | p50 | p95 | p99 | ok | refused | errors |\n|---|---|---|---|---|---|---|---|"
    );
    for p in &s.scenarios {
        let _ = writeln!(
            o,
            "| {} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
            p.name,
            p.requests_per_sec,
            p.latency_ms.p50,
            p.latency_ms.p95,
            p.latency_ms.p99,
            p.ok,
            p.refused,
            p.errors
        );
    }
    if !s.thresholds.is_empty() {
        let _ = writeln!(
            o,
            "\n## Thresholds\n\n| scope | threshold | observed | result |\n|---|---|---|---|"
        );
        for t in &s.thresholds {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} | {} |",
                t.scope,
                t.threshold,
                t.observed.map_or("—".into(), |v| format!("{v:.4}")),
                if t.passed { "pass" } else { "**BREACH**" }
            );
        }
    }
    if let Some(phase) = &s.breaking_point {
        let _ = writeln!(
            o,
            "\n**Breaking point:** phase `{phase}`, the first whose thresholds were breached."
        );
    }
    if let Some(c) = &s.subscribers {
        subscribers(&mut o, c);
    }
    if !s.codes.is_empty() {
        let _ = writeln!(o, "\n## Errors and refusals\n");
        for (code, n) in &s.codes {
            let _ = writeln!(o, "- `{code}`: {n}");
        }
    }
    for w in &s.warnings {
        let _ = writeln!(o, "\n> warning: {w}");
    }
    o
}

/// The held WebSocket subscribers (the sessions' live half): how many held, what they received.
fn subscribers(o: &mut String, c: &super::ws::CrowdReport) {
    let l = &c.fanout_lag_ms;
    let _ = writeln!(
        o,
        "\n## Subscribers\n\nHeld {} of {} wanted ({} failed); {} events received, {} lost; \
         fan-out lag p50 / p95 / p99 / max {:.2} / {:.2} / {:.2} / {:.2} ms.",
        c.held, c.wanted, c.failed, c.events_received, c.events_lost, l.p50, l.p95, l.p99, l.max
    );
    if !c.phases.is_empty() {
        let _ = writeln!(o, "\n| phase | wanted | held |\n|---|---|---|");
        for p in &c.phases {
            let _ = writeln!(o, "| {} | {} | {} |", p.phase, p.wanted, p.held);
        }
    }
    if let Some(e) = &c.first_error {
        let _ = writeln!(o, "\nFirst failure: {e}");
    }
}
