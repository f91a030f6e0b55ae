//! Rollouts through the whole engine (gate, store, virtual time): concurrent pushes from several
//! operators, and an engine killed with SIGKILL mid-rollout that finishes or reverts from its
//! decision log after a restart.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use plexus::api::rollout::{RolloutPhase, RolloutView, WavePlan};
use plexus::api::{Command, CommandReply, ErrorCode, Role, ask};
use plexus::client::{Backend, BackendExt, Embedded};
use plexus::engine::Engine;
use support::{ADMIN, CONFIG_TOML, engine, session, user_with_role};

fn push(expected: &str, plan: WavePlan) -> Command {
    Command::BroadcastConfig {
        config: Box::new(plexus::api::rollout_doc::parse_config("c.toml", CONFIG_TOML).unwrap()),
        selector: String::new(),
        expected_version: Some(expected.into()),
        dry_run: false,
        plan,
    }
}

async fn rollout(backend: &Embedded, id: u64) -> RolloutView {
    backend.ask(ask::rollout(id)).await.unwrap()
}

async fn versions(backend: &Embedded) -> Vec<String> {
    let neurons = backend.neurons().await.unwrap();
    neurons
        .iter()
        .map(|n| n.config_version.to_string())
        .collect()
}

/// Advance virtual time until rollout `id` is over (at most `limit_s` simulated seconds).
async fn settle(backend: &Embedded, id: u64, limit_s: u64) -> RolloutView {
    for _ in 0..limit_s * 5 {
        let v = rollout(backend, id).await;
        if v.summary.phase.is_final() {
            // Heartbeats carry the versions the neuron table shows.
            backend.sleep(Duration::from_millis(1500)).await;
            return v;
        }
        backend.sleep(Duration::from_millis(200)).await;
    }
    panic!("rollout r-{id} did not finish in {limit_s} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_one_wins_the_others_conflict_and_the_fleet_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 20);
    let mut operators = Vec::new();
    for i in 0..4 {
        operators.push(user_with_role(&engine, &format!("op{i}"), Role::Operator).await);
    }
    operators[0].sleep(Duration::from_secs(2)).await;
    // All four read v1 and push at once, each expecting to replace v1.
    let tasks: Vec<_> = operators
        .into_iter()
        .map(|op| {
            tokio::spawn(async move {
                let result = op.submit(push("v1", WavePlan::default())).await;
                (op, result)
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut lost = Vec::new();
    let mut any = None;
    for t in tasks {
        let (op, result) = t.await.unwrap();
        match result {
            Ok(CommandReply::RolloutStarted { rollout, .. }) => won.push(rollout),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::Conflict, "{e}");
                assert_eq!(e.code.exit_code(), 1);
                assert!(
                    e.message.contains("nothing of this push was applied"),
                    "{e}"
                );
                lost.push(e);
            }
            Ok(other) => panic!("{other:?}"),
        }
        any = Some(op);
    }
    assert_eq!((won.len(), lost.len()), (1, 3));
    let op = any.unwrap();
    let done = settle(&op, won[0].id, 60).await;
    assert_eq!(done.summary.phase, RolloutPhase::Committed);
    assert!(versions(&op).await.iter().all(|v| v == "v2"));
    // A push that read v1 before the winner committed is stale now.
    let late = op
        .submit(push("v1", WavePlan::default()))
        .await
        .unwrap_err();
    assert_eq!(late.code, ErrorCode::Conflict);
    assert!(
        late.message.contains("the fleet is on v2"),
        "{}",
        late.message
    );
    assert!(versions(&op).await.iter().all(|v| v == "v2"));
    // Every loser is audited as a failed config.push.
    let admin = session(&engine, ADMIN).await;
    let records = admin
        .ask(ask::audit(plexus::api::security::AuditFilter {
            action: Some("config.push".into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    let failed = records
        .iter()
        .filter(|r| r.error_code.as_deref() == Some("conflict"))
        .count();
    assert_eq!(failed, 4);
}

const CHILD_DIR: &str = "PLEXUS_ROLLOUT_CHILD_DIR";
const CHILD_STOP_AT: &str = "PLEXUS_ROLLOUT_CHILD_STOP_AT";

fn plan() -> WavePlan {
    WavePlan {
        canary: 1,
        batch_size: 4,
        ..WavePlan::default()
    }
}

/// The child: pushes a rollout, stops time at the named moment, says so, and waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_child_stops_mid_rollout_until_killed() {
    let (Ok(dir), Ok(stop_at)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_STOP_AT)) else {
        return;
    };
    let engine = engine(std::path::Path::new(&dir), 20);
    let admin = session(&engine, ADMIN).await;
    admin.sleep(Duration::from_secs(2)).await;
    admin.submit(push("v1", plan())).await.unwrap();
    if stop_at == "commit" {
        // Until the second wave is committed and later waves are not: a mixed fleet.
        loop {
            admin.sleep(Duration::from_millis(50)).await;
            let v = rollout(&admin, 1).await;
            if v.summary.wave >= 2 && v.summary.phase == RolloutPhase::Gate {
                break;
            }
        }
    }
    // Acknowledged only once everything before it is committed to the store.
    admin
        .submit(Command::ClearFaults {
            neuron: "n-0001".into(),
        })
        .await
        .unwrap();
    println!("STOPPED");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn run_child_until_stopped(dir: &std::path::Path, stop_at: &str) {
    let mut child = Process::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &support::test_name(
                module_path!(),
                "rollout_child_stops_mid_rollout_until_killed",
            ),
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_STOP_AT, stop_at)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("STOPPED") {
                let _ = tx.send(());
            }
        }
    });
    let stopped = rx.recv_timeout(Duration::from_secs(60));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stopped.expect("the child reached the point to be killed at");
}

fn restart(dir: &std::path::Path) -> Engine {
    engine(dir, 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_commit_the_restarted_engine_finishes_and_no_version_is_mixed() {
    let dir = tempfile::tempdir().unwrap();
    run_child_until_stopped(dir.path(), "commit");
    let engine = restart(dir.path());
    let admin = session(&engine, ADMIN).await;
    // The fleet it finds is mixed: the canary and wave 2 run v2, the rest v1.
    let before = versions(&admin).await;
    let on_v2 = before.iter().filter(|v| *v == "v2").count();
    assert_eq!(on_v2, 5, "{before:?}");
    // The decision (commit) was durable: the rollout is finished forward.
    let done = settle(&admin, 1, 60).await;
    assert_eq!(
        done.summary.phase,
        RolloutPhase::Committed,
        "{:?}",
        done.summary
    );
    let after = versions(&admin).await;
    assert!(after.iter().all(|v| v == "v2"), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_decision_the_restarted_engine_aborts_and_nothing_changed() {
    let dir = tempfile::tempdir().unwrap();
    run_child_until_stopped(dir.path(), "prepare");
    let engine = restart(dir.path());
    let admin = session(&engine, ADMIN).await;
    let done = settle(&admin, 1, 30).await;
    assert_eq!(done.summary.phase, RolloutPhase::Aborted);
    let cause = done.summary.cause.unwrap();
    assert!(cause.contains("restarted before the decision"), "{cause}");
    assert!(versions(&admin).await.iter().all(|v| v == "v1"));
}
