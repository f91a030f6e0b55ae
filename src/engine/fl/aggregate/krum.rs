//! Krum and Multi-Krum (Blanchard et al. 2017) with Flower's semantics: each update's score is
//! the sum of squared distances to its max(1, n−f−2) nearest other updates; Krum returns the
//! update with the lowest score (lowest index on ties); Multi-Krum averages, weighted by examples,
//! the `keep` lowest-scoring updates (keep = 0 means n − f).

use super::{
    AggregateError, Aggregated, Aggregator, Update, distance, example_shares, weighted_mean,
};
use crate::api::fl::{Rule, Verdict};

pub struct Krum {
    pub f: usize,
    /// `None`: Krum; `Some(m)`: Multi-Krum keeping m (0 = n − f).
    pub keep: Option<usize>,
}

/// Krum scores of the updates `alive` (indices into the n × n matrix `dist`).
pub fn krum_scores(dist: &[f64], n: usize, alive: &[usize], f: usize) -> Vec<f64> {
    let closest = alive.len().saturating_sub(f + 2).max(1);
    alive
        .iter()
        .map(|&i| {
            // Self is skipped explicitly (Flower drops position 0 of the argsort, which is self
            // unless another update is at distance 0 — then the result is the same).
            let mut row: Vec<f64> = alive
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| dist[i * n + j])
                .collect();
            let k = closest.min(row.len());
            if k == 0 {
                return 0.0;
            }
            row.select_nth_unstable_by(k - 1, f64::total_cmp);
            row[..k].iter().sum()
        })
        .collect()
}

/// Positions into `scores` from best to worst; ties keep the lower index first.
pub fn ranked(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(a.cmp(&b)));
    order
}

impl Aggregator for Krum {
    fn rule(&self) -> Rule {
        if self.keep.is_some() {
            Rule::MultiKrum
        } else {
            Rule::Krum
        }
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let n = updates.len();
        let dist = distance::pairwise(updates);
        let all: Vec<usize> = (0..n).collect();
        let scores = krum_scores(&dist, n, &all, self.f);
        let order = ranked(&scores);
        let keep = match self.keep {
            None => 1,
            Some(0) => n.saturating_sub(self.f).max(1),
            Some(m) => m.clamp(1, n),
        };
        let chosen = &order[..keep];
        let mut verdicts = vec![Verdict::Excluded; n];
        chosen.iter().for_each(|&i| verdicts[i] = Verdict::Selected);
        let picked: Vec<Update<'_>> = chosen.iter().map(|&i| updates[i]).collect();
        let picked_shares = example_shares(&picked);
        let mut shares = vec![0.0; n];
        chosen
            .iter()
            .zip(&picked_shares)
            .for_each(|(&i, &s)| shares[i] = s);
        let weights = if keep == 1 {
            updates[chosen[0]].weights.to_vec()
        } else {
            weighted_mean(&picked, &picked_shares)
        };
        Ok(Aggregated {
            weights,
            verdicts,
            scores: scores.into_iter().map(Some).collect(),
            shares,
        })
    }
}
