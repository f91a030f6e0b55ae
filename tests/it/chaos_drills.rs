//! Chaos drills on a fake clock: each fault really misbehaves, the detector notices on its own,
//! the engine reverts the fault after its duration (or on stop), and the fleet recovers.

use crate::support;

use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Direction, Selector};
use plexus::api::{Command, Event, FailureMode, NeuronState, Role};
use plexus::client::Backend;
use plexus::engine::config::LinkConfig;
use plexus::engine::testkit::SimRun;

fn run(neurons: usize) -> SimRun {
    let mut run = SimRun::new(neurons, 500, LinkConfig::default(), 7);
    run.run_for(5_000);
    run
}

fn spec(kind: ChaosKind, target: &str, for_ms: Option<u64>) -> ChaosSpec {
    ChaosSpec {
        kind,
        target: Selector::parse(target).unwrap(),
        duration_ms: for_ms,
        params: ChaosParams::default(),
    }
}

fn detected(run: &SimRun, neuron: &str, mode: FailureMode) -> bool {
    run.count(|e| matches!(e, Event::FailureDetected { neuron: n, mode: m, .. } if n == neuron && *m == mode))
        > 0
}

fn healthy(run: &SimRun) -> u64 {
    run.core.registry.count(NeuronState::Healthy)
}

#[test]
fn a_crash_is_detected_reverted_on_time_and_recovered() {
    let mut run = run(12);
    let fault = run
        .chaos(spec(ChaosKind::Crash, "n-0003", Some(4_000)))
        .unwrap();
    assert_eq!(fault.neurons, vec!["n-0003"]);
    run.run_for(3_000);
    assert!(detected(&run, "n-0003", FailureMode::Offline));
    run.run_for(20_000);
    let list = run.core.chaos.list();
    assert_eq!(list[0].reverted_by, "duration");
    assert_eq!(list[0].reverted_ms, Some(fault.injected_ms + 4_000));
    assert_eq!(run.state("n-0003"), NeuronState::Healthy);
    assert_eq!(healthy(&run), 12);
}

#[test]
fn a_zone_partition_convicts_the_zone_only_and_heals_when_lifted() {
    let mut run = run(12);
    let fault = run
        .chaos(spec(ChaosKind::Partition, "zone:us-east", None))
        .unwrap();
    assert_eq!(fault.neurons.len(), 4);
    run.run_for(5_000);
    for id in &fault.neurons {
        assert!(detected(&run, id, FailureMode::Offline), "{id}");
        assert_ne!(run.state(id), NeuronState::Healthy, "{id}");
    }
    let outside = run.count(
        |e| matches!(e, Event::FailureDetected { neuron, .. } if !fault.neurons.contains(neuron)),
    );
    assert_eq!(outside, 0);
    assert_eq!(healthy(&run), 8);
    run.chaos_stop(&fault.id).unwrap();
    run.run_for(15_000);
    assert_eq!(healthy(&run), 12);
    assert!(run.chaos_stop(&fault.id).is_err(), "already reverted");
}

#[test]
fn a_one_way_partition_up_silences_heartbeats() {
    let mut run = run(6);
    let mut s = spec(ChaosKind::Partition, "n-0002", Some(6_000));
    s.params.direction = Direction::Up;
    run.chaos(s).unwrap();
    run.run_for(4_000);
    assert!(detected(&run, "n-0002", FailureMode::Offline));
    run.run_for(15_000);
    assert_eq!(run.state("n-0002"), NeuronState::Healthy);
}

#[test]
fn forged_heartbeats_are_detected_as_byzantine_by_verification() {
    let mut run = run(6);
    run.chaos(spec(ChaosKind::Byzantine, "n-0004", Some(3_000)))
        .unwrap();
    run.run_for(3_000);
    assert!(detected(&run, "n-0004", FailureMode::Byzantine));
    run.run_for(20_000);
    assert_eq!(run.state("n-0004"), NeuronState::Healthy);
}

#[test]
fn a_bad_config_push_fails_on_its_targets() {
    let mut run = run(6);
    run.chaos(spec(ChaosKind::ConfigFailure, "count:2", Some(1_000)))
        .unwrap();
    run.run_for(3_000);
    assert!(detected(&run, "n-0001", FailureMode::ConfigFailure));
    assert!(detected(&run, "n-0002", FailureMode::ConfigFailure));
    assert!(!detected(&run, "n-0003", FailureMode::ConfigFailure));
}

#[test]
fn selectors_pick_what_they_say_and_random_is_seeded() {
    let run = run(20);
    let ids = |s: &str| run.core.select(&Selector::parse(s).unwrap()).unwrap();
    assert_eq!(ids("all").len(), 20);
    assert_eq!(ids("count:3"), vec![0, 1, 2]);
    assert_eq!(ids("10%").len(), 2);
    assert_eq!(ids("random:5:9"), ids("random:5:9"));
    assert_ne!(ids("random:5:9"), ids("random:5:10"));
    assert!(
        run.core
            .select(&Selector::parse("zone:mars").unwrap())
            .is_err()
    );
    assert!(
        run.core
            .select(&Selector::parse("n-9999").unwrap())
            .is_err()
    );
}

#[test]
fn overlapping_faults_survive_each_others_revert() {
    let mut run = run(6);
    let slow = run.chaos(spec(ChaosKind::Slow, "n-0001", None)).unwrap();
    let loss = run
        .chaos(spec(ChaosKind::PacketLoss, "n-0001", Some(1_000)))
        .unwrap();
    run.run_for(2_000);
    assert_eq!(run.core.chaos.active_ids(), vec![slow.id.clone()]);
    assert!(loss.id != slow.id);
    run.run_for(5_000);
    assert!(detected(&run, "n-0001", FailureMode::Timeout));
}

#[test]
fn bad_parameters_are_refused_and_change_nothing() {
    let mut run = run(4);
    let mut s = spec(ChaosKind::PacketLoss, "all", None);
    s.params.loss = 1.5;
    let err = run.chaos(s).unwrap_err();
    assert!(err.message.contains("params.loss"), "{}", err.message);
    assert_eq!(run.core.chaos.list().len(), 0);
}

#[tokio::test]
async fn chaos_passes_the_gate_operators_may_viewers_may_not() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 6);
    let viewer = support::user_with_role(&engine, "vic", Role::Viewer).await;
    let operator = support::user_with_role(&engine, "olga", Role::Operator).await;
    let inject = Command::ChaosInject {
        spec: spec(ChaosKind::Hang, "n-0001", Some(2_000)),
    };
    let denied = viewer.submit(inject.clone()).await.unwrap_err();
    assert_eq!(denied.code, plexus::api::ErrorCode::Denied);
    assert!(operator.submit(inject).await.is_ok());
    engine.shutdown();
}
