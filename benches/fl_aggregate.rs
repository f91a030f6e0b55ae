//! Aggregation speed at n = 1,000 updates × d = 100,000 f32 (`cargo bench --bench fl_aggregate`).
//! Writes the same data to $FL_BENCH_DATA (default /tmp/fl_bench.f32) so `benches/fl_numpy.py`
//! times NumPy on identical input; prints medians in ms.

use std::time::Instant;

use plexus::api::fl::Rule;
use plexus::engine::fl::aggregate::{self, Params, Update};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_pcg::Pcg64;

const N: usize = 1000;
const D: usize = 100_000;

fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn main() {
    let mut rng = Pcg64::seed_from_u64(42);
    let normal = Normal::new(0.0f32, 1.0).expect("valid");
    let rows: Vec<Vec<f32>> = (0..N)
        .map(|_| (0..D).map(|_| normal.sample(&mut rng)).collect())
        .collect();
    let examples: Vec<f64> = (0..N).map(|i| 50.0 + (i % 100) as f64).collect();
    let path = std::env::var("FL_BENCH_DATA").unwrap_or_else(|_| "/tmp/fl_bench.f32".into());
    let mut bytes = Vec::with_capacity(N * D * 4 + N * 8);
    rows.iter()
        .flatten()
        .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    examples
        .iter()
        .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
    if let Err(e) = std::fs::write(&path, &bytes) {
        eprintln!("cannot write {path}: {e} (NumPy comparison skipped)");
    }
    drop(bytes);
    let updates: Vec<Update<'_>> = rows
        .iter()
        .zip(&examples)
        .map(|(w, &e)| Update {
            weights: w,
            examples: e,
        })
        .collect();
    println!(
        "n = {N}, d = {D}, threads = {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mean_core = median_ms(9, || {
        std::hint::black_box(aggregate::weighted_mean(
            &updates,
            &aggregate::example_shares(&updates),
        ));
    });
    println!("mean (weighted sum only)      {mean_core:9.1} ms");
    for (rule, reps) in [
        (Rule::Mean, 9),
        (Rule::Median, 5),
        (Rule::TrimmedMean, 5),
        (Rule::Krum, 3),
    ] {
        let agg = aggregate::build(
            rule,
            Params {
                f: 100,
                beta: 0.1,
                keep: None,
            },
        );
        let ms = median_ms(reps, || {
            std::hint::black_box(
                aggregate::aggregate_checked(agg.as_ref(), &updates).expect("aggregates"),
            );
        });
        println!("{:<29} {ms:9.1} ms", format!("{rule} (with verdicts)"));
    }
    let pairwise = median_ms(3, || {
        std::hint::black_box(aggregate::distance::pairwise(&updates));
    });
    println!("pairwise distances            {pairwise:9.1} ms");
}
