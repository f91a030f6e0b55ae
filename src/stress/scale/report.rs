//! The scale run's files: summary.json, report.md (the tables) and report.html (the same, with
//! a chart per measure).

use std::fmt::Write as _;
use std::path::Path;

use super::ScaleSummary;
use super::fit::{Fit, Shape};
use crate::stress::report::{io, write_json};

pub const FILES: [&str; 3] = ["report.md", "report.html", "summary.json"];

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("—".into(), |v| format!("{v:.digits$}"))
}

/// `12,345` for a fleet size.
pub fn size(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The fit as a sentence about cost per neuron.
pub fn describe(fit: &Fit, unit: &str) -> String {
    match fit.shape {
        Shape::Linear => format!(
            "{:.4} {unit} + {:.3e} {unit} per neuron",
            fit.intercept, fit.slope
        ),
        Shape::NLogN => format!(
            "{:.4} {unit} + {:.3e} {unit} × n·ln n",
            fit.intercept, fit.slope
        ),
    }
}

pub fn markdown(s: &ScaleSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Scale: the engine's cost by fleet size\n\nStarted {} on {} cores; each size is a fresh \
         `plexus serve --neurons N` (1 heartbeat/s), measured from outside over a {:.0} s steady window.\n",
        s.started_at, s.cores_available, s.window_s
    );
    let _ = writeln!(
        o,
        "| neurons | 99% healthy at | conditions seen | engine cores | process cores | RSS MB | verdict p50 / p99 ms | status p50 / p99 ms | SIGINT to exit |\n|---|---|---|---|---|---|---|---|---|"
    );
    for p in &s.points {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {:.0} / {:.0} | {:.1} / {:.1} | {} |",
            size(p.neurons as f64),
            p.healthy_after_s
                .map_or("never".into(), |t| format!("{t:.1} s")),
            if p.conditions.is_empty() {
                "none".into()
            } else {
                p.conditions.join(", ")
            },
            opt(p.engine_cores, 3),
            opt(p.process_cores, 3),
            opt(p.rss_mb, 0),
            p.verdict_p50_ms,
            p.verdict_p99_ms,
            p.status_p50_ms,
            p.status_p99_ms,
            p.shutdown_s
                .map_or("killed after 30 s".into(), |t| format!("{t:.2} s"))
        );
    }
    let _ = writeln!(
        o,
        "\n## Fitted costs\n\nLeast squares on relative error; the shape with the smaller error \
         is kept.\n\n| measure | shape | model | error (RMS) |\n|---|---|---|---|"
    );
    for f in &s.fits {
        match &f.fit {
            Some(fit) => {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {:.1}% |",
                    f.measure,
                    fit.shape.formula(),
                    describe(fit, &f.unit),
                    fit.error_pct
                );
            }
            None => {
                let _ = writeln!(o, "| {} | — | fewer than two sizes | — |", f.measure);
            }
        }
    }
    if let Some(h) = &s.holdout {
        let fitted: Vec<String> = h.fitted_on.iter().map(|n| size(*n as f64)).collect();
        let _ = writeln!(
            o,
            "\n## Prediction against a size not fitted\n\nFitted on {}, predicted {}, then \
             measured it.\n\n| measure | predicted | measured | error |\n|---|---|---|---|",
            fitted.join(", "),
            size(h.predicted_size as f64)
        );
        for r in &h.rows {
            let _ = writeln!(
                o,
                "| {} | {:.3} | {:.3} | {:+.1}% |",
                r.measure, r.predicted, r.measured, r.error_pct
            );
        }
    }
    let _ = writeln!(o, "\n## Capacity (fitted on every size)\n");
    for p in &s.predictions {
        let at = match p.size {
            Some(n) => format!("at about **{} neurons**", size(n)),
            None => "never, on this model".into(),
        };
        let _ = writeln!(
            o,
            "- {} ({} = {} {}): {at}",
            p.what, p.measure, p.limit, p.unit
        );
    }
    o
}

pub fn write_all(dir: &Path, s: &ScaleSummary) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    write_json(dir, "summary.json", s)?;
    let md = dir.join("report.md");
    std::fs::write(&md, markdown(s)).map_err(|e| io(&md, e))?;
    let html = dir.join("report.html");
    std::fs::write(&html, super::html::page(s)).map_err(|e| io(&html, e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_are_grouped_by_thousands() {
        assert_eq!(super::size(100_000.0), "100,000");
        assert_eq!(super::size(999.4), "999");
        assert_eq!(super::size(1_234_567.0), "1,234,567");
    }
}
