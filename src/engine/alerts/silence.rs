//! Silences: matchers and a time window; a matching alert is still shown but not notified.

use crate::api::alert::{Alert, Matcher, Silence, matches_all};
use crate::api::{ApiError, Millis};

/// Silences ended this long ago are forgotten.
const EXPIRED_KEPT_MS: i64 = 3_600_000;

#[derive(Debug, Default)]
pub struct SilenceBook {
    silences: Vec<Silence>,
    next_id: u64,
}

impl SilenceBook {
    pub fn restore(silences: Vec<Silence>) -> Self {
        let next_id = silences
            .iter()
            .filter_map(|s| s.id.strip_prefix("s-")?.parse::<u64>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        SilenceBook { silences, next_id }
    }

    pub fn create(
        &mut self,
        matchers: Vec<Matcher>,
        duration_ms: Millis,
        by: &str,
        comment: String,
        wall: i64,
    ) -> Result<Silence, ApiError> {
        if matchers.is_empty() {
            return Err(ApiError::bad_input("a silence needs at least one matcher"));
        }
        if duration_ms == 0 {
            return Err(ApiError::bad_input("a silence needs a duration above 0"));
        }
        // Matchers may come over the wire unchecked: a bad regex is bad input, not a silent
        // never-match.
        for m in &matchers {
            Matcher::parse(&m.to_string()).map_err(ApiError::bad_input)?;
        }
        let silence = Silence {
            id: format!("s-{}", self.next_id),
            matchers,
            starts_at: wall,
            ends_at: wall.saturating_add(duration_ms as i64),
            created_by: by.into(),
            comment,
        };
        self.next_id += 1;
        self.silences.push(silence.clone());
        Ok(silence)
    }

    /// End a silence now.
    pub fn expire(&mut self, id: &str, wall: i64) -> Result<Silence, ApiError> {
        let s = self
            .silences
            .iter_mut()
            .find(|s| s.id == id && s.ends_at > wall)
            .ok_or_else(|| ApiError::not_found(format!("no active silence '{id}'")))?;
        s.ends_at = wall;
        Ok(s.clone())
    }

    /// Active and future silences.
    pub fn current(&self, wall: i64) -> Vec<Silence> {
        self.silences
            .iter()
            .filter(|s| s.ends_at > wall)
            .cloned()
            .collect()
    }

    /// Set `silenced_by` on `alert`; drop long-expired silences.
    pub fn apply(&mut self, alert: &mut Alert, wall: i64) {
        alert.silenced_by = self
            .silences
            .iter()
            .filter(|s| s.active_at(wall) && matches_all(&s.matchers, &alert.labels))
            .map(|s| s.id.clone())
            .collect();
    }

    pub fn prune(&mut self, wall: i64) {
        self.silences.retain(|s| wall - s.ends_at < EXPIRED_KEPT_MS);
    }
}
