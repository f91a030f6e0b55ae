//! Real neuron agents: 20 processes join a server over loopback; killing one is detected as
//! offline; a hung one is recovered by the restart the orchestrator sends it.

use crate::support;

use std::process::Child;
use std::time::{Duration, Instant};

use plexus::api::NeuronState;
use plexus::client::{BackendExt, Embedded};
use support::{ADMIN, session};

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: sending a signal to a child process we own.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
}

async fn state_of(admin: &Embedded, id: &str) -> Option<NeuronState> {
    admin
        .neurons()
        .await
        .ok()?
        .iter()
        .find(|n| &*n.id == id)
        .map(|n| n.state)
}

async fn wait_for(
    admin: &Embedded,
    limit: Duration,
    mut done: impl FnMut(&[plexus::api::NeuronView]) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(neurons) = admin.neurons().await
            && done(&neurons)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_agents_join_a_killed_one_goes_offline_a_hung_one_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);

    let started = Instant::now();
    let agents = support::spawn_agents(&token, &url, (1..=20).map(|i| format!("agent-{i:02}")));
    assert!(
        wait_for(&admin, Duration::from_secs(15), |n| n.len() == 20
            && n.iter().all(
                |n| n.state == NeuronState::Healthy && &*n.kind == "agent"
            ))
        .await,
        "all 20 joined and are healthy"
    );
    eprintln!("20 agents healthy after {:?}", started.elapsed());

    // Killed for good: detected as offline.
    let killed_at = Instant::now();
    signal(&agents.0[4], libc::SIGKILL);
    assert!(
        wait_for(&admin, Duration::from_secs(10), |n| n.iter().any(|n| &*n
            .id
            == "agent-05"
            && matches!(
                n.state,
                NeuronState::Offline | NeuronState::Recovering
            )))
        .await
    );
    eprintln!("killed agent detected after {:?}", killed_at.elapsed());

    // Hung (SIGSTOP): detected, a restart is queued; once it runs again it restarts itself.
    signal(&agents.0[6], libc::SIGSTOP);
    assert!(
        wait_for(&admin, Duration::from_secs(10), |n| n
            .iter()
            .any(
                |n| &*n.id == "agent-07" && n.state == NeuronState::Recovering
            ))
        .await
    );
    signal(&agents.0[6], libc::SIGCONT);
    assert!(
        wait_for(&admin, Duration::from_secs(15), |n| n
            .iter()
            .any(|n| &*n.id == "agent-07" && n.state == NeuronState::Healthy))
        .await
    );
    let detail = admin.neuron("agent-07").await.unwrap();
    assert!(
        detail
            .recovery_attempts
            .iter()
            .any(|a| a.outcome == "succeeded" && a.strategy == "restart")
    );
    assert!(
        detail
            .logs
            .iter()
            .any(|l| l.message.contains("supervisor restarting the worker")),
        "{:?}",
        detail.logs
    );
    assert_eq!(
        state_of(&admin, "agent-01").await,
        Some(NeuronState::Healthy)
    );
    drop(agents);
    handle.shutdown();
}
