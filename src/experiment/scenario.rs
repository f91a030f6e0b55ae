//! A chaos experiment as written in a TOML file (Chaos Toolkit's shape): a steady-state
//! hypothesis, a method (a timeline of injections) and settings. Parse errors name the file,
//! the line and the key.

use serde::{Deserialize, Deserializer};

use crate::api::Millis;
use crate::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector, parse_duration_ms};
use crate::api::fl_run::FlRunSpec;
use crate::config::SourceError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub settings: Settings,
    #[serde(default)]
    pub hypothesis: Vec<Probe>,
    pub method: Vec<Step>,
    /// An engine-owned FL run trained through the experiment (Byzantine FL scenarios).
    #[serde(default)]
    pub fl: Option<FlSetup>,
}

/// `[fl]`: start this run before the hypothesis is first checked, let it train
/// `warmup_rounds` rounds, and stop it with the rollbacks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlSetup {
    #[serde(default = "default_warmup")]
    pub warmup_rounds: u32,
    #[serde(default)]
    pub run: FlRunSpec,
}

fn default_warmup() -> u32 {
    5
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Steady state must hold this long (continuously) to count as recovered.
    #[serde(deserialize_with = "duration")]
    pub stability: Millis,
    /// After the last fault is reverted, give up waiting for steady state after this long.
    #[serde(deserialize_with = "duration")]
    pub recovery_timeout: Millis,
    /// How often probes run and events are read.
    #[serde(deserialize_with = "duration")]
    pub poll: Millis,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stability: 5_000,
            recovery_timeout: 60_000,
            poll: 100,
        }
    }
}

/// What a probe measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// Share of neurons healthy, 0..1.
    HealthyShare,
    /// p95 over neurons of their reported request latency p95, ms.
    LatencyP95Ms,
    /// The audit chain verifies: every acknowledged write is still there (1 or 0).
    NoLostWrites,
    /// Test accuracy, 0..1, of the experiment's FL run after its latest round (of the newest
    /// engine-owned run when the scenario starts none; 0 when there is no run).
    FlAccuracy,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub probe: ProbeKind,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Also checked while faults are in force (a deviation when it fails then).
    #[serde(default)]
    pub during: bool,
}

impl Probe {
    pub fn holds(&self, value: f64) -> bool {
        self.min.is_none_or(|m| value >= m) && self.max.is_none_or(|m| value <= m)
    }

    pub fn name(&self) -> String {
        let mut s = format!("{:?}", self.probe);
        if let Some(m) = self.min {
            s += &format!(" >= {m}");
        }
        if let Some(m) = self.max {
            s += &format!(" <= {m}");
        }
        s
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// When, from the start of the method.
    #[serde(deserialize_with = "duration", default)]
    pub at: Millis,
    #[serde(deserialize_with = "kind")]
    pub kind: ChaosKind,
    #[serde(deserialize_with = "selector")]
    pub target: Selector,
    #[serde(rename = "for", deserialize_with = "duration")]
    pub duration: Millis,
    #[serde(default)]
    pub params: ChaosParams,
    /// The engine must notice this fault (default); `false` for faults it should tolerate.
    #[serde(default = "yes")]
    pub expect_detection: bool,
}

impl Step {
    pub fn spec(&self) -> ChaosSpec {
        ChaosSpec {
            kind: self.kind,
            target: self.target.clone(),
            duration_ms: Some(self.duration),
            params: self.params.clone(),
        }
    }
}

fn yes() -> bool {
    true
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration_ms(&text).map_err(serde::de::Error::custom)
}

fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<ChaosKind, D::Error> {
    let text = String::deserialize(d)?;
    ChaosKind::parse(&text).map_err(serde::de::Error::custom)
}

fn selector<'de, D: Deserializer<'de>>(d: D) -> Result<Selector, D::Error> {
    let text = String::deserialize(d)?;
    Selector::parse(&text).map_err(serde::de::Error::custom)
}

/// Where `field` is written in the `i`-th `[[method]]` table, for the error's line.
fn offset_in_step(text: &str, i: usize, field: &str) -> Option<usize> {
    let start = text.match_indices("[[method]]").nth(i)?.0;
    let end = text[start + 1..]
        .find("[[")
        .map_or(text.len(), |e| start + 1 + e);
    text[start..end].find(field).map(|o| start + o)
}

impl Scenario {
    pub fn parse(file: &str, text: &str) -> Result<Scenario, SourceError> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        if scenario.method.is_empty() {
            return Err(SourceError::new(file, "the method has no step").key("method"));
        }
        // Every number a step carries is checked here, at parse time, as the engine would.
        for (i, step) in scenario.method.iter().enumerate() {
            if let Err(e) = step.spec().check(&format!("method[{i}]")) {
                let (key, why) = e
                    .message
                    .split_once(": ")
                    .map_or((format!("method[{i}]"), e.message.clone()), |(k, w)| {
                        (k.to_string(), w.to_string())
                    });
                let field = key.rsplit('.').next().unwrap_or_default().to_string();
                return Err(SourceError::new(file, why)
                    .at(text, offset_in_step(text, i, &field))
                    .key(key));
            }
        }
        for (i, probe) in scenario.hypothesis.iter().enumerate() {
            if probe.min.is_none() && probe.max.is_none() && probe.probe != ProbeKind::NoLostWrites
            {
                return Err(
                    SourceError::new(file, "a probe needs a tolerance (min or max)")
                        .key(format!("hypothesis[{i}]")),
                );
            }
        }
        Ok(scenario)
    }

    /// Load a file, or a shipped scenario by name (`single-crash`).
    pub fn load(file_or_name: &str) -> Result<Scenario, SourceError> {
        if let Some(text) = shipped(file_or_name) {
            return Scenario::parse(&format!("built-in {file_or_name}.toml"), text);
        }
        let text = crate::config::read_text(file_or_name)
            .map_err(|e| SourceError::new(file_or_name, format!("cannot read: {e}")))?;
        Scenario::parse(file_or_name, &text)
    }

    /// When the method ends: the last fault's revert.
    pub fn method_end(&self) -> Millis {
        self.method
            .iter()
            .map(|s| s.at + s.duration)
            .max()
            .unwrap_or(0)
    }
}

/// The scenarios shipped under assets/scenarios/, by name.
pub const SHIPPED: [(&str, &str); 7] = [
    (
        "single-crash",
        include_str!("../../assets/scenarios/single-crash.toml"),
    ),
    (
        "zone-partition",
        include_str!("../../assets/scenarios/zone-partition.toml"),
    ),
    (
        "cascading-failures",
        include_str!("../../assets/scenarios/cascading-failures.toml"),
    ),
    (
        "byzantine-attack",
        include_str!("../../assets/scenarios/byzantine-attack.toml"),
    ),
    (
        "bad-config-push",
        include_str!("../../assets/scenarios/bad-config-push.toml"),
    ),
    (
        "combined-storm",
        include_str!("../../assets/scenarios/combined-storm.toml"),
    ),
    (
        "byzantine-fl",
        include_str!("../../assets/scenarios/byzantine-fl.toml"),
    ),
];

pub fn shipped(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
