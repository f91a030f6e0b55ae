//! Once a second during a run: this process's CPU and memory (from /proc/self), the engine's
//! counters and the fleet's health, read through the backend like any face would.

use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::api::metrics::EngineMetrics;
use crate::api::{StateCounts, ask};
use crate::client::{Backend, BackendExt};

#[derive(Debug, Clone, Serialize)]
pub struct SystemSample {
    pub second: u64,
    /// CPU time of this process over the last second, in percent of one core.
    pub cpu_percent: Option<f64>,
    pub rss_kb: Option<u64>,
    pub engine: Option<EngineMetrics>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthSample {
    pub second: u64,
    pub neurons: StateCounts,
    pub failures: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Samples {
    pub system: Vec<SystemSample>,
    pub health: Vec<HealthSample>,
}

/// Resident memory of this process, in kB.
pub fn rss_kb() -> Option<u64> {
    super::procfs::rss_kb("self")
}

fn cpu_seconds() -> Option<f64> {
    super::procfs::cpu_seconds("self")
}

/// Sample every second until `stop` is set.
pub async fn sample(backend: Arc<dyn Backend>, stop: Arc<AtomicBool>) -> Samples {
    let mut out = Samples::default();
    let start = tokio::time::Instant::now();
    let mut cpu = cpu_seconds();
    let mut second = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let now_cpu = cpu_seconds();
        let cpu_percent = match (cpu, now_cpu) {
            (Some(a), Some(b)) if second > 0 => Some((b - a) * 100.0),
            _ => None,
        };
        cpu = now_cpu;
        let engine = backend.ask(ask::metrics()).await.ok();
        out.system.push(SystemSample {
            second,
            cpu_percent,
            rss_kb: rss_kb(),
            engine,
        });
        if let Ok(status) = backend.status().await {
            out.health.push(HealthSample {
                second,
                neurons: status.neurons,
                failures: status.failures.len(),
            });
        }
        second += 1;
        let next = start + Duration::from_secs(second);
        while tokio::time::Instant::now() < next && !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    out
}
