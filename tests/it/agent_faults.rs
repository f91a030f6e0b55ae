//! Chaos on real agent processes: network faults act on the engine's side of an agent's link,
//! faults on the neuron itself are acted out by the agent's supervisor and worker processes; the
//! detector convicts and the recovery monitor sees both like any other.

use crate::support;

use std::time::{Duration, Instant};

use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::{Command, CommandReply, Event, NeuronState, ask};
use plexus::client::{Backend, BackendExt, Embedded};
use plexus::experiment::monitor::detects;
use support::{ADMIN, session};

/// An engine on real time behind a server on 127.0.0.1, with agent processes joined and healthy.
struct Rig {
    admin: Embedded,
    url: String,
    _agents: support::Agents,
    handle: axum_server::Handle,
    _dir: tempfile::TempDir,
    _engine: plexus::engine::Engine,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

async fn rig(ids: &[&str]) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let agents = support::spawn_agents(&token, &url, ids.iter().map(|s| s.to_string()));
    let rig = Rig {
        url: url.clone(),
        admin,
        _agents: agents,
        handle,
        _dir: dir,
        _engine: engine,
    };
    let count = ids.len();
    assert!(
        wait(&rig.admin, 10, |n| n.len() == count
            && n.iter().all(|n| n.state == NeuronState::Healthy))
        .await,
        "agents joined and healthy"
    );
    rig
}

async fn wait(
    admin: &Embedded,
    secs: u64,
    mut done: impl FnMut(&[plexus::api::NeuronView]) -> bool,
) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Ok(neurons) = admin.neurons().await
            && done(&neurons)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn state_is(admin: &Embedded, id: &str, secs: u64, ok: impl Fn(NeuronState) -> bool) -> bool {
    wait(admin, secs, |n| {
        n.iter().any(|n| &*n.id == id && ok(n.state))
    })
    .await
}

async fn inject(admin: &Embedded, kind: ChaosKind, target: &str, params: ChaosParams) -> String {
    let spec = ChaosSpec {
        kind,
        target: Selector::parse(target).unwrap(),
        duration_ms: None,
        params,
    };
    match admin.submit(Command::ChaosInject { spec }).await {
        Ok(CommandReply::ChaosInjected { fault }) => fault.id,
        other => panic!("{other:?}"),
    }
}

async fn stop(admin: &Embedded, id: &str) {
    admin
        .submit(Command::ChaosStop { id: id.into() })
        .await
        .expect("the fault is reverted");
}

/// A cut link: convicted offline through the normal detector, healthy again after the revert,
/// while the agent beside it stays healthy throughout.
async fn convicted_and_recovered(kind: ChaosKind, params: ChaosParams) {
    let rig = rig(&["agent-cut", "agent-ok"]).await;
    let admin = &rig.admin;
    let id = inject(admin, kind, "agent-cut", params).await;
    let injected = Instant::now();
    assert!(
        state_is(admin, "agent-cut", 8, |s| matches!(
            s,
            NeuronState::Offline | NeuronState::Recovering
        ))
        .await,
        "{} on the agent's link is detected",
        kind.name()
    );
    eprintln!("{} detected after {:?}", kind.name(), injected.elapsed());
    let detail = admin.neuron("agent-cut").await.unwrap();
    assert!(
        detail.history.iter().any(|c| c.to == NeuronState::Offline),
        "convicted offline: {:?}",
        detail.history
    );
    // What the recovery monitor matches a fault with: the detection event of its neuron.
    let events = admin.ask(ask::events_since(0)).await.unwrap();
    assert!(
        events.iter().any(|e| matches!(&e.event,
            Event::FailureDetected { neuron, mode, .. } if neuron == "agent-cut" && detects(kind, *mode))),
        "a detection the recovery monitor matches to the {} fault",
        kind.name()
    );
    assert_eq!(
        admin.neuron("agent-ok").await.unwrap().neuron.state,
        NeuronState::Healthy
    );
    stop(admin, &id).await;
    let reverted = Instant::now();
    assert!(
        state_is(admin, "agent-cut", 10, |s| s == NeuronState::Healthy).await,
        "healthy again after the revert: {:?}",
        admin.neuron("agent-cut").await.unwrap().history
    );
    eprintln!(
        "{} recovered {:?} after revert",
        kind.name(),
        reverted.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_agent_is_convicted_offline_and_recovers_after_revert() {
    convicted_and_recovered(ChaosKind::Partition, ChaosParams::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_packet_loss_on_an_agent_is_convicted_and_recovers_after_revert() {
    let params = ChaosParams {
        loss: 1.0,
        ..ChaosParams::default()
    };
    convicted_and_recovered(ChaosKind::PacketLoss, params).await;
}

/// Held back, not dropped: a 3 s delay (6 heartbeats, longer than the ~2.3 s the detector needs
/// to convict) gets the agent convicted offline, then its late heartbeats arrive while the fault
/// still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_on_an_agent_holds_its_heartbeats_back() {
    let rig = rig(&["agent-slow"]).await;
    let admin = &rig.admin;
    let params = ChaosParams {
        latency_ms: 3000.0,
        jitter_ms: 100.0,
        ..ChaosParams::default()
    };
    let before = admin.neuron("agent-slow").await.unwrap().history.len();
    let id = inject(admin, ChaosKind::Latency, "agent-slow", params).await;
    let deadline = Instant::now() + Duration::from_secs(6);
    let convicted = loop {
        let history = admin.neuron("agent-slow").await.unwrap().history;
        if history[before..]
            .iter()
            .any(|c| c.to == NeuronState::Offline)
        {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(convicted, "convicted offline through the normal detector");
    // Held back, not dropped: while the latency holds, its heartbeats arrive again (3 s late).
    assert!(
        wait(admin, 8, |n| n.iter().any(
            |n| &*n.id == "agent-slow" && n.last_heartbeat_ms.is_some_and(|age| age < 1000)
        ))
        .await,
        "late heartbeats arrive"
    );
    stop(admin, &id).await;
    assert!(state_is(admin, "agent-slow", 10, |s| s == NeuronState::Healthy).await);
}

/// Every fault on the neuron itself, each on its own real agent at once: acted out by the agent's
/// supervisor and worker processes, detected through the normal detector with the failure mode
/// the recovery monitor matches to the kind, and healthy again (recovered by the engine's own
/// restart, or once the fault is reverted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_kind_on_a_real_agent_is_detected_and_recovered() {
    let kinds = [
        ChaosKind::Crash,
        ChaosKind::Hang,
        ChaosKind::Slow,
        ChaosKind::AnalyticsFailure,
        ChaosKind::Byzantine,
        ChaosKind::ConfigFailure,
        ChaosKind::IdentityFailure,
    ];
    let ids: Vec<String> = kinds
        .iter()
        .map(|k| format!("victim-{}", k.name()))
        .collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let rig = rig(&refs).await;
    let admin = &rig.admin;
    let mut faults = Vec::new();
    let injected = Instant::now();
    for (kind, id) in kinds.iter().zip(&ids) {
        faults.push(inject(admin, *kind, id, ChaosParams::default()).await);
    }
    let mut detected: Vec<Option<Duration>> = vec![None; kinds.len()];
    let deadline = Instant::now() + Duration::from_secs(20);
    while detected.iter().any(Option::is_none) && Instant::now() < deadline {
        let events = admin.ask(ask::events_since(0)).await.unwrap();
        for (k, (kind, id)) in kinds.iter().zip(&ids).enumerate() {
            let seen = events.iter().any(|e| {
                matches!(&e.event, Event::FailureDetected { neuron, mode, .. }
                    if neuron == id && detects(*kind, *mode))
            });
            if seen && detected[k].is_none() {
                detected[k] = Some(injected.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for ((kind, id), at) in kinds.iter().zip(&ids).zip(&detected) {
        let history = admin.neuron(id).await.unwrap().history;
        assert!(
            at.is_some(),
            "{} on {id} was not detected: {history:?}",
            kind.name()
        );
        eprintln!("{} detected after {:?}", kind.name(), at.unwrap());
    }
    // The engine recorded each detection once, in the fault's view (what every face shows).
    let views = admin.ask(ask::chaos()).await.unwrap();
    for id in &faults {
        let view = views.iter().find(|v| v.id == *id).unwrap();
        assert!(view.detected_ms.is_some(), "{view:?}");
    }
    for id in &faults {
        stop(admin, id).await;
    }
    let reverted = Instant::now();
    assert!(
        wait(admin, 30, |n| n.len() == kinds.len()
            && n.iter().all(|n| n.state == NeuronState::Healthy))
        .await,
        "all healthy again: {:?}",
        admin
            .neurons()
            .await
            .unwrap()
            .iter()
            .map(|n| (n.id.clone(), n.state))
            .collect::<Vec<_>>()
    );
    eprintln!("all healthy {:?} after the revert", reverted.elapsed());
    // The crashed worker was restarted by the engine's own recovery, a new process.
    let crashed = admin.neuron("victim-crash").await.unwrap();
    assert!(
        crashed
            .logs
            .iter()
            .any(|l| l.message.contains("worker restarted")),
        "{:?}",
        crashed.logs
    );
}

/// The CLI over a server: a crash injected into an agent is a real crash of its worker, detected
/// and cured by the restart the engine sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_crashes_an_agent_and_the_engine_restarts_it() {
    let rig = rig(&["agent-y"]).await;
    let token = match rig
        .admin
        .submit(Command::IssueToken { name: ADMIN.into() })
        .await
        .unwrap()
    {
        CommandReply::TokenIssued { token, .. } => token,
        other => panic!("{other:?}"),
    };
    let url = rig.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
            .args(["--connect", &url, "--token", &token])
            .args(["chaos", "inject", "crash", "--target", "agent-y"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let admin = &rig.admin;
    assert!(
        state_is(admin, "agent-y", 8, |s| matches!(
            s,
            NeuronState::Offline | NeuronState::Recovering
        ))
        .await,
        "the crash is detected"
    );
    assert!(
        state_is(admin, "agent-y", 15, |s| s == NeuronState::Healthy).await,
        "restarted by the engine: {:?}",
        admin.neuron("agent-y").await.unwrap().history
    );
}

/// A chaos experiment (scenario file) on a fleet of real agents, unchanged: each neuron fault
/// kind on its own agent, for 4 s; the experiment's monitor sees every one detected and recovered
/// and the steady-state hypothesis holds afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chaos_experiment_runs_unchanged_on_real_agents() {
    let kinds = [
        "crash",
        "hang",
        "slow",
        "analytics-failure",
        "byzantine",
        "config-failure",
        "identity-failure",
    ];
    let ids: Vec<String> = kinds.iter().map(|k| format!("exp-{k}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let rig = rig(&refs).await;
    let mut text = String::from(
        "title = \"every fault on agents\"\n[settings]\nstability = \"2s\"\nrecovery_timeout = \"30s\"\n\n[[hypothesis]]\nprobe = \"healthy_share\"\nmin = 0.99\n",
    );
    for (kind, id) in kinds.iter().zip(&ids) {
        text.push_str(&format!(
            "\n[[method]]\nat = \"0s\"\nkind = \"{kind}\"\ntarget = \"{id}\"\nfor = \"4s\"\n"
        ));
    }
    let scenario = plexus::experiment::scenario::Scenario::parse("agents.toml", &text).unwrap();
    let journal = plexus::experiment::run(
        &rig.admin,
        &scenario,
        "test",
        std::future::pending(),
        |_| {},
    )
    .await
    .unwrap();
    for f in &journal.faults {
        eprintln!(
            "{} on {}: detect {:?} ms, recover {:?} ms",
            f.kind.name(),
            f.target,
            f.time_to_detect_ms,
            f.time_to_recover_ms
        );
        assert!(f.detected_ms.is_some(), "{f:?}");
        assert!(f.recovered_ms.is_some(), "{f:?}");
    }
    assert_eq!(journal.faults.len(), kinds.len());
    assert_eq!(
        journal.verdict,
        plexus::experiment::Verdict::Ok,
        "{:#?}",
        journal.reasons
    );
}

/// The agent's program replaced on disk while it runs (an upgrade): the engine's restart still
/// starts a worker — from the file now at that path — and the agent recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_worker_restarts_after_the_binary_was_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("plexus");
    std::fs::copy(env!("CARGO_BIN_EXE_plexus"), &exe).unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let _agents =
        support::spawn_agents_from(&exe, &token, &url, &[("upgraded".to_string(), Vec::new())]);
    assert!(state_is(&admin, "upgraded", 15, |s| s == NeuronState::Healthy).await);
    // Replace the file as a package upgrade does: a new file renamed over the old one.
    let fresh = dir.path().join("plexus.new");
    std::fs::copy(env!("CARGO_BIN_EXE_plexus"), &fresh).unwrap();
    std::fs::rename(&fresh, &exe).unwrap();
    inject(&admin, ChaosKind::Crash, "upgraded", ChaosParams::default()).await;
    assert!(
        state_is(&admin, "upgraded", 8, |s| matches!(
            s,
            NeuronState::Offline | NeuronState::Recovering
        ))
        .await
    );
    assert!(
        state_is(&admin, "upgraded", 15, |s| s == NeuronState::Healthy).await,
        "restarted from the replaced binary: {:?}",
        admin.neuron("upgraded").await.unwrap().logs
    );
    handle.shutdown();
}
