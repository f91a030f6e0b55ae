//! The bundled data sets (embedded, so the binary works from any directory), a seeded train/test
//! split, standardisation with train statistics only, and IID or Dirichlet(α) partitions.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma};
use rand_pcg::Pcg64;

use crate::api::fl::DatasetName;

const DIGITS: &str = include_str!("../../../assets/datasets/digits.csv");
const BREAST_CANCER: &str = include_str!("../../../assets/datasets/breast_cancer.csv");

/// Share of examples held out for the test set.
pub const TEST_FRACTION: f64 = 0.2;

/// Row-major features and labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub y: Vec<u8>,
    pub dim: usize,
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
    fn subset(&self, idx: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(idx.len() * self.dim);
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            x,
            y: idx.iter().map(|&i| self.y[i]).collect(),
            dim: self.dim,
            classes: self.classes,
        }
    }
}

/// Parse the embedded CSV (label first). The files are ours, so a bad one is a build defect.
pub fn load(name: DatasetName) -> Dataset {
    let text = match name {
        DatasetName::Digits => DIGITS,
        DatasetName::BreastCancer => BREAST_CANCER,
    };
    parse_csv(text).unwrap_or_else(|e| panic!("bundled data set {name} is corrupt: {e}"))
}

fn parse_csv(text: &str) -> Result<Dataset, String> {
    let (mut x, mut y, mut dim) = (Vec::new(), Vec::new(), 0);
    for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let mut cells = line.split(',');
        let label: u8 = cells
            .next()
            .and_then(|c| c.parse().ok())
            .ok_or(format!("line {}: bad label", line_no + 1))?;
        let before = x.len();
        for c in cells {
            x.push(
                c.parse::<f32>()
                    .map_err(|e| format!("line {}: {e}", line_no + 1))?,
            );
        }
        let width = x.len() - before;
        if dim == 0 {
            dim = width;
        } else if width != dim {
            return Err(format!(
                "line {}: {width} features, expected {dim}",
                line_no + 1
            ));
        }
        y.push(label);
    }
    let classes = y.iter().copied().max().map_or(0, |m| m as usize + 1);
    Ok(Dataset { x, y, dim, classes })
}

/// Salts keep the split and the partition streams independent of each other.
const SPLIT_SALT: u64 = 0x5eed_5917;

/// A seeded split into (train, test), features standardised with the train mean and std.
pub fn split(data: &Dataset, seed: u64) -> (Dataset, Dataset) {
    let (mut train, mut test) = raw_split(data, seed);
    let scale = Scale::fit(&train);
    scale.apply(&mut train);
    scale.apply(&mut test);
    (train, test)
}

/// The run's (train, test) split before standardisation: the raw features a serving agent is
/// sent.
pub fn raw_split(data: &Dataset, seed: u64) -> (Dataset, Dataset) {
    let mut idx: Vec<usize> = (0..data.len()).collect();
    idx.shuffle(&mut Pcg64::seed_from_u64(seed ^ SPLIT_SALT));
    let n_test = (data.len() as f64 * TEST_FRACTION).round() as usize;
    let (test_idx, train_idx) = idx.split_at(n_test);
    (data.subset(train_idx), data.subset(test_idx))
}

/// A client's own data (`plexus neuron --data FILE`), checked against the bundled set `name`
/// (same features, labels among its classes) and standardised with the statistics of the run's
/// train split, as every other client's data is.
pub fn own_data(name: DatasetName, seed: u64, mut own: Dataset) -> Result<Dataset, String> {
    let bundled = load(name);
    if own.dim != bundled.dim {
        return Err(format!(
            "{} features per row; the {name} model takes {}",
            own.dim, bundled.dim
        ));
    }
    if let Some(bad) = own.y.iter().find(|&&y| y as usize >= bundled.classes) {
        return Err(format!(
            "label {bad}; the {name} model has classes 0..{}",
            bundled.classes - 1
        ));
    }
    own.classes = bundled.classes;
    standardiser(&bundled, seed).apply(&mut own);
    Ok(own)
}

/// Parse a data file in the bundled sets' CSV format (label first, then the features); errors
/// name the line.
pub fn parse(text: &str) -> Result<Dataset, String> {
    let data = parse_csv(text)?;
    if data.is_empty() {
        return Err("no rows".into());
    }
    Ok(data)
}

/// How run `seed` standardises features of the bundled set `data` (its train split's
/// statistics): what a client applies to its own data, and a serving agent to the raw features
/// it is asked to classify.
pub fn standardiser(data: &Dataset, seed: u64) -> Scale {
    Scale::fit(&raw_split(data, seed).0)
}

/// Per-feature mean and standard deviation of a train set.
pub struct Scale {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Scale {
    fn fit(train: &Dataset) -> Scale {
        let (d, n) = (train.dim, train.len().max(1) as f64);
        let mut mean = vec![0f64; d];
        let mut var = vec![0f64; d];
        for i in 0..train.len() {
            for (m, &v) in mean.iter_mut().zip(train.row(i)) {
                *m += v as f64 / n;
            }
        }
        for i in 0..train.len() {
            for ((s, &v), m) in var.iter_mut().zip(train.row(i)).zip(&mean) {
                *s += (v as f64 - m).powi(2) / n;
            }
        }
        // Constant features (digits' blank corners) keep std 1 so they stay 0, not NaN.
        let std: Vec<f64> = var
            .iter()
            .map(|v| if *v > 1e-12 { v.sqrt() } else { 1.0 })
            .collect();
        Scale { mean, std }
    }

    /// Standardise one example in place.
    pub fn row(&self, x: &mut [f32]) {
        for ((v, m), s) in x.iter_mut().zip(&self.mean).zip(&self.std) {
            *v = ((*v as f64 - m) / s) as f32;
        }
    }

    fn apply(&self, set: &mut Dataset) {
        for row in set.x.chunks_mut(set.dim.max(1)) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = ((*v as f64 - m) / s) as f32;
            }
        }
    }
}

/// How examples are spread over clients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Partition {
    Iid,
    /// Per class, client shares drawn from Dirichlet(α): small α = very skewed labels.
    Dirichlet(f64),
}

/// Split `train` over `clients`, seeded. Every client gets at least one example.
pub fn partition(train: &Dataset, clients: usize, how: Partition, seed: u64) -> Vec<Dataset> {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0xd1_51c7);
    let mut owners: Vec<Vec<usize>> = vec![Vec::new(); clients];
    match how {
        Partition::Iid => {
            let mut idx: Vec<usize> = (0..train.len()).collect();
            idx.shuffle(&mut rng);
            for (k, i) in idx.into_iter().enumerate() {
                owners[k % clients].push(i);
            }
        }
        Partition::Dirichlet(alpha) => {
            let gamma = Gamma::new(alpha.max(1e-3), 1.0).expect("alpha > 0");
            for class in 0..train.classes {
                let mut idx: Vec<usize> = (0..train.len())
                    .filter(|&i| train.y[i] as usize == class)
                    .collect();
                idx.shuffle(&mut rng);
                let draws: Vec<f64> = (0..clients)
                    .map(|_| gamma.sample(&mut rng) + 1e-12)
                    .collect();
                let total: f64 = draws.iter().sum();
                let mut start = 0;
                let mut acc = 0.0;
                for (c, w) in draws.iter().enumerate() {
                    acc += w / total;
                    let end = if c + 1 == clients {
                        idx.len()
                    } else {
                        ((acc * idx.len() as f64).round() as usize).min(idx.len())
                    };
                    owners[c].extend_from_slice(&idx[start..end.max(start)]);
                    start = end.max(start);
                }
            }
        }
    }
    // A client left empty by a skewed draw borrows one random example (it must be able to train).
    for own in owners.iter_mut().filter(|o| o.is_empty()) {
        own.push(rng.random_range(0..train.len()));
    }
    owners.iter().map(|o| train.subset(o)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sets_have_their_documented_shapes() {
        let d = load(DatasetName::Digits);
        assert_eq!((d.len(), d.dim, d.classes), (1797, 64, 10));
        let b = load(DatasetName::BreastCancer);
        assert_eq!((b.len(), b.dim, b.classes), (569, 30, 2));
    }

    #[test]
    fn split_is_seeded_and_standardised() {
        let d = load(DatasetName::BreastCancer);
        let (a, _) = split(&d, 7);
        let (b, _) = split(&d, 7);
        assert_eq!(a.y, b.y);
        let mean: f64 = (0..a.len()).map(|i| a.row(i)[0] as f64).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 1e-4);
    }

    #[test]
    fn dirichlet_partition_covers_the_train_set() {
        let d = load(DatasetName::Digits);
        let (train, _) = split(&d, 1);
        let parts = partition(&train, 20, Partition::Dirichlet(0.5), 3);
        let total: usize = parts.iter().map(Dataset::len).sum();
        assert!(total >= train.len() && total <= train.len() + 20);
        assert!(parts.iter().all(|p| !p.is_empty()));
    }
}
