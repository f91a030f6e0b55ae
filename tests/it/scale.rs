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

/// `plexus bench scale` walked as a user would: three small sizes, each a real `plexus serve`
/// measured from outside; the files a report promises are there, every size came up, the model
/// was checked against the largest size, and every capacity question has an answer line.
#[test]
fn bench_scale_measures_real_servers_fits_and_writes_its_reports() {
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().join("scale");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args([
            "--json",
            "bench",
            "scale",
            "--sizes",
            "400,100,200",
            "--window",
            "1",
        ])
        .arg("--out")
        .arg(&dir)
        .env_remove("PLEXUS_URL")
        .env_remove("PLEXUS_TOKEN")
        .output()
        .expect("runs");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.stderr.is_empty(),
        "no progress lines when stderr is not a terminal"
    );
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let sizes: Vec<u64> = summary["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["neurons"].as_u64().expect("size"))
        .collect();
    assert_eq!(sizes, [100, 200, 400], "sorted, each measured");
    for p in summary["points"].as_array().expect("points") {
        assert!(p["healthy_after_s"].as_f64().is_some(), "{p}");
        assert!(p["rss_mb"].as_f64().is_some_and(|mb| mb > 1.0), "{p}");
        assert!(p["status_calls"].as_u64().is_some_and(|n| n >= 1), "{p}");
        assert!(p["shutdown_s"].as_f64().is_some_and(|s| s < 5.0), "{p}");
    }
    assert_eq!(summary["holdout"]["predicted_size"], 400);
    assert_eq!(summary["predictions"].as_array().map(Vec::len), Some(3));
    for file in plexus::stress::scale::report::FILES {
        assert!(dir.join(file).is_file(), "{file} written");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).expect("html");
    assert!(html.contains("<svg") && html.contains("rss_mb"));
    // Bad input: named, exit 2, nothing run.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["bench", "scale", "--sizes", "0,100"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--sizes"));
}
