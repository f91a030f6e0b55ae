//! Coordinate-wise trimmed mean (Flower's FedTrimmedAvg / scipy `trim_mean`): per coordinate,
//! drop the ⌊β·n⌋ smallest and the ⌊β·n⌋ largest values and average the rest, unweighted.

use super::{AggregateError, Aggregated, Aggregator, Update, columns, distance_verdicts};
use crate::api::fl::Rule;

pub struct TrimmedMean {
    pub beta: f64,
}

/// Mean of the values left after trimming `cut` from each end (`2·cut < n`).
pub fn trimmed_mean_of(col: &mut [f32], cut: usize) -> f32 {
    let n = col.len();
    let middle = if cut == 0 {
        &mut col[..]
    } else {
        col.select_nth_unstable_by(cut, f32::total_cmp);
        let rest = &mut col[cut..];
        rest.select_nth_unstable_by(n - 2 * cut - 1, f32::total_cmp);
        &mut rest[..n - 2 * cut]
    };
    (middle.iter().map(|&v| v as f64).sum::<f64>() / middle.len() as f64) as f32
}

impl Aggregator for TrimmedMean {
    fn rule(&self) -> Rule {
        Rule::TrimmedMean
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let n = updates.len();
        if !(0.0..0.5).contains(&self.beta) {
            return Err(AggregateError(format!(
                "trimmed-mean needs 0 ≤ beta < 0.5, got {}",
                self.beta
            )));
        }
        let cut = (self.beta * n as f64).floor() as usize;
        if 2 * cut >= n {
            return Err(AggregateError(format!(
                "trimmed-mean: beta {} trims every one of {n} updates",
                self.beta
            )));
        }
        let result = columns::map_columns(updates, |col| trimmed_mean_of(col, cut));
        Ok(distance_verdicts(
            updates,
            &result,
            vec![1.0 / n as f64; n],
            true,
        ))
    }
}
