//! Coordinate-wise median (Flower's FedMedian): example counts are ignored, as in Flower. Each
//! update's share is the part of the coordinates whose median it supplied.

use super::{AggregateError, Aggregated, Aggregator, Update, columns, distance_verdicts};
use crate::api::fl::Rule;

pub struct Median;

impl Aggregator for Median {
    fn rule(&self) -> Rule {
        Rule::Median
    }
    fn aggregate(&self, updates: &[Update<'_>]) -> Result<Aggregated, AggregateError> {
        let kept = columns::map_columns(updates, columns::median_kept);
        let shares = columns::kept_shares(updates, &kept);
        let result: Vec<f32> = kept.iter().map(|k| k.value).collect();
        Ok(distance_verdicts(updates, &result, shares, true))
    }
}
