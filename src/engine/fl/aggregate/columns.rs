//! Coordinate-wise rules work per column (one coordinate across all updates). Rows arrive as
//! separate vectors, so blocks of columns are first gathered into a column-major buffer: each
//! column is then a contiguous slice that `select_nth_unstable_by` can partition in place.

use super::Update;
use super::par;

/// Columns gathered per block: BLOCK × n floats stay in L2 for n in the thousands.
const BLOCK: usize = 64;

/// `out[j] = reduce(column j)`; `reduce` may reorder the column it is given.
pub fn map_columns(updates: &[Update<'_>], reduce: impl Fn(&mut [f32]) -> f32 + Sync) -> Vec<f32> {
    let (n, dim) = (updates.len(), updates[0].weights.len());
    let mut out = vec![0f32; dim];
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
    let n = col.len();
    let mid = n / 2;
    let (left, upper, _) = col.select_nth_unstable_by(mid, f32::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return upper;
    }
    let lower = left.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    ((lower as f64 + upper as f64) / 2.0) as f32
}
