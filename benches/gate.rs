//! Cost of the gate per command: authenticate + authorize + rate-limit + execute + the audit
//! record committed (WAL, synchronous=FULL) before the reply. Sequential latency (median, p99)
//! and throughput with 1 and 64 concurrent submitters (the store writer group-commits).
//! Run: `cargo bench --bench gate`.

use std::sync::Arc;
use std::time::Instant;

use plexus::api::{Command, Permission};
use plexus::client::{Backend, Embedded};
use plexus::engine::config::EngineConfig;
use plexus::engine::gate::SecurityConfig;
use plexus::engine::gate::ratelimit::Limit;
use plexus::engine::{Engine, EngineOptions};
use plexus::neuron::{SimConfig, SimFleet};

/// A dry-run config push: admitted, rate-limited, audited and planned; nothing is sent.
fn push(_i: usize) -> Command {
    Command::BroadcastConfig {
        config: Box::new(plexus::api::rollout::NeuronConfig::initial()),
        selector: String::new(),
        expected_version: None,
        dry_run: true,
        plan: Default::default(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let security = SecurityConfig {
        // Rate-limited like the real thing, with a limit the bench never reaches.
        rate_limits: vec![(
            Permission::ConfigPush,
            Limit {
                count: u32::MAX,
                window_ms: 3_600_000,
            },
        )],
        ..SecurityConfig::default()
    };
    let engine = Engine::start(
        EngineOptions {
            config: EngineConfig::default(),
            seed: 1,
            data_dir: Some(dir.path().to_path_buf()),
            virtual_time: false,
            virtual_epoch_unix_ms: None,
            security,
            first_admin: "bench".into(),
            ca_key: None,
        },
        Box::new(SimFleet::new(&SimConfig {
            neurons: 0,
            ..SimConfig::default()
        })),
    )
    .expect("engine");
    let backend = Arc::new(
        Embedded::connect(engine.clone(), "bench", "bench", false)
            .await
            .expect("session"),
    );

    let n = 2000;
    let mut latencies = Vec::with_capacity(n);
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        backend.submit(push(i)).await.expect("admitted");
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let sequential_rate = n as f64 / started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    println!(
        "gate, sequential: median {:.0} µs, p99 {:.0} µs per command; {:.0} commands/s",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        sequential_rate
    );

    let concurrent = 64;
    let per_task = 100;
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrent)
        .map(|t| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    backend
                        .submit(push(t * per_task + i))
                        .await
                        .expect("admitted");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let rate = (concurrent * per_task) as f64 / started.elapsed().as_secs_f64();
    println!("gate, {concurrent} concurrent submitters: {rate:.0} commands/s (group commit)");
    drop(backend);
    engine.shutdown();
}
