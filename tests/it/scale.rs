//! A large fleet boots healthy: enrolments wait their turn (a budget per engine step), so the
//! step never stalls, nobody never heard from counts as silent, and 100,000 simulated neurons
//! are healthy within 10 s of engine time. Virtual time: what is asserted is the engine's own
//! behaviour, not this machine's speed.

use std::time::Instant;

use plexus::api::NeuronState;
use plexus::engine::config::EngineConfig;
use plexus::engine::testkit::SimRun;

#[test]
fn a_hundred_thousand_neurons_are_healthy_within_ten_seconds_with_no_fleet_condition() {
    const NEURONS: usize = 100_000;
    let started = Instant::now();
    let mut run = SimRun::with_config(NEURONS, EngineConfig::default(), 1);
    let mut line = Vec::new();
    let mut healthy_at = None;
    while run.now < 12_000 {
        run.run_for(500);
        let conditions = run.core.conditions();
        assert!(conditions.is_empty(), "at {} ms: {conditions:?}", run.now);
        let healthy = run.core.registry.count(NeuronState::Healthy) as usize;
        line.push(format!("{}s:{healthy}", run.now as f64 / 1000.0));
        if healthy_at.is_none() && healthy * 100 >= NEURONS * 99 {
            healthy_at = Some(run.now);
        }
    }
    println!(
        "healthy over time {} ({:.1} s real)",
        line.join(" "),
        started.elapsed().as_secs_f64()
    );
    let at = healthy_at.unwrap_or_else(|| panic!("never 99% healthy: {}", line.join(" ")));
    assert!(
        at <= 10_000,
        "99% healthy only at {at} ms: {}",
        line.join(" ")
    );
    assert_eq!(
        run.core.registry.count(NeuronState::Offline),
        0,
        "nobody convicted for waiting on the engine"
    );
    assert!(run.core.identity_queue.is_empty(), "every request answered");
    let alerts = run.core.alerts.report();
    println!(
        "alerts after boot: {} active, {} resolved; {} notifications",
        alerts.active().count(),
        alerts.resolved.len(),
        run.notifications.len()
    );
    assert_eq!(
        (alerts.active().count(), alerts.resolved.len()),
        (0, 0),
        "a clean boot raises no alert"
    );
}
