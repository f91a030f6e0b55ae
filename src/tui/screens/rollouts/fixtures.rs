//! Canned rollouts for fake backends, snapshot tests and the demo: one committed, one rolled
//! back in its second wave.

use crate::api::rollout::{
    NeuronConfig, RolloutKind, RolloutPhase, RolloutSummary, RolloutView, RolloutsReport,
    TargetStep, TargetView, VersionCount, WavePlan,
};

fn summary(id: u64) -> RolloutSummary {
    let rolled_back = id == 2;
    RolloutSummary {
        id,
        kind: RolloutKind::Config,
        version: format!("v{}", id + 1),
        replaces: if rolled_back { "v2" } else { "v1" }.into(),
        selector: "all".into(),
        by: "ops".into(),
        started: format!("2026-01-01T10:0{id}:00.000Z"),
        phase: if rolled_back {
            RolloutPhase::RolledBack
        } else {
            RolloutPhase::Committed
        },
        targets: 6,
        waves: 3,
        wave: if rolled_back { 2 } else { 3 },
        cause: rolled_back.then(|| "commit failed on n-0003 (wave 2): apply hook failed".into()),
        took_ms: Some(4_210),
    }
}

pub fn rollouts_report() -> RolloutsReport {
    RolloutsReport {
        head: "v2".into(),
        versions: vec![VersionCount {
            version: "v2".into(),
            neurons: 6,
        }],
        rollouts: vec![summary(1), summary(2)],
    }
}

pub fn rollout_view(id: u64) -> RolloutView {
    let s = summary(id);
    let rolled_back = s.phase == RolloutPhase::RolledBack;
    let targets = (0..6)
        .map(|i| {
            let wave = match i {
                0 => 1,
                1..=3 => 2,
                _ => 3,
            };
            let (step, detail) = match (rolled_back, wave, i) {
                (false, _, _) => (TargetStep::Committed, "applied (was v1)"),
                (true, _, 2) => (TargetStep::CommitFailed, "apply hook failed"),
                (true, 3, _) => (TargetStep::Aborted, ""),
                (true, _, _) => (TargetStep::Reverted, "reverted from v3 to v2"),
            };
            TargetView {
                neuron: format!("n-{:04}", i + 1),
                wave,
                from: s.replaces.clone(),
                step,
                detail: detail.into(),
            }
        })
        .collect();
    RolloutView {
        summary: s,
        config: NeuronConfig::initial(),
        plan: WavePlan {
            batch_size: 3,
            ..WavePlan::default()
        },
        targets,
    }
}
