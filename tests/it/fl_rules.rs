//! Aggregation rules against hand-computed vectors (including the small vectors of Flower's own
//! tests), properties, NaN rejection, and Krum's exact distances on nearly equal f32 updates.

use plexus::api::fl::{Rule, Verdict};
use plexus::engine::fl::aggregate::{self, Aggregated, Params, Update, distance, krum_scores};
use proptest::prelude::*;

fn run(rule: Rule, p: Params, rows: &[Vec<f32>], examples: &[f64]) -> Aggregated {
    let updates: Vec<Update<'_>> = rows
        .iter()
        .zip(examples)
        .map(|(w, &e)| Update {
            weights: w,
            examples: e,
        })
        .collect();
    aggregate::aggregate_checked(aggregate::build(rule, p).as_ref(), &updates).expect("aggregates")
}

fn fill(v: f32) -> Vec<f32> {
    vec![v; 4]
}

fn p(f: usize) -> Params {
    Params {
        f,
        ..Params::default()
    }
}

// Flower aggregate_test.py::test_aggregate: the same update with 1 and 2 examples averages to itself.
#[test]
fn flower_aggregate_weighted_mean() {
    let w = vec![1., 2., 3., 4., 5., 6., 7., 8., 9., 10.];
    let out = run(Rule::Mean, p(0), &[w.clone(), w.clone()], &[1., 2.]);
    assert_eq!(out.weights, w);
    // Hand-computed: (1·[0,3] + 3·[4,7]) / 4 = [3, 6].
    let out = run(Rule::Mean, p(0), &[vec![0., 3.], vec![4., 7.]], &[1., 3.]);
    assert_eq!(out.weights, vec![3., 6.]);
}

// Flower fedmedian_test.py::test_aggregate_fit: 0.2, 1.0, 0.5 → 0.5.
#[test]
fn flower_fedmedian() {
    let out = run(
        Rule::Median,
        p(0),
        &[fill(0.2), fill(1.0), fill(0.5)],
        &[5., 5., 5.],
    );
    assert_eq!(out.weights, fill(0.5));
    // Even n: mean of the two middles, as np.median.
    let out = run(
        Rule::Median,
        p(0),
        &[vec![1.], vec![10.], vec![2.], vec![4.]],
        &[1.; 4],
    );
    assert_eq!(out.weights, vec![3.]);
}

// Flower krum_test.py::test_aggregate_fit: 0.2, 0.7, 1.0 with f = 1 → 0.7 (scores 1.0, 0.36,
// 0.36: a tie between 1 and 2, the lowest index wins).
#[test]
fn flower_krum() {
    let out = run(
        Rule::Krum,
        p(1),
        &[fill(0.2), fill(0.7), fill(1.0)],
        &[5.; 3],
    );
    assert_eq!(out.weights, fill(0.7));
    assert_eq!(
        out.verdicts,
        vec![Verdict::Excluded, Verdict::Selected, Verdict::Excluded]
    );
    let s: Vec<f64> = out.scores.iter().map(|s| s.unwrap()).collect();
    assert!(
        (s[0] - 1.0).abs() < 1e-6 && (s[1] - 0.36).abs() < 1e-6 && (s[2] - 0.36).abs() < 1e-6,
        "{s:?}"
    );
}

// Flower multikrum_test.py: 0.2, 0.5, 1.0 with f = 1, keep 2 → mean(0.2, 0.5) = 0.35.
#[test]
fn flower_multi_krum() {
    let params = Params {
        f: 1,
        keep: Some(2),
        ..Params::default()
    };
    let out = run(
        Rule::MultiKrum,
        params,
        &[fill(0.2), fill(0.5), fill(1.0)],
        &[5.; 3],
    );
    assert_eq!(out.weights, fill(0.35));
    assert_eq!(out.verdicts[2], Verdict::Excluded);
}

// β = 0.1 on n = 10 cuts one value from each end (1 and 100); β = 0.25 cuts ⌊2.5⌋ = 2 each end.
#[test]
fn trimmed_mean_cuts_floor_beta_n_each_end() {
    let rows: Vec<Vec<f32>> = [10., 1., 9., 2., 8., 3., 7., 4., 6., 100.]
        .iter()
        .map(|&v| vec![v])
        .collect();
    let out = run(
        Rule::TrimmedMean,
        Params { beta: 0.1, ..p(0) },
        &rows,
        &[1.; 10],
    );
    assert_eq!(out.weights, vec![49. / 8.]); // (2+3+4+6+7+8+9+10)/8
    let out = run(
        Rule::TrimmedMean,
        Params { beta: 0.25, ..p(0) },
        &rows,
        &[1.; 10],
    );
    assert_eq!(out.weights, vec![(3. + 4. + 6. + 7. + 8. + 9.) / 6.]);
}

// Flower's bulyan_test uses n = 4 with f = 1, which its own guard (n ≥ 4f+3) refuses; we refuse
// it too, and check the rule on n = 7, f = 1 by hand: θ = 5 Krum picks drop the two outliers,
// β = 3 values closest to the median of {1, 2, 3, 4, 5} are {2, 3, 4} → 3.
#[test]
fn bulyan_needs_4f_plus_3_and_averages_around_the_median() {
    let rows = [fill(0.2), fill(0.5), fill(0.7), fill(12.0)];
    let updates: Vec<Update<'_>> = rows
        .iter()
        .map(|w| Update {
            weights: w,
            examples: 5.,
        })
        .collect();
    let err = aggregate::aggregate_checked(aggregate::build(Rule::Bulyan, p(1)).as_ref(), &updates)
        .unwrap_err();
    assert!(err.0.contains("4f+3"), "{err}");
    let rows: Vec<Vec<f32>> = [1., 2., 3., 4., 5., 100., -90.]
        .iter()
        .map(|&v| vec![v])
        .collect();
    let out = run(Rule::Bulyan, p(1), &rows, &[1.; 7]);
    assert_eq!(out.weights, vec![3.]);
    assert_eq!(&out.verdicts[5..], &[Verdict::Excluded, Verdict::Excluded]);
}

// Geometric median of the corners of a square plus its centre is the centre.
#[test]
fn geomed_of_a_symmetric_set_is_its_centre() {
    let rows = vec![
        vec![0., 0.],
        vec![2., 0.],
        vec![0., 2.],
        vec![2., 2.],
        vec![1., 1.],
        vec![50., 50.],
    ];
    let out = run(Rule::GeoMed, p(0), &rows, &[1.; 6]);
    assert!(
        (out.weights[0] - 1.0).abs() < 0.05 && (out.weights[1] - 1.0).abs() < 0.05,
        "{:?}",
        out.weights
    );
    assert_eq!(out.verdicts[5], Verdict::DownWeighted);
}

#[test]
fn nan_and_inf_are_rejected_up_front() {
    let rows = vec![
        vec![1., 1.],
        vec![f32::NAN, 1.],
        vec![3., 3.],
        vec![2., f32::INFINITY],
        vec![2., 2.],
        vec![1.0],
    ];
    for rule in Rule::ALL {
        let out = run(*rule, p(0), &rows, &[1.; 6]);
        assert!(out.weights.iter().all(|v| v.is_finite()), "{rule}");
        assert_eq!(
            out.verdicts
                .iter()
                .filter(|v| **v == Verdict::Rejected)
                .count(),
            3,
            "{rule}"
        );
    }
}

/// Nearly equal updates around a large common value: the Gram shortcut in f32 sees only rounding
/// noise and picks the wrong update; differences in f64 pick the true centre.
#[test]
fn krum_exact_distances_beat_the_gram_shortcut() {
    let d = 256;
    // Update 0 is the centre; update k ≥ 1 differs from it by 1/16 in coordinate k − 1 only, so
    // exactly: d(0, k) = 1/256 and d(j, k) = 2/256. With f = 1 each score sums 2 neighbours:
    // update 0 scores 2/256, every other 3/256. Norms are ≈ 2.9e8, where f32 steps by 32.
    let base: Vec<f32> = (0..d)
        .map(|j| 1000.0 + ((j * 7919) % 613) as f32 * 0.37)
        .collect();
    let rows: Vec<Vec<f32>> = (0..5)
        .map(|k| {
            let mut r = base.clone();
            if k > 0 {
                r[k - 1] += 0.0625;
            }
            r
        })
        .collect();
    let updates: Vec<Update<'_>> = rows
        .iter()
        .map(|w| Update {
            weights: w,
            examples: 1.,
        })
        .collect();
    let all: Vec<usize> = (0..5).collect();
    let exact = krum_scores(&distance::pairwise(&updates), 5, &all, 1);
    let gram = krum_scores(&distance::gram_shortcut_f32(&updates), 5, &all, 1);
    let best = |s: &[f64]| {
        (0..s.len())
            .min_by(|&a, &b| s[a].total_cmp(&s[b]).then(a.cmp(&b)))
            .unwrap()
    };
    assert_eq!(best(&exact), 0, "exact scores {exact:?}");
    assert_ne!(
        best(&gram),
        0,
        "the shortcut should have picked wrongly here: {gram:?}"
    );
    let out = run(Rule::Krum, p(1), &rows, &[1.; 5]);
    assert_eq!(out.verdicts[0], Verdict::Selected);
}

fn honest_and_outliers() -> impl Strategy<Value = (Vec<Vec<f32>>, Vec<Vec<f32>>)> {
    (3usize..8, 1usize..4).prop_flat_map(|(h, d)| {
        let honest = prop::collection::vec(prop::collection::vec(-10f32..10f32, d), h);
        let outliers =
            prop::collection::vec(prop::collection::vec(-1e6f32..1e6f32, d), 0..h.div_ceil(2));
        (honest, outliers)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rules_are_permutation_invariant(rows in prop::collection::vec(prop::collection::vec(-5f32..5f32, 3), 7..10), seed in 0u64..1000) {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.rotate_left((seed as usize) % rows.len());
        order.swap(0, rows.len() - 1);
        let shuffled: Vec<Vec<f32>> = order.iter().map(|&i| rows[i].clone()).collect();
        let ex = vec![1.0; rows.len()];
        // The Krum family breaks score ties by index (Flower's rule), so it is order-independent
        // only when no two distances tie.
        let updates: Vec<Update<'_>> = rows.iter().map(|w| Update { weights: w, examples: 1.0 }).collect();
        let mut dists = distance::pairwise(&updates);
        dists.sort_by(f64::total_cmp);
        let ties = dists.windows(2).any(|w| w[0] == w[1] && w[0] > 0.0) || dists.iter().filter(|v| **v == 0.0).count() > rows.len();
        let rules: &[Rule] = if ties { &[Rule::Mean, Rule::Median, Rule::TrimmedMean, Rule::GeoMed] } else { Rule::ALL };
        for &rule in rules {
            let a = run(rule, p(1), &rows, &ex).weights;
            let b = run(rule, p(1), &shuffled, &ex).weights;
            for (x, y) in a.iter().zip(&b) {
                prop_assert!((x - y).abs() <= 1e-4 * (1.0 + x.abs()), "{rule}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn median_and_geomed_are_translation_equivariant(rows in prop::collection::vec(prop::collection::vec(-5f32..5f32, 3), 3..9), shift in prop::collection::vec(-100f32..100f32, 3)) {
        let moved: Vec<Vec<f32>> = rows.iter().map(|r| r.iter().zip(&shift).map(|(a, b)| a + b).collect()).collect();
        let ex = vec![1.0; rows.len()];
        // Weiszfeld stops within a tolerance of the points' own scale (its last steps move by a
        // fraction of their spread), wherever they sit: a break of equivariance is off by the
        // shift (up to 100), far beyond this.
        let spread = (0..3)
            .map(|c| {
                let (lo, hi) = rows.iter().fold((f32::MAX, f32::MIN), |(lo, hi), r| (lo.min(r[c]), hi.max(r[c])));
                hi - lo
            })
            .fold(0f32, f32::max);
        for rule in [Rule::Median, Rule::GeoMed] {
            let a = run(rule, p(0), &rows, &ex).weights;
            let b = run(rule, p(0), &moved, &ex).weights;
            for ((x, y), s) in a.iter().zip(&b).zip(&shift) {
                prop_assert!((x + s - y).abs() <= 1e-3 * (1.0 + y.abs() + spread), "{rule}: {a:?} + {shift:?} vs {b:?}");
            }
        }
    }

    /// Fewer than n/2 arbitrary outliers: the median stays in the honest per-coordinate range (the
    /// honest hull for d = 1, its bounding box otherwise); the geometric median stays within the
    /// classical breakdown bound ‖z − h₀‖ ≤ 2(n−f)/(n−2f)·diam(honest) of any honest point h₀, and
    /// inside the honest hull for d = 1.
    #[test]
    fn outliers_cannot_drag_median_or_geomed_out((honest, outliers) in honest_and_outliers()) {
        let rows: Vec<Vec<f32>> = honest.iter().chain(&outliers).cloned().collect();
        let ex = vec![1.0; rows.len()];
        let d = honest[0].len();
        let med = run(Rule::Median, p(0), &rows, &ex).weights;
        for j in 0..d {
            let lo = honest.iter().map(|r| r[j]).fold(f32::INFINITY, f32::min);
            let hi = honest.iter().map(|r| r[j]).fold(f32::NEG_INFINITY, f32::max);
            prop_assert!(med[j] >= lo && med[j] <= hi, "median {med:?} outside [{lo}, {hi}]");
        }
        let geo = run(Rule::GeoMed, p(0), &rows, &ex).weights;
        let dist = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>().sqrt();
        let diam = honest.iter().flat_map(|a| honest.iter().map(move |b| dist(a, b))).fold(0.0, f64::max);
        let (n, f) = (rows.len() as f64, outliers.len() as f64);
        let bound = 2.0 * (n - f) / (n - 2.0 * f) * diam + 1e-3;
        prop_assert!(dist(&geo, &honest[0]) <= bound, "geomed {geo:?} too far: bound {bound}");
        if d == 1 {
            let lo = honest.iter().map(|r| r[0]).fold(f32::INFINITY, f32::min);
            let hi = honest.iter().map(|r| r[0]).fold(f32::NEG_INFINITY, f32::max);
            prop_assert!(geo[0] >= lo - 1e-3 && geo[0] <= hi + 1e-3, "geomed {geo:?} outside [{lo}, {hi}]");
        }
    }

    #[test]
    fn a_nan_anywhere_is_rejected_never_propagated(rows in prop::collection::vec(prop::collection::vec(-5f32..5f32, 4), 8..10), at in 0usize..36) {
        let mut rows = rows;
        let (i, j) = (at / 4 % rows.len(), at % 4);
        rows[i][j] = f32::NAN;
        for rule in Rule::ALL {
            let out = run(*rule, p(1), &rows, &vec![1.0; rows.len()]);
            prop_assert!(out.weights.iter().all(|v| v.is_finite()));
            prop_assert_eq!(out.verdicts[i], Verdict::Rejected);
        }
    }
}

/// A coordinate-wise rule's shares say what it did: the far update it flags as down-weighted
/// supplied (almost) none of the coordinates, so its share is small, not an equal one.
#[test]
fn coordinate_rules_give_a_far_update_the_share_it_really_had() {
    // Six honest updates taking turns at each rank, so each supplies some coordinates.
    let mut rows: Vec<Vec<f32>> = (0..6)
        .map(|i| (0..12).map(|c| 1.0 + 0.01 * ((i + c) % 6) as f32).collect())
        .collect();
    rows.push(vec![50.0; 12]);
    let ones = vec![1.0; rows.len()];
    for (rule, params) in [
        (Rule::Median, p(0)),
        (
            Rule::TrimmedMean,
            Params {
                beta: 0.2,
                ..Params::default()
            },
        ),
    ] {
        let out = run(rule, params, &rows, &ones);
        let far = rows.len() - 1;
        assert_eq!(out.verdicts[far], Verdict::DownWeighted, "{rule:?}");
        let total: f64 = out.shares.iter().sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "{rule:?}: shares sum to {total}"
        );
        let honest_least = out.shares[..far]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        assert!(
            out.shares[far] < honest_least,
            "{rule:?}: far share {} vs honest {honest_least}",
            out.shares[far]
        );
        assert_eq!(out.shares[far], 0.0, "{rule:?}: it supplied no coordinate");
    }
}
