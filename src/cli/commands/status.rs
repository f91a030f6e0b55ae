use crate::api::ApiError;
use crate::cli::args::OutputFormat;
use crate::cli::output;
use crate::client::{Backend, BackendExt};

pub async fn run(backend: &dyn Backend, format: OutputFormat) -> Result<i32, ApiError> {
    let status = backend.status().await?;
    match format {
        OutputFormat::Json => output::json(&status)?,
        OutputFormat::Table => crate::cli::output::print(&output::status_text(&status)),
    }
    Ok(0)
}
