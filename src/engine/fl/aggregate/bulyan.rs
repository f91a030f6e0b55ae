//! Bulyan (El Mhamdi et al. 2018) as in Flower: with n ≥ 4f+3, pick θ = n−2f updates by repeated
//! Krum on the remaining set (the distance matrix is computed once and reused), then per
//! coordinate average the β = θ−2f selected values closest to the selected set's median.

use super::krum::{krum_scores, ranked};
use super::{AggregateError, Aggregated, Aggregator, Update, columns, distance};
use crate::api::fl::{Rule, Verdict};

pub struct Bulyan {
    pub f: usize,
}

/// Mean of the `beta` values of `col` closest to its median.
fn closest_to_median(col: &mut [f32], beta: usize) -> f32 {
    let med = columns::median_of(col);
    col.select_nth_unstable_by(beta - 1, |a, b| (a - med).abs().total_cmp(&(b - med).abs()));
    (col[..beta].iter().map(|&v| v as f64).sum::<f64>() / beta as f64) as f32
}

impl Aggregator for Bulyan {
    fn rule(&self) -> Rule {
        Rule::Bulyan
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let (n, f) = (updates.len(), self.f);
        if n < 4 * f + 3 {
            return Err(AggregateError(format!(
                "bulyan needs n ≥ 4f+3 updates: f = {f} needs {}, got {n}",
                4 * f + 3
            )));
        }
        let dist = distance::pairwise(updates);
        let mut alive: Vec<usize> = (0..n).collect();
        let first_scores = krum_scores(&dist, n, &alive, f);
        let theta = n - 2 * f;
        let mut selected = Vec::with_capacity(theta);
        for _ in 0..theta {
            let scores = krum_scores(&dist, n, &alive, f);
            let best = ranked(&scores)[0];
            selected.push(alive.remove(best));
        }
        let beta = theta - 2 * f;
        let picked: Vec<Update<'_>> = selected.iter().map(|&i| updates[i]).collect();
        let weights = columns::map_columns(&picked, |col| closest_to_median(col, beta));
        let mut verdicts = vec![Verdict::Excluded; n];
        let mut shares = vec![0.0; n];
        for &i in &selected {
            verdicts[i] = Verdict::Selected;
            shares[i] = 1.0 / theta as f64;
        }
        Ok(Aggregated {
            weights,
            verdicts,
            scores: first_scores.into_iter().map(Some).collect(),
            shares,
        })
    }
}
