//! The agents' push channel: a config rollout to 20 real agent processes finishes in engine
//! time well inside one heartbeat interval, because each step reaches every agent the moment it
//! exists. With the channels cut and blocked the agents report over HTTP and the same rollout
//! still finishes, a heartbeat or two later; unblocked, the channels come back by themselves.

use crate::support;

use std::time::{Duration, Instant};

use plexus::api::rollout::{RolloutPhase, WavePlan};
use plexus::api::{Command, CommandReply, NeuronState, ask};
use plexus::client::{Backend, BackendExt, Embedded};
use support::{ADMIN, proxy::Proxy, session};

const AGENTS: usize = 20;

async fn wait_healthy(admin: &Embedded, count: usize, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let neurons = admin.neurons().await.unwrap();
        if neurons.len() == count && neurons.iter().all(|n| n.state == NeuronState::Healthy) {
            return;
        }
        assert!(Instant::now() < deadline, "agents not healthy: {neurons:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Push a config (one wave, no gate or watch window) and wait for it: its engine time.
async fn rollout(admin: &Embedded, batch_size: u32) -> u64 {
    let text =
        support::CONFIG_TOML.replace("batch_size = 64", &format!("batch_size = {batch_size}"));
    let command = Command::BroadcastConfig {
        config: Box::new(plexus::api::rollout_doc::parse_config("config.toml", &text).unwrap()),
        selector: String::new(),
        expected_version: None,
        dry_run: false,
        plan: WavePlan {
            canary: 0,
            batch_size: 0,
            max_unavailable: 0,
            gate_ms: Some(0),
            watch_ms: Some(0),
        },
    };
    let CommandReply::RolloutStarted { rollout, .. } = admin.submit(command).await.unwrap() else {
        panic!("a rollout")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = admin.ask(ask::rollout(rollout.id)).await.unwrap();
        if v.summary.phase.is_final() {
            assert_eq!(v.summary.phase, RolloutPhase::Committed, "{v:?}");
            return v
                .summary
                .took_ms
                .expect("a finished rollout knows its time");
        }
        assert!(Instant::now() < deadline, "{:?}", v.summary);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_steps_are_pushed_and_reports_carry_them_when_the_channel_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let heartbeat = engine.config().heartbeat_ms;
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let proxy = Proxy::start(url.trim_start_matches("http://")).await;
    let _agents = support::spawn_agents(
        &token,
        &proxy.url,
        (1..=AGENTS).map(|i| format!("push-{i:02}")),
    );
    wait_healthy(&admin, AGENTS, Duration::from_secs(30)).await;
    // Every channel is bound once each agent's first MAC'd report went over it.
    tokio::time::sleep(Duration::from_millis(2 * heartbeat)).await;

    let pushed = rollout(&admin, 32).await;
    assert!(
        pushed < heartbeat / 2,
        "pushed: {pushed} ms of engine time for {AGENTS} agents (heartbeat {heartbeat} ms)"
    );

    // Cut every socket and refuse new channels: reports over HTTP carry the steps.
    proxy.block_channels(true);
    proxy.cut_all();
    tokio::time::sleep(Duration::from_millis(heartbeat)).await;
    wait_healthy(&admin, AGENTS, Duration::from_secs(10)).await;
    let carried = rollout(&admin, 16).await;
    assert!(
        carried >= heartbeat / 2,
        "without channels a step waits for the next report: {carried} ms (heartbeat {heartbeat})"
    );

    // Let the channels back: the agents reconnect (back-off at most 5 s) and pushing resumes.
    proxy.block_channels(false);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let back = rollout(&admin, 8).await;
    assert!(back < heartbeat / 2, "after reconnecting: {back} ms");
    // The next heartbeats report what runs.
    tokio::time::sleep(Duration::from_millis(2 * heartbeat)).await;
    for n in admin.neurons().await.unwrap().iter() {
        assert_eq!(&*n.config_version, "v4", "{}", n.id);
    }
    eprintln!(
        "rollout to {AGENTS} agents: pushed {pushed} ms, over reports {carried} ms, after reconnect {back} ms (engine time)"
    );
    handle.shutdown();
}

/// A holder of the shared agent token opens a channel under another agent's id: without that
/// agent's session key nothing binds it, so it collects none of the agent's commands, and the
/// agent's own channel keeps pushing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_opened_for_someone_elses_id_hears_nothing() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_on(dir.path(), 0, false);
    let heartbeat = engine.config().heartbeat_ms;
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (url, handle) = support::serve(&engine);
    let _agents = support::spawn_agents(&token, &url, ["victim".to_string()]);
    wait_healthy(&admin, 1, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(2 * heartbeat)).await;

    let mut request = format!(
        "{}/api/v1/agents/victim/channel",
        url.replacen("http", "ws", 1)
    )
    .into_client_request()
    .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut intruder, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    // A report with a made-up MAC, and one that is not a frame at all.
    let forged = format!(
        "1.99.{}\n{{\"message\":{{\"type\":\"probe_ack\",\"nonce\":0}},\"logs\":[]}}",
        "ab".repeat(32)
    );
    intruder.send(Message::Text(forged.into())).await.unwrap();
    intruder
        .send(Message::Text("garbage".into()))
        .await
        .unwrap();

    let pushed = rollout(&admin, 4).await;
    assert!(
        pushed < heartbeat / 2,
        "the victim's own channel still pushes: {pushed} ms"
    );
    let mut heard = Vec::new();
    while let Ok(Some(Ok(Message::Text(text)))) =
        tokio::time::timeout(Duration::from_millis(300), intruder.next()).await
    {
        heard.push(text.to_string());
    }
    let heard = heard.join("\n");
    assert!(
        !heard.contains("\"stage\"") && !heard.contains("\"commit\""),
        "{heard}"
    );
    assert!(
        heard.contains("expected the MAC line"),
        "the bad frame is named: {heard}"
    );
    handle.shutdown();
}
