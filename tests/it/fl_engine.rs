//! Engine-owned FL runs through the gate on virtual time: a run trains on a worker thread fed
//! the fleet's liveness (a crashed neuron drops out, a neuron under the chaos byzantine fault is
//! excluded by Krum with its score), stops on request, refuses bad configs and roles without
//! the experiments permission, and is reachable over HTTP.

use crate::support;

use std::time::Duration;

use plexus::api::fl::Rule;
use plexus::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState};
use plexus::api::{Command, CommandReply, ErrorCode, Event, Fault, Role, ask};
use plexus::client::BackendExt;
use plexus::client::{Backend, Embedded};
use support::{ADMIN, engine, session, user_with_role};

fn spec(rounds: u32, neurons: usize) -> FlRunSpec {
    FlRunSpec {
        rounds,
        neurons,
        round_ms: 200,
        ..FlRunSpec::default()
    }
}

async fn start(backend: &Embedded, spec: FlRunSpec) -> String {
    match backend.submit(Command::FlStart { config: spec }).await {
        Ok(CommandReply::FlStarted { run }) => run.id,
        other => panic!("{other:?}"),
    }
}

async fn detail(backend: &Embedded, id: &str) -> FlRunDetail {
    backend.ask(ask::fl_run(id)).await.unwrap()
}

/// Move virtual time on until the run ends; the worker trains in real time meanwhile, so each
/// step also yields briefly to it (bounded: at most 3,000 steps).
async fn finish(backend: &Embedded, id: &str) -> FlRunDetail {
    for _ in 0..3000 {
        backend.sleep(Duration::from_millis(200)).await;
        let d = detail(backend, id).await;
        if d.run.state != FlRunState::Running {
            // One more tick publishes the worker's last events.
            backend.sleep(Duration::from_millis(200)).await;
            return d;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("fl run {id} did not end");
}

async fn events(backend: &Embedded) -> Vec<Event> {
    backend
        .ask(ask::recent_events(1000))
        .await
        .map(|e| e.into_iter().map(|e| e.event).collect())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_fedavg_to_a_real_accuracy_and_the_events_tell_each_round() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 8);
    let operator = user_with_role(&engine, "olga", Role::Operator).await;
    operator.sleep(Duration::from_secs(3)).await;
    let id = start(&operator, spec(12, 0)).await;
    let d = finish(&operator, &id).await;
    assert_eq!(d.run.state, FlRunState::Finished, "{:?}", d.run);
    assert_eq!(d.history.len(), 12);
    assert_eq!(d.run.clients, 8);
    assert!(d.history.iter().all(|r| r.participants + r.dropped == 8));
    let acc = d.run.final_accuracy.unwrap();
    assert!(acc > 0.8, "final accuracy {acc}");
    assert!(d.history[11].loss < d.history[0].loss);
    let events = events(&operator).await;
    let rounds = events
        .iter()
        .filter(|e| matches!(e, Event::FlRoundFinished { run, .. } if *run == id))
        .count();
    assert_eq!(rounds, 12);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::FlRunFinished { run, state, .. } if *run == id && state == "finished"
    )));
    let runs = operator.ask(ask::fl_runs()).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].started_by, "olga");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_neuron_drops_out_of_every_round() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 6);
    let admin = session(&engine, ADMIN).await;
    admin.sleep(Duration::from_secs(2)).await;
    admin
        .submit(Command::InjectFault {
            neuron: "n-0002".into(),
            fault: Fault::Crash { persistent: true },
        })
        .await
        .unwrap();
    let id = start(&admin, spec(6, 0)).await;
    let d = finish(&admin, &id).await;
    assert_eq!(d.history.len(), 6);
    for r in &d.history {
        assert_eq!(r.participants, 5, "round {}: {r:?}", r.round);
        assert_eq!(r.dropped, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn krum_excludes_the_neuron_under_the_byzantine_fault_with_its_score() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 8);
    let admin = session(&engine, ADMIN).await;
    admin.sleep(Duration::from_secs(2)).await;
    admin
        .submit(Command::InjectFault {
            neuron: "n-0003".into(),
            fault: Fault::Byzantine { persistent: true },
        })
        .await
        .unwrap();
    let id = start(
        &admin,
        FlRunSpec {
            rule: Rule::MultiKrum,
            f: Some(1),
            // Which rounds the neuron misses (held down by the detector while the worker trains
            // on its own thread) varies from run to run: 8 rounds leave room for 3 it is in.
            ..spec(8, 0)
        },
    )
    .await;
    let d = finish(&admin, &id).await;
    assert_eq!(d.history.len(), 8);
    // A round it missed (a straggler past the deadline, or held down by the detector) shows
    // as dropped; every round it took part in, Multi-Krum threw its update out.
    let mut caught = 0;
    for r in &d.history {
        match r.excluded_with_scores().find(|(n, _)| *n == "n-0003") {
            Some(bad) => {
                assert!(bad.1.is_some_and(|s| s > 0.0), "{bad:?}");
                caught += 1;
            }
            None => assert!(r.dropped > 0, "round {}: {r:?}", r.round),
        }
    }
    assert!(caught >= 3, "{:?}", d.history);
    assert!(
        d.run.attackers.is_empty(),
        "no simulated attackers configured"
    );
    assert!(events(&admin).await.iter().any(|e| matches!(
        e,
        Event::FlByzantineDetected { run, neurons, .. } if *run == id && neurons.contains(&"n-0003".to_string())
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stops_on_request_and_a_second_stop_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 4);
    let admin = session(&engine, ADMIN).await;
    admin.sleep(Duration::from_secs(2)).await;
    let id = start(
        &admin,
        FlRunSpec {
            round_ms: 1000,
            ..spec(1000, 0)
        },
    )
    .await;
    admin.sleep(Duration::from_millis(2500)).await;
    let reply = admin
        .submit(Command::FlStop { id: id.clone() })
        .await
        .unwrap();
    assert!(matches!(reply, CommandReply::FlStopping { .. }));
    let d = finish(&admin, &id).await;
    assert_eq!(d.run.state, FlRunState::Stopped);
    assert!(d.history.len() < 10, "{} rounds", d.history.len());
    let again = admin.submit(Command::FlStop { id }).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    let unknown = admin
        .submit(Command::FlStop { id: "fl-99".into() })
        .await
        .unwrap_err();
    assert_eq!(unknown.code, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_is_denied_and_a_bad_config_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 4);
    let viewer = user_with_role(&engine, "vic", Role::Viewer).await;
    let denied = viewer
        .submit(Command::FlStart { config: spec(3, 0) })
        .await
        .unwrap_err();
    assert_eq!(denied.code, ErrorCode::Denied);
    let admin = session(&engine, ADMIN).await;
    let bad = admin
        .submit(Command::FlStart {
            config: FlRunSpec {
                byzantine: 2.0,
                ..spec(3, 0)
            },
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::BadInput);
    assert!(bad.message.contains("byzantine"), "{}", bad.message);
    assert!(viewer.ask(ask::fl_runs()).await.unwrap().is_empty());
    let audit = admin
        .ask(ask::audit(plexus::api::security::AuditFilter {
            action: Some("fl".into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_starts_lists_shows_and_stops_runs_and_refuses_a_bad_field() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 4);
    let admin = session(&engine, ADMIN).await;
    let token = support::token(&admin, ADMIN).await;
    let (base, handle) = support::serve(&engine);
    let http = reqwest::Client::new();
    let post = |path: &str, body: &str| {
        http.post(format!("{base}{path}"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let bad = post("/api/v1/fl/runs", r#"{"rounds": 3, "rulez": "krum"}"#)
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.unwrap().contains("rulez"));
    let started = post(
        "/api/v1/fl/runs",
        r#"{"rounds": 500, "rule": "median", "round_ms": 1000}"#,
    )
    .await
    .unwrap();
    assert_eq!(started.status().as_u16(), 200);
    let reply: serde_json::Value = started.json().await.unwrap();
    assert_eq!(reply["result"], "fl_started");
    let id = reply["run"]["id"].as_str().unwrap().to_string();
    admin.sleep(Duration::from_millis(1500)).await;
    let get = |path: String| http.get(format!("{base}{path}")).bearer_auth(&token).send();
    let list: serde_json::Value = get("/api/v1/fl/runs".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["spec"]["rule"], "median");
    let one = get(format!("/api/v1/fl/runs/{id}")).await.unwrap();
    assert_eq!(one.status().as_u16(), 200);
    let one: serde_json::Value = one.json().await.unwrap();
    assert!(one["history"].is_array(), "{one}");
    let stop = post(&format!("/api/v1/fl/runs/{id}/stop"), "")
        .await
        .unwrap();
    assert_eq!(stop.status().as_u16(), 200);
    let missing = get("/api/v1/fl/runs/fl-42".into()).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let d = finish(&admin, &id).await;
    assert_eq!(d.run.state, FlRunState::Stopped);
    handle.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_neurons_train_on_their_own_and_join_the_next_round_and_nan_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 4);
    let admin = session(&engine, ADMIN).await;
    admin.sleep(Duration::from_secs(2)).await;
    let none = plexus::stress::fl_round::call(&admin, "stress-n0".into(), 0)
        .await
        .unwrap_err();
    assert_eq!(none.code, ErrorCode::BadInput, "{}", none.message);
    let id = start(
        &admin,
        FlRunSpec {
            rule: Rule::Median,
            round_ms: 1000,
            ..spec(3, 0)
        },
    )
    .await;
    // Round 1 is due at once; round 2 waits for engine time, which stands still meanwhile.
    admin.sleep(Duration::from_millis(1000)).await;
    for _ in 0..2000 {
        if detail(&admin, &id).await.run.round >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(detail(&admin, &id).await.run.round, 1);
    for seq in 0..2 {
        plexus::stress::fl_round::call(&admin, format!("stress-n{seq}"), seq)
            .await
            .unwrap();
    }
    let model_len = admin
        .ask(ask::fl_model(&id))
        .await
        .map(|m| m.weights.len())
        .unwrap();
    let poisoned = plexus::api::fl::ClientUpdate {
        neuron: "stress-bad".into(),
        examples: 10,
        weights: vec![f32::NAN; model_len],
    };
    let queued = admin
        .submit(Command::FlUpdate {
            id: id.clone(),
            update: poisoned.clone(),
        })
        .await
        .unwrap();
    assert!(
        matches!(queued, CommandReply::FlUpdateQueued { round: 2, .. }),
        "{queued:?}"
    );
    let short = admin
        .submit(Command::FlUpdate {
            id: id.clone(),
            update: plexus::api::fl::ClientUpdate {
                weights: vec![0.0; 3],
                ..poisoned
            },
        })
        .await
        .unwrap_err();
    assert_eq!(short.code, ErrorCode::BadInput);
    let d = finish(&admin, &id).await;
    let r2 = &d.history[1];
    assert_eq!(r2.participants + r2.dropped, 4 + 3, "{r2:?}");
    assert_eq!(d.history[0].participants + d.history[0].dropped, 4);
    let names: Vec<&str> = r2.excluded.iter().map(String::as_str).collect();
    assert_eq!(names, ["stress-bad"], "{r2:?}");
    assert_eq!(r2.byzantine_events, 1);
    assert!(d.history[2].loss.is_finite());
}
