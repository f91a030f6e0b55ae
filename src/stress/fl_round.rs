//! The `fl-round` scenario: one request is a mock neuron taking part in a round of the newest
//! running engine-owned FL run, through the Backend (embedded or `--connect`): fetch the global
//! model, run local SGD on its own partition of the training split, send the update. The run's
//! rule judges it like any other client's (docs/fl.md, docs/stress.md).

use std::sync::OnceLock;

use crate::api::fl::{ClientUpdate, DatasetName};
use crate::api::fl_run::FlRunState;
use crate::api::{ApiError, Command, ask};
use crate::client::{Backend, BackendExt};
use crate::engine::fl::data::{self, Dataset, Partition};
use crate::engine::fl::model::{LocalSgd, LogReg};

/// IID partitions of the training split the mock neurons draw from (request `seq` uses
/// partition `seq % PARTS`).
const PARTS: usize = 16;
/// The split's seed: the engine's default run seed, so the test set is held out here too.
const SEED: u64 = 1;
const LR: f32 = 0.05;

fn partitions(name: DatasetName) -> &'static [Dataset] {
    static DIGITS: OnceLock<Vec<Dataset>> = OnceLock::new();
    static CANCER: OnceLock<Vec<Dataset>> = OnceLock::new();
    let cell = match name {
        DatasetName::Digits => &DIGITS,
        DatasetName::BreastCancer => &CANCER,
    };
    cell.get_or_init(|| {
        let (train, _) = data::split(&data::load(name), SEED);
        data::partition(&train, PARTS, Partition::Iid, SEED)
    })
}

/// One participation of mock neuron `neuron`.
pub async fn call(backend: &dyn Backend, neuron: String, seq: u64) -> Result<(), ApiError> {
    let runs = backend.ask(ask::fl_runs()).await?;
    let run = runs
        .iter()
        .rev()
        .find(|r| r.state == FlRunState::Running)
        .ok_or_else(|| {
            ApiError::bad_input(
                "fl-round needs a running FL run: start one first (`:fl start`, POST /api/v1/fl/runs)",
            )
        })?;
    let model = backend.ask(ask::fl_model(&run.id)).await?;
    let part = &partitions(model.dataset)[seq as usize % PARTS];
    let weights = LogReg::for_data(part).train(&model.weights, part, LR, LocalSgd::default(), seq);
    let update = ClientUpdate {
        neuron,
        examples: part.len() as u64,
        weights,
    };
    backend
        .submit(Command::FlUpdate {
            id: model.run.clone(),
            update,
        })
        .await
        .map(|_| ())
}
