//! The local-health guard. When the engine itself is the problem (its tick stalled, or its view
//! of the network broke so that much of the fleet went silent at once), convicting neurons one by
//! one would be wrong and would trigger a storm of pointless recoveries. Instead it raises one
//! fleet-level condition and holds convictions back.

use std::collections::VecDeque;

use crate::api::Millis;
use crate::engine::config::GuardConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardChange {
    StallRaised { gap_ms: Millis },
    StallCleared,
    SilenceRaised { recent: usize, total: usize },
    SilenceCleared,
}

pub struct HealthGuard {
    cfg: GuardConfig,
    last_tick: Option<Millis>,
    stall_until: Option<Millis>,
    pub stall_since: Option<Millis>,
    pub silence_since: Option<Millis>,
    recent_suspicions: VecDeque<Millis>,
    /// How far back a suspicion counts as "at once".
    silence_window_ms: Millis,
    /// How long convictions stay held after a stall ends.
    stall_grace_ms: Millis,
}

impl HealthGuard {
    pub fn new(cfg: GuardConfig, silence_window_ms: Millis, stall_grace_ms: Millis) -> Self {
        HealthGuard {
            cfg,
            last_tick: None,
            stall_until: None,
            stall_since: None,
            silence_since: None,
            recent_suspicions: VecDeque::new(),
            silence_window_ms,
            stall_grace_ms,
        }
    }

    /// Called first thing on every tick.
    pub fn on_tick(&mut self, now: Millis) -> Option<GuardChange> {
        let previous = self.last_tick.replace(now);
        let gap = now.saturating_sub(previous.unwrap_or(now));
        if gap > self.cfg.stall_ms {
            self.stall_until = Some(now + self.stall_grace_ms);
            let raised = self.stall_since.is_none();
            self.stall_since.get_or_insert(now);
            return raised.then_some(GuardChange::StallRaised { gap_ms: gap });
        }
        if self.stall_until.is_some_and(|until| now >= until) {
            self.stall_until = None;
            self.stall_since = None;
            return Some(GuardChange::StallCleared);
        }
        None
    }

    pub fn note_suspicion(&mut self, at: Millis) {
        self.recent_suspicions.push_back(at);
    }

    /// Re-judge fleet silence: `silent_now` neurons are suspect or offline out of `total`.
    pub fn evaluate_silence(
        &mut self,
        now: Millis,
        silent_now: usize,
        total: usize,
    ) -> Option<GuardChange> {
        let horizon = now.saturating_sub(self.silence_window_ms);
        while self
            .recent_suspicions
            .front()
            .is_some_and(|at| *at < horizon)
        {
            self.recent_suspicions.pop_front();
        }
        if total < self.cfg.silence_min_neurons {
            return None;
        }
        let limit = self.cfg.silence_ratio * total as f64;
        let recent = self.recent_suspicions.len();
        match self.silence_since {
            None if recent as f64 >= limit => {
                self.silence_since = Some(now);
                Some(GuardChange::SilenceRaised { recent, total })
            }
            // Hysteresis: clear only once most of the silent share is back.
            Some(_) if (silent_now as f64) < limit * 0.5 => {
                self.silence_since = None;
                Some(GuardChange::SilenceCleared)
            }
            _ => None,
        }
    }

    /// Whether a suspect neuron may be convicted now.
    pub fn may_convict(&self) -> bool {
        self.stall_since.is_none() && self.silence_since.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> HealthGuard {
        HealthGuard::new(GuardConfig::default(), 3000, 2000)
    }

    #[test]
    fn a_long_gap_between_ticks_raises_a_stall_that_clears_after_the_grace() {
        let mut g = guard();
        assert_eq!(g.on_tick(0), None);
        assert_eq!(g.on_tick(50), None);
        assert_eq!(
            g.on_tick(10_050),
            Some(GuardChange::StallRaised { gap_ms: 10_000 })
        );
        assert!(!g.may_convict());
        assert_eq!(g.on_tick(11_000), None);
        assert_eq!(g.on_tick(11_900), None);
        assert_eq!(g.on_tick(12_050), Some(GuardChange::StallCleared));
        assert!(g.may_convict());
    }

    #[test]
    fn many_suspicions_at_once_raise_silence_until_most_are_back() {
        let mut g = guard();
        for _ in 0..6 {
            g.note_suspicion(1000);
        }
        assert_eq!(
            g.evaluate_silence(1000, 6, 10),
            Some(GuardChange::SilenceRaised {
                recent: 6,
                total: 10
            })
        );
        assert!(!g.may_convict());
        assert_eq!(
            g.evaluate_silence(9000, 4, 10),
            None,
            "hysteresis holds at 4/10"
        );
        assert_eq!(
            g.evaluate_silence(9050, 2, 10),
            Some(GuardChange::SilenceCleared)
        );
    }

    #[test]
    fn suspicions_spread_over_time_do_not_count_as_at_once() {
        let mut g = guard();
        for i in 0..6 {
            g.note_suspicion(i * 10_000);
            assert_eq!(g.evaluate_silence(i * 10_000, 1, 10), None);
        }
    }
}
