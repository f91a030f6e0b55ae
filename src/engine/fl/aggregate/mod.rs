//! Aggregation rules behind one trait. Every rule returns the aggregate *and* what it did with
//! each update (selected / down-weighted / excluded, with a score), so an operator can see why.
//!
//! Semantics follow Flower's reference functions (`flwr.server.strategy.aggregate`) unless noted:
//! mean weighted by examples; coordinate-wise median as `np.median` (mean of the two middles for
//! even n); trimmed mean cuts ⌊β·n⌋ from each end per coordinate; Krum scores over the
//! max(1, n−f−2) nearest neighbours; lowest index wins ties; Bulyan needs n ≥ 4f+3.

mod bulyan;
mod columns;
pub mod distance;
mod geomed;
mod krum;
mod mean;
mod median;
mod par;
mod trimmed;

use crate::api::fl::{AggregationReport, ClientVerdict, Rule, Verdict};

pub use bulyan::Bulyan;
pub use geomed::GeoMed;
pub use krum::{Krum, krum_scores};
pub use mean::{Mean, weighted_mean};
pub use median::Median;
pub use trimmed::TrimmedMean;

/// One update as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    pub weights: &'a [f32],
    pub examples: f64,
}

/// The aggregate and, per input update (same order), what the rule did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregated {
    pub weights: Vec<f32>,
    pub verdicts: Vec<Verdict>,
    pub scores: Vec<Option<f64>>,
    pub shares: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct AggregateError(pub String);

pub trait Aggregator: Send + Sync {
    fn rule(&self) -> Rule;
    /// `updates` are already validated: non-empty, same length, finite.
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError>;
}

/// Rule parameters: `f` assumed Byzantine updates, `beta` trimmed fraction, `keep` for Multi-Krum
/// (default n − f).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub f: usize,
    pub beta: f64,
    pub keep: Option<usize>,
}

impl Params {
    /// `f` placeholder: the coordinator replaces it with the expected attackers among the updates.
    pub const AUTO_F: usize = usize::MAX;
}

impl Default for Params {
    fn default() -> Self {
        Params {
            f: 0,
            beta: 0.1,
            keep: None,
        }
    }
}

pub fn build(rule: Rule, p: Params) -> Box<dyn Aggregator> {
    match rule {
        Rule::Mean => Box::new(Mean),
        Rule::Median => Box::new(Median),
        Rule::TrimmedMean => Box::new(TrimmedMean { beta: p.beta }),
        Rule::GeoMed => Box::new(GeoMed::default()),
        Rule::Krum => Box::new(Krum { f: p.f, keep: None }),
        Rule::MultiKrum => Box::new(Krum {
            f: p.f,
            keep: Some(p.keep.unwrap_or(0)),
        }),
        Rule::Bulyan => Box::new(Bulyan { f: p.f }),
    }
}

/// Validate, then aggregate: updates with NaN/Inf or the wrong length are rejected up front (a
/// Byzantine event each) and never reach the rule.
pub fn aggregate_checked(
    agg: &dyn Aggregator,
    updates: &[Update<'_>],
) -> Result<Aggregated, AggregateError> {
    let dim =
        expected_dim(updates).ok_or_else(|| AggregateError("no updates to aggregate".into()))?;
    let mut ok = vec![false; updates.len()];
    par::for_ranges(&mut ok, 1, |range, out| {
        for (o, u) in out.iter_mut().zip(&updates[range]) {
            *o = u.weights.len() == dim
                && all_finite(u.weights)
                && u.examples.is_finite()
                && u.examples >= 0.0;
        }
    });
    let kept: Vec<Update<'_>> = updates
        .iter()
        .zip(&ok)
        .filter(|(_, ok)| **ok)
        .map(|(u, _)| *u)
        .collect();
    if kept.is_empty() {
        return Err(AggregateError(
            "every update was rejected (NaN/Inf or wrong length)".into(),
        ));
    }
    let inner = agg.aggregate(&kept)?;
    let n = updates.len();
    let mut out = Aggregated {
        weights: inner.weights,
        verdicts: vec![Verdict::Rejected; n],
        scores: vec![None; n],
        shares: vec![0.0; n],
    };
    for (k, i) in (0..n).filter(|&i| ok[i]).enumerate() {
        out.verdicts[i] = inner.verdicts[k];
        out.scores[i] = inner.scores[k];
        out.shares[i] = inner.shares[k];
    }
    Ok(out)
}

/// No NaN or ±Inf (exponent bits all set). Branch-free within 256-value chunks so the check
/// vectorises and streams at memory speed; updates are split over the threads by the caller.
fn all_finite(v: &[f32]) -> bool {
    const EXP: u32 = 0x7f80_0000;
    let mut chunks = v.chunks_exact(256);
    for c in &mut chunks {
        if c.iter()
            .fold(false, |bad, x| bad | (x.to_bits() & EXP == EXP))
        {
            return false;
        }
    }
    chunks.remainder().iter().all(|x| x.is_finite())
}

/// The most common length among the updates (a single wrong-length update must not win).
fn expected_dim(updates: &[Update<'_>]) -> Option<usize> {
    let mut lens: Vec<usize> = updates.iter().map(|u| u.weights.len()).collect();
    lens.sort_unstable();
    lens.chunk_by(|a, b| a == b)
        .max_by_key(|run| run.len())
        .map(|run| run[0])
}

/// A score is "far" when it exceeds this many times the median score: such an update is flagged
/// as down-weighted by the coordinate-wise rules (it still took part, but lost most coordinates).
const FAR_FACTOR: f64 = 3.0;

/// For rules without their own score: L2 distance to the aggregate, and a flag on far updates.
/// FedAvg passes `flag_far = false`: it trusts every update, and its report must say so.
pub(crate) fn distance_verdicts(
    updates: &[Update<'_>],
    result: &[f32],
    shares: Vec<f64>,
    flag_far: bool,
) -> Aggregated {
    let mut scores = vec![0f64; updates.len()];
    par::for_ranges(&mut scores, 1, |range, out| {
        for (o, u) in out.iter_mut().zip(&updates[range]) {
            *o = distance::sq_dist(u.weights, result).sqrt();
        }
    });
    let mut sorted = scores.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let verdicts = scores
        .iter()
        .map(|&s| {
            if flag_far && median > 0.0 && s > FAR_FACTOR * median {
                Verdict::DownWeighted
            } else {
                Verdict::Selected
            }
        })
        .collect();
    Aggregated {
        weights: result.to_vec(),
        verdicts,
        scores: scores.into_iter().map(Some).collect(),
        shares,
    }
}

/// Shares proportional to examples (all-zero examples count equally).
pub fn example_shares(updates: &[Update<'_>]) -> Vec<f64> {
    let total: f64 = updates.iter().map(|u| u.examples).sum();
    updates
        .iter()
        .map(|u| {
            if total > 0.0 {
                u.examples / total
            } else {
                1.0 / updates.len() as f64
            }
        })
        .collect()
}

/// Name the neurons in each verdict group.
pub fn report(rule: Rule, neurons: &[String], agg: &Aggregated) -> AggregationReport {
    let pick = |v: Verdict| -> Vec<String> {
        neurons
            .iter()
            .zip(&agg.verdicts)
            .filter(|(_, x)| **x == v)
            .map(|(n, _)| n.clone())
            .collect()
    };
    AggregationReport {
        rule,
        updates: neurons.len(),
        dim: agg.weights.len(),
        selected: pick(Verdict::Selected),
        excluded: pick(Verdict::Excluded),
        down_weighted: pick(Verdict::DownWeighted),
        rejected: pick(Verdict::Rejected),
        clients: neurons
            .iter()
            .enumerate()
            .map(|(i, n)| ClientVerdict {
                neuron: n.clone(),
                verdict: agg.verdicts[i],
                score: agg.scores[i],
                share: agg.shares[i],
            })
            .collect(),
    }
}
