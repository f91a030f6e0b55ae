//! Coordinate-wise trimmed mean (Flower's FedTrimmedAvg / scipy `trim_mean`): per coordinate,
//! drop the ⌊β·n⌋ smallest and the ⌊β·n⌋ largest values and average the rest, unweighted.

use super::columns::Kept;
use super::{AggregateError, Aggregated, Aggregator, Update, columns, distance_verdicts};
use crate::api::fl::Rule;

pub struct TrimmedMean {
    pub beta: f64,
}

/// Mean of the values left after trimming `cut` from each end (`2·cut < n`), with the range of
/// the values kept.
pub fn trimmed_mean_of(col: &mut [f32], cut: usize) -> Kept {
    let n = col.len();
    let middle = if cut == 0 {
        &mut col[..]
    } else {
        col.select_nth_unstable_by(cut, f32::total_cmp);
        let rest = &mut col[cut..];
        rest.select_nth_unstable_by(n - 2 * cut - 1, f32::total_cmp);
        &mut rest[..n - 2 * cut]
    };
    let (low, high) = middle
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    Kept {
        value: (middle.iter().map(|&v| v as f64).sum::<f64>() / middle.len() as f64) as f32,
        low,
        high,
    }
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
        let kept = columns::map_columns(updates, |col| trimmed_mean_of(col, cut));
        let shares = columns::kept_shares(updates, &kept);
        let result: Vec<f32> = kept.iter().map(|k| k.value).collect();
        Ok(distance_verdicts(updates, &result, shares, true))
    }
}
