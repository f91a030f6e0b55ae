//! `report.html` of a scale run: one chart per measure — the sizes measured (dots), the fitted
//! model (line) out to three times the largest size, and the limit where one was set (dashed) —
//! then the report's tables. One file, inline SVG, no scripts.

use std::fmt::Write as _;

use super::fit::Fit;
use super::report::{markdown, size};
use super::{MEASURES, ScaleSummary, points_of};
use crate::stress::html::{document, escape};

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 60.0;

fn chart(
    title: &str,
    unit: &str,
    dots: &[(f64, f64)],
    fit: Option<&Fit>,
    limit: Option<f64>,
) -> String {
    let lo = dots
        .iter()
        .map(|d| d.0)
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let hi = dots.iter().map(|d| d.0).fold(0.0, f64::max) * 3.0;
    if dots.is_empty() || hi <= lo {
        return String::new();
    }
    // Sizes on a log axis: 1k to 100k are equally far apart.
    let x = |n: f64| LEFT + (n.ln() - lo.ln()) / (hi.ln() - lo.ln()) * (W - LEFT - 10.0);
    let curve: Vec<(f64, f64)> = fit
        .map(|f| {
            (0..=60)
                .map(|i| {
                    let n = (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / 60.0).exp();
                    (n, f.value(n))
                })
                .collect()
        })
        .unwrap_or_default();
    let top = dots
        .iter()
        .chain(&curve)
        .map(|d| d.1)
        .chain(limit)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.05;
    let y = |v: f64| H - v.clamp(0.0, top) / top * (H - 20.0);
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {W} {h}\" width=\"{W}\" height=\"{h}\">\
         <rect x=\"{LEFT}\" y=\"0\" width=\"{}\" height=\"{H}\" fill=\"#fafafa\" stroke=\"#ccc\"/>\
         <text x=\"2\" y=\"14\" font-size=\"11\">{top:.3} {unit}</text>\
         <text x=\"2\" y=\"{H}\" font-size=\"11\">0</text>\
         <text x=\"{LEFT}\" y=\"{}\" font-size=\"11\">{} neurons</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
        escape(title),
        W - LEFT,
        H + 14.0,
        size(lo),
        W - 80.0,
        H + 14.0,
        size(hi),
        h = H + 20.0
    );
    if let Some(limit) = limit.filter(|l| *l <= top) {
        let _ = write!(
            o,
            "<line x1=\"{LEFT}\" y1=\"{ly:.1}\" x2=\"{W}\" y2=\"{ly:.1}\" stroke=\"#c62828\" \
             stroke-dasharray=\"4 3\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#c62828\">limit {limit}</text>",
            LEFT + 4.0,
            y(limit) - 3.0,
            ly = y(limit)
        );
    }
    if !curve.is_empty() {
        let points: Vec<String> = curve
            .iter()
            .map(|(n, v)| format!("{:.1},{:.1}", x(*n), y(*v)))
            .collect();
        let _ = write!(
            o,
            "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    for (n, v) in dots {
        let _ = write!(
            o,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#e65100\"><title>{}: {v:.3} {unit}</title></circle>",
            x(*n),
            y(*v),
            size(*n)
        );
    }
    o.push_str("</svg></figure>\n");
    o
}

pub fn page(s: &ScaleSummary) -> String {
    let mut body = String::new();
    for m in &MEASURES {
        let dots = points_of(&s.points, m);
        let fit = s
            .fits
            .iter()
            .find(|f| f.measure == m.name)
            .and_then(|f| f.fit.as_ref());
        let limit = s
            .predictions
            .iter()
            .find(|p| p.measure == m.name)
            .map(|p| p.limit);
        body.push_str(&chart(m.name, m.unit, &dots, fit, limit));
    }
    // The markdown opens with its own heading.
    document(&format!("Scale {}", s.started_at), "", &body, &markdown(s))
}
