//! Where results go: HDR histograms (fixed memory whatever the request count) for the whole run,
//! each phase, each scenario and each (phase, scenario, outcome), plus one row per second. No
//! per-request vector exists, so memory stays flat in a soak.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

use super::profile::Scenario;
use super::threshold::Measured;

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestOutcome {
    Ok,
    /// The gate said no (denied, rate-limited): the system worked, the request was refused.
    Refused,
    Error,
}

impl RequestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestOutcome::Ok => "ok",
            RequestOutcome::Refused => "refused",
            RequestOutcome::Error => "error",
        }
    }
}

/// Latencies are kept in microseconds, from 1 µs to 10 minutes, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("static histogram bounds are valid")
}

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}

/// Counts and latencies of one scope (the run, a phase, a scenario, one second).
#[derive(Clone)]
pub struct Stats {
    /// From the intended start (corrected for coordinated omission).
    pub corrected: Histogram<u64>,
    /// From the moment the request was actually sent.
    pub sent: Histogram<u64>,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    pub dropped: u64,
    /// Error and refusal codes seen (`rate_limited`, `unreachable`, …).
    pub codes: BTreeMap<String, u64>,
    /// How long the scope lasted, for rates.
    pub seconds: f64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            corrected: histogram(),
            sent: histogram(),
            ok: 0,
            refused: 0,
            errors: 0,
            dropped: 0,
            codes: BTreeMap::new(),
            seconds: 0.0,
        }
    }
}

impl Stats {
    pub fn record(
        &mut self,
        outcome: RequestOutcome,
        code: Option<&str>,
        corrected: Duration,
        sent: Duration,
    ) {
        self.corrected.saturating_record(us(corrected));
        self.sent.saturating_record(us(sent));
        match outcome {
            RequestOutcome::Ok => self.ok += 1,
            RequestOutcome::Refused => self.refused += 1,
            RequestOutcome::Error => self.errors += 1,
        }
        if let Some(code) = code {
            *self.codes.entry(code.to_string()).or_default() += 1;
        }
    }

    pub fn answered(&self) -> u64 {
        self.ok + self.refused + self.errors
    }

    fn rate(&self, n: u64, of: u64) -> f64 {
        if of == 0 { 0.0 } else { n as f64 / of as f64 }
    }

    pub fn sent_percentile_ms(&self, q: f64) -> f64 {
        if self.sent.is_empty() {
            0.0
        } else {
            self.sent.value_at_quantile(q / 100.0) as f64 / 1e3
        }
    }

    pub fn latency(&self) -> Latency {
        Latency {
            p50: self.percentile_ms(50.0),
            p95: self.percentile_ms(95.0),
            p99: self.percentile_ms(99.0),
            max: self.max_ms(),
        }
    }

    pub fn send_latency(&self) -> Latency {
        Latency {
            p50: self.sent_percentile_ms(50.0),
            p95: self.sent_percentile_ms(95.0),
            p99: self.sent_percentile_ms(99.0),
            max: self.sent.max() as f64 / 1e3,
        }
    }
}

impl Measured for Stats {
    fn percentile_ms(&self, q: f64) -> f64 {
        if self.corrected.is_empty() {
            0.0
        } else {
            self.corrected.value_at_quantile(q / 100.0) as f64 / 1e3
        }
    }
    fn max_ms(&self) -> f64 {
        self.corrected.max() as f64 / 1e3
    }
    fn mean_ms(&self) -> f64 {
        self.corrected.mean() / 1e3
    }
    fn error_rate(&self) -> f64 {
        self.rate(self.errors, self.answered())
    }
    fn refused_rate(&self) -> f64 {
        self.rate(self.refused, self.answered())
    }
    fn dropped_rate(&self) -> f64 {
        self.rate(self.dropped, self.answered() + self.dropped)
    }
    fn rps(&self) -> f64 {
        if self.seconds <= 0.0 {
            0.0
        } else {
            self.answered() as f64 / self.seconds
        }
    }
}

pub use crate::api::stress::Latency;

/// One second of the run (a `metrics.csv` row, a point of the charts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub second: u64,
    pub phase: String,
    pub target_rps: f64,
    /// Requests answered in this second.
    pub achieved_rps: f64,
    pub ok: u64,
    pub refused: u64,
    pub errors: u64,
    pub dropped: u64,
    pub in_flight: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// p99 from the actual send: far below `p99_ms` means the generator or its cap was late.
    pub send_p99_ms: f64,
}

/// Everything a run measured.
#[derive(Default)]
pub struct Recorder {
    pub total: Stats,
    pub phases: Vec<Stats>,
    pub scenarios: BTreeMap<Scenario, Stats>,
    pub by_outcome: BTreeMap<(usize, Scenario, RequestOutcome), Histogram<u64>>,
    pub rows: Vec<Row>,
    second: Stats,
}

impl Recorder {
    pub fn new(phases: usize) -> Self {
        Recorder {
            phases: vec![Stats::default(); phases],
            ..Recorder::default()
        }
    }

    pub fn record(
        &mut self,
        phase: usize,
        scenario: Scenario,
        outcome: RequestOutcome,
        code: Option<&str>,
        corrected: Duration,
        sent: Duration,
    ) {
        self.total.record(outcome, code, corrected, sent);
        self.second.record(outcome, code, corrected, sent);
        if let Some(p) = self.phases.get_mut(phase) {
            p.record(outcome, code, corrected, sent);
        }
        self.scenarios
            .entry(scenario)
            .or_default()
            .record(outcome, code, corrected, sent);
        self.by_outcome
            .entry((phase, scenario, outcome))
            .or_insert_with(histogram)
            .saturating_record(us(corrected));
    }

    pub fn drop_one(&mut self, phase: usize, scenario: Scenario) {
        self.total.dropped += 1;
        self.second.dropped += 1;
        if let Some(p) = self.phases.get_mut(phase) {
            p.dropped += 1;
        }
        self.scenarios.entry(scenario).or_default().dropped += 1;
    }

    /// The totals so far, without the time series (to check thresholds mid-run).
    pub fn totals(&self) -> Recorder {
        Recorder {
            total: self.total.clone(),
            phases: self.phases.clone(),
            scenarios: self.scenarios.clone(),
            ..Recorder::default()
        }
    }

    /// Close the current second into a row.
    pub fn close_second(&mut self, second: u64, phase: &str, target_rps: f64, in_flight: u64) {
        let s = std::mem::take(&mut self.second);
        let l = s.latency();
        self.rows.push(Row {
            second,
            phase: phase.to_string(),
            target_rps,
            achieved_rps: s.answered() as f64,
            ok: s.ok,
            refused: s.refused,
            errors: s.errors,
            dropped: s.dropped,
            in_flight,
            p50_ms: l.p50,
            p95_ms: l.p95,
            p99_ms: l.p99,
            max_ms: l.max,
            send_p99_ms: s.sent_percentile_ms(99.0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn percentiles_of_a_uniform_distribution() {
        let mut s = Stats::default();
        for ms in 1..=1000u64 {
            let d = Duration::from_millis(ms);
            s.record(RequestOutcome::Ok, None, d, d);
        }
        for (q, want) in [(50.0, 500.0), (95.0, 950.0), (99.0, 990.0)] {
            let got = s.percentile_ms(q);
            assert!((got - want).abs() <= want * 0.002, "p{q}: {got} vs {want}");
        }
        assert!((s.max_ms() - 1000.0).abs() < 1.0);
    }

    #[test]
    fn percentiles_of_an_exponential_distribution() {
        // Exponential with mean 10 ms: the q-quantile is −10·ln(1−q) ms.
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let mut s = Stats::default();
        for _ in 0..200_000 {
            let u: f64 = rng.random();
            let d = Duration::from_secs_f64(-0.010 * (1.0 - u).ln());
            s.record(RequestOutcome::Ok, None, d, d);
        }
        for q in [50.0, 95.0, 99.0] {
            let want = -10.0 * (1.0 - q / 100.0f64).ln();
            let got = s.percentile_ms(q);
            assert!((got - want).abs() / want < 0.03, "p{q}: {got} vs {want}");
        }
    }

    #[test]
    fn rates_split_errors_refusals_and_drops() {
        let mut r = Recorder::new(1);
        let d = Duration::from_millis(1);
        for i in 0..100 {
            let o = match i % 10 {
                0 => RequestOutcome::Error,
                1 => RequestOutcome::Refused,
                _ => RequestOutcome::Ok,
            };
            r.record(0, Scenario::Status, o, None, d, d);
        }
        r.drop_one(0, Scenario::Status);
        assert!((r.total.error_rate() - 0.1).abs() < 1e-9);
        assert!((r.total.refused_rate() - 0.1).abs() < 1e-9);
        assert!((r.total.dropped_rate() - 1.0 / 101.0).abs() < 1e-9);
        r.close_second(0, "p", 100.0, 0);
        assert_eq!(r.rows[0].achieved_rps, 100.0);
        assert_eq!(r.rows[0].dropped, 1);
    }
}
