//! Byzantine neurons of the simulation. Attackers train honestly, then corrupt what they send,
//! expressed on their update Δ = w_local − w_global:
//! - sign-flip: send w_global − 4·Δ (a plain −Δ only slows FedAvg down; −4Δ reverses it at 30%);
//! - gaussian: send w_global + N(0, 3²) per coordinate;
//! - scale: send w_global + 10·Δ (model replacement style boosting);
//! - lie ("a little is enough", Baruch et al. 2019): send μ − z·σ per coordinate, μ and σ over the
//!   round's honest updates (an omniscient attacker, the worst case), z = Φ⁻¹((n − s)/n) with
//!   s = ⌊n/2 + 1⌋ − f.

use rand::Rng;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_distr::{Distribution, Normal};
use rand_pcg::Pcg64;

use crate::api::fl::Attack;

pub const SIGN_FLIP_SCALE: f32 = 4.0;
pub const GAUSSIAN_SIGMA: f32 = 3.0;
pub const SCALE_FACTOR: f32 = 10.0;

/// Which of `n` clients are Byzantine: round(fraction · n) of them, seeded.
pub fn choose_attackers(n: usize, fraction: f64, seed: u64) -> Vec<bool> {
    let count = ((fraction.clamp(0.0, 1.0) * n as f64).round() as usize).min(n);
    let mut flags = vec![false; n];
    let mut rng = Pcg64::seed_from_u64(seed ^ 0xbad_c0de);
    for i in sample(&mut rng, n, count) {
        flags[i] = true;
    }
    flags
}

/// The attack this round's Byzantine clients mount: the run's own, or sign-flip when only
/// neurons under the chaos `byzantine` fault misbehave in a run configured without attack.
pub fn effective(configured: Attack, turned: &[bool]) -> Attack {
    if configured == Attack::None && turned.iter().any(|b| *b) {
        Attack::SignFlip
    } else {
        configured
    }
}

/// Corrupt the updates of attackers in place (`updates[k]` from a client with `byz[k]`).
pub fn corrupt(
    attack: Attack,
    global: &[f32],
    updates: &mut [Vec<f32>],
    byz: &[bool],
    rng: &mut impl Rng,
) {
    if attack == Attack::None || !byz.iter().any(|b| *b) {
        return;
    }
    let lie = (attack == Attack::Lie).then(|| lie_vector(updates, byz));
    let noise = Normal::new(0.0f32, GAUSSIAN_SIGMA).expect("valid sigma");
    for (w, _) in updates.iter_mut().zip(byz).filter(|(_, b)| **b) {
        match attack {
            Attack::None => {}
            Attack::SignFlip => w
                .iter_mut()
                .zip(global)
                .for_each(|(v, g)| *v = g - SIGN_FLIP_SCALE * (*v - g)),
            Attack::Gaussian => w
                .iter_mut()
                .zip(global)
                .for_each(|(v, g)| *v = g + noise.sample(rng)),
            Attack::Scale => w
                .iter_mut()
                .zip(global)
                .for_each(|(v, g)| *v = g + SCALE_FACTOR * (*v - g)),
            Attack::Lie => {
                if let Some(l) = &lie {
                    w.copy_from_slice(l);
                }
            }
        }
    }
}

/// μ − z·σ over the honest updates.
fn lie_vector(updates: &[Vec<f32>], byz: &[bool]) -> Vec<f32> {
    let n = updates.len();
    let f = byz.iter().filter(|b| **b).count();
    let honest: Vec<&Vec<f32>> = updates
        .iter()
        .zip(byz)
        .filter(|(_, b)| !**b)
        .map(|(u, _)| u)
        .collect();
    let dim = updates.first().map_or(0, Vec::len);
    if honest.is_empty() {
        return vec![0.0; dim];
    }
    let s = (n / 2 + 1).saturating_sub(f);
    let z = inverse_normal_cdf(((n - s) as f64 / n as f64).clamp(1e-6, 1.0 - 1e-6));
    let h = honest.len() as f64;
    (0..dim)
        .map(|j| {
            let mean = honest.iter().map(|u| u[j] as f64).sum::<f64>() / h;
            let var = honest
                .iter()
                .map(|u| (u[j] as f64 - mean).powi(2))
                .sum::<f64>()
                / h;
            (mean - z * var.sqrt()) as f32
        })
        .collect()
}

/// Φ⁻¹(p) by Acklam's rational approximation (relative error < 1.2e-9).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_normal_matches_known_quantiles() {
        assert!((inverse_normal_cdf(0.975) - 1.959964).abs() < 1e-5);
        assert!(inverse_normal_cdf(0.5).abs() < 1e-12);
        assert!((inverse_normal_cdf(0.01) + 2.326348).abs() < 1e-5);
    }

    #[test]
    fn attackers_are_the_requested_share() {
        assert_eq!(
            choose_attackers(20, 0.3, 1).iter().filter(|b| **b).count(),
            6
        );
    }
}
