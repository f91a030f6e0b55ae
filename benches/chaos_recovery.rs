//! Time to detect and time to recover per fault kind, median and p99 over 20 seeded runs each,
//! at a 500 ms heartbeat on virtual time (`SimRun`), plus false detections in a 30-minute
//! fault-free run with 5% heartbeat loss. `cargo bench --bench chaos_recovery`.

use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::{Event, NeuronState};
use plexus::engine::config::LinkConfig;
use plexus::engine::testkit::SimRun;
use plexus::experiment::monitor::Monitor;

const RUNS: u64 = 20;
const NEURONS: usize = 24;

fn one(kind: ChaosKind, target: &str, loss: f64, seed: u64) -> (Option<u64>, Option<u64>) {
    let mut run = SimRun::new(NEURONS, 500, LinkConfig::default(), seed);
    run.run_for(5_000);
    run.take_events();
    let start = run.now;
    let mut monitor = Monitor::new(5_000);
    let spec = ChaosSpec {
        kind,
        target: Selector::parse(target).expect("selector"),
        duration_ms: Some(5_000),
        params: ChaosParams {
            loss,
            ..ChaosParams::default()
        },
    };
    let view = run.chaos(spec).expect("inject");
    monitor.injected(0, &view, true);
    let mut seen = 0;
    while run.now < start + 120_000 && !monitor.all_settled() {
        run.run_for(run.core.cfg.tick_ms);
        for (at, e) in &run.events[seen..] {
            monitor.on_event(at - start, e);
        }
        seen = run.events.len();
        let healthy = run.core.registry.count(NeuronState::Healthy) as f64 / NEURONS as f64;
        let core = &run.core;
        monitor.on_poll(
            run.now - start,
            healthy >= 0.95 || kind == ChaosKind::Partition,
            |id| {
                core.registry.find(id).is_some_and(|i| {
                    core.registry.neurons[i as usize].state == NeuronState::Healthy
                })
            },
        );
    }
    let f = &monitor.faults[0];
    (f.time_to_detect_ms, f.time_to_recover_ms)
}

fn pct(v: &mut [u64], p: f64) -> String {
    if v.is_empty() {
        return "—".into();
    }
    v.sort();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    format!("{:.2} s", v[i] as f64 / 1000.0)
}

fn main() {
    let cases = [
        ("crash", ChaosKind::Crash, "random:1:{}", 0.1),
        ("hang", ChaosKind::Hang, "random:1:{}", 0.1),
        ("zone partition", ChaosKind::Partition, "zone:us-east", 0.1),
        ("10% packet loss", ChaosKind::PacketLoss, "random:1:{}", 0.1),
        ("Byzantine neuron", ChaosKind::Byzantine, "random:1:{}", 0.1),
        (
            "bad config push",
            ChaosKind::ConfigFailure,
            "random:1:{}",
            0.1,
        ),
    ];
    println!(
        "| fault | runs | detected | detect median | detect p99 | recover median | recover p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, kind, target, loss) in cases {
        let (mut d, mut r) = (Vec::new(), Vec::new());
        for seed in 1..=RUNS {
            let (ttd, ttr) = one(kind, &target.replace("{}", &seed.to_string()), loss, seed);
            d.extend(ttd);
            r.extend(ttr);
        }
        println!(
            "| {name} | {RUNS} | {} | {} | {} | {} | {} |",
            d.len(),
            pct(&mut d.clone(), 0.5),
            pct(&mut d, 0.99),
            pct(&mut r.clone(), 0.5),
            pct(&mut r, 0.99)
        );
    }
    let link = LinkConfig {
        loss: 0.05,
        ..LinkConfig::default()
    };
    let mut run = SimRun::new(NEURONS, 500, link, 99);
    run.run_for(30 * 60_000);
    let false_detections = run.count(|e| matches!(e, Event::FailureDetected { .. }));
    let suspicions = run.count(
        |e| matches!(e, Event::NeuronStateChanged { to, .. } if *to == NeuronState::Suspect),
    );
    println!(
        "\nfault-free 30 min, {NEURONS} neurons, 5% heartbeat loss: {false_detections} failures detected, {suspicions} suspicions"
    );
}
