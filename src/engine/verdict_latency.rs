//! How long the engine takes to judge a heartbeat: from its arrival (the link's delivery time,
//! or an agent request's) to the end of the step that reached a verdict on it. A fleet larger
//! than the engine can carry shows here first (steps fall behind, so arrivals wait), well before
//! any neuron is wrongly convicted; `plexus bench scale` fits its growth with fleet size.

use crate::api::Millis;
use crate::api::VerdictLatency;
use hdrhistogram::Histogram;

/// Each half of the window: the report covers the last one to two of these.
const HALF_WINDOW_MS: Millis = 10_000;
/// A verdict later than this is recorded as this (an hour: the engine was stopped).
const MAX_MS: u64 = 3_600_000;

pub struct VerdictWindow {
    current: Histogram<u64>,
    previous: Histogram<u64>,
    current_since: Millis,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MS, 3).expect("static bounds are valid")
}

impl VerdictWindow {
    pub fn new(now: Millis) -> Self {
        VerdictWindow {
            current: histogram(),
            previous: histogram(),
            current_since: now,
        }
    }

    fn rotate(&mut self, now: Millis) {
        if now >= self.current_since + 2 * HALF_WINDOW_MS {
            // Idle for a whole window: nothing in it is recent.
            self.previous.reset();
            self.current.reset();
            self.current_since = now;
        } else if now >= self.current_since + HALF_WINDOW_MS {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.reset();
            self.current_since += HALF_WINDOW_MS;
        }
    }

    /// Heartbeats that arrived at `arrivals` were judged by `end`.
    pub fn record(&mut self, arrivals: impl Iterator<Item = Millis>, end: Millis) {
        self.rotate(end);
        for at in arrivals {
            self.current
                .saturating_record(end.saturating_sub(at).clamp(0, MAX_MS));
        }
    }

    pub fn report(&self, now: Millis) -> VerdictLatency {
        let mut all = self.current.clone();
        let previous_counts = now < self.current_since + HALF_WINDOW_MS;
        if previous_counts {
            let _ = all.add(&self.previous);
        }
        let window_ms = now.saturating_sub(self.current_since)
            + if previous_counts { HALF_WINDOW_MS } else { 0 };
        if all.is_empty() {
            return VerdictLatency {
                window_ms,
                ..VerdictLatency::default()
            };
        }
        VerdictLatency {
            heartbeats: all.len(),
            p50_ms: all.value_at_quantile(0.5),
            p99_ms: all.value_at_quantile(0.99),
            max_ms: all.max(),
            window_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{HALF_WINDOW_MS, VerdictWindow};

    #[test]
    fn the_window_reports_recent_verdicts_and_forgets_old_ones() {
        let mut w = VerdictWindow::new(0);
        // 99 quick verdicts and one that waited 800 ms.
        w.record((0..99).map(|_| 995), 1_000);
        w.record(std::iter::once(200), 1_000);
        let r = w.report(1_000);
        assert_eq!((r.heartbeats, r.p50_ms, r.max_ms), (100, 5, 800));
        assert!(r.p99_ms <= 10, "the one slow verdict is beyond p99: {r:?}");
        // Half a window on: still reported, with the new ones.
        w.record(std::iter::once(HALF_WINDOW_MS + 500), HALF_WINDOW_MS + 520);
        let r = w.report(HALF_WINDOW_MS + 520);
        assert_eq!((r.heartbeats, r.max_ms), (101, 800));
        // Two windows on, idle: nothing recent.
        let later = 4 * HALF_WINDOW_MS;
        w.record(std::iter::empty(), later);
        assert_eq!(w.report(later).heartbeats, 0);
    }
}
