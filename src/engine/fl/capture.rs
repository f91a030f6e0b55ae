//! The capture/replay file format (`api::fl::UpdateBatch`): parsing with errors that name the
//! file, the line and column, and the field, and re-aggregation of a captured round.

use super::aggregate::{self, Params, Update};
use crate::api::ApiError;
use crate::api::fl::{ReplayOutput, Rule, UpdateBatch};

/// File name of round `round` in a capture directory.
pub fn file_name(round: u32) -> String {
    format!("round-{round:04}.json")
}

/// Parse a capture file; `file` only names it in errors (bad input, exit 2).
pub fn parse(text: &str, file: &str) -> Result<UpdateBatch, ApiError> {
    let batch: UpdateBatch = serde_json::from_str(text).map_err(|e| {
        ApiError::bad_input(format!(
            "{file}:{}:{}: invalid update file: {e} (expected {{\"updates\":[{{\"neuron\":\"n-0001\",\"examples\":120,\"weights\":[...]}}]}})",
            e.line(),
            e.column()
        ))
    })?;
    if batch.updates.is_empty() {
        return Err(ApiError::bad_input(format!(
            "{file}: field `updates` is empty"
        )));
    }
    Ok(batch)
}

/// Re-aggregate a captured round with `rule`.
pub fn replay(
    batch: &UpdateBatch,
    file: &str,
    rule: Rule,
    params: Params,
) -> Result<ReplayOutput, ApiError> {
    let updates: Vec<Update<'_>> = batch
        .updates
        .iter()
        .map(|u| Update {
            weights: &u.weights,
            examples: u.examples as f64,
        })
        .collect();
    let agg = aggregate::build(rule, params);
    let out = aggregate::aggregate_checked(agg.as_ref(), &updates)
        .map_err(|e| ApiError::bad_input(format!("{file}: {e}")))?;
    let neurons: Vec<String> = batch.updates.iter().map(|u| u.neuron.clone()).collect();
    Ok(ReplayOutput {
        file: file.to_string(),
        f: params.f,
        beta: params.beta,
        report: aggregate::report(rule, &neurons, &out),
        weights: out.weights,
    })
}
