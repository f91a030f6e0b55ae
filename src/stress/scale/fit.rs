//! Cost models fitted to measures taken at a few fleet sizes, and the size at which a fitted
//! measure reaches a limit. Two shapes: linear (`a + b·n`, work per neuron) and n log n
//! (`a + b·n·ln n`, work per neuron that grows with the fleet, as a sorted index or a heap does).
//! Each is fitted by least squares on *relative* error, so 1k counts as much as 100k, and the
//! one with the smaller error is kept; the error is always stated with it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Linear,
    NLogN,
}

impl Shape {
    fn basis(self, n: f64) -> f64 {
        match self {
            Shape::Linear => n,
            Shape::NLogN => n * n.max(1.0).ln(),
        }
    }

    pub fn formula(self) -> &'static str {
        match self {
            Shape::Linear => "a + b·n",
            Shape::NLogN => "a + b·n·ln n",
        }
    }
}

/// `value(n) = intercept + slope · basis(n)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub shape: Shape,
    pub intercept: f64,
    pub slope: f64,
    /// Root mean square of the relative errors at the fitted points, in percent.
    pub error_pct: f64,
}

impl Fit {
    pub fn value(&self, n: f64) -> f64 {
        self.intercept + self.slope * self.shape.basis(n)
    }

    /// The smallest fleet size (≥ 1) at which the model reaches `limit`; `None` when it never
    /// does (a flat or falling cost, or a limit beyond 10¹² neurons).
    pub fn size_at(&self, limit: f64) -> Option<f64> {
        const MAX_N: f64 = 1e12;
        if !limit.is_finite() || self.slope <= 0.0 {
            return (self.value(1.0) >= limit).then_some(1.0);
        }
        if self.value(1.0) >= limit {
            return Some(1.0);
        }
        if self.value(MAX_N) < limit {
            return None;
        }
        match self.shape {
            Shape::Linear => Some((limit - self.intercept) / self.slope),
            // Increasing for n ≥ 1: bisection to a relative width of 10⁻⁹.
            Shape::NLogN => {
                let (mut lo, mut hi) = (1.0f64, MAX_N);
                while hi - lo > lo * 1e-9 {
                    let mid = (lo + hi) / 2.0;
                    if self.value(mid) < limit {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                Some(hi)
            }
        }
    }
}

/// Weighted least squares of `y = a + b·x` with weights `w`.
fn least_squares(x: &[f64], y: &[f64], w: &[f64]) -> Option<(f64, f64)> {
    let sw: f64 = w.iter().sum();
    let mx = x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw;
    let my = y.iter().zip(w).map(|(y, w)| y * w).sum::<f64>() / sw;
    let sxx: f64 = x.iter().zip(w).map(|(x, w)| w * (x - mx).powi(2)).sum();
    let sxy: f64 = x
        .iter()
        .zip(y)
        .zip(w)
        .map(|((x, y), w)| w * (x - mx) * (y - my))
        .sum();
    if sxx <= 0.0 || !sxx.is_finite() {
        return None;
    }
    let slope = sxy / sxx;
    Some((my - slope * mx, slope))
}

/// Fit one shape to `(size, value)` points: needs two distinct sizes.
pub fn fit_shape(points: &[(f64, f64)], shape: Shape) -> Option<Fit> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(n, v)| n.is_finite() && *n >= 1.0 && v.is_finite())
        .collect();
    if !points.iter().any(|p| p.0 != points[0].0) {
        return None;
    }
    // Relative error: each point weighs 1/value², floored at 1% of the largest value so a
    // near-zero reading (an idle engine's CPU) does not swamp the rest.
    let floor = points.iter().map(|p| p.1.abs()).fold(0.0, f64::max) * 0.01;
    let scale: Vec<f64> = points.iter().map(|p| p.1.abs().max(floor)).collect();
    if scale.iter().any(|s| *s <= 0.0) {
        return None;
    }
    let x: Vec<f64> = points.iter().map(|p| shape.basis(p.0)).collect();
    let y: Vec<f64> = points.iter().map(|p| p.1).collect();
    let w: Vec<f64> = scale.iter().map(|s| 1.0 / (s * s)).collect();
    let (intercept, slope) = least_squares(&x, &y, &w)?;
    let mut fit = Fit {
        shape,
        intercept,
        slope,
        error_pct: 0.0,
    };
    let squares: f64 = points
        .iter()
        .zip(&scale)
        .map(|((n, v), s)| ((fit.value(*n) - v) / s).powi(2))
        .sum();
    fit.error_pct = (squares / points.len() as f64).sqrt() * 100.0;
    Some(fit)
}

/// The better of the two shapes (linear on a tie within 0.1 point: the simpler story).
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let linear = fit_shape(points, Shape::Linear);
    let nlogn = fit_shape(points, Shape::NLogN);
    match (linear, nlogn) {
        (Some(l), Some(g)) if g.error_pct + 0.1 < l.error_pct => Some(g),
        (Some(l), _) => Some(l),
        (None, g) => g,
    }
}

#[cfg(test)]
mod tests {
    use super::{Shape, fit, fit_shape};

    fn curve(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        [1e3, 1e4, 3e4, 1e5].iter().map(|n| (*n, f(*n))).collect()
    }

    #[test]
    fn a_linear_cost_is_recovered_exactly_and_chosen() {
        // 20 MB of base and 4 KB per neuron.
        let f = fit(&curve(|n| 20.0 + 0.004 * n)).expect("fits");
        assert_eq!(f.shape, Shape::Linear);
        assert!((f.intercept - 20.0).abs() < 1e-6 && (f.slope - 0.004).abs() < 1e-12);
        assert!(f.error_pct < 1e-6);
        // 4 GB is reached at (4096 − 20) / 0.004 neurons.
        let n = f.size_at(4096.0).expect("reached");
        assert!((n - 1_019_000.0).abs() < 1.0, "{n}");
    }

    #[test]
    fn an_n_log_n_cost_is_told_from_a_linear_one() {
        let truth = |n: f64| 0.01 + 2e-7 * n * n.ln();
        let f = fit(&curve(truth)).expect("fits");
        assert_eq!(f.shape, Shape::NLogN);
        assert!(f.error_pct < 1e-6);
        let linear = fit_shape(&curve(truth), Shape::Linear).expect("fits");
        assert!(linear.error_pct > 1.0, "a line misses an n log n curve");
        // One core: solve 0.01 + 2e-7·n·ln n = 1 and check by substitution.
        let n = f.size_at(1.0).expect("reached");
        assert!((truth(n) - 1.0).abs() < 1e-6, "{n}");
    }

    #[test]
    fn a_prediction_beyond_the_fitted_sizes_is_as_good_as_the_model() {
        // Fit on 1k–30k, predict 100k: exact for a clean line, off by the noise for a noisy one.
        let clean = |n: f64| 5.0 + 0.0035 * n;
        let fitted = curve(clean)[..3].to_vec();
        let f = fit(&fitted).expect("fits");
        assert!((f.value(1e5) - clean(1e5)).abs() < 1e-6);
        let noisy: Vec<(f64, f64)> = fitted
            .iter()
            .zip([1.05, 0.97, 1.02])
            .map(|((n, v), k)| (*n, v * k))
            .collect();
        let f = fit(&noisy).expect("fits");
        // Predicting 3.3× past the last size fitted amplifies the noise about threefold.
        let miss = (f.value(1e5) - clean(1e5)).abs() / clean(1e5);
        assert!(miss > 0.0 && miss < 0.2, "5% noise missed 100k by {miss}");
        assert!(
            f.error_pct > 0.1,
            "the noise shows in the stated error: {f:?}"
        );
    }

    #[test]
    fn limits_never_reached_and_already_passed_say_so() {
        let flat = fit(&curve(|_| 3.0)).expect("fits");
        assert_eq!(flat.size_at(4.0), None);
        assert_eq!(flat.size_at(2.0), Some(1.0));
        let rising = fit(&curve(|n| 1.0 + n)).expect("fits");
        assert_eq!(rising.size_at(0.5), Some(1.0));
        assert_eq!(rising.size_at(f64::NAN), None);
        assert!(fit(&[(1e3, 1.0)]).is_none(), "one size fits nothing");
        assert!(
            fit(&[(1e3, 1.0), (1e3, 2.0)]).is_none(),
            "nor does one size twice"
        );
    }
}
