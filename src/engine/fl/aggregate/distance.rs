//! Squared Euclidean distances computed from differences, never by the Gram shortcut
//! ‖x‖²+‖y‖²−2x·y: for nearly equal f32 updates that shortcut subtracts two huge, almost equal
//! numbers and keeps only rounding noise. Differences of nearby f32 values are exact (Sterbenz),
//! squares are non-negative, so sums only lose relative precision, never cancel. Each chunk of
//! CHUNK coordinates is summed in f32 lanes and the chunks are accumulated in f64.

use super::Update;
use super::par;

/// Coordinates per chunk (4 KiB of f32): the unit of f32 lane accumulation.
const CHUNK: usize = 1024;
const LANES: usize = 16;

#[inline(always)]
fn kernel<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..LANES {
            let d = x[k] - y[k];
            acc[k] = if FMA {
                d.mul_add(d, acc[k])
            } else {
                acc[k] + d * d
            };
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += (x - y) * (x - y);
    }
    s
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn kernel_avx2(a: &[f32], b: &[f32]) -> f32 {
    kernel::<true>(a, b)
}

/// Squared distance of one chunk (f32 lanes; callers keep chunks ≤ CHUNK long).
#[inline]
fn chunk_sq_dist(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features this function was compiled for.
        return unsafe { kernel_avx2(a, b) };
    }
    kernel::<false>(a, b)
}

/// ‖a − b‖², chunk sums accumulated in f64.
pub fn sq_dist(a: &[f32], b: &[f32]) -> f64 {
    a.chunks(CHUNK)
        .zip(b.chunks(CHUNK))
        .map(|(x, y)| chunk_sq_dist(x, y) as f64)
        .sum()
}

/// Rows per block: a block's 1,024-coordinate chunks (64 × 4 KiB) stay in L2 while every later
/// row streams past it once per chunk.
const BLOCK_ROWS: usize = 64;
/// Micro-tile: 4 × 4 pairs share each loaded vector (4 + 4 loads feed 16 subtract + FMA pairs).
const MR: usize = 4;

/// Lane sums of a 4 × 4 tile over one chunk, bit-identical to `chunk_sq_dist` for each pair.
type TileFn = fn(&[&[f32]; MR], &[&[f32]; MR], &mut [[f32; MR]; MR]);

/// Portable tile: one pair at a time through the scalar-lane kernel.
fn tile_portable(a: &[&[f32]; MR], b: &[&[f32]; MR], out: &mut [[f32; MR]; MR]) {
    for (r, x) in a.iter().enumerate() {
        for (c, y) in b.iter().enumerate() {
            out[r][c] = chunk_sq_dist(x, y);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{LANES, MR};
    use std::arch::x86_64::*;

    /// Register-blocked 4 × 4 tile: 16 zmm accumulators, lane k of pair (r, c) sums
    /// fma(d, d, ·) over coordinates k, k+16, … exactly as `kernel::<true>` does, then the lanes are
    /// added in order and the tail is added as `(x − y)²` — the same rounding, so the same bits.
    #[target_feature(enable = "avx512f")]
    unsafe fn tile(a: &[&[f32]; MR], b: &[&[f32]; MR], out: &mut [[f32; MR]; MR]) {
        let len = a[0].len();
        debug_assert!(a.iter().chain(b).all(|v| v.len() == len));
        let full = len / LANES * LANES;
        let mut acc = [[_mm512_setzero_ps(); MR]; MR];
        let (pa, pb) = (a.map(<[f32]>::as_ptr), b.map(<[f32]>::as_ptr));
        let mut k = 0;
        while k < full {
            // SAFETY: k + 16 ≤ full ≤ len of every slice.
            let xa = unsafe {
                [
                    _mm512_loadu_ps(pa[0].add(k)),
                    _mm512_loadu_ps(pa[1].add(k)),
                    _mm512_loadu_ps(pa[2].add(k)),
                    _mm512_loadu_ps(pa[3].add(k)),
                ]
            };
            for c in 0..MR {
                let y = unsafe { _mm512_loadu_ps(pb[c].add(k)) };
                for r in 0..MR {
                    let d = _mm512_sub_ps(xa[r], y);
                    acc[r][c] = _mm512_fmadd_ps(d, d, acc[r][c]);
                }
            }
            k += LANES;
        }
        for r in 0..MR {
            for c in 0..MR {
                let mut lanes = [0f32; LANES];
                // SAFETY: `lanes` holds 16 f32.
                unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), acc[r][c]) };
                let mut s: f32 = lanes.iter().sum();
                for (x, y) in a[r][full..].iter().zip(&b[c][full..]) {
                    s += (x - y) * (x - y);
                }
                out[r][c] = s;
            }
        }
    }

    pub fn tile_entry(a: &[&[f32]; MR], b: &[&[f32]; MR], out: &mut [[f32; MR]; MR]) {
        // SAFETY: only handed out by `tile_fn` after the CPU reported avx512f.
        unsafe { tile(a, b, out) }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2;

fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The widest tile the CPU runs: AVX-512, else AVX2 + FMA, else the portable one.
fn tile_fn() -> TileFn {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return avx512::tile_entry;
        }
        if avx2_fma() {
            return avx2::tile_entry;
        }
    }
    tile_portable
}

/// Squared distances from rows `start..end` to every later row: `acc[(i − start) · n + j]`, j > i.
/// Chunk-outer so the block's chunk stays cached; within a chunk, 4 later rows (held in L1) meet
/// the block 4 rows at a time.
fn block_rows(updates: &[Update<'_>], start: usize, end: usize, tile: TileFn) -> Vec<f64> {
    let n = updates.len();
    let dim = updates[0].weights.len();
    let mut acc = vec![0f64; (end - start) * n];
    let quad = |first: usize, limit: usize, c0: usize, c1: usize| -> [&[f32]; MR] {
        std::array::from_fn(|k| &updates[(first + k).min(limit - 1)].weights[c0..c1])
    };
    let mut out = [[0f32; MR]; MR];
    for c0 in (0..dim).step_by(CHUNK) {
        let c1 = (c0 + CHUNK).min(dim);
        for jq in (start..n).step_by(MR) {
            let b = quad(jq, n, c0, c1);
            let mut iq = start;
            // A tile contributes while its first row is below the quad's last column.
            while iq < end && iq < jq + MR - 1 {
                let a = quad(iq, end, c0, c1);
                tile(&a, &b, &mut out);
                for (r, row) in out.iter().enumerate() {
                    let i = iq + r;
                    if i >= end {
                        break;
                    }
                    for (c, &v) in row.iter().enumerate() {
                        let j = jq + c;
                        if j < n && i < j {
                            acc[(i - start) * n + j] += v as f64;
                        }
                    }
                }
                iq += MR;
            }
        }
    }
    acc
}

/// The full symmetric matrix of squared distances (row-major n × n). Blocks of rows are handed
/// out heaviest first from a shared counter, so both threads finish together despite the
/// triangle. Every pair's value is bit-identical to `sq_dist` (same chunks, lanes and order).
pub fn pairwise(updates: &[Update<'_>]) -> Vec<f64> {
    let n = updates.len();
    let mut m = vec![0f64; n * n];
    if n < 2 {
        return m;
    }
    let tile = tile_fn();
    let starts: Vec<usize> = (0..n).step_by(BLOCK_ROWS).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let t = par::threads().min(starts.len());
    let work = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&start) = starts.get(k) else {
                return done;
            };
            let end = (start + BLOCK_ROWS).min(n);
            done.push((start, end, block_rows(updates, start, end, tile)));
        }
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..t).map(|_| s.spawn(work)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("distance worker panicked"))
            .collect()
    });
    for (start, end, acc) in results {
        for i in start..end {
            for j in i + 1..n {
                let v = acc[(i - start) * n + j];
                m[i * n + j] = v;
                m[j * n + i] = v;
            }
        }
    }
    m
}

/// The Gram-matrix shortcut, in f32 as a BLAS-style implementation would compute it. Kept only
/// so the tests can show it choosing wrongly; never used by a rule.
pub fn gram_shortcut_f32(updates: &[Update<'_>]) -> Vec<f64> {
    let n = updates.len();
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let norms: Vec<f32> = updates.iter().map(|u| dot(u.weights, u.weights)).collect();
    let mut m = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                let v = norms[i] + norms[j] - 2.0 * dot(updates[i].weights, updates[j].weights);
                m[i * n + j] = v as f64;
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` rows of `d` values in [-10, 10) from a xorshift generator: reproducible noise.
    fn noise_rows(x: &mut u32, n: usize, d: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|_| {
                (0..d)
                    .map(|_| {
                        *x ^= *x << 13;
                        *x ^= *x >> 17;
                        *x ^= *x << 5;
                        (*x % 20_000) as f32 / 1000.0 - 10.0
                    })
                    .collect()
            })
            .collect()
    }

    /// Every tile this CPU can run gives the bits of the per-pair kernel (tails and short chunks
    /// included), so which one `tile_fn` picks never changes a Krum decision.
    #[test]
    fn every_available_tile_is_bit_identical_to_the_portable_one() {
        let mut tiles: Vec<(&str, TileFn)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if avx2_fma() {
                tiles.push(("avx2", avx2::tile_entry));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                tiles.push(("avx512", avx512::tile_entry));
            }
        }
        let mut x = 0x2545_f491u32;
        for len in [1usize, 15, 16, 17, 100, 1024] {
            let mut rows = noise_rows(&mut x, 4, len);
            // Columns nearly equal to the rows: differences of a few ulps.
            for r in 0..4 {
                let near = rows[r].iter().map(|v| v * (1.0 + 1e-6)).collect();
                rows.push(near);
            }
            let a: [&[f32]; MR] = std::array::from_fn(|k| rows[k].as_slice());
            let b: [&[f32]; MR] = std::array::from_fn(|k| rows[k + 4].as_slice());
            let mut want = [[0f32; MR]; MR];
            tile_portable(&a, &b, &mut want);
            for (name, tile) in &tiles {
                let mut got = [[0f32; MR]; MR];
                tile(&a, &b, &mut got);
                assert_eq!(
                    got.map(|r| r.map(f32::to_bits)),
                    want.map(|r| r.map(f32::to_bits)),
                    "{name} len={len}"
                );
            }
        }
    }

    #[test]
    fn blocked_pairwise_is_bit_identical_to_sq_dist() {
        // n not a multiple of the tile or block, d with a partial chunk and a lane tail.
        for (n, d) in [(1, 5), (2, 17), (7, 1030), (70, 2085)] {
            let rows = noise_rows(&mut 0x9e37_79b9u32, n, d);
            let updates: Vec<Update<'_>> = rows
                .iter()
                .map(|w| Update {
                    weights: w,
                    examples: 1.0,
                })
                .collect();
            let m = pairwise(&updates);
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j {
                        0.0
                    } else {
                        sq_dist(&rows[i], &rows[j])
                    };
                    assert_eq!(
                        m[i * n + j].to_bits(),
                        want.to_bits(),
                        "n={n} d={d} ({i},{j})"
                    );
                }
            }
        }
    }
}
