//! Learning-rate schedules for the clients' local SGD.

/// How the learning rate moves over rounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LrSchedule {
    Constant,
    /// × gamma every `every` rounds.
    Step {
        every: u32,
        gamma: f64,
    },
    /// × gamma each round.
    Exponential {
        gamma: f64,
    },
    /// × factor when the loss has not improved for `patience` rounds, never below `min`.
    ReduceOnPlateau {
        patience: u32,
        factor: f64,
        min: f64,
    },
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    pub base: f64,
    pub schedule: LrSchedule,
    current: f64,
    best_loss: f64,
    stale_rounds: u32,
}

impl Scheduler {
    pub fn new(base: f64, schedule: LrSchedule) -> Self {
        Scheduler {
            base,
            schedule,
            current: base,
            best_loss: f64::INFINITY,
            stale_rounds: 0,
        }
    }

    /// The rate for `round` (1-based).
    pub fn lr(&self, round: u32) -> f64 {
        let r = round.saturating_sub(1);
        match self.schedule {
            LrSchedule::Constant => self.base,
            LrSchedule::Step { every, gamma } => self.base * gamma.powi((r / every.max(1)) as i32),
            LrSchedule::Exponential { gamma } => self.base * gamma.powi(r as i32),
            LrSchedule::ReduceOnPlateau { .. } => self.current,
        }
    }

    /// Feed the round's loss (only reduce-on-plateau listens).
    pub fn observe(&mut self, loss: f64) {
        if let LrSchedule::ReduceOnPlateau {
            patience,
            factor,
            min,
        } = self.schedule
        {
            if loss < self.best_loss - 1e-9 {
                self.best_loss = loss;
                self.stale_rounds = 0;
            } else {
                self.stale_rounds += 1;
                if self.stale_rounds >= patience {
                    self.current = (self.current * factor).max(min);
                    self.stale_rounds = 0;
                }
            }
        }
    }
}

/// Staleness-aware weight for async modes (FedAsync's polynomial rule): an update computed τ
/// versions ago counts (1 + τ)^(−a).
pub fn staleness_weight(staleness: u32, a: f64) -> f64 {
    (1.0 + staleness as f64).powf(-a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_their_formulas() {
        let s = Scheduler::new(
            0.1,
            LrSchedule::Step {
                every: 10,
                gamma: 0.5,
            },
        );
        assert_eq!((s.lr(1), s.lr(10), s.lr(11)), (0.1, 0.1, 0.05));
        let e = Scheduler::new(1.0, LrSchedule::Exponential { gamma: 0.9 });
        assert!((e.lr(3) - 0.81).abs() < 1e-12);
        let mut p = Scheduler::new(
            1.0,
            LrSchedule::ReduceOnPlateau {
                patience: 2,
                factor: 0.5,
                min: 0.3,
            },
        );
        for loss in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95] {
            p.observe(loss);
        }
        assert_eq!(p.lr(9), 0.3);
        assert_eq!(staleness_weight(3, 0.5), 0.5);
    }
}
