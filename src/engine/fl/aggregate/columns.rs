//! Coordinate-wise rules work per column (one coordinate across all updates). Rows arrive as
//! separate vectors, so blocks of columns are first gathered into a column-major buffer: each
//! column is then a contiguous slice that `select_nth_unstable_by` can partition in place.

use super::Update;
use super::par;

/// Columns gathered per block: BLOCK × n floats stay in L2 for n in the thousands.
const BLOCK: usize = 64;

/// `out[j] = reduce(column j)`; `reduce` may reorder the column it is given.
pub fn map_columns<T: Copy + Default + Send>(
    updates: &[Update<'_>],
    reduce: impl Fn(&mut [f32]) -> T + Sync,
) -> Vec<T> {
    let (n, dim) = (updates.len(), updates[0].weights.len());
    let mut out = vec![T::default(); dim];
    par::for_ranges(&mut out, BLOCK, |range, out| {
        let mut buf = vec![0f32; BLOCK * n];
        let mut start = range.start;
        while start < range.end {
            let width = BLOCK.min(range.end - start);
            for (i, u) in updates.iter().enumerate() {
                for (j, &v) in u.weights[start..start + width].iter().enumerate() {
                    buf[j * n + i] = v;
                }
            }
            for j in 0..width {
                out[start - range.start + j] = reduce(&mut buf[j * n..(j + 1) * n]);
            }
            start += width;
        }
    });
    out
}

/// Median of a column as `np.median`: the middle value, or the mean of the two middles.
pub fn median_of(col: &mut [f32]) -> f32 {
    median_kept(col).value
}

/// What a coordinate-wise rule made of one column: the value, and the range of the values it
/// kept (the middle one or two for the median, the untrimmed ones for the trimmed mean).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Kept {
    pub value: f32,
    pub low: f32,
    pub high: f32,
}

/// The median with the values it came from.
pub fn median_kept(col: &mut [f32]) -> Kept {
    let n = col.len();
    let mid = n / 2;
    let (left, upper, _) = col.select_nth_unstable_by(mid, f32::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Kept {
            value: upper,
            low: upper,
            high: upper,
        };
    }
    let lower = left.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    Kept {
        value: ((lower as f64 + upper as f64) / 2.0) as f32,
        low: lower,
        high: upper,
    }
}

/// Each update's share of a coordinate-wise result: per coordinate, the updates whose value the
/// rule kept share it equally; a share is the mean over coordinates. An update the rule kept out
/// of most coordinates gets a small share, as its verdict says.
pub fn kept_shares(updates: &[Update<'_>], kept: &[Kept]) -> Vec<f64> {
    let inside = |v: f32, k: &Kept| v >= k.low && v <= k.high;
    let mut counts = vec![0u32; kept.len()];
    for u in updates {
        for ((c, &v), k) in counts.iter_mut().zip(u.weights).zip(kept) {
            *c += u32::from(inside(v, k));
        }
    }
    let dim = kept.len().max(1) as f64;
    updates
        .iter()
        .map(|u| {
            let credit: f64 = u
                .weights
                .iter()
                .zip(kept)
                .zip(&counts)
                .filter(|((v, k), _)| inside(**v, k))
                .map(|(_, &c)| 1.0 / f64::from(c.max(1)))
                .sum();
            credit / dim
        })
        .collect()
}
