//! The console face (being built on its own branch; this placeholder keeps main buildable).

use std::sync::Arc;

use crate::client::Backend;

#[derive(Debug, Clone, Default)]
pub struct TuiOptions {}

pub async fn run(_backend: Arc<dyn Backend>, _opts: TuiOptions) -> color_eyre::Result<()> {
    Err(color_eyre::eyre::eyre!(
        "the console is not built into this binary yet"
    ))
}
