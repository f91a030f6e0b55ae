//! Geometric median by smoothed Weiszfeld (Pillutla et al., "Robust Aggregation for Federated
//! Learning"): minimise Σ αᵢ·max(ν, ‖xᵢ − z‖) with αᵢ the example shares. Each step is a weighted
//! mean with weights αᵢ / max(ν, ‖xᵢ − z‖), so far updates are down-weighted, never dropped.

use super::{
    AggregateError, Aggregated, Aggregator, Update, distance, example_shares, par, weighted_mean,
};
use crate::api::fl::{Rule, Verdict};

pub struct GeoMed {
    /// Smoothing ν: distances below it count as ν (keeps the step finite at a data point).
    pub nu: f64,
    pub max_iter: usize,
    /// Stop when the objective improves by less than this fraction.
    pub tol: f64,
}

impl Default for GeoMed {
    fn default() -> Self {
        GeoMed {
            nu: 1e-6,
            max_iter: 100,
            tol: 1e-7,
        }
    }
}

fn distances(updates: &[Update<'_>], z: &[f32]) -> Vec<f64> {
    let mut d = vec![0f64; updates.len()];
    par::for_ranges(&mut d, 1, |range, out| {
        for (o, u) in out.iter_mut().zip(&updates[range]) {
            *o = distance::sq_dist(u.weights, z).sqrt();
        }
    });
    d
}

impl Aggregator for GeoMed {
    fn rule(&self) -> Rule {
        Rule::GeoMed
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let alpha = example_shares(updates);
        let mut z = weighted_mean(updates, &alpha);
        let mut d = distances(updates, &z);
        let objective = |d: &[f64]| {
            d.iter()
                .zip(&alpha)
                .map(|(d, a)| a * d.max(self.nu))
                .sum::<f64>()
        };
        let mut obj = objective(&d);
        let mut beta = alpha.clone();
        for _ in 0..self.max_iter {
            let raw: Vec<f64> = alpha
                .iter()
                .zip(&d)
                .map(|(a, d)| a / d.max(self.nu))
                .collect();
            let total: f64 = raw.iter().sum();
            beta = raw.iter().map(|b| b / total).collect();
            z = weighted_mean(updates, &beta);
            d = distances(updates, &z);
            let next = objective(&d);
            let done = obj - next <= self.tol * obj.max(f64::MIN_POSITIVE);
            obj = next;
            if done {
                break;
            }
        }
        let verdicts = beta
            .iter()
            .zip(&alpha)
            .map(|(b, a)| {
                if *b < 0.5 * a {
                    Verdict::DownWeighted
                } else {
                    Verdict::Selected
                }
            })
            .collect();
        Ok(Aggregated {
            weights: z,
            verdicts,
            scores: d.into_iter().map(Some).collect(),
            shares: beta,
        })
    }
}
