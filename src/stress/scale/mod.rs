//! `plexus bench scale`: the engine's cost curve over fleet sizes, a model fitted per measure,
//! and the fleet size at which each limit is reached (docs/scale.md). Each size runs in its own
//! `plexus serve` process (measure.rs), so one size's memory never counts for the next.

pub mod fit;
pub mod html;
pub mod measure;
pub mod report;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use fit::Fit;
use measure::{Point, Probe};

/// The sizes measured by default.
pub const DEFAULT_SIZES: [u64; 4] = [1_000, 10_000, 30_000, 100_000];

/// A measure the curve tracks: its name in summary.json, its unit, how to read it off a point.
pub struct Measure {
    pub name: &'static str,
    pub unit: &'static str,
    pub read: fn(&Point) -> Option<f64>,
}

pub const MEASURES: [Measure; 7] = [
    Measure {
        name: "engine_cores",
        unit: "cores",
        read: |p| p.engine_cores,
    },
    Measure {
        name: "process_cores",
        unit: "cores",
        read: |p| p.process_cores,
    },
    Measure {
        name: "rss_mb",
        unit: "MB",
        read: |p| p.rss_mb,
    },
    Measure {
        name: "healthy_after_s",
        unit: "s",
        read: |p| p.healthy_after_s,
    },
    Measure {
        name: "verdict_p50_ms",
        unit: "ms",
        read: |p| Some(p.verdict_p50_ms),
    },
    Measure {
        name: "verdict_p99_ms",
        unit: "ms",
        read: |p| Some(p.verdict_p99_ms),
    },
    Measure {
        name: "status_p50_ms",
        unit: "ms",
        read: |p| Some(p.status_p50_ms),
    },
];

/// A measure's `(size, value)` at every point that has it.
fn points_of(points: &[Point], m: &Measure) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter_map(|p| Some((p.neurons as f64, (m.read)(p)?)))
        .collect()
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub sizes: Vec<u64>,
    pub probe: Probe,
    pub memory_budget_mb: f64,
    pub verdict_target_ms: f64,
    pub out: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeasureFit {
    pub measure: String,
    pub unit: String,
    /// `None`: fewer than two sizes gave this measure.
    pub fit: Option<Fit>,
}

/// The model fitted on all sizes but the largest, against what the largest measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holdout {
    pub fitted_on: Vec<u64>,
    pub predicted_size: u64,
    pub rows: Vec<HoldoutRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldoutRow {
    pub measure: String,
    pub predicted: f64,
    pub measured: f64,
    /// (predicted − measured) / measured, percent.
    pub error_pct: f64,
}

/// The fleet size at which a fitted measure reaches a limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prediction {
    pub what: String,
    pub measure: String,
    pub limit: f64,
    pub unit: String,
    /// `None`: the model never reaches it (or the measure could not be fitted).
    pub size: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleSummary {
    pub started_at: String,
    pub window_s: f64,
    pub cores_available: usize,
    pub points: Vec<Point>,
    pub fits: Vec<MeasureFit>,
    pub holdout: Option<Holdout>,
    pub predictions: Vec<Prediction>,
}

impl ScaleSummary {
    /// Every size became 99% healthy within the boot limit.
    pub fn all_healthy(&self) -> bool {
        self.points.iter().all(|p| p.healthy_after_s.is_some())
    }
}

/// Fit every measure on `points`.
pub fn fits(points: &[Point]) -> Vec<MeasureFit> {
    MEASURES
        .iter()
        .map(|m| MeasureFit {
            measure: m.name.into(),
            unit: m.unit.into(),
            fit: fit::fit(&points_of(points, m)),
        })
        .collect()
}

/// Fit on all sizes but the largest and predict it (needs three sizes: two to fit, one to check).
pub fn holdout(points: &[Point]) -> Option<Holdout> {
    let largest = points.iter().map(|p| p.neurons).max()?;
    let fitted: Vec<Point> = points
        .iter()
        .filter(|p| p.neurons < largest)
        .cloned()
        .collect();
    let mut sizes: Vec<u64> = fitted.iter().map(|p| p.neurons).collect();
    sizes.dedup();
    if sizes.len() < 2 {
        return None;
    }
    let target = points.iter().find(|p| p.neurons == largest)?;
    let rows = MEASURES
        .iter()
        .filter_map(|m| {
            let f = fit::fit(&points_of(&fitted, m))?;
            let measured = (m.read)(target)?;
            let predicted = f.value(largest as f64);
            (measured != 0.0).then(|| HoldoutRow {
                measure: m.name.into(),
                predicted,
                measured,
                error_pct: (predicted - measured) / measured * 100.0,
            })
        })
        .collect();
    Some(Holdout {
        fitted_on: sizes,
        predicted_size: largest,
        rows,
    })
}

/// Where one core saturates, memory reaches the budget, and detection slips past its target.
pub fn predictions(
    fits: &[MeasureFit],
    memory_budget_mb: f64,
    verdict_target_ms: f64,
) -> Vec<Prediction> {
    let at = |what: &str, name: &str, limit: f64| {
        let fitted = fits.iter().find(|f| f.measure == name);
        Prediction {
            what: what.into(),
            measure: name.into(),
            limit,
            unit: fitted.map(|f| f.unit.clone()).unwrap_or_default(),
            size: fitted.and_then(|f| f.fit).and_then(|f| f.size_at(limit)),
        }
    };
    vec![
        at("the engine thread saturates one core", "engine_cores", 1.0),
        at("memory reaches the budget", "rss_mb", memory_budget_mb),
        at(
            "a heartbeat waits past the target for its verdict (p99): detection slips",
            "verdict_p99_ms",
            verdict_target_ms,
        ),
    ]
}

/// Measure every size in turn, fit, predict, and write report.md, report.html and summary.json.
/// `progress` hears of each size as it starts and as it comes up.
pub async fn run(plan: &Plan, progress: &dyn Fn(&str)) -> Result<ScaleSummary, String> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut points = Vec::new();
    for (i, &n) in plan.sizes.iter().enumerate() {
        progress(&format!(
            "[{}/{}] {n} neurons: booting (up to {} s)",
            i + 1,
            plan.sizes.len(),
            plan.probe.boot_limit.as_secs()
        ));
        let point = plan
            .probe
            .measure(n, |s| {
                let boot = if s.is_nan() {
                    "not 99% healthy within the limit".to_string()
                } else {
                    format!("99% healthy at {s:.1} s")
                };
                progress(&format!(
                    "[{}/{}] {n} neurons: {boot}; measuring {} s",
                    i + 1,
                    plan.sizes.len(),
                    plan.probe.window.as_secs_f64()
                ))
            })
            .await?;
        points.push(point);
    }
    let fits = fits(&points);
    let summary = ScaleSummary {
        started_at,
        window_s: plan.probe.window.as_secs_f64(),
        cores_available: std::thread::available_parallelism().map_or(1, |n| n.get()),
        holdout: holdout(&points),
        predictions: predictions(&fits, plan.memory_budget_mb, plan.verdict_target_ms),
        fits,
        points,
    };
    report::write_all(&plan.out, &summary)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::measure::Point;
    use super::{fit::Shape, fits, holdout, predictions};

    /// A fleet whose costs are known: 30 MB + 4 KB per neuron, 0.02 + 2.5 µs·n cores, verdicts
    /// 5 ms + 2·10⁻⁴·n·ln n.
    fn point(n: u64) -> Point {
        let x = n as f64;
        Point {
            neurons: n,
            healthy_after_s: Some(1.0 + x / 10_000.0),
            conditions: vec![],
            process_cores: Some(0.05 + 4e-6 * x),
            engine_cores: Some(0.02 + 2.5e-6 * x),
            rss_mb: Some(30.0 + 0.004 * x),
            verdict_p50_ms: 25.0,
            verdict_p99_ms: 5.0 + 2e-4 * x * x.ln(),
            status_p50_ms: 2.0,
            status_p99_ms: 3.0,
            status_calls: 40,
            shutdown_s: Some(0.1),
        }
    }

    #[test]
    fn a_known_fleet_gives_its_costs_its_limits_and_an_exact_holdout() {
        let points: Vec<Point> = [1_000, 10_000, 30_000, 100_000].map(point).to_vec();
        let fits = fits(&points);
        let rss = fits
            .iter()
            .find(|f| f.measure == "rss_mb")
            .and_then(|f| f.fit);
        let rss = rss.expect("fitted");
        assert_eq!(rss.shape, Shape::Linear);
        assert!((rss.slope * 1024.0 - 4.096).abs() < 1e-6, "4 KB per neuron");
        let verdict = fits.iter().find(|f| f.measure == "verdict_p99_ms");
        assert_eq!(
            verdict.and_then(|f| f.fit).map(|f| f.shape),
            Some(Shape::NLogN)
        );
        let p = predictions(&fits, 4096.0, 1000.0);
        let size = |i: usize| p[i].size.expect("reached").round();
        assert_eq!(size(0), 392_000.0, "one core at (1 − 0.02) / 2.5 µs");
        assert_eq!(size(1), 1_016_500.0, "4 GB at (4096 − 30) / 0.004");
        let n = size(2);
        assert!((5.0 + 2e-4 * n * n.ln() - 1000.0).abs() < 1.0, "{n}");
        let h = holdout(&points).expect("four sizes");
        assert_eq!(
            (h.fitted_on, h.predicted_size),
            (vec![1_000, 10_000, 30_000], 100_000)
        );
        assert!(
            h.rows.iter().all(|r| r.error_pct.abs() < 1e-6),
            "{:?}",
            h.rows
        );
    }

    #[test]
    fn two_sizes_fit_but_give_no_holdout() {
        let points: Vec<Point> = [1_000, 10_000].map(point).to_vec();
        assert!(holdout(&points).is_none());
        assert!(fits(&points).iter().all(|f| f.fit.is_some()));
        let one: Vec<Point> = vec![point(1_000)];
        assert!(fits(&one).iter().all(|f| f.fit.is_none()));
        assert!(
            predictions(&fits(&one), 4096.0, 1000.0)
                .iter()
                .all(|p| p.size.is_none())
        );
    }
}
