//! Coordinate-wise rules work per column (one coordinate across all updates). Rows arrive as
//! separate vectors, so blocks of columns are first gathered into a column-major buffer: each
//! column is then a contiguous slice that a selection can partition in place. Median and trimmed
//! mean transpose into total-order i32 keys so the selections compare plain integers.

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

/// f32 → i32 key whose integer order is `f32::total_cmp`'s order (flip the magnitude bits of
/// negatives). Selection on these keys compares plain integers instead of re-deriving the order
/// from the float bits at every comparison.
#[inline(always)]
pub fn key(v: f32) -> i32 {
    let b = v.to_bits() as i32;
    b ^ (((b >> 31) as u32) >> 1) as i32
}

/// Inverse of [`key`] (the map is an involution on the low 31 bits, the sign bit is kept).
#[inline(always)]
pub fn unkey(k: i32) -> f32 {
    f32::from_bits((k ^ (((k >> 31) as u32) >> 1) as i32) as u32)
}

/// `out[j] = reduce(keys of column j)`: like [`map_columns`], but the tile is transposed straight
/// into total-order integer keys.
pub fn map_key_columns(
    updates: &[Update<'_>],
    reduce: impl Fn(&mut [i32]) -> f32 + Sync,
) -> Vec<f32> {
    let (n, dim) = (updates.len(), updates[0].weights.len());
    let mut out = vec![0f32; dim];
    par::for_ranges(&mut out, BLOCK, |range, out| {
        let mut buf = vec![0i32; BLOCK * n];
        let mut start = range.start;
        while start < range.end {
            let width = BLOCK.min(range.end - start);
            for (i, u) in updates.iter().enumerate() {
                for (j, &v) in u.weights[start..start + width].iter().enumerate() {
                    buf[j * n + i] = key(v);
                }
            }
            for (o, col) in out[start - range.start..start - range.start + width]
                .iter_mut()
                .zip(buf.chunks_exact_mut(n))
            {
                *o = reduce(col);
            }
            start += width;
        }
    });
    out
}

/// [`median_of`] on keys: the same value (the k-th in total order is unique), with the lower
/// middle taken as the largest key left of the upper one.
pub fn median_of_keys(col: &mut [i32]) -> f32 {
    let n = col.len();
    let mid = n / 2;
    let (left, upper, _) = col.select_nth_unstable(mid);
    let upper = unkey(*upper);
    if n % 2 == 1 {
        return upper;
    }
    let lower = unkey(left.iter().copied().max().unwrap_or(i32::MIN));
    ((lower as f64 + upper as f64) / 2.0) as f32
}
