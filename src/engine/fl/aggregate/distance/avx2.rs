//! The 4 × 4 distance tile for CPUs with AVX2 + FMA but no AVX-512. Sixteen ymm registers
//! cannot hold 4 × 4 pairs × 16 lanes, so the tile runs as four 2 × 2 sub-tiles, each pair in two
//! ymm accumulators (lanes 0–7 and 8–15) — 8 accumulators, 4 row loads and 2 column loads live at
//! once. The chunk (≤ 4 KiB per row) stays in L1 across the sub-tiles. Lane k of a pair sums
//! fma(d, d, ·) over coordinates k, k+16, … exactly as `kernel::<true>` does, the lanes are added
//! in order and the tail as `(x − y)²`: the same rounding, so the same bits.

use super::{LANES, MR};
use std::arch::x86_64::*;

#[target_feature(enable = "avx2,fma")]
unsafe fn sub_tile(a: [&[f32]; 2], b: [&[f32]; 2], out: &mut [[f32; 2]; 2]) {
    let len = a[0].len();
    let full = len / LANES * LANES;
    let mut acc = [[[_mm256_setzero_ps(); 2]; 2]; 2];
    let (pa, pb) = (a.map(<[f32]>::as_ptr), b.map(<[f32]>::as_ptr));
    let mut k = 0;
    while k < full {
        // SAFETY: k + 16 ≤ full ≤ the length of every slice.
        let xa = unsafe {
            [
                [
                    _mm256_loadu_ps(pa[0].add(k)),
                    _mm256_loadu_ps(pa[0].add(k + 8)),
                ],
                [
                    _mm256_loadu_ps(pa[1].add(k)),
                    _mm256_loadu_ps(pa[1].add(k + 8)),
                ],
            ]
        };
        for c in 0..2 {
            let y = unsafe {
                [
                    _mm256_loadu_ps(pb[c].add(k)),
                    _mm256_loadu_ps(pb[c].add(k + 8)),
                ]
            };
            for r in 0..2 {
                for h in 0..2 {
                    let d = _mm256_sub_ps(xa[r][h], y[h]);
                    acc[r][c][h] = _mm256_fmadd_ps(d, d, acc[r][c][h]);
                }
            }
        }
        k += LANES;
    }
    for r in 0..2 {
        for c in 0..2 {
            let mut lanes = [0f32; LANES];
            // SAFETY: `lanes` holds 16 f32: two stores of 8.
            unsafe {
                _mm256_storeu_ps(lanes.as_mut_ptr(), acc[r][c][0]);
                _mm256_storeu_ps(lanes.as_mut_ptr().add(8), acc[r][c][1]);
            }
            let mut s: f32 = lanes.iter().sum();
            for (x, y) in a[r][full..].iter().zip(&b[c][full..]) {
                s += (x - y) * (x - y);
            }
            out[r][c] = s;
        }
    }
}

pub fn tile_entry(a: &[&[f32]; MR], b: &[&[f32]; MR], out: &mut [[f32; MR]; MR]) {
    let mut part = [[0f32; 2]; 2];
    for r0 in (0..MR).step_by(2) {
        for c0 in (0..MR).step_by(2) {
            // SAFETY: only handed out by `tile_fn` (or tests) after the CPU reported avx2 and fma.
            unsafe { sub_tile([a[r0], a[r0 + 1]], [b[c0], b[c0 + 1]], &mut part) };
            for r in 0..2 {
                for c in 0..2 {
                    out[r0 + r][c0 + c] = part[r][c];
                }
            }
        }
    }
}
