//! Chaos experiments on virtual time: every shipped scenario meets its hypothesis, a fault the
//! engine never notices is a deviation, rollbacks run on abort, and bad files name line and key.

use crate::support;

use plexus::api::ask;
use plexus::client::Backend;
use plexus::client::BackendExt;
use plexus::experiment::scenario::{SHIPPED, Scenario};
use plexus::experiment::{Verdict, run};

async fn run_scenario(
    scenario: &Scenario,
    cancel: bool,
) -> (
    plexus::experiment::Journal,
    Vec<plexus::api::chaos::ChaosFaultView>,
) {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine(dir.path(), 24);
    let ops = support::session(&engine, support::ADMIN).await;
    ops.sleep(std::time::Duration::from_secs(5)).await;
    let journal = if cancel {
        run(&ops, scenario, "test", async {}, |_| {}).await
    } else {
        run(&ops, scenario, "test", std::future::pending(), |_| {}).await
    }
    .unwrap();
    let held = ops.ask(ask::chaos()).await.unwrap();
    engine.shutdown();
    (journal, held)
}

#[tokio::test]
async fn every_shipped_scenario_meets_its_hypothesis() {
    for (name, text) in SHIPPED {
        let scenario = Scenario::parse(name, text).unwrap();
        let (journal, held) = run_scenario(&scenario, false).await;
        assert_eq!(journal.verdict, Verdict::Ok, "{name}: {:#?}", journal);
        assert!(held.iter().all(|f| !f.active()), "{name}: all reverted");
        for f in &journal.faults {
            assert!(f.recovered_ms.is_some(), "{name}: {f:?}");
        }
    }
}

#[tokio::test]
async fn a_fault_that_is_never_detected_is_a_deviation() {
    let text = r#"
title = "invisible"
[[hypothesis]]
probe = "healthy_share"
min = 0.9
[[method]]
kind = "latency"
target = "n-0001"
for = "2s"
params = { latency_ms = 1.0, jitter_ms = 0.0 }
"#;
    let scenario = Scenario::parse("invisible.toml", text).unwrap();
    let (journal, _) = run_scenario(&scenario, false).await;
    assert_eq!(journal.verdict, Verdict::Deviated);
    assert!(
        journal.reasons[0].contains("never detected"),
        "{:?}",
        journal.reasons
    );
}

#[tokio::test]
async fn rollbacks_run_on_abort() {
    let text = r#"
title = "long hang"
[[method]]
kind = "hang"
target = "count:3"
for = "10m"
"#;
    let scenario = Scenario::parse("hang.toml", text).unwrap();
    let (journal, held) = run_scenario(&scenario, true).await;
    assert_eq!(journal.verdict, Verdict::Aborted);
    assert_eq!(journal.rollbacks.len(), 1, "{:?}", journal.rollbacks);
    assert_eq!(held[0].reverted_by, "stopped");
}

#[tokio::test]
async fn the_hypothesis_is_checked_before_and_aborts() {
    let text = r#"
title = "impossible"
[[hypothesis]]
probe = "healthy_share"
min = 1.5
[[method]]
kind = "crash"
target = "n-0001"
for = "1s"
"#;
    let scenario = Scenario::parse("x.toml", text).unwrap();
    let (journal, held) = run_scenario(&scenario, false).await;
    assert_eq!(journal.verdict, Verdict::Aborted);
    assert!(held.is_empty(), "nothing injected");
}

#[test]
fn errors_name_the_file_the_line_and_the_key() {
    let text = "title = \"t\"\n\n[[method]]\nkind = \"meteor\"\ntarget = \"all\"\nfor = \"1s\"\n";
    let err = Scenario::parse("storm.toml", text).unwrap_err().to_string();
    assert!(err.starts_with("storm.toml:4"), "{err}");
    assert!(
        err.contains("method.kind") && err.contains("meteor"),
        "{err}"
    );
    let text = "title = \"t\"\n[[method]]\nkind = \"crash\"\ntarget = \"all\"\nfor = \"soon\"\n";
    let err = Scenario::parse("s.toml", text).unwrap_err().to_string();
    assert!(err.starts_with("s.toml:5") && err.contains("for"), "{err}");
}

#[tokio::test]
async fn the_byzantine_fl_scenario_is_detected_by_the_robust_rule_and_keeps_accuracy() {
    let text = plexus::experiment::scenario::shipped("byzantine-fl").expect("shipped");
    let scenario = Scenario::parse("byzantine-fl", text).unwrap();
    let (journal, _) = run_scenario(&scenario, false).await;
    assert_eq!(journal.verdict, Verdict::Ok, "{journal:#?}");
    // The FL accuracy was measured on a run that really trained, before and after.
    for p in journal.before.iter().chain(&journal.after) {
        if p.probe.starts_with("FlAccuracy") {
            assert!(p.value >= 0.85, "{p:?}");
        }
    }
    assert!(
        journal.rollbacks.iter().any(|r| r.contains("fl run")),
        "{:?}",
        journal.rollbacks
    );
    assert!(journal.faults.iter().all(|f| f.detected_ms.is_some()));
}
