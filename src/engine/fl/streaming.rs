//! Streaming mode: no rounds. Updates arrive one at a time — a client's SGD step on one
//! mini-batch of its own data — and are applied to the model at once. The per-update defence is
//! a norm filter (the set-based rules need a set): an update whose norm exceeds NORM_FACTOR × the
//! median norm of the last WINDOW finite updates received (accepted or not, the current one
//! included) is dropped as Byzantine. The median cannot be dragged up while fewer than half of the
//! recent updates attack, unlike a running mean of accepted norms, which attackers inflated during
//! its warm-up until 30% sign-flip passed. A report is made every CHECKPOINT updates so the output
//! keeps the per-round shape; `round` counts checkpoints.

use rand::Rng;
use std::time::Instant;

use super::attack;
use super::coordinator::{Federation, Tracker, detection};
use super::liveness::ClientLiveness;
use crate::api::fl::{FlRound, RunSummary, Verdict};

/// Updates between two reports.
pub const CHECKPOINT: usize = 2000;
/// Accepted when ‖Δ‖ ≤ NORM_FACTOR × the median of the recent norms.
const NORM_FACTOR: f32 = 3.0;
/// Recent finite norms the median is taken over (follows the shrinking gradients as the model
/// converges).
const WINDOW: usize = 64;
/// Examples per streamed update.
const BATCH: usize = 8;

pub fn run(
    fed: &mut Federation,
    liveness: &mut dyn ClientLiveness,
    on_round: &mut dyn FnMut(&FlRound),
) -> RunSummary {
    let mut global = fed.model.init();
    let mut tracker = Tracker::new(fed, &global);
    let n = fed.ids.len();
    let dim = global.len();
    let mut grad = vec![0f32; dim];
    let zero = vec![0f32; dim];
    let mut batch_idx = Vec::with_capacity(BATCH);
    let mut recent = std::collections::VecDeque::with_capacity(WINDOW);
    let mut scratch: Vec<f32> = Vec::with_capacity(WINDOW);
    let mut busy = std::time::Duration::ZERO;
    let mut total = 0usize;
    for round in 1..=fed.cfg.rounds {
        if liveness.stopped() {
            break;
        }
        let lr = fed.cfg.lr as f32;
        let alive = liveness.alive(round, &fed.ids);
        let alive_idx: Vec<usize> = (0..n).filter(|&i| alive[i]).collect();
        let previous = global.clone();
        let mut verdicts = Vec::with_capacity(CHECKPOINT);
        let mut byz = Vec::with_capacity(CHECKPOINT);
        let mut who = Vec::with_capacity(CHECKPOINT);
        let started = Instant::now();
        for _ in 0..CHECKPOINT {
            let Some(&i) = alive_idx.get(fed.rng.random_range(0..alive_idx.len().max(1))) else {
                break;
            };
            let part = &fed.parts[i];
            batch_idx.clear();
            batch_idx.extend((0..BATCH).map(|_| fed.rng.random_range(0..part.len())));
            grad.iter_mut().for_each(|g| *g = 0.0);
            fed.model.gradient(&global, part, &batch_idx, &mut grad);
            grad.iter_mut().for_each(|g| *g *= -lr);
            if fed.byz[i] {
                attack::corrupt(
                    fed.cfg.attack,
                    &zero,
                    std::slice::from_mut(&mut grad),
                    &[true],
                    &mut fed.rng,
                );
            }
            let finite = grad.iter().all(|v| v.is_finite());
            let norm = grad.iter().map(|v| v * v).sum::<f32>().sqrt();
            let ok = finite && {
                if recent.len() == WINDOW {
                    recent.pop_front();
                }
                recent.push_back(norm);
                scratch.clear();
                scratch.extend(recent.iter().copied());
                let mid = scratch.len() / 2;
                let median = *scratch.select_nth_unstable_by(mid, f32::total_cmp).1;
                norm <= NORM_FACTOR * median
            };
            if ok {
                global.iter_mut().zip(&grad).for_each(|(g, d)| *g += d);
            }
            verdicts.push(if !finite {
                Verdict::Rejected
            } else if ok {
                Verdict::Selected
            } else {
                Verdict::Excluded
            });
            byz.push(fed.byz[i]);
            who.push(i);
            total += 1;
        }
        busy += started.elapsed();
        let e = fed.model.evaluate(&global, &fed.test);
        let mut excluded: Vec<String> = who
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| **v != Verdict::Selected)
            .map(|(&i, _)| fed.ids[i].clone())
            .collect();
        excluded.sort();
        excluded.dedup();
        let report = FlRound {
            round,
            loss: e.loss,
            accuracy: e.accuracy,
            learning_rate: lr as f64,
            participants: alive_idx.len() as u32,
            agents: 0,
            dropped: (n - alive_idx.len()) as u32,
            excluded,
            down_weighted: Vec::new(),
            byzantine_events: verdicts.iter().filter(|v| **v == Verdict::Rejected).count() as u32,
            update_norm: super::aggregate::distance::sq_dist(&global, &previous).sqrt(),
            detection: detection(&verdicts, &byz),
            excluded_scores: Vec::new(),
            model: Vec::new(),
            convergence: String::new(),
        };
        let bytes = (verdicts.len() * dim * 4) as u64;
        tracker.bytes.total += bytes;
        tracker.bytes.wan += bytes;
        tracker.bytes.flat_wan += bytes;
        on_round(&report);
        tracker.push(report);
    }
    let rate = total as f64 / busy.as_secs_f64().max(1e-9);
    tracker.summary(fed, &global, Some(rate))
}
