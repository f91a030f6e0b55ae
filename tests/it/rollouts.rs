//! Rollouts on the deterministic driver (virtual time): all or nothing across NACKs, commit
//! failures in later waves and health regressions in the watch window; experiments revert.

use plexus::api::rollout::{NeuronConfig, RolloutKind, RolloutPhase, WavePlan};
use plexus::api::{ErrorCode, Fault};
use plexus::engine::config::LinkConfig;
use plexus::engine::rollout::Push;
use plexus::engine::testkit::SimRun;

fn run(neurons: usize) -> SimRun {
    let mut run = SimRun::new(neurons, 500, LinkConfig::default(), 7);
    run.run_for(3_000);
    run
}

fn push(plan: WavePlan) -> Push {
    Push {
        kind: RolloutKind::Config,
        config: NeuronConfig {
            batch_size: 128,
            ..NeuronConfig::initial()
        },
        selector: String::new(),
        expected: Some("v1".into()),
        dry_run: false,
        plan,
        experiment_ms: None,
        back_to: None,
    }
}

fn waves(canary: u32, batch: u32) -> WavePlan {
    WavePlan {
        canary,
        batch_size: batch,
        ..WavePlan::default()
    }
}

/// Run until the active rollout is over; its final phase.
fn finish(run: &mut SimRun, limit_ms: u64) -> RolloutPhase {
    run.run_until(limit_ms, |r| r.core.rollouts.active().is_none())
        .expect("the rollout finished in time");
    // Heartbeats carry the versions the registry shows.
    run.run_for(1_500);
    run.core
        .rollouts
        .report(&run.core.registry)
        .rollouts
        .last()
        .unwrap()
        .phase
}

fn logs(run: &SimRun, id: &str) -> String {
    let idx = run.core.find(id).unwrap();
    run.core
        .raw_logs(idx, 200)
        .iter()
        .map(|l| l.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn one_nack_among_50_changes_no_neuron() {
    let mut run = run(50);
    run.inject("n-0037", Fault::ConfigFailure);
    let started = run.push(push(waves(1, 10))).unwrap();
    assert_eq!((started.version.as_str(), started.targets), ("v2", 50));
    assert_eq!(finish(&mut run, 30_000), RolloutPhase::Aborted);
    let view = run.core.rollouts.view(started.id).unwrap();
    let cause = view.summary.cause.unwrap();
    assert!(cause.contains("n-0037 voted NACK"), "{cause}");
    assert!(
        run.versions().iter().all(|v| v == "v1"),
        "{:?}",
        run.versions()
    );
    assert_eq!(run.core.rollouts.head, "v1");
    assert!(logs(&run, "n-0001").contains("stage v2 (rollout r-1): staged"));
    assert!(logs(&run, "n-0001").contains("abort v2"));
    assert!(!logs(&run, "n-0001").contains("commit v2"));
}

#[test]
fn a_clean_rollout_commits_every_wave_and_moves_the_head() {
    let mut run = run(20);
    let started = run.push(push(waves(1, 5))).unwrap();
    assert_eq!(started.waves, 5);
    assert_eq!(finish(&mut run, 60_000), RolloutPhase::Committed);
    assert!(run.versions().iter().all(|v| v == "v2"));
    assert_eq!(run.core.rollouts.head, "v2");
    let log = logs(&run, "n-0020");
    assert!(
        log.contains("commit v2 (rollout r-1): applied (was v1)"),
        "{log}"
    );
}

#[test]
fn a_commit_failure_in_wave_2_returns_every_neuron_to_the_old_version() {
    let mut run = run(20);
    let started = run.push(push(waves(1, 5))).unwrap();
    // The canary committed and passed into its health gate: wave 2 is next.
    run.run_until(20_000, |r| {
        r.core
            .rollouts
            .active()
            .is_some_and(|a| a.phase == RolloutPhase::Gate)
    })
    .expect("the canary committed");
    assert_eq!(run.core.rollouts.active().unwrap().wave, 1);
    run.inject("n-0004", Fault::ConfigFailure);
    assert_eq!(finish(&mut run, 60_000), RolloutPhase::RolledBack);
    let view = run.core.rollouts.view(started.id).unwrap();
    let cause = view.summary.cause.clone().unwrap();
    assert!(
        cause.contains("commit failed on n-0004 (wave 2)"),
        "{cause}"
    );
    assert!(
        run.versions().iter().all(|v| v == "v1"),
        "{:?}",
        run.versions()
    );
    assert!(logs(&run, "n-0001").contains("reverted from v2 to v1"));
    assert_eq!(run.core.rollouts.head, "v1");
}

#[test]
fn a_health_regression_in_the_watch_window_reverts() {
    let mut run = run(6);
    let plan = WavePlan {
        watch_ms: Some(30_000),
        ..waves(1, 0)
    };
    run.push(push(plan)).unwrap();
    run.run_until(20_000, |r| {
        r.core
            .rollouts
            .active()
            .is_some_and(|a| a.phase == RolloutPhase::Watching)
    })
    .expect("every wave committed");
    run.inject(
        "n-0002",
        Fault::Slow {
            factor: 20.0,
            persistent: true,
        },
    );
    assert_eq!(finish(&mut run, 60_000), RolloutPhase::RolledBack);
    let cause = run
        .core
        .rollouts
        .active()
        .map(|_| String::new())
        .unwrap_or_else(|| {
            run.core.rollouts.report(&run.core.registry).rollouts[0]
                .cause
                .clone()
                .unwrap()
        });
    assert!(cause.contains("health regression: n-0002"), "{cause}");
    assert!(
        run.versions().iter().all(|v| v == "v1"),
        "{:?}",
        run.versions()
    );
}

#[test]
fn a_second_push_conflicts_and_an_outdated_expectation_conflicts() {
    let mut run = run(10);
    run.push(push(waves(1, 0))).unwrap();
    let e = run.push(push(waves(1, 0))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("r-1"), "{}", e.message);
    assert_eq!(finish(&mut run, 30_000), RolloutPhase::Committed);
    let e = run.push(push(waves(1, 0))).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message
            .contains("expected to replace v1 but the fleet is on v2"),
        "{}",
        e.message
    );
    assert!(run.versions().iter().all(|v| v == "v2"));
}

#[test]
fn a_selector_picks_targets_and_a_bad_document_sends_nothing() {
    let mut run = run(12);
    let mut p = push(waves(0, 0));
    p.selector = "zone=eu-west".into();
    let dry = run
        .push(Push {
            dry_run: true,
            ..p.clone()
        })
        .unwrap();
    assert_eq!(dry.targets, 4);
    assert_eq!(dry.id, 0, "a dry run takes no rollout id");
    assert!(
        run.core.rollouts.active().is_none(),
        "a dry run starts nothing"
    );
    let mut bad = p.clone();
    bad.config.learning_rate = 0.0;
    let e = run.push(bad).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert!(e.message.contains("learning_rate"));
    run.push(p).unwrap();
    assert_eq!(finish(&mut run, 30_000), RolloutPhase::Committed);
    let on_v2 = run.versions().iter().filter(|v| *v == "v2").count();
    assert_eq!(on_v2, 4);
}

#[test]
fn an_experiment_serves_its_variant_then_reverts_when_its_duration_ends() {
    let mut run = run(9);
    let e = plexus::api::rollout::Experiment {
        name: "b-test".into(),
        variant: "model-b".into(),
        traffic_percent: 10,
        selector: "hw=gpu".into(),
        duration: "30s".into(),
    };
    let p = run.core.rollouts.experiment_push(&e, None, false).unwrap();
    let started = run.push(p).unwrap();
    assert_eq!(started.targets, 3);
    run.run_until(20_000, |r| {
        r.core
            .rollouts
            .active()
            .is_some_and(|a| a.phase == RolloutPhase::Running)
    })
    .expect("the variant is serving");
    assert_eq!(run.versions().iter().filter(|v| *v == "v2").count(), 3);
    assert_eq!(finish(&mut run, 60_000), RolloutPhase::Ended);
    assert!(run.versions().iter().all(|v| v == "v1"));
    assert_eq!(
        run.core.rollouts.head, "v1",
        "an experiment never becomes the head"
    );
}

#[test]
fn on_a_lossy_link_every_rollout_ends_all_or_nothing() {
    let mut outcomes = Vec::new();
    for seed in 1..=8 {
        let link = LinkConfig {
            loss: 0.15,
            ..LinkConfig::default()
        };
        let mut run = SimRun::new(20, 500, link, seed);
        run.run_for(3_000);
        run.push(push(waves(1, 5))).unwrap();
        let phase = finish(&mut run, 120_000);
        // A lost heartbeat can hide a version change for a beat: let a few more arrive.
        run.run_for(3_000);
        let want = if phase == RolloutPhase::Committed {
            "v2"
        } else {
            "v1"
        };
        let versions = run.versions();
        assert!(
            versions.iter().all(|v| v == want),
            "seed {seed}: {phase:?} but {versions:?}"
        );
        outcomes.push(phase);
    }
    // Both ends happen at this loss rate (Stage, Commit and Revert are re-sent until a step's
    // timeout), so both paths were exercised.
    assert!(outcomes.contains(&RolloutPhase::Committed), "{outcomes:?}");
    assert!(outcomes.contains(&RolloutPhase::RolledBack), "{outcomes:?}");
}
