//! Engine cost with a large simulated fleet at one heartbeat per second, in real time: CPU
//! (cores used, from getrusage) and resident memory, measured over a steady window once the fleet
//! is 99% healthy.
//! Run: `cargo bench --bench engine_load -- 10000 100000` (neuron counts; default 10000).

use std::time::{Duration, Instant};

use plexus::engine::config::EngineConfig;
use plexus::engine::{Engine, EngineOptions};
use plexus::neuron::{SimConfig, SimFleet};

fn cpu_seconds() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn measure(neurons: usize, warm: Duration, window: Duration) {
    let base_rss = rss_mb();
    let started = Instant::now();
    let fleet = SimFleet::new(&SimConfig {
        neurons,
        heartbeat_ms: 1000,
        seed: 1,
        // Real time: a neuron whose key is not made yet asks later (as `plexus serve` runs it);
        // waiting for it would stall the engine thread through the whole boot.
        wait_for_keys: false,
        ..SimConfig::default()
    });
    let engine = Engine::start(
        EngineOptions {
            config: EngineConfig::default(),
            seed: 1,
            data_dir: Some(
                std::env::temp_dir().join(format!("plexus-bench-{neurons}-{}", std::process::id())),
            ),
            virtual_time: false,
            virtual_epoch_unix_ms: None,
            security: Default::default(),
            first_admin: "bench".into(),
            ca_key: None,
        },
        Box::new(fleet),
    )
    .expect("engine starts");
    let boot = started.elapsed();
    // Warm up past the boot: at least `warm`, and until 99% are healthy (at most a minute).
    std::thread::sleep(warm);
    let deadline = Instant::now() + Duration::from_secs(60);
    while engine.snapshot().status.neurons.healthy * 100 < neurons as u64 * 99
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(250));
    }
    let snapshot = engine.snapshot();
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    std::thread::sleep(window);
    let cores = (cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64();
    let healthy = engine.snapshot().status.neurons.healthy;
    println!(
        "{neurons} neurons at 1 heartbeat/s: {cores:.3} cores over {:.0} s, RSS {:.0} MB (process {:.0} MB before start); boot {:.0} ms; healthy {healthy}/{neurons} (at warm-up end {})",
        window.as_secs_f64(),
        rss_mb() - base_rss,
        base_rss,
        boot.as_secs_f64() * 1000.0,
        snapshot.status.neurons.healthy,
    );
    engine.shutdown();
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![10_000]
    } else {
        counts
    };
    for n in counts {
        measure(n, Duration::from_secs(5), Duration::from_secs(20));
    }
}
