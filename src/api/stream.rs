//! What the live event stream sends besides events, and how a remote client names its session.

use serde::{Deserialize, Serialize};

/// The HTTP header a remote client names its session with.
pub const SESSION_HEADER: &str = "x-plexus-session";

/// Messages that are not events: `{"control": "hello" | "resync", …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Control {
    pub control: String,
    pub epoch: String,
    /// Why a resync is needed: `lagged`, `gap` or `restarted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<u64>,
}
