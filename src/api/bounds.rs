//! What may cross the boundary. Every number and string a face, a script or an agent hands the
//! engine is checked here first — finite, in range, durations that cannot overflow a clock, text
//! without control characters, sizes with a ceiling — so that no request can stop the engine or
//! grow its memory without bound. Each refusal names the field (`spec.params.jitter_ms: …`).

use super::chaos::{ChaosParams, ChaosSpec, Selector};
use super::command::{Command, Query};
use super::fault::Fault;
use super::{ApiError, Millis};

/// The longest duration anything accepts (a chaos fault, a silence, a gate): 30 days.
pub const MAX_DURATION_MS: Millis = 30 * 86_400_000;
/// The longest identifier (neuron, test, run, fingerprint) accepted.
pub const MAX_ID_LEN: usize = 256;
/// The longest free text (comments, selectors, reasons) accepted.
pub const MAX_TEXT_LEN: usize = 4096;
/// Delay a latency fault may add, and its jitter: one minute.
pub const MAX_LATENCY_MS: f64 = 60_000.0;
/// How many times slower a slow fault may make a neuron.
pub const MAX_SLOW_FACTOR: f64 = 1000.0;
/// Items in a list a request carries (matchers, verdicts).
pub const MAX_ITEMS: usize = 256;
/// Rows a read may ask for at once.
pub const MAX_ROWS: usize = 100_000;

fn refuse(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_input(format!("{field}: {why}"))
}

/// A finite number in `lo..=hi`.
pub fn number(field: &str, value: f64, lo: f64, hi: f64) -> Result<(), ApiError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(refuse(
            field,
            format!("{} is not in {lo}..={hi}", short(value)),
        ))
    }
}

/// A number as a person reads it in an error: `1e308`, not 309 digits.
fn short(value: f64) -> String {
    if value.is_finite() && value.abs() < 1e9 {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

/// A duration in `1..=max` ms.
pub fn duration(field: &str, ms: Millis, max: Millis) -> Result<(), ApiError> {
    if (1..=max).contains(&ms) {
        Ok(())
    } else {
        Err(refuse(field, format!("{ms} ms is not in 1..={max} ms")))
    }
}

/// An integer in `lo..=hi`.
pub fn count(field: &str, value: u64, lo: u64, hi: u64) -> Result<(), ApiError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(refuse(field, format!("{value} is not in {lo}..={hi}")))
    }
}

/// The first control character in `text`, if any (escape sequences, NUL, newlines).
pub fn control_char(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

/// Text of at most `max` bytes without control characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(refuse(
            field,
            format!("{} bytes is longer than {max}", value.len()),
        ));
    }
    match control_char(value) {
        Some(c) => Err(refuse(
            field,
            format!("control character {:?} is not allowed", c),
        )),
        None => Ok(()),
    }
}

/// An agent id: 1-64 letters, digits, `-`, `_` or `.` (it becomes a SPIFFE id, a user name
/// `ID@agents` and a file name).
pub fn agent_id(field: &str, value: &str) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(refuse(field, "use 1-64 letters, digits, '-', '_' or '.'"))
    }
}

/// Labels a registration may carry.
pub const MAX_LABELS: usize = 16;

/// A registration's labels: at most [`MAX_LABELS`], keys and values identifiers (no control
/// characters, at most [`MAX_ID_LEN`] bytes), keys not empty.
pub fn labels(field: &str, labels: &[(String, String)]) -> Result<(), ApiError> {
    if labels.len() > MAX_LABELS {
        return Err(refuse(
            field,
            format!("{} labels; at most {MAX_LABELS}", labels.len()),
        ));
    }
    for (key, value) in labels {
        if key.is_empty() {
            return Err(refuse(field, "a label key is empty"));
        }
        id(&format!("{field} key {key:?}"), key)?;
        id(&format!("{field} {key}"), value)?;
    }
    Ok(())
}

/// An identifier: text of at most [`MAX_ID_LEN`] bytes.
pub fn id(field: &str, value: &str) -> Result<(), ApiError> {
    text(field, value, MAX_ID_LEN)
}

impl ChaosParams {
    /// Every parameter, whichever the kind reads: a value a kind ignores is still refused when
    /// it is nonsense, so a spec never carries a number that could hurt later.
    pub fn check(&self, prefix: &str) -> Result<(), ApiError> {
        let f = |name: &str| format!("{prefix}.{name}");
        number(&f("latency_ms"), self.latency_ms, 0.0, MAX_LATENCY_MS)?;
        number(&f("jitter_ms"), self.jitter_ms, 0.0, MAX_LATENCY_MS)?;
        number(&f("loss"), self.loss, 0.0, 1.0)?;
        number(&f("factor"), self.factor, 1.0, MAX_SLOW_FACTOR)
    }
}

impl ChaosSpec {
    pub fn check(&self, prefix: &str) -> Result<(), ApiError> {
        self.params.check(&format!("{prefix}.params"))?;
        match &self.target {
            Selector::Percent { percent } => {
                number(&format!("{prefix}.target.percent"), *percent, 0.0, 100.0)?
            }
            Selector::One { neuron } => id(&format!("{prefix}.target.neuron"), neuron)?,
            _ => {}
        }
        if let Some(ms) = self.duration_ms {
            duration(&format!("{prefix}.duration_ms"), ms, MAX_DURATION_MS)?;
        }
        Ok(())
    }
}

impl Fault {
    pub fn check(&self, field: &str) -> Result<(), ApiError> {
        match self {
            Fault::Slow { factor, .. } => {
                number(&format!("{field}.factor"), *factor, 1.0, MAX_SLOW_FACTOR)
            }
            _ => Ok(()),
        }
    }
}

impl Command {
    /// Refuse what no engine should act on; the error names the field.
    pub fn check(&self) -> Result<(), ApiError> {
        match self {
            Command::Recover { neuron }
            | Command::ClearFaults { neuron }
            | Command::ForgetNeuron { neuron } => id("neuron", neuron),
            Command::InviteAgent { neuron, ttl_ms } => {
                agent_id("neuron", neuron)?;
                duration("ttl_ms", *ttl_ms, MAX_DURATION_MS)
            }
            Command::InjectFault { neuron, fault } => {
                id("neuron", neuron)?;
                fault.check("fault")
            }
            Command::AddUser { name, .. }
            | Command::IssueToken { name }
            | Command::RevokeToken { name }
            | Command::RemoveUser { name }
            | Command::SetRole { name, .. } => id("name", name),
            Command::ExportAudit { filter, .. } => audit_filter(filter),
            Command::ChaosInject { spec } => spec.check("spec"),
            Command::ChaosStop { id: c }
            | Command::StressStop { test_id: c }
            | Command::AlertAck { fingerprint: c }
            | Command::SilenceExpire { id: c }
            | Command::FlStop { id: c } => id(field_of(self), c),
            Command::StressStart { test_id, profile } => {
                id("test_id", test_id)?;
                id("profile", profile)
            }
            Command::StressFinished { test_id, verdicts } => {
                id("test_id", test_id)?;
                count("verdicts", verdicts.len() as u64, 0, MAX_ITEMS as u64)?;
                for (i, v) in verdicts.iter().enumerate() {
                    if let Some(o) = v.observed {
                        number(&format!("verdicts[{i}].observed"), o, f64::MIN, f64::MAX)?;
                    }
                    text(
                        &format!("verdicts[{i}].threshold"),
                        &v.threshold,
                        MAX_TEXT_LEN,
                    )?;
                    text(&format!("verdicts[{i}].scope"), &v.scope, MAX_TEXT_LEN)?;
                }
                Ok(())
            }
            Command::TestCleanup => Ok(()),
            Command::BroadcastConfig {
                selector,
                expected_version,
                plan,
                ..
            } => {
                text("selector", selector, MAX_TEXT_LEN)?;
                if let Some(v) = expected_version {
                    id("expected_version", v)?;
                }
                for (name, ms) in [
                    ("plan.gate_ms", plan.gate_ms),
                    ("plan.watch_ms", plan.watch_ms),
                ] {
                    if let Some(ms) = ms {
                        count(name, ms, 0, MAX_DURATION_MS)?;
                    }
                }
                Ok(())
            }
            Command::BroadcastExperiment {
                expected_version, ..
            } => match expected_version {
                Some(v) => id("expected_version", v),
                None => Ok(()),
            },
            Command::Rollback { to } => match to {
                Some(v) => id("to", v),
                None => Ok(()),
            },
            Command::SilenceCreate {
                matchers,
                duration_ms,
                comment,
            } => {
                count("matchers", matchers.len() as u64, 1, MAX_ITEMS as u64)?;
                for (i, m) in matchers.iter().enumerate() {
                    id(&format!("matchers[{i}].name"), &m.name)?;
                    text(&format!("matchers[{i}].value"), &m.value, MAX_TEXT_LEN)?;
                }
                duration("duration_ms", *duration_ms, MAX_DURATION_MS)?;
                text("comment", comment, MAX_TEXT_LEN)
            }
            Command::FlStart { config } => config
                .validate()
                .map_err(|e| ApiError::bad_input(format!("config.{e}"))),
            // Non-finite weights are the FL rule's to reject, visibly, as a rejected update.
            Command::FlUpdate { id: run, update } => {
                id("id", run)?;
                id("update.neuron", &update.neuron)
            }
        }
    }
}

/// The name of the one id field of the simple commands (for the message).
fn field_of(command: &Command) -> &'static str {
    match command {
        Command::StressStop { .. } => "test_id",
        Command::AlertAck { .. } => "fingerprint",
        _ => "id",
    }
}

fn audit_filter(filter: &super::security::AuditFilter) -> Result<(), ApiError> {
    for (name, value) in [
        ("filter.user", &filter.user),
        ("filter.action", &filter.action),
        ("filter.outcome", &filter.outcome),
    ] {
        if let Some(v) = value {
            id(name, v)?;
        }
    }
    if let Some(limit) = filter.limit {
        count("filter.limit", limit as u64, 0, MAX_ROWS as u64)?;
    }
    Ok(())
}

impl Query {
    /// Refuse what no engine should read for; the error names the field.
    pub fn check(&self) -> Result<(), ApiError> {
        match self {
            Query::Neuron { id: n } => id("id", n),
            Query::Logs { id: n, tail } => {
                id("id", n)?;
                count("tail", *tail as u64, 0, MAX_ROWS as u64)
            }
            Query::RecentEvents { limit } => count("limit", *limit as u64, 0, MAX_ROWS as u64),
            Query::Audit { filter } => audit_filter(filter),
            Query::FlRun { id: r } | Query::FlModel { id: r } | Query::FlCapture { id: r, .. } => {
                id("id", r)
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::chaos::ChaosKind;

    fn chaos(params: ChaosParams, duration_ms: Option<Millis>) -> Command {
        Command::ChaosInject {
            spec: ChaosSpec {
                kind: ChaosKind::Latency,
                target: Selector::parse("all").unwrap(),
                duration_ms,
                params,
            },
        }
    }

    #[test]
    fn non_finite_and_out_of_range_numbers_are_refused_naming_the_field() {
        for bad in [1e308, f64::INFINITY, f64::NAN, -1.0] {
            let c = chaos(
                ChaosParams {
                    jitter_ms: bad,
                    ..ChaosParams::default()
                },
                None,
            );
            let err = c.check().unwrap_err();
            assert!(
                err.message.starts_with("spec.params.jitter_ms:"),
                "{}",
                err.message
            );
        }
        let err = chaos(ChaosParams::default(), Some(u64::MAX))
            .check()
            .unwrap_err();
        assert!(
            err.message.starts_with("spec.duration_ms:"),
            "{}",
            err.message
        );
        assert!(chaos(ChaosParams::default(), Some(10_000)).check().is_ok());
    }

    #[test]
    fn control_characters_are_refused_in_text() {
        let c = Command::SilenceCreate {
            matchers: vec![crate::api::alert::Matcher {
                name: "neuron".into(),
                op: crate::api::alert::MatchOp::Eq,
                value: "n-1".into(),
            }],
            duration_ms: 60_000,
            comment: "on it \u{1b}[2J".into(),
        };
        let err = c.check().unwrap_err();
        assert!(
            err.message.starts_with("comment: control character"),
            "{}",
            err.message
        );
    }
}
