//! Real agent processes take part in a rollout over loopback: they stage, vote, commit and log
//! each step; a NACK-free rollout ends with every agent on the new version.

use crate::support;

use std::time::{Duration, Instant};

use plexus::api::rollout::RolloutPhase;
use plexus::api::{CommandReply, NeuronState, ask};
use plexus::client::{Backend, BackendExt};
use support::{ADMIN, config_push, session};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agents_stage_vote_and_commit_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let _agents = support::spawn_agents(&token, &url, (1..=3).map(|i| format!("agent-{i}")));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let neurons = admin.neurons().await.unwrap();
        if neurons.len() == 3 && neurons.iter().all(|n| n.state == NeuronState::Healthy) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "agents did not join: {neurons:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let CommandReply::RolloutStarted { rollout, .. } =
        admin.submit(config_push("", false)).await.unwrap()
    else {
        panic!("a rollout")
    };
    let view = loop {
        let v = admin.ask(ask::rollout(rollout.id)).await.unwrap();
        if v.summary.phase.is_final() {
            break v;
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(20),
            "{:?}",
            v.summary
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(view.summary.phase, RolloutPhase::Committed, "{view:?}");
    // Heartbeats then report the new version, and each agent's log has the steps.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for n in admin.neurons().await.unwrap().iter() {
        assert_eq!(&*n.config_version, "v2", "{}", n.id);
        let log: Vec<String> = admin
            .logs(&n.id, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|l| l.message)
            .collect();
        let log = log.join("\n");
        assert!(log.contains("stage v2 (rollout r-1): staged"), "{log}");
        assert!(
            log.contains("commit v2 (rollout r-1): applied (was v1)"),
            "{log}"
        );
    }
    handle.shutdown();
}
