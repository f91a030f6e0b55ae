//! An agent's key and credential on disk between its processes: JSON in a 0600 file, replaced
//! atomically (write a sibling, then rename), so a crash mid-write leaves the old one.

use std::io::Write;
use std::path::Path;

use super::identity::SavedKeys;

/// What an agent keeps between processes.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct AgentState {
    /// Its own token (after an invite was spent), used instead of the one it was started with.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub keys: Option<SavedKeys>,
}

/// The largest state file read (one credential is under 1 KiB).
const MAX_STATE_BYTES: u64 = 64 * 1024;

pub fn load(path: &Path) -> Result<Option<AgentState>, String> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("agent state {shown}: {e}")),
    };
    if meta.len() > MAX_STATE_BYTES {
        return Err(format!(
            "agent state {shown}: {} bytes is too large",
            meta.len()
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "agent state {shown}: others may read it (it holds the agent's key); chmod 600 {shown}"
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("agent state {shown}: {e}"))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("agent state {shown}: line {}: {e}", e.line()))
}

pub fn save(path: &Path, saved: &AgentState) -> Result<(), String> {
    let shown = path.display();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(dir)
            .map_err(|e| format!("agent state {shown}: {e}"))?;
    }
    let temp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let text = serde_json::to_string_pretty(saved).expect("saved keys serialise");
    options
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|e| format!("agent state {shown}: cannot write: {e}"))
}
