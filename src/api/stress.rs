//! What crosses a boundary about a stress test: the start request, the answer, and the live
//! progress a status endpoint, the progress bar and the console's Stress view all read.

use serde::{Deserialize, Serialize};

/// Start a stress test (`POST /api/federation/stress-test/start`, the console's `:stress`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressRequest {
    /// A built-in profile: smoke, federation, elasticity, baseline, medium, high, spike, soak (a local console may name a file).
    #[serde(default = "smoke")]
    pub profile: String,
    /// Scale the phases to this many seconds.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Mock neurons to register first.
    #[serde(default)]
    pub neurons: Option<u32>,
    #[serde(default)]
    pub thresholds: Vec<String>,
}

fn smoke() -> String {
    "smoke".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StressStarted {
    pub test_id: String,
    /// Where its progress is read.
    pub status: String,
}

/// p50/p95/p99/max in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// One threshold's verdict, for the reports and the live view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub scope: String,
    pub threshold: String,
    /// `None` when the scope saw no request (a phase or scenario that never ran): not a breach.
    pub observed: Option<f64>,
    pub passed: bool,
}

/// What a running test shows (status endpoint, progress bar, console view).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    pub id: String,
    pub profile: String,
    /// `running`, `finished`, `stopped`, `aborted` (a threshold breached) or `failed: …`.
    pub state: String,
    pub phase: String,
    pub elapsed_s: f64,
    pub duration_s: f64,
    /// Until the current phase ends.
    pub phase_left_s: f64,
    pub target_rps: f64,
    /// Answered in the last full second.
    pub achieved_rps: f64,
    pub in_flight: u64,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Corrected latency (from the intended start) over the run so far.
    pub latency_ms: Latency,
    /// Latency from the actual send over the run so far.
    pub send_latency_ms: Latency,
    /// Answered per second, the last 120 seconds.
    pub rps_series: Vec<f64>,
    /// Error and refusal codes seen, with their counts.
    pub codes: Vec<(String, u64)>,
    /// Every threshold as of the last full second.
    pub verdicts: Vec<Verdict>,
}

impl Progress {
    /// Still producing load.
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}
