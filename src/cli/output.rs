//! How headless commands print: JSON (shapes from `api`, documented in README) or plain tables.

use serde::Serialize;

use crate::api::{ApiError, NeuronView, StatusReport};

pub fn json<T: Serialize>(value: &T) -> Result<(), ApiError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| ApiError::failed(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Print human output with every control character but the newline escaped: ids, zones,
/// comments and log lines come from users and agents, and must not drive the terminal.
pub fn print(text: &str) {
    println!("{}", escape_controls(text));
}

/// `text` with control characters (but `\n`) shown as escapes (`\u{1b}`).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Left-aligned columns, two spaces apart, widths from the content; control characters in a
/// cell are shown escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escape_controls(c).into_owned()).collect())
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

pub fn opt(value: Option<f64>, digits: usize, unit: &str) -> String {
    value.map_or("-".into(), |v| format!("{v:.digits$}{unit}"))
}

pub fn age(ms: Option<u64>) -> String {
    match ms {
        None => "-".into(),
        Some(ms) if ms < 10_000 => format!("{:.1}s", ms as f64 / 1000.0),
        Some(ms) => format!("{}s", ms / 1000),
    }
}

pub fn neuron_rows(neurons: &[NeuronView]) -> String {
    let rows: Vec<Vec<String>> = neurons
        .iter()
        .map(|n| {
            let state = if n.escalated {
                format!("{} (escalated)", n.state)
            } else {
                n.state.to_string()
            };
            vec![
                n.id.to_string(),
                state,
                n.phi_text(),
                age(n.last_heartbeat_ms),
                opt(n.latency_ms, 0, "ms"),
                opt(n.error_rate.map(|e| e * 100.0), 2, "%"),
                n.config_version.to_string(),
                n.zone.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "ID", "STATE", "PHI", "LAST HB", "LATENCY", "ERRORS", "CONFIG", "ZONE",
        ],
        &rows,
    )
}

pub fn status_text(s: &StatusReport) -> String {
    let c = &s.neurons;
    let mut out = vec![
        format!(
            "federation {} ({}) · {} neurons · heartbeat {} ms · {}",
            s.federation, s.environment, c.total, s.heartbeat_interval_ms, s.at
        ),
        format!(
            "healthy {}  suspect {}  offline {}  degraded {}  config_failed {}  recovering {}  pending {}",
            c.healthy, c.suspect, c.offline, c.degraded, c.config_failed, c.recovering, c.pending
        ),
    ];
    if c.mock > 0 {
        out.push(format!(
            "stress mocks {} (a running stress test's; not counted above; `plexus stress cleanup` removes them)",
            c.mock
        ));
    }
    if !s.config_versions.is_empty() {
        let versions: Vec<String> = s
            .config_versions
            .iter()
            .map(|v| format!("{} ×{}", v.version, v.neurons))
            .collect();
        let drift = if s.config_versions.len() > 1 {
            "  DRIFT (more than one version)"
        } else {
            ""
        };
        out.push(format!("config: {}{drift}", versions.join(", ")));
    }
    for condition in &s.conditions {
        out.push(format!(
            "CONDITION {}: {}",
            condition.kind, condition.detail
        ));
    }
    if s.failures.is_empty() {
        out.push("failures: none".into());
    } else {
        out.push("failures:".into());
        let rows: Vec<Vec<String>> = s
            .failures
            .iter()
            .map(|f| {
                vec![
                    f.neuron.clone(),
                    f.mode.to_string(),
                    f.since.clone(),
                    f.attempts.to_string(),
                    if f.escalated { "yes" } else { "no" }.into(),
                    f.evidence.clone(),
                ]
            })
            .collect();
        let text = table(
            &[
                "NEURON",
                "MODE",
                "SINCE",
                "ATTEMPTS",
                "ESCALATED",
                "EVIDENCE",
            ],
            &rows,
        );
        out.extend(text.lines().map(|l| format!("  {l}")));
    }
    let r = &s.recoveries;
    let rate = r
        .success_rate
        .map_or("-".into(), |v| format!("{:.0}%", v * 100.0));
    out.push(format!(
        "recoveries: attempted {}, succeeded {}, escalated {}, success rate {rate}",
        r.attempted, r.succeeded, r.escalated
    ));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_on_the_widest_cell() {
        let text = table(
            &["A", "B"],
            &[
                vec!["long".into(), "x".into()],
                vec!["s".into(), "y".into()],
            ],
        );
        assert_eq!(text, "A     B\nlong  x\ns     y");
    }
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped_and_newlines_kept() {
        let text = "zone=\u{1b}[2J\u{1b}]0;owned\u{7}\nnext line\ttab";
        let shown = escape_controls(text);
        assert!(!shown.contains('\u{1b}') && !shown.contains('\u{7}') && !shown.contains('\t'));
        assert!(shown.contains("\\u{1b}[2J"), "{shown}");
        assert_eq!(shown.lines().count(), 2, "the newline stays");
        assert!(matches!(
            escape_controls("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
