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

/// Per-operation costs on this machine: what one enrolment and one heartbeat are made of.
fn primitives() {
    use ed25519_dalek::{Signer, SigningKey, Verifier};
    use plexus::engine::identity::mac;
    const N: u32 = 2000;
    let time = |f: &mut dyn FnMut(u32)| {
        let t = Instant::now();
        (0..N).for_each(&mut *f);
        t.elapsed().as_secs_f64() * 1e6 / f64::from(N)
    };
    let mut seed = [7u8; 32];
    let keygen = time(&mut |i| {
        seed[0] = i as u8;
        std::hint::black_box(SigningKey::from_bytes(&seed));
    });
    let key = SigningKey::from_bytes(&seed);
    let msg = [1u8; 80];
    let sign = time(&mut |_| {
        std::hint::black_box(key.sign(&msg));
    });
    let sig = key.sign(&msg);
    let public = key.verifying_key();
    let verify = time(&mut |_| {
        std::hint::black_box(public.verify(&msg, &sig).is_ok());
    });
    let session = [3u8; 32];
    let hmac = time(&mut |_| {
        std::hint::black_box(mac(&session, |feed| feed(&msg)));
    });
    println!(
        "per operation: ed25519 key {keygen:.1} µs, sign {sign:.1} µs, verify {verify:.1} µs; HMAC-SHA256 of 80 bytes {hmac:.2} µs"
    );
}

fn main() {
    primitives();
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
