//! `report.html`: one file, no scripts, no network — the charts are inline SVG polylines drawn
//! from the per-second rows.

use std::fmt::Write as _;

use super::recorder::Row;
use super::report::markdown;
use super::sample::Samples;
use super::summary::Summary;

const W: f64 = 720.0;
const H: f64 = 200.0;

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A line chart of named series over the seconds of the run.
fn chart(title: &str, unit: &str, series: &[(&str, &str, Vec<f64>)]) -> String {
    let n = series.iter().map(|s| s.2.len()).max().unwrap_or(0).max(2);
    let top = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {W} {}\" width=\"{W}\" height=\"{}\">",
        escape(title),
        H + 20.0,
        H + 20.0
    );
    let _ = write!(
        o,
        "<rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" fill=\"#fafafa\" stroke=\"#ccc\"/>\
         <text x=\"4\" y=\"12\" font-size=\"11\">{top:.1} {unit}</text>\
         <text x=\"4\" y=\"{}\" font-size=\"11\">0 s</text><text x=\"{}\" y=\"{}\" font-size=\"11\">{} s</text>",
        H + 14.0,
        W - 40.0,
        H + 14.0,
        n - 1
    );
    for (i, (name, colour, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(x, v)| {
                let px = x as f64 / (n - 1) as f64 * W;
                let py = H - (v.max(0.0) / top) * (H - 16.0);
                format!("{px:.1},{py:.1}")
            })
            .collect();
        let _ = write!(
            o,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>\
             <text x=\"{}\" y=\"12\" font-size=\"11\" fill=\"{colour}\">{}</text>",
            points.join(" "),
            120 + i * 140,
            escape(name)
        );
    }
    o.push_str("</svg></figure>\n");
    o
}

pub fn page(s: &Summary, rows: &[Row], samples: &Samples) -> String {
    let col = |f: fn(&Row) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let mut body = String::new();
    body.push_str(&chart(
        "Requests per second",
        "req/s",
        &[
            ("target", "#888", col(|r| r.target_rps)),
            ("achieved", "#1565c0", col(|r| r.achieved_rps)),
            ("dropped", "#c62828", col(|r| r.dropped as f64)),
        ],
    ));
    body.push_str(&chart(
        "Latency (from intended start; send p99 from the actual send)",
        "ms",
        &[
            ("p50", "#2e7d32", col(|r| r.p50_ms)),
            ("p99", "#e65100", col(|r| r.p99_ms)),
            ("send p99", "#6a1b9a", col(|r| r.send_p99_ms)),
        ],
    ));
    let rss: Vec<f64> = samples
        .system
        .iter()
        .map(|x| x.rss_kb.unwrap_or(0) as f64 / 1024.0)
        .collect();
    body.push_str(&chart(
        "Memory of the generator process (RSS)",
        "MiB",
        &[("rss", "#37474f", rss)],
    ));
    let healthy: Vec<f64> = samples
        .health
        .iter()
        .map(|h| h.neurons.healthy as f64)
        .collect();
    let total: Vec<f64> = samples
        .health
        .iter()
        .map(|h| h.neurons.total as f64)
        .collect();
    body.push_str(&chart(
        "Fleet health",
        "neurons",
        &[("total", "#888", total), ("healthy", "#2e7d32", healthy)],
    ));
    document(
        &format!("Stress test {}", s.id),
        &format!(
            "<h1>Stress test {} — {}</h1>",
            escape(&s.id),
            escape(&s.profile)
        ),
        &body,
        &markdown(s),
    )
}

/// A self-contained report page: `heading` (HTML, may be empty), the charts, then the report's
/// markdown as HTML. Shared by the stress and the scale reports.
pub(crate) fn document(title: &str, heading: &str, charts: &str, markdown: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:760px;margin:2em auto}}\
         table{{border-collapse:collapse;margin:1em 0}}\
         th,td{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}\
         th{{background:#f5f5f5}}</style></head>\
         <body>{heading}\n{charts}<section>{}</section></body></html>\n",
        escape(title),
        crate::markup::to_html(markdown)
    )
}
