//! The phi accrual failure detector (Hayashibara et al.; Akka's formulation).
//!
//! Phi is the confidence, on a -log10 scale, that a heartbeat this late will not come: phi = 8 means
//! a gap this long happens by chance once in 10^8 given the inter-arrival times seen so far.
//! Inter-arrival times are modelled as a normal distribution (Akka's logistic approximation of its
//! CDF), shifted by an acceptable pause and with a floor on the standard deviation.

/// The last `capacity` inter-arrival times of one neuron, with running sums so mean and variance
/// cost O(1). Integer sums keep removal exact (no drift over millions of samples).
#[derive(Debug, Clone)]
pub struct Intervals {
    samples: Vec<u32>,
    capacity: usize,
    next: usize,
    sum: u64,
    sum_sq: u64,
}

impl Intervals {
    pub fn new(capacity: usize) -> Self {
        // Whole from the start: growing it a neuron at a time cost a fleet of 100,000 a burst
        // of reallocations in its first minute, and the window is always filled.
        let capacity = capacity.max(2);
        Intervals {
            samples: Vec::with_capacity(capacity),
            capacity,
            next: 0,
            sum: 0,
            sum_sq: 0,
        }
    }

    /// Start over from an expected interval, as Akka does: two samples at ±¼ interval, so the
    /// first real heartbeats are judged against a sane distribution.
    pub fn bootstrap(&mut self, expected_ms: u64) {
        self.samples.clear();
        self.next = 0;
        self.sum = 0;
        self.sum_sq = 0;
        let quarter = expected_ms / 4;
        self.push(expected_ms - quarter);
        self.push(expected_ms + quarter);
    }

    pub fn push(&mut self, interval_ms: u64) {
        let value = interval_ms.min(u32::MAX as u64) as u32;
        if self.samples.len() < self.capacity {
            self.samples.push(value);
        } else {
            let old = self.samples[self.next] as u64;
            self.sum -= old;
            self.sum_sq -= old * old;
            self.samples[self.next] = value;
            self.next = (self.next + 1) % self.capacity;
        }
        self.sum += value as u64;
        self.sum_sq += value as u64 * value as u64;
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Load the slot the next sample goes to (see [`crate::engine::prefetch`]).
    pub fn prefetch(&self) {
        let slot = if self.samples.len() < self.capacity {
            self.samples.len().saturating_sub(1)
        } else {
            self.next
        };
        crate::engine::prefetch::prefetch_at(&self.samples, slot);
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn mean(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.sum as f64 / self.samples.len() as f64
    }

    pub fn std_dev(&self) -> f64 {
        let n = self.samples.len() as f64;
        if n < 2.0 {
            return 0.0;
        }
        let mean = self.mean();
        (self.sum_sq as f64 / n - mean * mean).max(0.0).sqrt()
    }
}

/// Phi settings resolved for one heartbeat interval.
#[derive(Debug, Clone, Copy)]
pub struct PhiModel {
    pub threshold: f64,
    pub min_std_ms: f64,
    pub acceptable_pause_ms: f64,
    /// The standardised gap y at which phi reaches `threshold` (solved once).
    threshold_y: f64,
}

impl PhiModel {
    pub fn new(threshold: f64, min_std_ms: f64, acceptable_pause_ms: f64) -> Self {
        PhiModel {
            threshold,
            min_std_ms,
            acceptable_pause_ms,
            threshold_y: solve_y(threshold),
        }
    }

    fn shape(&self, intervals: &Intervals) -> (f64, f64) {
        let mean = intervals.mean() + self.acceptable_pause_ms;
        let std = intervals.std_dev().max(self.min_std_ms);
        (mean, std)
    }

    /// Phi after `elapsed_ms` of silence.
    pub fn phi(&self, intervals: &Intervals, elapsed_ms: f64) -> f64 {
        let (mean, std) = self.shape(intervals);
        phi_of_y((elapsed_ms - mean) / std)
    }

    /// How long after a heartbeat phi crosses the threshold. Phi grows monotonically with
    /// silence, so the detector needs only this one deadline per neuron instead of evaluating phi
    /// for every neuron on every tick.
    pub fn silence_allowed_ms(&self, intervals: &Intervals) -> f64 {
        let (mean, std) = self.shape(intervals);
        mean + self.threshold_y * std
    }
}

/// Akka's logistic approximation of -log10(1 - CDF(y)) for a standard normal.
pub fn phi_of_y(y: f64) -> f64 {
    let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
    let p_later = if y > 0.0 {
        e / (1.0 + e)
    } else {
        1.0 - 1.0 / (1.0 + e)
    };
    if p_later <= 0.0 {
        return f64::INFINITY;
    }
    // Clamp the -0.0 that rounding gives for a heartbeat well on time.
    (-p_later.log10()).max(0.0)
}

/// The y at which phi_of_y(y) == phi, by bisection (phi_of_y is increasing).
fn solve_y(phi: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0_f64, 40.0_f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if phi_of_y(mid) < phi {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_stats_match_a_direct_computation_after_wraparound() {
        let mut iv = Intervals::new(4);
        for v in [100, 200, 300, 400, 500, 600] {
            iv.push(v);
        }
        // Window holds 300, 400, 500, 600.
        assert_eq!(iv.len(), 4);
        assert!((iv.mean() - 450.0).abs() < 1e-9);
        let var = [300.0f64, 400.0, 500.0, 600.0]
            .iter()
            .map(|v| (v - 450.0) * (v - 450.0))
            .sum::<f64>()
            / 4.0;
        assert!((iv.std_dev() - var.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn phi_rises_with_silence_and_the_deadline_is_where_it_crosses_the_threshold() {
        let model = PhiModel::new(8.0, 50.0, 500.0);
        let mut iv = Intervals::new(64);
        iv.bootstrap(500);
        for _ in 0..20 {
            iv.push(500);
        }
        let deadline = model.silence_allowed_ms(&iv);
        assert!(model.phi(&iv, deadline - 1.0) < 8.0);
        assert!(model.phi(&iv, deadline + 1.0) > 8.0);
        assert!(model.phi(&iv, 400.0) < model.phi(&iv, 900.0));
        assert!(model.phi(&iv, 0.0) < 0.01);
    }

    #[test]
    fn threshold_eight_is_about_five_standard_deviations() {
        let y = solve_y(8.0);
        assert!((5.0..5.5).contains(&y), "y = {y}");
        assert!((phi_of_y(y) - 8.0).abs() < 1e-6);
    }
}
