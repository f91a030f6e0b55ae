//! k6-style pass/fail criteria: `p95 < 250ms`, `error_rate < 0.1%`, scoped to the whole run, one
//! phase (`phase:peak p99 < 500ms`) or one scenario (`scenario:status p95 < 100ms`).

use serde::Serialize;
use std::fmt;

use super::profile::Scenario;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Scope {
    Global,
    Phase(String),
    Scenario(Scenario),
}

impl Scope {
    pub fn parse(text: &str) -> Result<Scope, String> {
        let t = text.trim();
        if t == "global" {
            return Ok(Scope::Global);
        }
        if let Some(p) = t.strip_prefix("phase:").filter(|p| !p.is_empty()) {
            return Ok(Scope::Phase(p.to_string()));
        }
        if let Some(s) = t.strip_prefix("scenario:") {
            return Scenario::parse(s)
                .map(Scope::Scenario)
                .ok_or_else(|| format!("unknown scenario '{s}'"));
        }
        Err(format!(
            "unknown scope '{t}' (use global, phase:NAME or scenario:NAME)"
        ))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => write!(f, "global"),
            Scope::Phase(p) => write!(f, "phase:{p}"),
            Scope::Scenario(s) => write!(f, "scenario:{}", s.as_str()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// A latency percentile (corrected for coordinated omission), in ms.
    Percentile(f64),
    MaxMs,
    MeanMs,
    /// Failed requests over requests answered (refusals by the gate are not errors).
    ErrorRate,
    /// Requests the gate refused (denied, rate-limited) over requests answered.
    RefusedRate,
    /// Requests never sent (in-flight cap) over requests scheduled.
    DroppedRate,
    /// Achieved requests per second.
    Rps,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub scope: Scope,
    pub metric: Metric,
    pub op: Op,
    /// In the metric's unit: ms for latencies, a fraction for rates, req/s for rps.
    pub value: f64,
    /// As the user wrote it.
    pub text: String,
}

/// The numbers of one scope.
pub trait Measured {
    fn percentile_ms(&self, q: f64) -> f64;
    fn max_ms(&self) -> f64;
    fn mean_ms(&self) -> f64;
    fn error_rate(&self) -> f64;
    fn refused_rate(&self) -> f64;
    fn dropped_rate(&self) -> f64;
    fn rps(&self) -> f64;
}

fn parse_metric(m: &str) -> Result<Metric, String> {
    Ok(match m {
        "max" => Metric::MaxMs,
        "mean" | "avg" => Metric::MeanMs,
        "error_rate" => Metric::ErrorRate,
        "refused_rate" => Metric::RefusedRate,
        "dropped_rate" => Metric::DroppedRate,
        "rps" | "requests_per_sec" => Metric::Rps,
        _ => {
            let q = m
                .strip_prefix('p')
                .and_then(|q| q.strip_prefix('(').map_or(Some(q), |q| q.strip_suffix(')')))
                .and_then(|q| q.parse::<f64>().ok())
                .filter(|q| q.is_finite() && *q > 0.0 && *q <= 100.0)
                .ok_or_else(|| {
                    format!(
                        "unknown metric '{m}' (p50, p95, p99, p99.9, max, mean, error_rate, \
                         refused_rate, dropped_rate, rps)"
                    )
                })?;
            Metric::Percentile(q)
        }
    })
}

fn parse_value(metric: Metric, v: &str) -> Result<f64, String> {
    let bad = || format!("cannot read the value '{v}'");
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let value = match (metric, unit.trim()) {
        (Metric::Percentile(_) | Metric::MaxMs | Metric::MeanMs, "ms" | "") => n,
        (Metric::Percentile(_) | Metric::MaxMs | Metric::MeanMs, "s") => n * 1e3,
        (Metric::Percentile(_) | Metric::MaxMs | Metric::MeanMs, "us" | "µs") => n / 1e3,
        (Metric::ErrorRate | Metric::RefusedRate | Metric::DroppedRate, "%") => n / 100.0,
        (Metric::ErrorRate | Metric::RefusedRate | Metric::DroppedRate, "") => n,
        (Metric::Rps, "" | "/s") => n,
        _ => return Err(format!("the unit '{unit}' does not fit this metric")),
    };
    value.is_finite().then_some(value).ok_or_else(bad)
}

impl Threshold {
    /// `[SCOPE ]METRIC OP VALUE`, e.g. `p95 < 250ms` or `phase:peak error_rate < 1%`.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        match t.split_once(char::is_whitespace) {
            Some((head, rest)) if head.contains(':') => {
                Threshold::parse_in(Scope::parse(head)?, rest)
            }
            _ => Threshold::parse_in(Scope::Global, t),
        }
    }

    pub fn parse_in(scope: Scope, text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        let at = t
            .find(['<', '>'])
            .ok_or_else(|| format!("'{t}': expected METRIC < VALUE (or <=, >, >=)"))?;
        let (metric, rest) = t.split_at(at);
        let (op, value) = match rest.as_bytes() {
            [b'<', b'=', ..] => (Op::Le, &rest[2..]),
            [b'>', b'=', ..] => (Op::Ge, &rest[2..]),
            [b'<', ..] => (Op::Lt, &rest[1..]),
            _ => (Op::Gt, &rest[1..]),
        };
        let metric = parse_metric(metric.trim())?;
        let value = parse_value(metric, value.trim())?;
        Ok(Threshold {
            scope,
            metric,
            op,
            value,
            text: t.to_string(),
        })
    }

    pub fn observe(&self, m: &dyn Measured) -> f64 {
        match self.metric {
            Metric::Percentile(q) => m.percentile_ms(q),
            Metric::MaxMs => m.max_ms(),
            Metric::MeanMs => m.mean_ms(),
            Metric::ErrorRate => m.error_rate(),
            Metric::RefusedRate => m.refused_rate(),
            Metric::DroppedRate => m.dropped_rate(),
            Metric::Rps => m.rps(),
        }
    }

    /// Whether `observed` satisfies the threshold.
    pub fn holds(&self, observed: f64) -> bool {
        match self.op {
            Op::Lt => observed < self.value,
            Op::Le => observed <= self.value,
            Op::Gt => observed > self.value,
            Op::Ge => observed >= self.value,
        }
    }
}

pub use crate::api::stress::Verdict;

/// Check every threshold against the scope `lookup` finds.
pub fn evaluate<'a>(
    thresholds: &[Threshold],
    lookup: impl Fn(&Scope) -> Option<&'a dyn Measured>,
) -> Vec<Verdict> {
    thresholds
        .iter()
        .map(|t| {
            let observed = lookup(&t.scope).map(|m| t.observe(m));
            Verdict {
                scope: t.scope.to_string(),
                threshold: t.text.clone(),
                observed,
                passed: observed.is_none_or(|o| t.holds(o)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Measured for Fixed {
        fn percentile_ms(&self, q: f64) -> f64 {
            q * 3.0
        }
        fn max_ms(&self) -> f64 {
            400.0
        }
        fn mean_ms(&self) -> f64 {
            50.0
        }
        fn error_rate(&self) -> f64 {
            0.002
        }
        fn refused_rate(&self) -> f64 {
            0.0
        }
        fn dropped_rate(&self) -> f64 {
            0.0
        }
        fn rps(&self) -> f64 {
            99.0
        }
    }

    #[test]
    fn parses_k6_style_expressions() {
        let t = Threshold::parse("p95 < 250ms").expect("parses");
        assert_eq!(
            (t.metric, t.op, t.value),
            (Metric::Percentile(95.0), Op::Lt, 250.0)
        );
        let t = Threshold::parse("error_rate < 0.1%").expect("parses");
        assert!((t.value - 0.001).abs() < 1e-12);
        let t = Threshold::parse("phase:peak p(99)<=1s").expect("parses");
        assert_eq!(t.scope, Scope::Phase("peak".into()));
        assert_eq!((t.op, t.value), (Op::Le, 1000.0));
        let t = Threshold::parse("scenario:status rps >= 100").expect("parses");
        assert_eq!(t.scope, Scope::Scenario(Scenario::Status));
        for bad in [
            "p95",
            "p95 < fast",
            "p101 < 1ms",
            "error_rate < 5ms",
            "zone:x p95 < 1ms",
            "",
        ] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn evaluation_flags_breaches_only() {
        let ts: Vec<Threshold> = [
            "p95 < 250ms",
            "p99 < 250ms",
            "error_rate < 0.1%",
            "rps > 50",
        ]
        .iter()
        .map(|t| Threshold::parse(t).expect("parses"))
        .collect();
        let v = evaluate(&ts, |_| Some(&Fixed as &dyn Measured));
        let passed: Vec<bool> = v.iter().map(|v| v.passed).collect();
        // p95 = 285 ≥ 250; p99 = 297; error 0.2% ≥ 0.1%; rps 99 > 50.
        assert_eq!(passed, vec![false, false, false, true]);
        let unseen = evaluate(&ts[..1], |_| None);
        assert!(unseen[0].passed && unseen[0].observed.is_none());
    }
}
