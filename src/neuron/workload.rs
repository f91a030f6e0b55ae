//! The requests a neuron serves, as a queueing model: arrivals follow a slow daily-like cycle
//! as a Poisson process, service is an M/M/1 queue at the neuron's capacity. Telemetry is what this
//! model produced over the last interval, so a slowed neuron really saturates, queues and sheds.

use rand::Rng;
use rand_distr::{Binomial, Distribution, Poisson};

use crate::api::Millis;
use crate::api::wire::Telemetry;

/// Above this utilisation the queue is treated as saturated: it sheds what exceeds capacity.
const SATURATION: f64 = 0.98;
/// Requests that fail even on a healthy neuron.
const BASE_ERROR_RATE: f64 = 0.001;
/// Period of the load cycle (short, so that it is visible in a console session).
const CYCLE_MS: f64 = 600_000.0;

#[derive(Debug, Clone)]
pub struct Workload {
    /// Mean time to serve one request on a healthy neuron.
    service_ms: f64,
    base_rps: f64,
    cycle_phase: f64,
    requests_total: u64,
}

impl Workload {
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let service_ms = rng.random_range(6.0..16.0);
        let capacity = 1000.0 / service_ms;
        Workload {
            service_ms,
            base_rps: capacity * rng.random_range(0.3..0.55),
            cycle_phase: rng.random_range(0.0..std::f64::consts::TAU),
            requests_total: 0,
        }
    }

    pub fn requests_total(&self) -> u64 {
        self.requests_total
    }

    /// Serve `dt_ms` of traffic ending at `now`; `slowdown` multiplies the service time.
    pub fn advance<R: Rng + ?Sized>(
        &mut self,
        now: Millis,
        dt_ms: Millis,
        slowdown: f64,
        rng: &mut R,
    ) -> Telemetry {
        let dt = dt_ms.max(1) as f64 / 1000.0;
        let cycle = (std::f64::consts::TAU * now as f64 / CYCLE_MS + self.cycle_phase).sin();
        let rate = self.base_rps * (1.0 + 0.3 * cycle);
        let arrivals = Poisson::new(rate * dt).map_or(0.0, |p| p.sample(rng));
        let service_ms = self.service_ms * slowdown.max(1.0);
        let capacity = 1000.0 / service_ms;
        let utilisation = arrivals / dt / capacity;
        let (mean_ms, shed) = if utilisation < SATURATION {
            (service_ms / (1.0 - utilisation), 0.0)
        } else {
            // A full queue: latency at its ceiling, the excess is refused.
            (
                service_ms / (1.0 - SATURATION),
                1.0 - SATURATION / utilisation,
            )
        };
        let served = arrivals as u64;
        let base_errors = Binomial::new(served, BASE_ERROR_RATE).map_or(0, |b| b.sample(rng));
        let errors = base_errors as f64 + arrivals * shed;
        self.requests_total += arrivals as u64;
        Telemetry {
            requests_total: self.requests_total,
            rps: arrivals / dt,
            // The sojourn time of an M/M/1 queue is exponential: median = mean·ln 2.
            latency_p50_ms: mean_ms * std::f64::consts::LN_2,
            latency_p95_ms: mean_ms * 20f64.ln(),
            error_rate: if arrivals > 0.0 {
                (errors / arrivals).min(1.0)
            } else {
                0.0
            },
            load: utilisation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg32;

    #[test]
    fn a_healthy_neuron_serves_with_low_latency_and_few_errors() {
        let mut rng = Pcg32::seed_from_u64(1);
        let mut w = Workload::new(&mut rng);
        let t = w.advance(1000, 1000, 1.0, &mut rng);
        assert!(t.is_valid());
        assert!(t.load < 0.9, "load {}", t.load);
        assert!(t.latency_p50_ms < 100.0, "p50 {}", t.latency_p50_ms);
        assert!(t.error_rate < 0.05);
        assert_eq!(t.requests_total, w.requests_total());
    }

    #[test]
    fn a_tenfold_slowdown_saturates_the_queue_and_sheds_load() {
        let mut rng = Pcg32::seed_from_u64(2);
        let mut w = Workload::new(&mut rng);
        let t = w.advance(1000, 1000, 10.0, &mut rng);
        assert!(t.load > 1.0);
        assert!(t.latency_p50_ms > 500.0, "p50 {}", t.latency_p50_ms);
        assert!(t.error_rate > 0.3, "errors {}", t.error_rate);
    }
}
