//! Stress tests of the stress tester: coordinated-omission correction on a synthetic stall (on
//! tokio's paused clock), the gate on starting a test, cleanup of mock neurons, every report file,
//! and a breached threshold exiting 1.

use crate::support;

use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

use plexus::api::{ApiError, Command, CommandReply, ErrorCode, Role, ask};
use plexus::client::{Backend, BackendExt};
use plexus::stress::job::{Plan, execute};
use plexus::stress::profile::{Phase, Profile, Scenario};
use plexus::stress::run::{Live, run};
use plexus::stress::target::{MOCK_PREFIX, Target, pool_id, register_pool};
use plexus::stress::threshold::Measured;

/// Answers in 1 ms, except the request started at `stall_at`, which takes `stall`.
struct Stalling {
    stall_seq: u64,
    stall: Duration,
}

#[async_trait]
impl Target for Stalling {
    async fn call(&self, _: Scenario, seq: u64) -> Result<(), ApiError> {
        let d = if seq == self.stall_seq {
            self.stall
        } else {
            Duration::from_millis(1)
        };
        tokio::time::sleep(d).await;
        Ok(())
    }
}

fn profile(rate: f64, secs: u64, max_in_flight: usize) -> Profile {
    Profile {
        name: "t".into(),
        description: String::new(),
        neurons: 0,
        max_in_flight,
        max_wait: Duration::from_secs(2),
        abort_on_breach: false,
        phases: vec![Phase {
            name: "only".into(),
            duration: Duration::from_secs(secs),
            arrival_rate: rate,
            ramp_to: rate,
            subscribers: 0,
            concurrency: 0,
        }],
        scenarios: vec![(Scenario::Status, 1)],
        thresholds: Vec::new(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_stall_shows_in_corrected_latency_not_in_send_latency() {
    // 100 req/s for 3 s, one connection: request 100 stalls the only slot for 500 ms, so the
    // ~50 requests due meanwhile wait. From their actual send they take 1 ms; from when they
    // should have started, up to 500 ms — what their users would have seen.
    let p = profile(100.0, 3, 1);
    let target = Arc::new(Stalling {
        stall_seq: 100,
        stall: Duration::from_millis(500),
    });
    let live = Live::new("t", &p);
    let r = run(&p, &[], target, live, 1).await;
    let t = &r.recorder.total;
    assert_eq!(t.answered(), 300);
    assert_eq!(t.dropped, 0);
    assert!(
        t.percentile_ms(95.0) > 100.0,
        "corrected p95 {}",
        t.percentile_ms(95.0)
    );
    assert!(
        t.max_ms() >= 500.0 && t.max_ms() < 520.0,
        "max {}",
        t.max_ms()
    );
    assert!(
        t.sent_percentile_ms(95.0) < 2.0,
        "send p95 {}",
        t.sent_percentile_ms(95.0)
    );
    assert!(t.sent_percentile_ms(99.0) < 2.0);
    // One row per second of the run.
    assert!(
        (3..=4).contains(&r.recorder.rows.len()),
        "{}",
        r.recorder.rows.len()
    );
}

#[tokio::test(start_paused = true)]
async fn requests_beyond_the_cap_are_dropped_and_the_shortfall_is_warned() {
    // Every request takes 1 s, 2 in flight, 50 req/s: almost everything is dropped.
    let p = Profile {
        max_wait: Duration::from_millis(100),
        ..profile(50.0, 2, 2)
    };
    struct Slow;
    #[async_trait]
    impl Target for Slow {
        async fn call(&self, _: Scenario, _: u64) -> Result<(), ApiError> {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(())
        }
    }
    let r = run(&p, &[], Arc::new(Slow), Live::new("t", &p), 1).await;
    let t = &r.recorder.total;
    assert_eq!(t.answered() + t.dropped, 100);
    assert!(t.dropped >= 90, "dropped {}", t.dropped);
    assert!(!r.warnings.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_closed_phase_keeps_its_workers_busy_back_to_back_and_numbers_requests_in_order() {
    // 4 workers, 10 ms a request, 2 s: 4 × 200 requests, none dropped, nothing scheduled that
    // was not sent; then an open phase at 50 req/s for 1 s continues the numbering.
    struct Timed(std::sync::Mutex<Vec<u64>>);
    #[async_trait]
    impl Target for Timed {
        async fn call(&self, _: Scenario, seq: u64) -> Result<(), ApiError> {
            self.0.lock().expect("lock").push(seq);
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(())
        }
    }
    let mut p = profile(0.0, 2, 64);
    p.phases[0].concurrency = 4;
    p.phases.push(Phase {
        name: "open".into(),
        duration: Duration::from_secs(1),
        arrival_rate: 50.0,
        ramp_to: 50.0,
        subscribers: 0,
        concurrency: 0,
    });
    let target = Arc::new(Timed(Default::default()));
    let r = run(&p, &[], target.clone(), Live::new("t", &p), 1).await;
    let closed = &r.recorder.phases[0];
    assert!(
        (796..=804).contains(&closed.answered()),
        "closed: {}",
        closed.answered()
    );
    assert_eq!(closed.dropped, 0);
    assert!(closed.sent_percentile_ms(99.0) < 12.0);
    assert_eq!(r.recorder.phases[1].answered(), 50);
    assert_eq!(r.scheduled, r.recorder.total.answered());
    let seqs = target.0.lock().expect("lock").clone();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seqs.len(), "every request its own number");
    let last_closed = seqs[..closed.answered() as usize].iter().max().copied();
    assert!(
        seqs[closed.answered() as usize..]
            .iter()
            .all(|s| Some(*s) > last_closed),
        "the open phase numbers on from the closed one"
    );
}

#[tokio::test]
async fn starting_a_test_goes_through_the_gate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine(dir.path(), 0);
    let viewer = support::user_with_role(&engine, "vera", Role::Viewer).await;
    let e = viewer
        .submit(Command::StressStart {
            test_id: "st-1".into(),
            profile: "smoke".into(),
        })
        .await
        .expect_err("a viewer may not");
    assert_eq!(e.code, ErrorCode::Denied);
    let operator = support::user_with_role(&engine, "otto", Role::Operator).await;
    operator
        .submit(Command::StressStart {
            test_id: "st-1".into(),
            profile: "smoke".into(),
        })
        .await
        .expect("an operator may");
    engine.shutdown();
}

#[tokio::test]
async fn cleanup_leaves_no_mock_neuron_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine(dir.path(), 3);
    let admin: Arc<dyn Backend> = Arc::new(support::session(&engine, support::ADMIN).await);
    register_pool(&admin, 40, 8).await.expect("registers");
    let mocks =
        |n: &[plexus::api::NeuronView]| n.iter().filter(|v| v.id.starts_with(MOCK_PREFIX)).count();
    assert_eq!(mocks(&admin.neurons().await.expect("neurons")), 40);
    let reply = admin.submit(Command::TestCleanup).await.expect("cleans");
    assert_eq!(reply.summary(), "40 mock neurons removed");
    let left = admin.neurons().await.expect("neurons");
    assert_eq!(mocks(&left), 0);
    assert_eq!(left.len(), 3, "the simulated fleet stays");
    assert_eq!(admin.status().await.expect("status").neurons.total, 3);
    // A removed mock neuron's messages are refused; it may register again.
    register_pool(&admin, 1, 1).await.expect("registers again");
    assert_eq!(mocks(&admin.neurons().await.expect("neurons")), 1);
    engine.shutdown();
}

/// Mock neurons a test registers are not fleet members: silent ones never alert, are never
/// recovered and count neither toward health nor toward the guard; they leave with the test.
#[tokio::test]
async fn mock_neurons_never_alert_recover_or_count_and_leave_with_their_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine(dir.path(), 3);
    let admin: Arc<dyn Backend> = Arc::new(support::session(&engine, support::ADMIN).await);
    let start = |id: &str| Command::StressStart {
        test_id: id.into(),
        profile: "smoke".into(),
    };
    admin.submit(start("st-a")).await.expect("admitted");
    admin.submit(start("st-b")).await.expect("admitted");
    // Registered, then silent: every one goes suspect and offline.
    register_pool(&admin, 20, 4).await.expect("registers");
    engine.advance(120_000).await.expect("advances");
    let status = admin.status().await.expect("status");
    assert_eq!(status.neurons.total, 3, "{:?}", status.neurons);
    assert_eq!(status.neurons.healthy, 3);
    assert_eq!(status.neurons.mock, 20);
    assert!(status.failures.is_empty(), "{:?}", status.failures);
    assert_eq!(status.recoveries.attempted, 0);
    assert!(status.conditions.is_empty(), "{:?}", status.conditions);
    assert_eq!(status.config_versions.len(), 1, "no drift from the mocks");
    let alerts = admin.ask(ask::alerts()).await.expect("alerts");
    assert_eq!(alerts.active().count(), 0, "{alerts:?}");
    let err = admin.recover(&pool_id(0)).await.unwrap_err();
    assert!(err.message.contains("mock neuron"), "{err}");

    let finished = |id: &str| Command::StressFinished {
        test_id: id.into(),
        verdicts: Vec::new(),
    };
    // One test ends: the other still uses the pool.
    let reply = admin.submit(finished("st-a")).await.expect("recorded");
    assert!(matches!(
        reply,
        CommandReply::StressRecorded {
            mocks_removed: 0,
            ..
        }
    ));
    let reply = admin.submit(finished("st-b")).await.expect("recorded");
    assert!(
        matches!(
            reply,
            CommandReply::StressRecorded {
                mocks_removed: 20,
                ..
            }
        ),
        "{reply:?}"
    );
    let status = admin.status().await.expect("status");
    assert_eq!((status.neurons.total, status.neurons.mock), (3, 0));
    engine.shutdown();
}

#[tokio::test]
async fn a_run_writes_every_report_file_and_they_are_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 2, false);
    let admin: Arc<dyn Backend> = Arc::new(support::session(&engine, support::ADMIN).await);
    let mut p = plexus::stress::load_profile("smoke").expect("built in");
    p.scale_to(Duration::from_secs(2));
    p.scenarios.push((Scenario::ConfigPush, 1));
    p.scenarios.push((Scenario::Register, 1));
    let out = dir.path().join("results");
    let live = Live::new("st-test", &p);
    let done = execute(
        admin.clone(),
        Plan {
            thresholds: p.thresholds.clone(),
            profile: p,
            seed: 3,
            out: out.clone(),
            target: "embedded".into(),
            http: None,
            subscribers: 0,
        },
        "st-test",
        live,
    )
    .await
    .expect("runs");
    for f in plexus::stress::report::FILES {
        assert!(out.join(f).exists(), "{f}");
    }
    let json = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(f)).expect("reads")).expect(f)
    };
    let summary = json("summary.json");
    for k in ["requests_per_sec", "latency_ms", "error_rate", "dropped"] {
        assert!(summary["metrics"].get(k).is_some(), "metrics.{k}");
    }
    assert!(
        summary["metrics"]["requests_per_sec"]
            .as_f64()
            .unwrap_or(0.0)
            > 10.0
    );
    let audit = json("audit-log.json");
    let actions: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert!(actions.contains(&"stress.start"), "{actions:?}");
    assert!(
        json("system-metrics.json")
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(
        json("health-overview.json")
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let csv = std::fs::read_to_string(out.join("metrics.csv")).expect("csv");
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("second,phase,target_rps,achieved_rps")
    );
    let rows: Vec<&str> = lines.collect();
    let secs = done.summary.duration_s.floor() as usize;
    assert!(
        rows.len() >= secs && rows.len() <= secs + 1,
        "{} rows, {secs} s",
        rows.len()
    );
    // The test's mock neurons left the fleet with it.
    let neurons = admin.neurons().await.expect("neurons");
    assert!(
        neurons.iter().all(|n| !n.id.starts_with(MOCK_PREFIX)),
        "mock neurons left behind: {:?} {:?}",
        neurons.iter().map(|n| &n.id).collect::<Vec<_>>(),
        done.summary.warnings
    );
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(html.matches("<svg").count() >= 2 && html.contains("<polyline"));
    // The report itself is rendered (headings, tables), not Markdown inside a <pre>.
    assert!(html.contains("<table>") && html.contains("<h2>"), "{html}");
    assert!(!html.contains("<pre>") && !html.contains("|---"), "{html}");
    // Self-contained: nothing to fetch.
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("https://"));
    engine.shutdown();
}

fn plexus_cmd(dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"));
    c.arg("--data-dir").arg(dir).env("NO_COLOR", "1");
    c
}

#[test]
fn a_breached_threshold_exits_1_and_a_bad_one_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("r");
    let status = plexus_cmd(dir.path())
        .args([
            "stress",
            "run",
            "smoke",
            "--duration",
            "1",
            "--json",
            "--threshold",
            "p50 < 1us",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(
        status.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&status.stdout).expect("stdout is JSON");
    assert_eq!(summary["passed"], false);
    let bad = plexus_cmd(dir.path())
        .args(["stress", "run", "smoke", "--threshold", "p50 <"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    let bad_file = dir.path().join("bad.toml");
    std::fs::write(
        &bad_file,
        "name = \"x\"\n[[phases]]\nname = \"a\"\nduration = \"soon\"\narrival_rate = 1\n[[scenarios]]\nname = \"status\"\nweight = 1\n",
    )
    .expect("writes");
    let bad = plexus_cmd(dir.path())
        .args(["stress", "run"])
        .arg(&bad_file)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("bad.toml:4: key 'phases[0].duration'"),
        "{err}"
    );
}

async fn issue_token(engine: &plexus::engine::Engine, name: &str, role: Role) -> String {
    let admin = support::session(engine, support::ADMIN).await;
    if name != support::ADMIN {
        admin
            .submit(Command::AddUser {
                name: name.into(),
                role,
            })
            .await
            .expect("adds");
    }
    support::token(&admin, name).await
}

#[tokio::test]
async fn the_original_server_paths_start_follow_stop_and_clean_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine_on(dir.path(), 2, false);
    let (base, handle) = support::serve(&engine);
    let admin = issue_token(&engine, support::ADMIN, Role::Admin).await;
    let viewer = issue_token(&engine, "vic", Role::Viewer).await;
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{base}/api/federation/{p}");
    let body = serde_json::json!({"profile": "smoke", "duration_s": 30, "neurons": 5});
    let denied = http
        .post(url("stress-test/start"))
        .bearer_auth(&viewer)
        .json(&body)
        .send()
        .await
        .expect("answers");
    assert_eq!(denied.status().as_u16(), 403);
    let started: serde_json::Value = http
        .post(url("stress-test/start"))
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let id = started["test_id"].as_str().expect("id").to_string();
    let status_of = |id: String| {
        let request = http
            .get(url(&format!("stress-test/status/{id}")))
            .bearer_auth(&admin);
        async move {
            let answer = request.send().await.expect("answers");
            answer.json::<serde_json::Value>().await.expect("json")
        }
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = status_of(id.clone()).await;
    assert_eq!(status["state"], "running", "{status}");
    assert!(status["ok"].as_u64().unwrap_or(0) > 0, "{status}");
    let stop = http
        .post(url(&format!("stress-test/stop/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("answers");
    assert!(stop.status().is_success());
    let mut state = String::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let s = status_of(id.clone()).await;
        state = s["state"].as_str().unwrap_or("").to_string();
        if state != "running" {
            break;
        }
    }
    assert_eq!(state, "stopped");
    // The stopped test's mock neurons leave the fleet with it; cleanup finds none left.
    let mut mocks = usize::MAX;
    for _ in 0..50 {
        let neurons: serde_json::Value = http
            .get(format!("{base}/api/v1/neurons"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("json");
        mocks = neurons
            .as_array()
            .expect("a list")
            .iter()
            .filter(|n| n["id"].as_str().is_some_and(|i| i.starts_with(MOCK_PREFIX)))
            .count();
        if mocks == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(mocks, 0, "mock neurons left behind");
    let cleaned: serde_json::Value = http
        .post(url("test/cleanup"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(cleaned["neurons"], 0, "{cleaned}");
    let _ = std::fs::remove_dir_all(std::path::Path::new("test-results").join(&id));
    handle.shutdown();
    engine.shutdown();
}

#[tokio::test]
async fn a_breached_threshold_raises_the_stress_alert_and_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = support::engine(dir.path(), 2);
    let admin: Arc<dyn Backend> = Arc::new(support::session(&engine, support::ADMIN).await);
    let mut p = plexus::stress::load_profile("smoke").expect("built in");
    p.scale_to(Duration::from_secs(1));
    // No request answers in no time: this threshold is breached by any real run.
    let impossible = plexus::stress::threshold::Threshold::parse("p50 < 0ms").expect("parses");
    let live = Live::new("st-breach", &p);
    let done = execute(
        admin.clone(),
        Plan {
            thresholds: vec![impossible],
            profile: p,
            seed: 5,
            out: dir.path().join("results"),
            target: "embedded".into(),
            http: None,
            subscribers: 0,
        },
        "st-breach",
        live,
    )
    .await
    .expect("runs");
    assert!(done.summary.thresholds.iter().any(|t| !t.passed));
    // The alert rules are evaluated on the engine's tick.
    engine.advance(2_000).await.expect("advances");
    let report = admin.ask(ask::alerts()).await.expect("alerts");
    let alert = report
        .active()
        .find(|a| a.rule == "StressThresholdBreached")
        .expect("the stress alert fires");
    assert_eq!(alert.labels["test_id"], "st-breach");
    assert!(alert.summary().contains("p50 < 0ms"), "{}", alert.summary());
    let audit = admin
        .ask(ask::audit(Default::default()))
        .await
        .expect("audit");
    assert!(audit.iter().any(|r| r.action == "stress.finish"));
    engine.shutdown();
}
