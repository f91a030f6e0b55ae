//! Canned chaos state for snapshot tests: a crash drill and an experiment's faults filling in,
//! an experiment mid-method with its hypothesis, and one that ended.

use crate::api::chaos::{ChaosFaultView, ChaosKind};
use crate::experiment::Verdict;
use crate::experiment::monitor::FaultRecord;
use crate::experiment::progress::{Phase, ProbeState, Progress, StepState};
use crate::experiment::run::ProbeResult;

fn fault(id: &str, kind: ChaosKind, target: &str, at: u64, until: u64) -> ChaosFaultView {
    ChaosFaultView {
        id: id.into(),
        kind,
        target: target.into(),
        neurons: vec!["n-0007".into()],
        injected_ms: at,
        injected_at: "2026-11-22T23:00:00Z".into(),
        until_ms: Some(until),
        reverted_ms: None,
        reverted_by: String::new(),
        detected_ms: None,
        detection: None,
        recovered_ms: None,
    }
}

/// A hang drill still held, and the experiment's crash: detected, reverted, recovering.
pub fn faults() -> Vec<ChaosFaultView> {
    let mut crash = fault("c-2", ChaosKind::Crash, "random:1:42", 61_000, 66_000);
    crash.reverted_ms = Some(66_000);
    crash.reverted_by = "duration".into();
    let mut drill = fault("c-1", ChaosKind::Hang, "n-0003", 40_000, 100_000);
    drill.neurons = vec!["n-0003".into()];
    // The engine recorded the drill's detection (every face reads it from the view).
    drill.detected_ms = Some(42_100);
    drill.detection = Some("n-0003 failed: offline".into());
    vec![drill, crash]
}

fn record(detected: Option<u64>, recovered: Option<u64>) -> FaultRecord {
    FaultRecord {
        id: "c-2".into(),
        kind: ChaosKind::Crash,
        target: "random:1:42".into(),
        neurons: vec!["n-0007".into()],
        expect_detection: true,
        injected_ms: 0,
        detected_ms: detected,
        detection: detected.map(|_| "n-0007 failed: offline".into()),
        reverted_ms: Some(5_000),
        recovered_ms: recovered,
        time_to_detect_ms: detected,
        time_to_recover_ms: recovered,
    }
}

fn probe(phase: Phase, probe: &str, value: f64, holds: bool) -> ProbeState {
    ProbeState {
        phase,
        result: ProbeResult {
            probe: probe.into(),
            value,
            holds,
        },
    }
}

/// 7.2 s into "Single crash": the crash detected, reverted, not yet recovered.
pub fn running() -> Progress {
    Progress {
        title: "Single crash".into(),
        now_ms: 7_200,
        deadline_ms: 65_000,
        steps: vec![StepState {
            at_ms: 0,
            kind: "crash".into(),
            target: "random:1:42".into(),
            for_ms: 5_000,
            fault: Some("c-2".into()),
        }],
        probes: vec![
            probe(Phase::Before, "HealthyShare >= 0.95", 1.0, true),
            probe(Phase::Before, "NoLostWrites", 1.0, true),
            probe(Phase::During, "HealthyShare >= 0.9", 0.958, true),
        ],
        faults: vec![record(Some(1_900), None)],
        verdict: None,
        reasons: Vec::new(),
        rollbacks: Vec::new(),
    }
}

/// The same run, ended: recovered, hypothesis held after, verdict ok.
pub fn finished() -> Progress {
    let mut p = running();
    p.now_ms = 12_400;
    p.faults = vec![record(Some(1_900), Some(6_300))];
    p.probes
        .push(probe(Phase::After, "HealthyShare >= 0.95", 1.0, true));
    p.probes
        .push(probe(Phase::After, "NoLostWrites", 1.0, true));
    p.verdict = Some(Verdict::Ok);
    p
}
