//! Convergence detection: a run has converged at the first round where any enabled criterion
//! holds. The run keeps going; the report names the round and the criterion.

use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvergenceConfig {
    /// Rounds looked back over.
    pub window: usize,
    /// Loss improved by less than this fraction over the window.
    pub min_loss_improvement: f64,
    /// Best accuracy of the window beats the best before it by less than this.
    pub accuracy_plateau: f64,
    /// ‖global change‖ of the round below this.
    pub update_norm: f64,
}

impl Default for ConvergenceConfig {
    fn default() -> Self {
        ConvergenceConfig {
            window: 5,
            min_loss_improvement: 0.005,
            accuracy_plateau: 0.002,
            update_norm: 1e-3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Convergence {
    cfg: ConvergenceConfig,
    losses: VecDeque<f64>,
    accs: VecDeque<f64>,
    best_acc_before: f64,
    pub converged: Option<(u32, &'static str)>,
}

impl Convergence {
    pub fn new(cfg: ConvergenceConfig) -> Self {
        Convergence {
            cfg,
            losses: VecDeque::new(),
            accs: VecDeque::new(),
            best_acc_before: f64::NEG_INFINITY,
            converged: None,
        }
    }

    /// Feed one round; returns the criterion that fired first, if any (once).
    pub fn observe(
        &mut self,
        round: u32,
        loss: f64,
        accuracy: f64,
        update_norm: f64,
    ) -> Option<&'static str> {
        let w = self.cfg.window.max(1);
        self.losses.push_back(loss);
        self.accs.push_back(accuracy);
        if self.accs.len() > w {
            self.losses.pop_front();
            let old = self.accs.pop_front().unwrap_or(f64::NEG_INFINITY);
            self.best_acc_before = self.best_acc_before.max(old);
        }
        if self.converged.is_some() || !loss.is_finite() {
            return None;
        }
        let full = self.losses.len() == w && round as usize > w;
        let fired = if update_norm < self.cfg.update_norm {
            Some("update-norm")
        } else if full && self.loss_flat() {
            Some("loss-window")
        } else if full && self.acc_flat() {
            Some("accuracy-plateau")
        } else {
            None
        };
        if let Some(why) = fired {
            self.converged = Some((round, why));
        }
        fired
    }

    fn loss_flat(&self) -> bool {
        let (first, last) = (self.losses[0], self.losses[self.losses.len() - 1]);
        first.is_finite() && (first - last) < self.cfg.min_loss_improvement * first.abs()
    }

    fn acc_flat(&self) -> bool {
        let best = self.accs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        best - self.best_acc_before < self.cfg.accuracy_plateau
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_loss_converges_after_the_window() {
        let mut c = Convergence::new(ConvergenceConfig {
            accuracy_plateau: -1.0,
            ..Default::default()
        });
        let mut fired = None;
        for r in 1..=20u32 {
            let loss = if r < 8 { 1.0 / r as f64 } else { 0.125 };
            fired = fired.or(c
                .observe(r, loss, 0.5 + r as f64 / 100.0, 1.0)
                .map(|w| (r, w)));
        }
        assert_eq!(fired, Some((12, "loss-window")));
    }

    #[test]
    fn tiny_update_norm_converges_at_once() {
        let mut c = Convergence::new(ConvergenceConfig::default());
        assert_eq!(c.observe(1, 1.0, 0.1, 1e-6), Some("update-norm"));
    }
}
