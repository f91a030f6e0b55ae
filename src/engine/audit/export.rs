//! `plexus audit export --format json|ndjson|csv`.

use crate::api::security::ExportFormat;
use crate::api::{ApiError, AuditRecord};

pub fn render(records: &[AuditRecord], format: ExportFormat) -> Result<String, ApiError> {
    let encode = |e: String| ApiError::failed(format!("cannot encode the audit export: {e}"));
    match format {
        ExportFormat::Json => {
            serde_json::to_string_pretty(records).map_err(|e| encode(e.to_string()))
        }
        ExportFormat::Ndjson => {
            let mut out = String::new();
            for r in records {
                out.push_str(&serde_json::to_string(r).map_err(|e| encode(e.to_string()))?);
                out.push('\n');
            }
            Ok(out)
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for r in records {
                writer.serialize(r).map_err(|e| encode(e.to_string()))?;
            }
            let bytes = writer.into_inner().map_err(|e| encode(e.to_string()))?;
            String::from_utf8(bytes).map_err(|e| encode(e.to_string()))
        }
    }
}
