//! The open-model schedule: every request gets the moment it should start, from the phases'
//! arrival rates alone — never from how fast earlier requests came back (that would hide a
//! stalled server: coordinated omission). Request k starts when the cumulative arrivals
//! Λ(t) = ∫ rate reach k; within a linear ramp Λ is quadratic and solved exactly.

use std::time::Duration;

use super::profile::Phase;

/// One scheduled request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    /// 0-based request number over the whole run.
    pub seq: u64,
    /// Intended start, from the start of the run.
    pub at: Duration,
    pub phase: usize,
}

/// Iterates the intended start times of a run; pure arithmetic, so a test drives it without a
/// clock at all.
pub struct Schedule<'a> {
    phases: &'a [Phase],
    phase: usize,
    /// Where the current phase starts, in time and in cumulative arrivals.
    phase_start: f64,
    phase_arrivals: f64,
    next: u64,
}

impl<'a> Schedule<'a> {
    pub fn new(phases: &'a [Phase]) -> Self {
        Schedule {
            phases,
            phase: 0,
            phase_start: 0.0,
            phase_arrivals: 0.0,
            next: 0,
        }
    }
}

/// Arrivals in the first `t` seconds of a phase ramping `r0 → r1` over `d` seconds.
fn arrivals(r0: f64, r1: f64, d: f64, t: f64) -> f64 {
    if d <= 0.0 {
        return 0.0;
    }
    r0 * t + (r1 - r0) * t * t / (2.0 * d)
}

/// The time at which a phase has seen `x` arrivals: the root of a·t² + r0·t − x = 0, in the
/// form that stays exact when the ramp is flat (a = 0).
fn time_of(r0: f64, r1: f64, d: f64, x: f64) -> f64 {
    let a = (r1 - r0) / (2.0 * d);
    let disc = (r0 * r0 + 4.0 * a * x).max(0.0);
    let den = r0 + disc.sqrt();
    if den <= 0.0 { 0.0 } else { 2.0 * x / den }
}

impl Iterator for Schedule<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        loop {
            let p = self.phases.get(self.phase)?;
            let d = p.duration.as_secs_f64();
            let total = arrivals(p.arrival_rate, p.ramp_to, d, d);
            let x = self.next as f64 - self.phase_arrivals;
            if x < total {
                let t = time_of(p.arrival_rate, p.ramp_to, d, x).min(d);
                let slot = Slot {
                    seq: self.next,
                    at: Duration::from_secs_f64(self.phase_start + t),
                    phase: self.phase,
                };
                self.next += 1;
                return Some(slot);
            }
            self.phase += 1;
            self.phase_start += d;
            self.phase_arrivals += total;
        }
    }
}

/// The target rate at `at` (for the live view and the per-second rows).
pub fn rate_at(phases: &[Phase], at: Duration) -> (usize, f64) {
    let mut start = Duration::ZERO;
    for (i, p) in phases.iter().enumerate() {
        if at < start + p.duration {
            let f = (at - start).as_secs_f64() / p.duration.as_secs_f64().max(1e-9);
            return (i, p.arrival_rate + (p.ramp_to - p.arrival_rate) * f);
        }
        start += p.duration;
    }
    (phases.len().saturating_sub(1), 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(secs: u64, from: f64, to: f64) -> Phase {
        Phase {
            name: "p".into(),
            duration: Duration::from_secs(secs),
            arrival_rate: from,
            ramp_to: to,
            subscribers: 0,
            concurrency: 0,
        }
    }

    fn ms(s: &Slot) -> f64 {
        s.at.as_secs_f64() * 1e3
    }

    #[test]
    fn a_flat_phase_spaces_requests_evenly() {
        let phases = [phase(1, 10.0, 10.0)];
        let at: Vec<f64> = Schedule::new(&phases).map(|s| ms(&s)).collect();
        assert_eq!(at.len(), 10);
        for (k, t) in at.iter().enumerate() {
            assert!((t - 100.0 * k as f64).abs() < 1e-6, "{k}: {t}");
        }
    }

    #[test]
    fn a_ramp_follows_the_integral_of_its_rate() {
        // 0 → 10 req/s over 10 s: Λ(t) = t²/2, so request k starts at √(2k) s; 50 in all.
        let phases = [phase(10, 0.0, 10.0)];
        let slots: Vec<Slot> = Schedule::new(&phases).collect();
        assert_eq!(slots.len(), 50);
        for s in &slots {
            let want = (2.0 * s.seq as f64).sqrt() * 1e3;
            assert!(
                (ms(s) - want).abs() < 1e-6,
                "{}: {} vs {want}",
                s.seq,
                ms(s)
            );
        }
        // A ramp down mirrors it: 10 → 0 over 10 s also holds 50 requests, denser early.
        let down: Vec<Slot> = Schedule::new(&[phase(10, 10.0, 0.0)]).collect();
        assert_eq!(down.len(), 50);
        assert!(down[1].at < Duration::from_millis(101));
        assert!(down[49].at > Duration::from_secs(8));
    }

    #[test]
    fn phases_follow_each_other_and_zero_rate_phases_are_quiet() {
        let phases = [phase(1, 4.0, 4.0), phase(2, 0.0, 0.0), phase(1, 2.0, 2.0)];
        let slots: Vec<Slot> = Schedule::new(&phases).collect();
        let at: Vec<f64> = slots.iter().map(ms).collect();
        assert_eq!(at.len(), 6);
        assert!((at[4] - 3000.0).abs() < 1e-6 && (at[5] - 3500.0).abs() < 1e-6);
        assert_eq!(slots[4].phase, 2);
        assert_eq!(rate_at(&phases, Duration::from_millis(1500)), (1, 0.0));
    }
}
