//! Coordinate-wise median (Flower's FedMedian): example counts are ignored, as in Flower.

use super::{AggregateError, Aggregated, Aggregator, Update, columns, distance_verdicts};
use crate::api::fl::Rule;

pub struct Median;

impl Aggregator for Median {
    fn rule(&self) -> Rule {
        Rule::Median
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let result = columns::map_columns(updates, columns::median_of);
        let shares = vec![1.0 / updates.len() as f64; updates.len()];
        Ok(distance_verdicts(updates, &result, shares, true))
    }
}
