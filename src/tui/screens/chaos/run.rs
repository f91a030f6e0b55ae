//! The console's side of chaos: fetching the engine's faults, and running a shipped experiment
//! in a task over the backend with the same runner as `plexus chaos run`, each poll's progress
//! sent to the app as a message.

use std::future::Future;
use tokio::sync::mpsc;

use crate::api::{ApiError, ask};
use crate::client::{Backend, BackendExt};
use crate::experiment::Scenario;
use crate::tui::app::Msg;

/// Faults the engine holds or held.
pub async fn fetch_chaos(backend: &dyn Backend) -> Msg {
    Msg::Chaos(backend.ask(ask::chaos()).await)
}

/// Run the scenario `name` until it ends or `cancel` resolves (then its rollbacks run); every
/// progress goes to `tx`, the last one with the verdict. A run that cannot start sends why.
pub async fn run_experiment(
    backend: &dyn Backend,
    name: &str,
    cancel: impl Future<Output = ()>,
    tx: &mpsc::UnboundedSender<Msg>,
) {
    let scenario = match Scenario::load(name) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.send(Msg::Experiment(Err(ApiError::bad_input(e.to_string()))));
            return;
        }
    };
    let sent = crate::experiment::run(backend, &scenario, name, cancel, |p| {
        let _ = tx.send(Msg::Experiment(Ok(Box::new(p.clone()))));
    })
    .await;
    if let Err(e) = sent {
        let _ = tx.send(Msg::Experiment(Err(e)));
    }
}
