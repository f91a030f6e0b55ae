//! Multinomial logistic regression on a flat `Vec<f32>` (row c = class c's weights then its bias),
//! so aggregation never needs to know the model's shape.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_pcg::Pcg64;

use super::data::Dataset;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogReg {
    pub dim: usize,
    pub classes: usize,
}

/// Local training settings of a client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalSgd {
    pub epochs: usize,
    pub batch: usize,
    /// L2 penalty; keeps weights bounded on tiny non-IID partitions.
    pub l2: f32,
}

impl Default for LocalSgd {
    fn default() -> Self {
        LocalSgd {
            epochs: 2,
            batch: 16,
            l2: 1e-4,
        }
    }
}

/// Mean cross-entropy loss and accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eval {
    pub loss: f64,
    pub accuracy: f64,
}

impl LogReg {
    pub fn for_data(data: &Dataset) -> Self {
        LogReg {
            dim: data.dim,
            classes: data.classes,
        }
    }

    pub fn params(&self) -> usize {
        self.classes * (self.dim + 1)
    }

    pub fn init(&self) -> Vec<f32> {
        vec![0.0; self.params()]
    }

    /// Softmax probabilities of one (standardised) example, one per class.
    pub fn probabilities(&self, w: &[f32], x: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; self.classes];
        self.predict(w, x, &mut out);
        out
    }

    /// Softmax probabilities of one example into `out`.
    fn predict(&self, w: &[f32], x: &[f32], out: &mut [f32]) {
        let stride = self.dim + 1;
        for (c, o) in out.iter_mut().enumerate() {
            let row = &w[c * stride..(c + 1) * stride];
            *o = row[..self.dim]
                .iter()
                .zip(x)
                .map(|(a, b)| a * b)
                .sum::<f32>()
                + row[self.dim];
        }
        let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }

    /// Add the mean gradient of examples `idx` to `grad` (zeroed by the caller).
    pub fn gradient(&self, w: &[f32], data: &Dataset, idx: &[usize], grad: &mut [f32]) {
        let stride = self.dim + 1;
        let mut p = vec![0f32; self.classes];
        let scale = 1.0 / idx.len().max(1) as f32;
        for &i in idx {
            let x = data.row(i);
            self.predict(w, x, &mut p);
            p[data.y[i] as usize] -= 1.0;
            for (c, &err) in p.iter().enumerate() {
                let g = &mut grad[c * stride..(c + 1) * stride];
                let e = err * scale;
                for (gj, xj) in g[..self.dim].iter_mut().zip(x) {
                    *gj += e * xj;
                }
                g[self.dim] += e;
            }
        }
    }

    /// Local SGD from `w` on the client's own data; returns the new weights.
    pub fn train(&self, w: &[f32], data: &Dataset, lr: f32, sgd: LocalSgd, seed: u64) -> Vec<f32> {
        let mut w = w.to_vec();
        let mut grad = vec![0f32; w.len()];
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = Pcg64::seed_from_u64(seed);
        for _ in 0..sgd.epochs {
            order.shuffle(&mut rng);
            for batch in order.chunks(sgd.batch.max(1)) {
                grad.iter_mut().for_each(|g| *g = 0.0);
                self.gradient(&w, data, batch, &mut grad);
                for (wi, gi) in w.iter_mut().zip(&grad) {
                    *wi -= lr * (gi + sgd.l2 * *wi);
                }
            }
        }
        w
    }

    pub fn evaluate(&self, w: &[f32], data: &Dataset) -> Eval {
        let mut p = vec![0f32; self.classes];
        let (mut loss, mut correct) = (0f64, 0usize);
        for i in 0..data.len() {
            self.predict(w, data.row(i), &mut p);
            let y = data.y[i] as usize;
            loss -= (p[y].max(1e-12) as f64).ln();
            let best = (0..self.classes)
                .max_by(|&a, &b| p[a].total_cmp(&p[b]))
                .unwrap_or(0);
            correct += usize::from(best == y);
        }
        let n = data.len().max(1) as f64;
        Eval {
            loss: loss / n,
            accuracy: correct as f64 / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::fl::DatasetName;
    use crate::engine::fl::data;

    #[test]
    fn centralised_training_learns_digits() {
        let (train, test) = data::split(&data::load(DatasetName::Digits), 1);
        let m = LogReg::for_data(&train);
        let sgd = LocalSgd {
            epochs: 5,
            ..LocalSgd::default()
        };
        let w = m.train(&m.init(), &train, 0.1, sgd, 1);
        let e = m.evaluate(&w, &test);
        assert!(e.accuracy > 0.93, "{e:?}");
    }
}
