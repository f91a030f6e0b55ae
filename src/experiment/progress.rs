//! A running experiment as its watchers see it after every poll: which method steps ran, each
//! probe's last value against its tolerance (before, during, after), the faults' monitor records
//! and, at the end, the verdict. The CLI draws a bar from it; the console's Chaos view draws it all.

use serde::Serialize;

use super::monitor::FaultRecord;
use super::run::{ProbeResult, Verdict};
use super::scenario::Scenario;
use crate::api::Millis;

/// When a probe was taken, relative to the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Before,
    During,
    After,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepState {
    pub at_ms: Millis,
    pub kind: String,
    pub target: String,
    pub for_ms: Millis,
    /// The fault this step injected, once it ran.
    pub fault: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeState {
    pub phase: Phase,
    pub result: ProbeResult,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub title: String,
    /// Experiment time (ms since the method started) and when the run gives up.
    pub now_ms: Millis,
    pub deadline_ms: Millis,
    pub steps: Vec<StepState>,
    /// The newest result of every probe, per phase.
    pub probes: Vec<ProbeState>,
    pub faults: Vec<FaultRecord>,
    /// Set when the run ended.
    pub verdict: Option<Verdict>,
    pub reasons: Vec<String>,
    pub rollbacks: Vec<String>,
}

impl Progress {
    pub fn new(scenario: &Scenario) -> Self {
        Progress {
            title: scenario.title.clone(),
            now_ms: 0,
            deadline_ms: scenario.method_end() + scenario.settings.recovery_timeout,
            steps: scenario
                .method
                .iter()
                .map(|s| StepState {
                    at_ms: s.at,
                    kind: s.kind.to_string(),
                    target: s.target.to_string(),
                    for_ms: s.duration,
                    fault: None,
                })
                .collect(),
            probes: Vec::new(),
            faults: Vec::new(),
            verdict: None,
            reasons: Vec::new(),
            rollbacks: Vec::new(),
        }
    }

    /// Keep the newest result of each probe in `phase`.
    pub fn probed(&mut self, phase: Phase, results: &[ProbeResult]) {
        for r in results {
            let slot = self
                .probes
                .iter_mut()
                .find(|p| p.phase == phase && p.result.probe == r.probe);
            match slot {
                Some(p) => p.result = r.clone(),
                None => self.probes.push(ProbeState {
                    phase,
                    result: r.clone(),
                }),
            }
        }
    }
}
