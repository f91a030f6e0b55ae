//! The alert pipeline on the fake clock (SimRun): lifecycle, grouping, inhibition, silences,
//! and no false alerts on a lossy but healthy fleet. Minutes of fleet life run in milliseconds.

use plexus::api::alert::{AlertState, Matcher, Notification};
use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::{Event, Fault, Millis, NeuronState};
use plexus::engine::config::{EngineConfig, LinkConfig};
use plexus::engine::effects::Effects;
use plexus::engine::testkit::SimRun;

fn config(neurons_recover: bool) -> EngineConfig {
    let mut cfg = EngineConfig {
        heartbeat_ms: 500,
        ..EngineConfig::default()
    };
    cfg.recovery.enabled = neurons_recover;
    cfg
}

fn id(i: usize) -> String {
    format!("n-{:04}", i + 1)
}

fn alert_state(run: &SimRun, rule: &str, neuron: &str) -> Option<AlertState> {
    let report = run.core.alerts.report();
    report
        .active()
        .chain(report.resolved.iter())
        .find(|a| a.rule == rule && a.labels.get("neuron").map(String::as_str) == Some(neuron))
        .map(|a| a.state)
}

fn sent_for<'a>(run: &'a SimRun, rule: &str) -> Vec<&'a Notification> {
    run.notifications
        .iter()
        .filter(|n| n.group_labels.get("alertname").map(String::as_str) == Some(rule))
        .collect()
}

#[test]
fn an_alert_goes_pending_then_firing_after_its_for_then_resolves() {
    let mut cfg = config(false);
    let offline = cfg
        .alerts
        .rules
        .iter_mut()
        .find(|r| r.name == "NeuronOffline")
        .unwrap();
    offline.for_ms = 10_000;
    let mut run = SimRun::with_config(20, cfg, 7);
    run.run_for(5_000);
    assert!(
        run.core.alerts.report().groups.is_empty(),
        "a healthy fleet has no alerts"
    );

    run.inject("n-0003", Fault::Hang);
    let pending_at = run
        .run_until(10_000, |r| {
            alert_state(r, "NeuronOffline", "n-0003") == Some(AlertState::Pending)
        })
        .expect("the hung neuron's alert goes pending");
    let firing_at = run
        .run_until(20_000, |r| {
            alert_state(r, "NeuronOffline", "n-0003") == Some(AlertState::Firing)
        })
        .expect("and fires");
    // Evaluated once a second: fires between `for` and `for` + one evaluation.
    let held = firing_at - pending_at;
    assert!((10_000..=11_000).contains(&held), "held {held} ms");
    // Nothing else fires: only the hung neuron.
    let report = run.core.alerts.report();
    assert_eq!(report.active().count(), 1, "{report:?}");

    run.clear_faults("n-0003");
    run.run_until(10_000, |r| {
        alert_state(r, "NeuronOffline", "n-0003") == Some(AlertState::Resolved)
    })
    .expect("it resolves once the neuron is heard from again");
    let alert = run.core.alerts.report().resolved[0].clone();
    assert!(alert.fired_at.unwrap() < alert.resolved_at.unwrap());
    assert_eq!(
        alert.summary(),
        "n-0003 in zone ".to_string() + &alert.labels["zone"] + " is offline"
    );
}

#[test]
fn a_hundred_neurons_lost_within_ten_seconds_make_one_grouped_notification() {
    let mut run = SimRun::with_config(300, config(false), 3);
    run.run_for(5_000);
    // Neurons take zones in turn: spread the losses so that no zone goes silent as a whole.
    for i in 0..100 {
        run.inject(&id(i * 3 + i % 3), Fault::Crash { persistent: true });
        run.run_for(100);
    }
    run.run_for(60_000);
    assert!(sent_for(&run, "ZoneUnreachable").is_empty());
    let offline = sent_for(&run, "NeuronOffline");
    assert_eq!(offline.len(), 1, "one notification for the group");
    assert_eq!(offline[0].alerts.len(), 100);
    assert_eq!(offline[0].status, "firing");
    // Nothing changes: the next group-interval flush (5 min on) sends nothing.
    run.run_for(310_000);
    assert_eq!(sent_for(&run, "NeuronOffline").len(), 1);
}

#[test]
fn a_zone_gone_silent_inhibits_the_offline_alerts_inside_it() {
    let mut run = SimRun::with_config(30, config(false), 3);
    run.run_for(5_000);
    // Every third neuron is in the same zone: all of it goes down within a second.
    for i in 0..10 {
        run.inject(&id(i * 3), Fault::Crash { persistent: true });
        run.run_for(100);
    }
    run.run_for(60_000);
    let report = run.core.alerts.report();
    let zone = report
        .active()
        .find(|a| a.rule == "ZoneUnreachable")
        .expect("the zone alert fires");
    let offline: Vec<_> = report
        .active()
        .filter(|a| a.rule == "NeuronOffline")
        .collect();
    assert_eq!(offline.len(), 10);
    assert!(offline.iter().all(
        |a| a.inhibited_by.as_deref() == Some(zone.fingerprint.as_str())
            && a.labels["zone"] == zone.labels["zone"]
    ));
    assert!(
        sent_for(&run, "NeuronOffline").is_empty(),
        "inhibited: not notified"
    );
    assert_eq!(sent_for(&run, "ZoneUnreachable").len(), 1);
}

#[test]
fn an_offline_neuron_inhibits_its_own_latency_alert() {
    let mut run = SimRun::with_config(10, config(false), 5);
    run.run_for(3_000);
    run.inject(
        "n-0002",
        Fault::Slow {
            factor: 20.0,
            persistent: true,
        },
    );
    run.run_until(60_000, |r| {
        alert_state(r, "NeuronLatencyHigh", "n-0002") == Some(AlertState::Firing)
    })
    .expect("the slow neuron's latency alert fires");
    run.inject("n-0002", Fault::Hang);
    run.run_until(10_000, |r| {
        alert_state(r, "NeuronOffline", "n-0002") == Some(AlertState::Firing)
    })
    .expect("then it goes offline");
    run.run_for(2_000);
    let report = run.core.alerts.report();
    let offline = report.active().find(|a| a.rule == "NeuronOffline").unwrap();
    // The detector's slow verdict stays while the neuron is silent: its alert is kept, muted.
    let latency = report
        .active()
        .find(|a| a.rule == "NeuronLatencyHigh")
        .expect("the latency alert is still there");
    assert_eq!(latency.state, AlertState::Firing);
    assert_eq!(
        latency.inhibited_by.as_deref(),
        Some(offline.fingerprint.as_str())
    );
    // Another neuron's alerts are not inhibited by it.
    assert!(report.active().all(|a| a.labels["neuron"] == "n-0002"));
}

#[test]
fn a_silent_fleet_inhibits_the_per_neuron_alerts_inside_it() {
    let mut run = SimRun::with_config(8, config(false), 9);
    run.run_for(3_000);
    for i in 0..6 {
        run.inject(&id(i), Fault::Hang);
    }
    run.run_for(60_000);
    let report = run.core.alerts.report();
    let fleet = report
        .active()
        .find(|a| a.rule == "FleetSilence")
        .expect("the guard's fleet silence alerts");
    assert_eq!(fleet.state, AlertState::Firing);
    let suspects: Vec<_> = report
        .active()
        .filter(|a| a.rule == "NeuronSuspectTooLong")
        .collect();
    assert_eq!(
        suspects.len(),
        6,
        "convictions are held, so they stay suspect: {report:?}"
    );
    assert!(
        suspects
            .iter()
            .all(|a| a.inhibited_by.as_deref() == Some(fleet.fingerprint.as_str()))
    );
    assert!(sent_for(&run, "NeuronSuspectTooLong").is_empty());
    assert_eq!(sent_for(&run, "FleetSilence").len(), 1);
}

#[test]
fn a_silenced_alert_notifies_once_its_silence_expires() {
    let mut run = SimRun::with_config(20, config(false), 4);
    run.run_for(2_000);
    let wall =
        |run: &SimRun| Effects::new(plexus::engine::clock::FakeClock::EPOCH_UNIX_MS).wall(run.now);
    let mut fx = Effects::new(plexus::engine::clock::FakeClock::EPOCH_UNIX_MS);
    let silence = run
        .core
        .alerts
        .silence(
            Matcher::parse_list("alertname=NeuronOffline,neuron=~n-000[1-5]").unwrap(),
            120_000,
            "ops",
            "maintenance".into(),
            wall(&run),
            &mut fx,
        )
        .unwrap();
    run.inject("n-0004", Fault::Hang);
    run.run_for(60_000);
    let report = run.core.alerts.report();
    let alert = report.active().find(|a| a.rule == "NeuronOffline").unwrap();
    assert_eq!(alert.state, AlertState::Firing);
    assert_eq!(alert.silenced_by, vec![silence.id.clone()]);
    assert!(
        sent_for(&run, "NeuronOffline").is_empty(),
        "silenced: not notified"
    );

    let expires_at: Millis = 2_000 + 120_000;
    run.run_for(expires_at - run.now);
    assert!(sent_for(&run, "NeuronOffline").is_empty());
    // After expiry: notified after the new group's group_wait (30 s) and one evaluation.
    let at = run
        .run_until(40_000, |r| !sent_for(r, "NeuronOffline").is_empty())
        .expect("notified after the silence expired");
    assert!(
        (30_000..=32_000).contains(&(at - expires_at)),
        "{} ms after",
        at - expires_at
    );
    assert!(run.core.alerts.silences(wall(&run)).is_empty());
}

/// The figure: 0 false alerts in 30 fault-free minutes at 5% heartbeat loss, 100 neurons, a
/// 500 ms heartbeat (virtual time).
#[test]
fn no_false_alerts_in_thirty_fault_free_minutes_with_five_percent_loss() {
    let link = LinkConfig {
        latency_ms: 5.0,
        jitter_ms: 2.0,
        loss: 0.05,
    };
    let cfg = EngineConfig {
        heartbeat_ms: 500,
        link,
        ..EngineConfig::default()
    };
    let mut run = SimRun::with_config(100, cfg, 42);
    run.run_for(30 * 60_000);
    let fired = run.count(|e| {
        matches!(e, plexus::api::Event::AlertChanged { state, .. } if *state == AlertState::Firing)
    });
    let lost = run.core.link.stats().lost;
    eprintln!(
        "30 min, 100 neurons, 5% loss: {lost} messages lost, {fired} alerts fired, {} notifications",
        run.notifications.len()
    );
    assert!(lost > 1000, "the link really lost heartbeats ({lost})");
    assert_eq!(fired, 0);
    assert!(run.notifications.is_empty());
}

#[test]
fn an_event_rule_fires_on_its_event_and_resolves_after_its_hold() {
    let mut run = SimRun::with_config(6, config(false), 2);
    run.run_for(2_000);
    let wall = plexus::engine::clock::FakeClock::EPOCH_UNIX_MS + run.now as i64;
    run.core.alerts.note_events(
        &[plexus::api::Event::FlByzantineDetected {
            run: "fl-7".into(),
            round: 12,
            neurons: vec!["n-0002".into(), "n-0005".into()],
            rule: "krum".into(),
        }],
        wall,
    );
    run.run_for(2_000);
    let report = run.core.alerts.report();
    let alert = report
        .active()
        .find(|a| a.rule == "ByzantineNeuronsDetected")
        .expect("fires on the event");
    assert_eq!(alert.state, AlertState::Firing);
    assert_eq!(alert.labels["run"], "fl-7");
    assert_eq!(
        alert.summary(),
        "Byzantine updates detected: round 12: krum excluded n-0002, n-0005"
    );
    // Held 5 minutes after the last such event, then resolved.
    run.run_for(290_000);
    assert!(
        run.core
            .alerts
            .report()
            .active()
            .any(|a| a.rule == "ByzantineNeuronsDetected")
    );
    run.run_for(15_000);
    let report = run.core.alerts.report();
    assert!(
        report
            .active()
            .all(|a| a.rule != "ByzantineNeuronsDetected")
    );
    assert!(
        report
            .resolved
            .iter()
            .any(|a| a.rule == "ByzantineNeuronsDetected")
    );
}

fn changes(run: &SimRun, rule: &str, state: AlertState) -> Vec<Millis> {
    run.events_at(
        |e| matches!(e, Event::AlertChanged { rule: r, state: s, .. } if r == rule && *s == state),
    )
}

fn partition(zone: &str, for_ms: Millis) -> ChaosSpec {
    ChaosSpec {
        kind: ChaosKind::Partition,
        target: Selector::parse(&format!("zone:{zone}")).unwrap(),
        duration_ms: Some(for_ms),
        params: ChaosParams::default(),
    }
}

#[test]
fn an_offline_alert_holds_through_every_recovery_attempt_and_resolves_once_healthy() {
    let mut run = SimRun::with_config(10, config(true), 11);
    run.run_for(5_000);
    // A crash loop: every restart dies again, so recovery tries, fails and escalates.
    run.inject("n-0002", Fault::Crash { persistent: true });
    run.run_for(90_000);
    let attempts =
        run.count(|e| matches!(e, Event::RecoveryStarted { neuron, .. } if neuron == "n-0002"));
    assert_eq!(attempts, 3, "the automatic budget was spent");
    assert!(
        run.entered("n-0002", NeuronState::Recovering).len() >= 3,
        "the neuron went offline → recovering at every attempt"
    );
    assert_eq!(
        changes(&run, "NeuronOffline", AlertState::Firing).len(),
        1,
        "one alert per outage"
    );
    assert!(changes(&run, "NeuronOffline", AlertState::Resolved).is_empty());
    assert_eq!(
        changes(&run, "RecoveryEscalated", AlertState::Firing).len(),
        1
    );
    assert_eq!(sent_for(&run, "NeuronOffline").len(), 1, "notified once");

    // The operator fixes it: the manual attempt is numbered in the episode (#4), and once the
    // neuron is healthy both alerts resolve, once.
    run.clear_faults("n-0002");
    let (attempt, _) = run.recover("n-0002").unwrap();
    assert_eq!(
        attempt, 4,
        "numbered per failure episode, not restarted at #1"
    );
    run.run_until(20_000, |r| r.state("n-0002") == NeuronState::Healthy)
        .expect("recovered");
    run.run_for(2_000);
    assert_eq!(changes(&run, "NeuronOffline", AlertState::Firing).len(), 1);
    assert_eq!(
        changes(&run, "NeuronOffline", AlertState::Resolved).len(),
        1
    );
    assert_eq!(
        changes(&run, "RecoveryEscalated", AlertState::Resolved).len(),
        1
    );
    assert_eq!(run.core.alerts.report().active().count(), 0);
}

#[test]
fn an_offline_that_turns_into_recovering_between_evaluations_still_alerts() {
    let mut cfg = config(true);
    // Evaluate rarely: the neuron is convicted and recovering before the rules look.
    cfg.alerts.eval_ms = 30_000;
    let mut run = SimRun::with_config(10, cfg, 5);
    run.run_for(5_000);
    run.inject("n-0004", Fault::Crash { persistent: true });
    run.run_for(40_000);
    assert_eq!(changes(&run, "NeuronOffline", AlertState::Firing).len(), 1);
}

#[test]
fn an_escalated_neuron_that_comes_back_by_itself_resolves_its_escalation() {
    let mut run = SimRun::with_config(10, config(true), 9);
    run.run_for(5_000);
    // Cut off long enough for every attempt to time out (restarts cannot reach it).
    let zone = run.core.registry.neurons[2].zone.to_string();
    let cut = ChaosSpec {
        target: Selector::parse("n-0003").unwrap(),
        ..partition(&zone, 120_000)
    };
    let fault = run.chaos(cut).unwrap();
    run.run_until(120_000, |r| {
        alert_state(r, "RecoveryEscalated", "n-0003") == Some(AlertState::Firing)
    })
    .expect("escalated after its attempts");
    run.chaos_stop(&fault.id).unwrap();
    run.run_until(10_000, |r| {
        alert_state(r, "RecoveryEscalated", "n-0003") == Some(AlertState::Resolved)
    })
    .expect("healthy again: the escalation resolves");
    assert_eq!(run.state("n-0003"), NeuronState::Healthy);
    assert!(
        run.core.recovery.failing().next().is_none(),
        "failures: none"
    );
}

#[test]
fn a_zone_partition_raises_one_zone_alert_within_its_for_and_no_neuron_storm() {
    let mut run = SimRun::with_config(30, config(true), 3);
    run.run_for(5_000);
    let zone = run.core.registry.neurons[0].zone.to_string();
    let cut_at = run.now;
    // Longer than group_wait (30 s) after it fires, so the zone alert is notified firing.
    run.chaos(partition(&zone, 60_000)).unwrap();
    // The resolution goes out at the group's next interval (5 min).
    run.run_for(400_000);

    let fired = changes(&run, "ZoneUnreachable", AlertState::Firing);
    assert_eq!(fired.len(), 1, "one alert for the outage");
    let after = fired[0] - cut_at;
    // `for` is 10 s from the zone's last heartbeat; evaluated once a second.
    assert!(
        (10_000..=12_000).contains(&after),
        "fired {after} ms after the cut"
    );
    assert_eq!(
        changes(&run, "ZoneUnreachable", AlertState::Resolved).len(),
        1
    );
    // The zone's ten neurons: each one NeuronOffline for the whole outage, none notified.
    assert_eq!(changes(&run, "NeuronOffline", AlertState::Firing).len(), 10);
    assert_eq!(
        changes(&run, "NeuronOffline", AlertState::Resolved).len(),
        10
    );
    assert!(
        sent_for(&run, "NeuronOffline").is_empty(),
        "inhibited by the zone alert"
    );
    let zone_sent = sent_for(&run, "ZoneUnreachable");
    assert_eq!(
        zone_sent
            .iter()
            .map(|n| n.status.as_str())
            .collect::<Vec<_>>(),
        ["firing", "resolved"]
    );
}

#[test]
fn a_short_zone_partition_still_raises_its_zone_alert() {
    let mut run = SimRun::with_config(30, config(true), 4);
    run.run_for(5_000);
    let zone = run.core.registry.neurons[1].zone.to_string();
    run.chaos(partition(&zone, 12_000)).unwrap();
    run.run_for(30_000);
    assert_eq!(
        changes(&run, "ZoneUnreachable", AlertState::Firing).len(),
        1
    );
}
