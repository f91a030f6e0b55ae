//! Auto-recovery on a fake clock: at most three attempts per failure, then exactly one
//! escalation; flapping does not reset the count; manual recovery overrides.

use plexus::api::{Event, Fault, NeuronState};
use plexus::engine::config::LinkConfig;
use plexus::engine::testkit::SimRun;

fn run(neurons: usize, seed: u64) -> SimRun {
    let mut run = SimRun::new(
        neurons,
        500,
        LinkConfig {
            latency_ms: 5.0,
            jitter_ms: 2.0,
            loss: 0.0,
        },
        seed,
    );
    run.run_for(5_000);
    run.take_events();
    run
}

fn attempts(run: &SimRun, id: &str) -> usize {
    run.count(|e| matches!(e, Event::RecoveryStarted { neuron, .. } if neuron == id))
}

fn escalations(run: &SimRun, id: &str) -> usize {
    run.count(|e| matches!(e, Event::RecoveryEscalated { neuron, .. } if neuron == id))
}

#[test]
fn a_crash_that_a_restart_fixes_is_recovered_in_under_five_seconds() {
    let mut run = run(10, 1);
    let crashed_at = run.now;
    run.inject("n-0005", Fault::Crash { persistent: false });
    run.run_until(10_000, |r| {
        !r.entered("n-0005", NeuronState::Offline).is_empty()
    })
    .expect("detected");
    let healthy_at = run
        .run_until(20_000, |r| r.state("n-0005") == NeuronState::Healthy)
        .expect("recovered");
    assert!(
        healthy_at - crashed_at <= 5_000,
        "took {} ms",
        healthy_at - crashed_at
    );
    assert_eq!(attempts(&run, "n-0005"), 1);
    let status = run.core.status(run.now);
    assert_eq!(status.recoveries.attempted, 1);
    assert_eq!(status.recoveries.succeeded, 1);
    assert_eq!(status.recoveries.success_rate, Some(1.0));
    assert_eq!(status.recent_recoveries[0].neuron, "n-0005");
}

#[test]
fn a_crash_loop_gets_exactly_three_attempts_then_one_escalation() {
    let mut run = run(10, 2);
    run.inject("n-0002", Fault::Crash { persistent: true });
    run.run_for(5 * 60 * 1000);
    assert_eq!(attempts(&run, "n-0002"), 3);
    assert_eq!(escalations(&run, "n-0002"), 1);
    assert_eq!(run.state("n-0002"), NeuronState::Offline);
    let status = run.core.status(run.now);
    assert_eq!(status.recoveries.escalated, 1);
    let failure = status
        .failures
        .iter()
        .find(|f| f.neuron == "n-0002")
        .expect("listed");
    assert_eq!(failure.attempts, 3);
    assert!(failure.escalated);
    // Attempts back off: the gaps between them grow.
    let starts: Vec<u64> = run
        .events
        .iter()
        .filter_map(|(at, e)| matches!(e, Event::RecoveryStarted { .. }).then_some(*at))
        .collect();
    assert!(starts[2] - starts[1] > starts[1] - starts[0]);
}

#[test]
fn flapping_does_not_reset_the_attempt_count() {
    let mut run = run(10, 3);
    for round in 1..=3 {
        run.inject("n-0007", Fault::Crash { persistent: false });
        run.run_until(30_000, |r| {
            r.count(|e| matches!(e, Event::RecoveryFinished { neuron, succeeded: true, .. } if neuron == "n-0007")) == round
        })
        .expect("recovered");
        run.run_for(10_000);
        assert_eq!(run.state("n-0007"), NeuronState::Healthy);
    }
    assert_eq!(attempts(&run, "n-0007"), 3);
    // The fourth failure inside the flap window gets no fourth attempt: it escalates.
    run.inject("n-0007", Fault::Crash { persistent: false });
    run.run_for(60_000);
    assert_eq!(attempts(&run, "n-0007"), 3);
    assert_eq!(escalations(&run, "n-0007"), 1);
}

#[test]
fn after_a_quiet_flap_window_a_new_failure_starts_a_new_count() {
    let mut run = run(4, 4);
    run.inject("n-0001", Fault::Crash { persistent: false });
    run.run_for(20_000);
    run.run_for(run.core.cfg.recovery.flap_window_ms + 1_000);
    run.inject("n-0001", Fault::Crash { persistent: false });
    run.run_for(20_000);
    let numbers: Vec<u32> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::RecoveryStarted { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(numbers, vec![1, 1]);
}

#[test]
fn manual_recovery_takes_an_escalated_neuron_back() {
    let mut run = run(6, 5);
    run.inject("n-0003", Fault::Crash { persistent: true });
    run.run_for(3 * 60 * 1000);
    assert_eq!(escalations(&run, "n-0003"), 1);
    // The operator fixes the cause, then forces recovery.
    run.clear_faults("n-0003");
    let (attempt, strategy) = run.recover("n-0003").expect("manual recovery starts");
    // Numbered within the failure episode: after the automatic budget, not #1 again.
    let budget = run.core.cfg.recovery.max_attempts;
    assert_eq!((attempt, strategy), (budget + 1, "restart"));
    assert!(run.count(|e| matches!(e, Event::RecoveryStarted { manual: true, .. })) == 1);
    run.run_until(10_000, |r| r.state("n-0003") == NeuronState::Healthy)
        .expect("recovered");
    let status = run.core.status(run.now);
    assert!(status.failures.is_empty());
}

#[test]
fn manual_recovery_refuses_a_healthy_neuron_and_an_unknown_one() {
    let mut run = run(3, 6);
    let err = run.recover("n-0001").unwrap_err();
    assert!(err.message.contains("healthy: nothing to recover"), "{err}");
    let err = run.recover("n-9999").unwrap_err();
    assert_eq!(err.code.exit_code(), 2);
}

#[test]
fn a_failed_config_is_recovered_by_reapplying_the_last_good_one() {
    let mut run = run(4, 7);
    run.inject("n-0002", Fault::ConfigFailure);
    run.apply_config("n-0002", "v2");
    run.run_until(5_000, |r| {
        !r.entered("n-0002", NeuronState::ConfigFailed).is_empty()
    })
    .expect("config failure detected");
    run.run_until(10_000, |r| r.state("n-0002") == NeuronState::Healthy)
        .expect("recovered");
    let strategies: Vec<String> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::RecoveryStarted { strategy, .. } => Some(strategy.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(strategies, vec!["reapply-last-good-config"]);
    let idx = run.core.registry.find("n-0002").unwrap();
    assert_eq!(
        &*run.core.registry.neurons[idx as usize].config_version,
        "v1"
    );
}
