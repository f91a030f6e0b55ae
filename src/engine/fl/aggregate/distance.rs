//! Squared Euclidean distances computed from differences, never by the Gram shortcut
//! ‖x‖²+‖y‖²−2x·y: for nearly equal f32 updates that shortcut subtracts two huge, almost equal
//! numbers and keeps only rounding noise. Differences of nearby f32 values are exact (Sterbenz),
//! squares are non-negative, so sums only lose relative precision, never cancel. Each chunk of
//! CHUNK coordinates is summed in f32 lanes and the chunks are accumulated in f64.

use super::Update;
use super::par;

/// Coordinates per chunk: a 16-row tile of 4 KiB chunks stays in L1/L2 while other rows stream.
const CHUNK: usize = 1024;
/// Rows per tile: each row chunk loaded is reused against TILE rows.
const TILE: usize = 16;
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

/// The full symmetric matrix of squared distances (row-major n × n), tiles spread over threads.
pub fn pairwise(updates: &[Update<'_>]) -> Vec<f64> {
    let n = updates.len();
    let dim = updates.first().map_or(0, |u| u.weights.len());
    let tiles: Vec<usize> = (0..n).step_by(TILE).collect();
    // Triangular work: deal tiles round-robin from both ends so threads get similar loads.
    let t = par::threads().min(tiles.len().max(1));
    let mut order = Vec::with_capacity(tiles.len());
    let (mut lo, mut hi) = (0, tiles.len());
    while lo < hi {
        order.push(tiles[lo]);
        lo += 1;
        if lo < hi {
            hi -= 1;
            order.push(tiles[hi]);
        }
    }
    let rows_of = |start: usize| -> Vec<(usize, Vec<f64>)> {
        let end = (start + TILE).min(n);
        let mut acc = vec![vec![0f64; n]; end - start];
        for c0 in (0..dim).step_by(CHUNK) {
            let c1 = (c0 + CHUNK).min(dim);
            for j in start + 1..n {
                let b = &updates[j].weights[c0..c1];
                for i in start..end.min(j) {
                    acc[i - start][j] += chunk_sq_dist(&updates[i].weights[c0..c1], b) as f64;
                }
            }
        }
        (start..end).zip(acc).collect()
    };
    let mut m = vec![0f64; n * n];
    let results: Vec<Vec<(usize, Vec<f64>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..t)
            .map(|k| {
                let mine: Vec<usize> = order.iter().copied().skip(k).step_by(t).collect();
                let rows_of = &rows_of;
                s.spawn(move || mine.into_iter().flat_map(rows_of).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("distance worker panicked"))
            .collect()
    });
    for (i, row) in results.into_iter().flatten() {
        for j in i + 1..n {
            m[i * n + j] = row[j];
            m[j * n + i] = row[j];
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
