//! Injected time. The engine reads time only through [`Clock`], so detection, back-off and
//! everything else about time is tested with a [`FakeClock`] in milliseconds, not real sleeps.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::api::Millis;

pub trait Clock: Send + Sync {
    /// Monotonic milliseconds since the clock was created.
    fn now(&self) -> Millis;
    /// Wall-clock Unix milliseconds corresponding to `now()`.
    fn unix_ms_at(&self, at: Millis) -> i64;
    fn unix_ms(&self) -> i64 {
        self.unix_ms_at(self.now())
    }
}

/// RFC 3339 UTC time (millisecond precision) of a Unix millisecond timestamp.
pub fn rfc3339(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The real clock.
pub struct SystemClock {
    start: Instant,
    start_unix_ms: i64,
}

impl SystemClock {
    pub fn new() -> Self {
        SystemClock {
            start: Instant::now(),
            start_unix_ms: chrono::Utc::now().timestamp_millis(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }
    fn unix_ms_at(&self, at: Millis) -> i64 {
        self.start_unix_ms + at as i64
    }
}

/// A clock that moves only when told to. Clones share the same time.
#[derive(Clone)]
pub struct FakeClock {
    now: Arc<AtomicU64>,
    epoch_unix_ms: i64,
}

impl FakeClock {
    /// 2026-01-01T00:00:00Z: a fixed epoch so that simulated runs print reproducible times.
    pub const EPOCH_UNIX_MS: i64 = 1_767_225_600_000;

    pub fn new() -> Self {
        Self::starting_at(Self::EPOCH_UNIX_MS)
    }
    /// A clock whose time 0 is `epoch_unix_ms` on the wall.
    pub fn starting_at(epoch_unix_ms: i64) -> Self {
        FakeClock {
            now: Arc::new(AtomicU64::new(0)),
            epoch_unix_ms,
        }
    }
    pub fn advance(&self, ms: Millis) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn set(&self, at: Millis) {
        self.now.store(at, Ordering::SeqCst);
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
    fn unix_ms_at(&self, at: Millis) -> i64 {
        self.epoch_unix_ms + at as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_told() {
        let clock = FakeClock::new();
        let shared = clock.clone();
        assert_eq!(clock.now(), 0);
        shared.advance(1500);
        assert_eq!(clock.now(), 1500);
        assert_eq!(rfc3339(clock.unix_ms()), "2026-01-01T00:00:01.500Z");
    }
}
