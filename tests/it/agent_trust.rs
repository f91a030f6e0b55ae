//! The agent protocol as an attacker with the agents' token works it, and as honest agents live
//! with it: reports verify only with a key agreed in the signed handshake, over the exact bytes
//! that travelled, once; nothing in a refused report takes effect; honest agent processes run
//! with zero refusals.

use crate::support;

use std::time::Duration;

use plexus::api::ask;
use plexus::api::identity::{REPORT_AUTH_HEADER, ReportAuth};
use plexus::api::wire::{
    Commands, ConfigStatus, Heartbeat, NeuronCommand, NeuronMessage, Registration, Report,
    RolloutReply, RolloutStep, SealedReport,
};
use plexus::client::Backend;
use plexus::client::BackendExt;
use plexus::engine::identity::ca::Ca;
use plexus::neuron::identity::Keyring;
use support::{ADMIN, session};

/// A real-time engine without simulated neurons, served on loopback, an admin session and the
/// shared agents' token.
struct Lab {
    _dir: tempfile::TempDir,
    _server: axum_server::Handle,
    admin: plexus::client::Embedded,
    token: String,
    base: String,
}

async fn lab(heartbeat_ms: u64) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let engine =
        support::engine_configured(dir.path(), 0, false, |c| c.heartbeat_ms = heartbeat_ms);
    let admin = session(&engine, ADMIN).await;
    let token = support::agent_token(&admin).await;
    let (base, server) = support::serve(&engine);
    Lab {
        _dir: dir,
        _server: server,
        admin,
        token,
        base,
    }
}

/// A registration for `id` in `zone`, without a proof.
fn claim(id: &str, zone: &str) -> Registration {
    Registration {
        serve: None,
        id: id.into(),
        zone: zone.into(),
        labels: vec![],
        config_version: "v1".into(),
        proof: None,
    }
}

/// An agent written in the test: the real keyring, the real wire, a hand on every byte.
struct FakeAgent {
    id: String,
    keys: Keyring,
    client: reqwest::Client,
    base: String,
    token: String,
}

impl FakeAgent {
    async fn join(base: &str, token: &str, id: &str) -> FakeAgent {
        let client = reqwest::Client::new();
        let registration = Registration {
            serve: None,
            id: id.into(),
            zone: "lab".into(),
            labels: vec![],
            config_version: "v1".into(),
            proof: None,
        };
        let r = client
            .post(format!("{base}/api/v1/agents/register"))
            .bearer_auth(token)
            .json(&registration)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let mut agent = FakeAgent {
            id: id.into(),
            keys: Keyring::agreeing(id, [id.len() as u8; 32]),
            client,
            base: base.into(),
            token: token.into(),
        };
        let enroll = agent.keys.due(0, 1000).expect("enrols first");
        let (status, commands) = agent.send_raw(&agent.body(enroll, vec![]), None).await;
        assert_eq!(status, 200);
        for c in &commands {
            agent.keys.on_command(0, c);
        }
        assert!(agent.keys.has_session(), "a session agreed: {commands:?}");
        agent
    }

    fn body(&self, message: NeuronMessage, logs: Vec<(String, String)>) -> Vec<u8> {
        SealedReport::body_of(&Report { message, logs })
    }

    async fn send_raw(&self, body: &[u8], auth: Option<String>) -> (u16, Vec<NeuronCommand>) {
        self.send_to(&self.id, body, auth).await
    }

    async fn send_to(
        &self,
        id: &str,
        body: &[u8],
        auth: Option<String>,
    ) -> (u16, Vec<NeuronCommand>) {
        let mut request = self
            .client
            .post(format!("{}/api/v1/agents/{id}/messages", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(auth) = auth {
            request = request.header(REPORT_AUTH_HEADER, auth);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let commands = response
            .json::<Commands>()
            .await
            .map(|c| c.commands)
            .unwrap_or_default();
        (status, commands)
    }
}

fn heartbeat(seq: u64) -> NeuronMessage {
    NeuronMessage::Heartbeat(Heartbeat {
        seq,
        incarnation: 1,
        config_version: "v1".into(),
        config: ConfigStatus::Applied,
        telemetry: None,
        auth: None,
    })
}

/// Refused: an identity refusal, and nothing but identity answers (after enough refusals the
/// engine's recovery may also ask the agent to re-enrol).
fn refused(commands: &[NeuronCommand]) -> bool {
    commands
        .iter()
        .any(|c| matches!(c, NeuronCommand::IdentityRefused { .. }))
        && commands.iter().all(|c| {
            matches!(
                c,
                NeuronCommand::IdentityRefused { .. } | NeuronCommand::Reenroll
            )
        })
}

async fn logs_of(admin: &plexus::client::Embedded, id: &str) -> String {
    admin
        .ask(ask::logs(id, 100))
        .await
        .map(|lines| {
            lines
                .iter()
                .map(|l| l.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_and_borrowed_reports_are_refused_and_change_nothing() {
    let Lab {
        admin, token, base, ..
    } = &lab(500).await;
    let (admin, token, base) = (admin, token.as_str(), base.as_str());
    let alice = FakeAgent::join(base, token, "alice").await;
    let bob = FakeAgent::join(base, token, "bob").await;

    // An honest, sealed report is taken; a control sequence in a log line is kept escaped.
    let body = alice.body(
        heartbeat(1),
        vec![("info".into(), "honest line \u{1b}[2J".into())],
    );
    let auth = alice.keys.seal_report("alice", &body).unwrap();
    let (status, commands) = alice.send_raw(&body, Some(auth.header())).await;
    assert_eq!(status, 200);
    assert!(!refused(&commands), "{commands:?}");
    let logs = logs_of(admin, "alice").await;
    assert!(logs.contains("honest line \\u{1b}[2J"), "{logs}");
    assert!(!logs.contains('\u{1b}'), "{logs}");
    // A zone with a control sequence is refused at registration, naming the field.
    let (status, text) = register(base, token, &claim("carol", "lab\u{1b}]0;owned\u{7}")).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("zone: control character"), "{text}");

    // The same bytes again: a replay.
    let (_, commands) = alice.send_raw(&body, Some(auth.header())).await;
    assert!(refused(&commands), "replay: {commands:?}");

    // A report without a MAC, and one whose bytes changed after sealing: refused, and the log
    // lines they carried are not kept.
    let unsigned = alice.body(heartbeat(2), vec![("error".into(), "planted".into())]);
    let (_, commands) = alice.send_raw(&unsigned, None).await;
    assert!(refused(&commands), "no MAC: {commands:?}");
    let sealed = alice.body(heartbeat(3), vec![]);
    let auth = alice.keys.seal_report("alice", &sealed).unwrap();
    let (_, commands) = alice.send_raw(&unsigned, Some(auth.header())).await;
    assert!(refused(&commands), "changed bytes: {commands:?}");
    assert!(!logs_of(admin, "alice").await.contains("planted"));

    // Every key an outsider could compute: the old seed-derived CA's session keys.
    let outsider = Ca::from_seed(1);
    for serial in 1..=4u64 {
        let key = outsider.derive(b"session", serial);
        let digest = plexus::api::identity::report_digest(&unsigned);
        let mac = plexus::engine::identity::mac(&key, |feed| {
            plexus::api::identity::report_mac_input("alice", 1_000 + serial, &digest, feed)
        });
        let forged = ReportAuth {
            serial,
            counter: 1_000 + serial,
            mac: plexus::api::identity::Bytes32(mac),
        };
        let (_, commands) = alice.send_raw(&unsigned, Some(forged.header())).await;
        assert!(
            refused(&commands),
            "forged with serial {serial}: {commands:?}"
        );
    }

    // Alice's session cannot speak for Bob, nor collect what waits for him.
    let for_bob = alice.body(heartbeat(1), vec![("error".into(), "as bob".into())]);
    let auth = alice.keys.seal_report("alice", &for_bob).unwrap();
    let (_, commands) = alice.send_to("bob", &for_bob, Some(auth.header())).await;
    assert!(refused(&commands), "alice as bob: {commands:?}");
    assert!(!logs_of(admin, "bob").await.contains("as bob"));

    // A rollout answer outside a verified report does not count.
    let vote = alice.body(
        NeuronMessage::Rollout(RolloutReply {
            rollout: 1,
            version: "v2".into(),
            step: RolloutStep::Stage,
            ok: true,
            detail: "forged vote".into(),
        }),
        vec![],
    );
    let (_, commands) = bob.send_raw(&vote, None).await;
    assert!(refused(&commands), "unsigned vote: {commands:?}");

    // Eve's own enrolment for alice's id gets no credential — also not after the storm of
    // refused reports above made recovery ask alice to enrol again (that re-issue is open only
    // to a renewal endorsed by alice's key).
    let mut eve = Keyring::agreeing("alice", [9; 32]);
    let captured = eve.due(0, 1000).unwrap();
    let (_, commands) = alice.send_raw(&alice.body(captured, vec![]), None).await;
    assert!(
        !commands
            .iter()
            .any(|c| matches!(c, NeuronCommand::Credential { .. })),
        "eve enrolled as alice: {commands:?}"
    );
    // Alice goes on: it answers what it was told (a renewal endorsed by its key, if recovery
    // asked for one) and its next report is taken.
    let mut alice = alice;
    let mut seq = 4;
    for _ in 0..6 {
        seq += 1;
        let next = alice.body(heartbeat(seq), vec![]);
        let auth = alice.keys.seal_report("alice", &next);
        let (_, commands) = alice.send_raw(&next, auth.map(|a| a.header())).await;
        if !refused(&commands) && alice.keys.has_session() {
            return;
        }
        for c in &commands {
            alice.keys.on_command(0, c);
        }
        if let Some(identity) = alice.keys.due(0, 1000) {
            let (_, answers) = alice.send_raw(&alice.body(identity, vec![]), None).await;
            for c in &answers {
                alice.keys.on_command(0, c);
            }
        }
    }
    panic!("alice never got back to a verified report");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_agent_processes_run_with_zero_refusals() {
    let Lab {
        admin, token, base, ..
    } = &lab(200).await;
    let (admin, token, base) = (admin, token.as_str(), base.as_str());
    let ids: Vec<String> = (1..=3).map(|i| format!("honest-{i}")).collect();
    let _agents = support::spawn_agents(token, base, ids.clone());
    // 30 s at 200 ms: ~150 reports each, every one with float telemetry.
    tokio::time::sleep(Duration::from_secs(30)).await;
    for id in &ids {
        let detail = admin.ask(ask::neuron(id)).await.unwrap();
        let identity = detail.identity.as_ref().expect("enrolled");
        assert_eq!(
            identity.issued, 1,
            "{id}: credentials re-issued: {identity:?}"
        );
        let logs = logs_of(admin, id).await;
        assert!(!logs.contains("identity refused"), "{id}: {logs}");
        assert!(
            detail.neuron.state == plexus::api::NeuronState::Healthy,
            "{id}: {:?}",
            detail.neuron.state
        );
    }
}

async fn register(base: &str, token: &str, registration: &Registration) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/agents/register"))
        .bearer_auth(token)
        .json(registration)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_id_is_taken_only_with_its_key_or_after_an_admin_releases_it() {
    let Lab {
        admin, token, base, ..
    } = &lab(500).await;
    let (admin, token, base) = (admin, token.as_str(), base.as_str());
    let alice = FakeAgent::join(base, token, "alice").await;
    let mut claim = claim("alice", "evil");
    // The shared token alone does not take a bound id.
    let (status, text) = register(base, token, &claim).await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("neurons forget alice"), "{text}");
    // Nor a proof made with another key.
    let now = chrono::Utc::now().timestamp_millis();
    let mallory = Keyring::agreeing("alice", [7; 32]);
    assert!(
        mallory.registration_proof(now).is_none(),
        "holds no credential"
    );
    let other = FakeAgent::join(base, token, "mallory").await;
    claim.proof = other.keys.registration_proof(now);
    let (status, _) = register(base, token, &claim).await;
    assert_eq!(status, 409, "a proof by mallory's key");
    // The holder of the key proves it and is let back in, keeping its credential.
    claim.proof = alice.keys.registration_proof(now);
    let (status, text) = register(base, token, &claim).await;
    assert_eq!(status, 200, "{text}");
    // Refusals are audited.
    let records = admin
        .ask(ask::audit(plexus::api::security::AuditFilter {
            action: Some("neuron.register".into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    let refusals = records
        .iter()
        .filter(|r| r.target == "alice" && r.outcome != plexus::api::AuditOutcome::Allowed)
        .count();
    assert_eq!(refusals, 2, "{records:?}");

    // An admin releases the id: a new key may enrol it; the old session ends.
    let reply = admin
        .submit(plexus::api::Command::ForgetNeuron {
            neuron: "alice".into(),
        })
        .await
        .unwrap();
    assert!(reply.summary().contains("released"), "{reply:?}");
    let body = alice.body(heartbeat(9), vec![]);
    let auth = alice.keys.seal_report("alice", &body).unwrap();
    let (_, commands) = alice.send_raw(&body, Some(auth.header())).await;
    assert!(refused(&commands), "old session after forget: {commands:?}");
    let newcomer = FakeAgent::join(base, token, "alice").await;
    assert!(newcomer.keys.has_session());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_process_restarted_by_hand_rejoins_with_its_saved_key() {
    let Lab {
        admin, token, base, ..
    } = &lab(200).await;
    let (admin, token, base) = (admin, token.as_str(), base.as_str());
    let mut agents = support::spawn_agents(token, base, ["keeper".to_string()]);
    let first = healthy(admin, "keeper").await;
    let key = first.identity.unwrap().key_fingerprint;
    let state = agents.1.path().join("agents").join("keeper.json");
    assert!(state.exists(), "the agent saved its key");
    // Killed and started again, as an operator or a supervisor would.
    let _ = agents.0[0].kill();
    let _ = agents.0[0].wait();
    agents.0[0] = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["neuron", "--join", base, "--id", "keeper"])
        .env("PLEXUS_TOKEN", token)
        .env("PLEXUS_DATA_DIR", agents.1.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = healthy(admin, "keeper").await;
    assert_eq!(
        again.identity.unwrap().key_fingerprint,
        key,
        "the same key, no new enrolment"
    );
}

async fn healthy(admin: &plexus::client::Embedded, id: &str) -> plexus::api::NeuronDetail {
    for _ in 0..100 {
        if let Ok(d) = admin.ask(ask::neuron(id)).await
            && d.neuron.state == plexus::api::NeuronState::Healthy
            && d.identity.as_ref().is_some_and(|i| i.session)
        {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{id} never became healthy");
}

/// A per-agent invite: one use, one id, and the agent it admits acts only as itself — through a
/// real `plexus neuron` process started with the invite in a token file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invite_admits_one_agent_once_and_its_token_acts_only_as_that_agent() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_configured(dir.path(), 0, false, |c| c.heartbeat_ms = 200);
    let admin = session(&engine, ADMIN).await;
    let (base, _server) = support::serve(&engine);
    let invite = |id: &str| {
        let admin = &admin;
        let id = id.to_string();
        async move {
            match admin
                .submit(plexus::api::Command::InviteAgent {
                    neuron: id,
                    ttl_ms: 3_600_000,
                })
                .await
                .unwrap()
            {
                plexus::api::CommandReply::AgentInvited { invite, .. } => invite,
                other => panic!("{other:?}"),
            }
        }
    };
    // Wrong id, then the right one; a second use is refused.
    let token = invite("invited").await;
    let claim = |id: &str| claim(id, "lab");
    let (status, text) = register(&base, &token, &claim("someone-else")).await;
    assert_eq!(status, 403, "{text}");
    let (status, text) = register(&base, &token, &claim("invited")).await;
    assert_eq!(status, 200, "{text}");
    let own: serde_json::Value = serde_json::from_str(&text).unwrap();
    let own = own["token"]
        .as_str()
        .expect("the agent's own token")
        .to_string();
    let (status, _) = register(&base, &token, &claim("invited")).await;
    assert_eq!(status, 401, "an invite is spent once");
    // The agent's own token acts only as that agent: not as another, and not as an operator.
    let (status, text) = register(&base, &own, &claim("other-agent")).await;
    assert_eq!(status, 403, "{text}");
    let status = reqwest::Client::new()
        .get(format!("{base}/api/v1/status"))
        .bearer_auth(&own)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403, "an agent's token reads nothing");

    // A real agent process joins with an invite in a file, and runs healthy on its own token.
    let file = dir.path().join("invite.txt");
    std::fs::write(&file, invite("proc-agent").await).unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args([
            "neuron",
            "--join",
            &base,
            "--id",
            "proc-agent",
            "--token-file",
        ])
        .arg(&file)
        .env("PLEXUS_DATA_DIR", state.path())
        .env_remove("PLEXUS_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let detail = healthy(&admin, "proc-agent").await;
    assert!(detail.identity.is_some());
    let saved = std::fs::read_to_string(state.path().join("agents/proc-agent.json")).unwrap();
    assert!(
        saved.contains("\"token\": \"plx_"),
        "the agent keeps its own token"
    );
    let _ = child.kill();
    let _ = child.wait();
}
