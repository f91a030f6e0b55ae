//! FedAvg: the mean weighted by example counts (Flower's `aggregate`), accumulated in f64.

use super::{
    AggregateError, Aggregated, Aggregator, Update, distance_verdicts, example_shares, par,
};
use crate::api::fl::Rule;

pub struct Mean;

/// Columns per block: the f64 accumulator of a block (16 KiB) stays in L1 while all rows stream
/// past it, each as one contiguous 8 KiB run.
const BLOCK: usize = 2048;
/// Rows folded per accumulator pass: the accumulator is loaded and stored once per 4 rows.
const ROWS: usize = 4;

/// `acc[k] += Σ_r row_r[k] · s_r`, rows added one after another (((acc + x₀s₀) + x₁s₁) + …), so
/// the rounding is that of the one-row-at-a-time loop: grouping rows changes no bit.
#[inline(always)]
fn fold_rows(acc: &mut [f64], rows: [&[f32]; ROWS], s: [f64; ROWS]) {
    let n = acc.len();
    let [r0, r1, r2, r3] = rows.map(|r| &r[..n]);
    for k in 0..n {
        let mut a = acc[k];
        a += r0[k] as f64 * s[0];
        a += r1[k] as f64 * s[1];
        a += r2[k] as f64 * s[2];
        a += r3[k] as f64 * s[3];
        acc[k] = a;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fold_rows_avx512(acc: &mut [f64], rows: [&[f32]; ROWS], s: [f64; ROWS]) {
    fold_rows(acc, rows, s)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_rows_avx2(acc: &mut [f64], rows: [&[f32]; ROWS], s: [f64; ROWS]) {
    fold_rows(acc, rows, s)
}

type FoldFn = fn(&mut [f64], [&[f32]; ROWS], [f64; ROWS]);

fn fold_fn() -> FoldFn {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports the feature the wrapper was compiled for.
            return |a, r, s| unsafe { fold_rows_avx512(a, r, s) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return |a, r, s| unsafe { fold_rows_avx2(a, r, s) };
        }
    }
    fold_rows
}

/// Σ shareᵢ·xᵢ in f64 (as Flower), columns split over threads; each thread streams every row
/// through its block, 4 rows per accumulator pass, vectorised for the CPU at hand.
pub fn weighted_mean(updates: &[Update<'_>], shares: &[f64]) -> Vec<f32> {
    let dim = updates[0].weights.len();
    let fold = fold_fn();
    let zeros = vec![0f32; BLOCK];
    let mut out = vec![0f32; dim];
    par::for_ranges(&mut out, BLOCK, |range, out| {
        let mut acc = vec![0f64; BLOCK];
        let mut start = range.start;
        while start < range.end {
            let width = BLOCK.min(range.end - start);
            let acc = &mut acc[..width];
            acc.iter_mut().for_each(|a| *a = 0.0);
            for (us, ss) in updates.chunks(ROWS).zip(shares.chunks(ROWS)) {
                // A short last group is padded with zero rows of share 0 (adding +0.0 to a sum
                // that started at +0.0 changes no bit).
                let rows: [&[f32]; ROWS] = std::array::from_fn(|r| {
                    us.get(r)
                        .map_or(&zeros[..width], |u| &u.weights[start..start + width])
                });
                let s: [f64; ROWS] = std::array::from_fn(|r| ss.get(r).copied().unwrap_or(0.0));
                fold(acc, rows, s);
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
