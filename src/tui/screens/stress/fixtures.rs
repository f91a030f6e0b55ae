//! Canned stress progress for snapshot tests: a test running in its peak phase with a breached
//! threshold, and one that finished clean.

use crate::api::stress::{Latency, Progress, Verdict};

fn verdict(scope: &str, threshold: &str, observed: f64, passed: bool) -> Verdict {
    Verdict {
        scope: scope.into(),
        threshold: threshold.into(),
        observed: Some(observed),
        passed,
    }
}

/// 42 s into the elasticity profile, in its peak phase.
pub fn running() -> Progress {
    Progress {
        id: "st-19a4c0ffee0".into(),
        profile: "elasticity".into(),
        state: "running".into(),
        phase: "peak".into(),
        elapsed_s: 42.0,
        duration_s: 90.0,
        phase_left_s: 8.0,
        target_rps: 400.0,
        achieved_rps: 352.0,
        in_flight: 37,
        ok: 9_120,
        refused: 48,
        errors: 6,
        dropped: 11,
        latency_ms: Latency {
            p50: 3.42,
            p95: 41.7,
            p99: 212.0,
            max: 1_480.0,
        },
        send_latency_ms: Latency {
            p50: 2.9,
            p95: 18.3,
            p99: 64.1,
            max: 410.0,
        },
        rps_series: (0..42)
            .map(|s| match s {
                0..10 => 50.0,
                10..25 => 50.0 + (s - 10) as f64 * 16.0,
                _ => 300.0 + ((s * 37) % 60) as f64,
            })
            .collect(),
        codes: vec![("rate_limited".into(), 48), ("timeout".into(), 6)],
        verdicts: vec![
            verdict("global", "p95 < 250ms", 41.7, true),
            verdict("global", "error_rate < 0.1%", 6.0 / 9174.0, true),
            verdict("phase:peak", "p99 < 200ms", 212.0, false),
        ],
    }
}

/// The smoke profile, finished, every threshold passed.
pub fn finished() -> Progress {
    Progress {
        id: "st-19a4c0ff000".into(),
        profile: "smoke".into(),
        state: "finished".into(),
        phase: "steady".into(),
        elapsed_s: 10.0,
        duration_s: 10.0,
        phase_left_s: 0.0,
        target_rps: 50.0,
        achieved_rps: 50.0,
        ok: 500,
        latency_ms: Latency {
            p50: 0.81,
            p95: 2.4,
            p99: 5.2,
            max: 9.9,
        },
        send_latency_ms: Latency {
            p50: 0.8,
            p95: 2.3,
            p99: 5.0,
            max: 9.8,
        },
        rps_series: vec![50.0; 10],
        verdicts: vec![verdict("global", "p99 < 250ms", 5.2, true)],
        ..Progress::default()
    }
}
