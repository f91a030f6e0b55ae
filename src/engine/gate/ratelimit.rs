//! Rate limits as a sliding log: at most `count` admissions in any `window`. (A GCRA limiter set
//! to 50/hour admits about 99 in the first rolling hour; a sliding log admits exactly 50.)
//! Admissions are stored, so a restart does not reset them: the engine reloads the window.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

use crate::api::Permission;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub count: u32,
    pub window_ms: u64,
}

/// Default limits per action class (README, The gate: 50 config pushes per hour per user).
pub fn default_limits() -> Vec<(Permission, Limit)> {
    let hour = 3_600_000;
    vec![
        (
            Permission::ConfigPush,
            Limit {
                count: 50,
                window_ms: hour,
            },
        ),
        (
            Permission::ExperimentDeploy,
            Limit {
                count: 50,
                window_ms: hour,
            },
        ),
        (
            Permission::NeuronRecover,
            Limit {
                count: 120,
                window_ms: hour,
            },
        ),
        (
            Permission::NeuronFault,
            Limit {
                count: 600,
                window_ms: hour,
            },
        ),
        // Cheap actions are still bounded: each writes an audit record and a store row.
        (
            Permission::AlertAck,
            Limit {
                count: 600,
                window_ms: hour,
            },
        ),
        (
            Permission::AlertSilence,
            Limit {
                count: 120,
                window_ms: hour,
            },
        ),
    ]
}

/// Agent registrations one user may make per minute (kept in memory: a restart forgets them).
/// A stress test registers its mock neurons in a burst; 5,000 leaves room for that and bounds
/// what a leaked agents' token can flood the registry with.
pub const REGISTRATIONS: Limit = Limit {
    count: 5_000,
    window_ms: 60_000,
};

#[derive(Debug, Default)]
pub struct RateLimiter {
    limits: HashMap<Permission, Limit>,
    log: HashMap<(String, Permission), VecDeque<i64>>,
}

impl RateLimiter {
    pub fn new(limits: impl IntoIterator<Item = (Permission, Limit)>) -> Self {
        RateLimiter {
            limits: limits.into_iter().collect(),
            log: HashMap::new(),
        }
    }

    /// The longest window: how far back stored admissions matter.
    pub fn horizon_ms(&self) -> u64 {
        self.limits.values().map(|l| l.window_ms).max().unwrap_or(0)
    }

    pub fn limit(&self, action: Permission) -> Option<Limit> {
        self.limits.get(&action).copied()
    }

    /// Replay an admission from the store.
    pub fn restore(&mut self, user: &str, action: Permission, at_unix_ms: i64) {
        let log = self.log.entry((user.to_string(), action)).or_default();
        log.push_back(at_unix_ms);
        log.make_contiguous().sort_unstable();
    }

    /// Admit (and record) or refuse with the Unix ms at which the oldest admission in the window
    /// leaves it.
    pub fn admit(&mut self, user: &str, action: Permission, now_unix_ms: i64) -> Result<(), i64> {
        let Some(limit) = self.limit(action) else {
            return Ok(());
        };
        let log = self.log.entry((user.to_string(), action)).or_default();
        let horizon = now_unix_ms - limit.window_ms as i64;
        while log.front().is_some_and(|at| *at <= horizon) {
            log.pop_front();
        }
        if log.len() >= limit.count as usize {
            let oldest = log.front().copied().unwrap_or(now_unix_ms);
            return Err(oldest + limit.window_ms as i64);
        }
        log.push_back(now_unix_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> RateLimiter {
        RateLimiter::new([(
            Permission::ConfigPush,
            Limit {
                count: 50,
                window_ms: 3_600_000,
            },
        )])
    }

    #[test]
    fn at_most_fifty_in_any_hour_not_ninety_nine() {
        let mut rl = limiter();
        let mut admitted = 0;
        // One attempt a minute for two hours: a sliding log admits 50 in the first hour and
        // only as many more as leave the window after it.
        for minute in 0..120i64 {
            if rl
                .admit("ann", Permission::ConfigPush, minute * 60_000)
                .is_ok()
            {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 50 + 50);
        let mut rl = limiter();
        let first_hour = (0..3600i64)
            .filter(|s| rl.admit("ann", Permission::ConfigPush, s * 1000).is_ok())
            .count();
        assert_eq!(first_hour, 50);
    }

    #[test]
    fn a_refusal_says_when_to_retry_and_users_are_counted_apart() {
        let mut rl = limiter();
        for i in 0..50 {
            rl.admit("ann", Permission::ConfigPush, 1000 + i).unwrap();
        }
        assert_eq!(
            rl.admit("ann", Permission::ConfigPush, 5000),
            Err(1000 + 3_600_000)
        );
        assert!(rl.admit("bob", Permission::ConfigPush, 5000).is_ok());
        assert!(
            rl.admit("ann", Permission::NeuronView, 5000).is_ok(),
            "unlimited action"
        );
        assert!(
            rl.admit("ann", Permission::ConfigPush, 1000 + 3_600_000)
                .is_ok()
        );
    }
}
