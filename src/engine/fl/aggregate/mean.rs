//! FedAvg: the mean weighted by example counts (Flower's `aggregate`), accumulated in f64.

use super::{
    AggregateError, Aggregated, Aggregator, Update, distance_verdicts, example_shares, par,
};
use crate::api::fl::Rule;

pub struct Mean;

/// Columns per block: the f64 accumulator of a block stays in L1 while all rows stream past.
const BLOCK: usize = 2048;

/// Σ shareᵢ·xᵢ, columns split over threads; each thread streams every row through its block.
pub fn weighted_mean(updates: &[Update<'_>], shares: &[f64]) -> Vec<f32> {
    let dim = updates[0].weights.len();
    let mut out = vec![0f32; dim];
    par::for_ranges(&mut out, BLOCK, |range, out| {
        let mut acc = vec![0f64; BLOCK];
        let mut start = range.start;
        while start < range.end {
            let width = BLOCK.min(range.end - start);
            let acc = &mut acc[..width];
            acc.iter_mut().for_each(|a| *a = 0.0);
            for (u, &s) in updates.iter().zip(shares) {
                for (a, &v) in acc.iter_mut().zip(&u.weights[start..start + width]) {
                    *a += v as f64 * s;
                }
            }
            for (o, a) in out[start - range.start..].iter_mut().zip(acc.iter()) {
                *o = *a as f32;
            }
            start += width;
        }
    });
    out
}

impl Aggregator for Mean {
    fn rule(&self) -> Rule {
        Rule::Mean
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let shares = example_shares(updates);
        let result = weighted_mean(updates, &shares);
        Ok(distance_verdicts(updates, &result, shares, false))
    }
}
