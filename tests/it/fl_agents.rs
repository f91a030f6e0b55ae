//! Federated learning on real agents: agent processes take part in an engine-owned run beside
//! simulated neurons. Each is invited to every round with the global model, trains on its own
//! partition of the shipped digits set in its own process and answers over its channel; real
//! `--byzantine sign-flip` agents are malicious processes that Multi-Krum must keep out.

use crate::support;

use std::time::{Duration, Instant};

use plexus::api::fl::Rule;
use plexus::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState};
use plexus::api::{Command, CommandReply, NeuronState, ask};
use plexus::client::{Backend, BackendExt, Embedded};
use support::{ADMIN, session};

async fn wait_healthy(admin: &Embedded, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let neurons = admin.neurons().await.unwrap();
        let healthy = neurons
            .iter()
            .filter(|n| n.state == NeuronState::Healthy)
            .count();
        if healthy == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{healthy} of {count} healthy: {neurons:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run(admin: &Embedded, spec: FlRunSpec) -> FlRunDetail {
    let id = match admin.submit(Command::FlStart { config: spec }).await {
        Ok(CommandReply::FlStarted { run }) => run.id,
        other => panic!("{other:?}"),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d: FlRunDetail = admin.ask(ask::fl_run(&id)).await.unwrap();
        if d.run.state != FlRunState::Running {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "run {id} at round {}",
            d.run.round
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A served engine with `simulated` neurons and real agents `ids`, spawned with `extra` flags.
struct Federation {
    admin: Embedded,
    _agents: support::Agents,
    _handle: axum_server::Handle,
    _dir: tempfile::TempDir,
}

async fn federation(simulated: usize, agents: &[(String, Vec<&str>)]) -> Federation {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), simulated, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let spawned = support::spawn_agents_with(&token, &url, agents);
    wait_healthy(&admin, simulated + agents.len()).await;
    Federation {
        admin,
        _agents: spawned,
        _handle: handle,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agents_and_seventeen_simulated_neurons_train_digits_together() {
    let agents: Vec<(String, Vec<&str>)> = (1..=3)
        .map(|i| (format!("learner-{i}"), Vec::new()))
        .collect();
    let fed = federation(17, &agents).await;
    let d = run(
        &fed.admin,
        FlRunSpec {
            rounds: 50,
            alpha: Some(0.5),
            round_ms: 100,
            ..FlRunSpec::default()
        },
    )
    .await;
    assert_eq!(d.run.state, FlRunState::Finished, "{:?}", d.run);
    assert_eq!(d.run.clients, 20);
    let mut agents = d.run.agents.clone();
    agents.sort();
    assert_eq!(agents, ["learner-1", "learner-2", "learner-3"]);
    // The three agents trained and answered in every round (a simulated neuron may straggle).
    let missed: Vec<_> = d
        .history
        .iter()
        .filter(|r| r.agents != 3 || r.participants + r.dropped != 20)
        .map(|r| (r.round, r.agents, r.participants, r.dropped))
        .collect();
    assert!(missed.is_empty(), "rounds an agent missed: {missed:?}");
    let accuracy = d.run.final_accuracy.unwrap();
    assert!(accuracy >= 0.93, "final accuracy {accuracy}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_krum_keeps_out_exactly_the_malicious_agent_processes() {
    // 6 of 20 clients (30%) are real sign-flipping agents; 14 are honest simulated neurons.
    let agents: Vec<(String, Vec<&str>)> = (1..=6)
        .map(|i| (format!("mallory-{i}"), vec!["--byzantine", "sign-flip"]))
        .collect();
    let fed = federation(14, &agents).await;
    let d = run(
        &fed.admin,
        FlRunSpec {
            rounds: 30,
            alpha: Some(0.5),
            round_ms: 100,
            rule: Rule::MultiKrum,
            f: Some(6),
            ..FlRunSpec::default()
        },
    )
    .await;
    assert_eq!(d.run.state, FlRunState::Finished, "{:?}", d.run);
    let accuracy = d.run.final_accuracy.unwrap();
    assert!(accuracy >= 0.90, "final accuracy {accuracy}");
    let malicious: Vec<String> = (1..=6).map(|i| format!("mallory-{i}")).collect();
    for r in d.history.iter().rev().take(5) {
        let mut excluded = r.excluded.clone();
        excluded.sort();
        assert_eq!(excluded, malicious, "round {}", r.round);
    }
}

/// `--data` is read before the agent joins anything: a bad file is named with its line, and the
/// agent exits 2.
#[test]
fn a_bad_data_file_is_named_before_the_agent_joins() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("ragged.csv", "1,0,0,0\n2,0,0\n", "line 2"),
        (
            "narrow.csv",
            "1,0,0,0\n2,0,0,0\n",
            "3 features per row fits no model",
        ),
        ("empty.csv", "", "no rows"),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
            .args([
                "neuron",
                "--join",
                "http://127.0.0.1:9",
                "--id",
                "lab-1",
                "--data",
            ])
            .arg(&path)
            .env("PLEXUS_TOKEN", "plx_unused")
            .env("PLEXUS_DATA_DIR", dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains(expected),
            "{name}: {stderr}"
        );
    }
}

/// An async run simulates arrivals: it leaves real agents out instead of training in their place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_run_leaves_agents_out() {
    let fed = federation(4, &[("learner-a".to_string(), Vec::new())]).await;
    let d = run(
        &fed.admin,
        FlRunSpec {
            rounds: 3,
            mode: plexus::api::fl::Mode::Async,
            round_ms: 50,
            ..FlRunSpec::default()
        },
    )
    .await;
    assert_eq!(d.run.clients, 4, "{:?}", d.run);
    assert!(d.run.agents.is_empty());
}
