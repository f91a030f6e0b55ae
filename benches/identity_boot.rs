//! What identities cost a simulated fleet at start: every neuron derives its key, enrols (the
//! engine verifies a proof and the CA signs a credential) and starts MAC'ing heartbeats. Runs
//! the engine core on virtual time and reports the CPU time per simulated second until the whole
//! fleet is healthy.
//! Run: `cargo bench --bench identity_boot -- 100000` (neuron counts; default 10000).

use std::time::Instant;

use plexus::api::NeuronState;
use plexus::engine::config::EngineConfig;
use plexus::engine::testkit::SimRun;

fn measure(neurons: usize) {
    let cfg = EngineConfig::default();
    let started = Instant::now();
    let mut run = SimRun::with_config(neurons, cfg, 1);
    let built = started.elapsed();
    let mut line = Vec::new();
    for second in 1..=10 {
        let t = Instant::now();
        run.run_for(1000);
        let healthy = run.core.registry.count(NeuronState::Healthy);
        line.push(format!(
            "t={second}s healthy {healthy} ({:.0} ms)",
            t.elapsed().as_secs_f64() * 1000.0
        ));
        if healthy as usize == neurons && second >= 3 {
            break;
        }
    }
    println!(
        "{neurons} neurons, 1 s heartbeats: built in {:.0} ms; {}",
        built.as_secs_f64() * 1000.0,
        line.join("; ")
    );
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    for n in if counts.is_empty() {
        vec![10_000]
    } else {
        counts
    } {
        measure(n);
    }
}
