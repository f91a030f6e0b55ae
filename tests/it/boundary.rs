//! The server's boundary as an attacker with a token works it: revoked and replaced tokens, ended
//! sessions, numbers that could stop the engine, fields named in every refusal, and arbitrary
//! command and query JSON that must never produce a 5xx or stop the engine.

use crate::support;

use plexus::api::alert::{MatchOp, Matcher};
use plexus::api::chaos::{ChaosKind, ChaosParams, ChaosSpec, Selector};
use plexus::api::fl::ClientUpdate;
use plexus::api::fl_run::FlRunSpec;
use plexus::api::security::{AuditFilter, ExportFormat};
use plexus::api::{Command, Fault, Query, Role};
use plexus::client::Backend;
use serde_json::{Value, json};
use support::{ADMIN, engine, serve, session, token};

async fn status_code(client: &reqwest::Client, base: &str, token: &str) -> u16 {
    client
        .get(format!("{base}/api/v1/status"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sends")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_replaced_or_revoked_token_and_its_sessions_get_401_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 3);
    let (base, _server) = serve(&engine);
    let admin = session(&engine, ADMIN).await;
    support::user_with_role(&engine, "ops", Role::Operator).await;
    let client = reqwest::Client::new();
    let first = token(&admin, "ops").await;
    assert_eq!(status_code(&client, &base, &first).await, 200);
    // A session the client opened and names, as the remote console does.
    let named: Value = support::json_of(
        client
            .post(format!("{base}/api/v1/sessions"))
            .bearer_auth(&first),
    )
    .await;
    let named = named["id"].as_str().unwrap().to_string();

    let second = token(&admin, "ops").await;
    assert_eq!(status_code(&client, &base, &first).await, 401, "replaced");
    assert_eq!(status_code(&client, &base, &second).await, 200);
    let by_session = client
        .get(format!("{base}/api/v1/status"))
        .bearer_auth(&second)
        .header(plexus::server::auth::SESSION_HEADER, &named)
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_session.status(),
        401,
        "the old token's session ended too"
    );

    let revoked = admin
        .submit(Command::RevokeToken { name: "ops".into() })
        .await
        .unwrap();
    assert!(revoked.summary().contains("token revoked"), "{revoked:?}");
    assert_eq!(status_code(&client, &base, &second).await, 401, "revoked");

    // A removed user's token dies with them; a role change ends their sessions.
    support::user_with_role(&engine, "gone", Role::Viewer).await;
    let gone = token(&admin, "gone").await;
    assert_eq!(status_code(&client, &base, &gone).await, 200);
    admin
        .submit(Command::RemoveUser {
            name: "gone".into(),
        })
        .await
        .unwrap();
    assert_eq!(status_code(&client, &base, &gone).await, 401, "removed");
    let last_admin = admin
        .submit(Command::RemoveUser { name: ADMIN.into() })
        .await
        .unwrap_err();
    assert!(last_admin.message.contains("last admin"), "{last_admin}");
}

#[tokio::test]
async fn a_role_change_ends_the_users_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 3);
    let admin = session(&engine, ADMIN).await;
    let ops = support::user_with_role(&engine, "ops", Role::Operator).await;
    assert!(ops.query(Query::Status).await.is_ok());
    let changed = admin
        .submit(Command::SetRole {
            name: "ops".into(),
            role: Role::Viewer,
        })
        .await
        .unwrap();
    assert!(
        changed.summary().contains("1 sessions ended"),
        "{changed:?}"
    );
    let err = ops.query(Query::Status).await.unwrap_err();
    assert!(err.message.contains("no session"), "{err}");
}

#[tokio::test]
async fn numbers_out_of_range_get_400_naming_the_field_and_the_engine_answers_after() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 3);
    let (base, _server) = serve(&engine);
    let admin = session(&engine, ADMIN).await;
    let token = token(&admin, ADMIN).await;
    let client = reqwest::Client::new();
    let chaos = |params: Value, duration: Value| {
        json!({"command": "chaos_inject", "spec": {"kind": "latency",
            "target": {"select": "all"}, "duration_ms": duration, "params": params}})
    };
    let cases = [
        (
            chaos(json!({"jitter_ms": 1e308}), json!(1000)),
            "spec.params.jitter_ms",
        ),
        (
            chaos(json!({"latency_ms": -1.0}), json!(1000)),
            "spec.params.latency_ms",
        ),
        (chaos(json!({"loss": 2.0}), json!(1000)), "spec.params.loss"),
        (chaos(json!({}), json!(u64::MAX)), "spec.duration_ms"),
        (chaos(json!({}), json!(-5)), "spec.duration_ms"),
        (
            chaos(json!({"jitter_ms": "lots"}), json!(1000)),
            "spec.params.jitter_ms",
        ),
        (
            json!({"command": "silence_create", "matchers": [{"name": "neuron", "op": "=",
                "value": "n-1"}], "duration_ms": u64::MAX}),
            "duration_ms",
        ),
        (
            json!({"command": "chaos_inject", "spec": {"kind": "crash",
                "target": {"select": "percent", "percent": 1e308}}}),
            "spec.target.percent",
        ),
    ];
    for (body, field) in cases {
        let response = client
            .post(format!("{base}/api/v1/command"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(&format!("{field}:")), "{field}: {message}");
    }
    let query = client
        .post(format!("{base}/api/v1/query"))
        .bearer_auth(&token)
        .json(&json!({"query": "logs", "id": "n-0001", "tail": "all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 400);
    assert!(query.text().await.unwrap().contains("tail: invalid type"));
    assert_eq!(status_code(&client, &base, &token).await, 200);
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn healthz_answers_503_once_the_engine_has_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 2);
    let (base, _server) = serve(&engine);
    let client = reqwest::Client::new();
    let ok = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    engine.shutdown();
    let stopped = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(stopped.status(), 503);
}

#[tokio::test]
async fn authentication_comes_before_the_body_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 2);
    let (base, _server) = serve(&engine);
    let client = reqwest::Client::new();
    // A malformed body and an unknown id answer 401 alike to a wrong token: nothing about the
    // request is looked at before the caller is known.
    for (path, body) in [
        ("/api/v1/command", "{not json"),
        ("/api/v1/agents/no-such-agent/messages", "{}"),
        ("/api/v1/neurons/no-such-neuron/recover", ""),
    ] {
        let response = client
            .post(format!("{base}{path}"))
            .bearer_auth("plx_forged")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
}

/// One of every command and query, as JSON, for the property test to break.
fn templates() -> Vec<(&'static str, Value)> {
    let chaos = ChaosSpec {
        kind: ChaosKind::Latency,
        target: Selector::Count { count: 1 },
        duration_ms: Some(200),
        params: ChaosParams::default(),
    };
    let commands = vec![
        Command::Recover {
            neuron: "n-0001".into(),
        },
        Command::InjectFault {
            neuron: "n-0002".into(),
            fault: Fault::Slow {
                factor: 2.0,
                persistent: false,
            },
        },
        Command::ClearFaults {
            neuron: "n-0002".into(),
        },
        Command::AddUser {
            name: "victim".into(),
            role: Role::Viewer,
        },
        Command::IssueToken {
            name: "victim".into(),
        },
        Command::SetRole {
            name: "victim".into(),
            role: Role::Operator,
        },
        Command::ExportAudit {
            format: ExportFormat::Json,
            filter: AuditFilter {
                limit: Some(5),
                ..AuditFilter::default()
            },
        },
        Command::ChaosInject { spec: chaos },
        // The numbers that reach the engine's link and clock deserve more than one try.
        Command::ChaosInject {
            spec: ChaosSpec {
                kind: ChaosKind::Latency,
                target: Selector::All,
                duration_ms: Some(300),
                params: ChaosParams::default(),
            },
        },
        Command::ChaosInject {
            spec: ChaosSpec {
                kind: ChaosKind::PacketLoss,
                target: Selector::Percent { percent: 50.0 },
                duration_ms: Some(300),
                params: ChaosParams::default(),
            },
        },
        Command::ChaosStop { id: "c-1".into() },
        Command::StressStart {
            test_id: "t-1".into(),
            profile: "smoke".into(),
        },
        Command::StressStop {
            test_id: "t-1".into(),
        },
        support::config_push("n-0001", true),
        Command::Rollback { to: None },
        Command::AlertAck {
            fingerprint: "abc".into(),
        },
        Command::SilenceCreate {
            matchers: vec![Matcher {
                name: "neuron".into(),
                op: MatchOp::Eq,
                value: "n-0001".into(),
            }],
            duration_ms: 60_000,
            comment: "drill".into(),
        },
        Command::SilenceExpire { id: "s-1".into() },
        Command::FlStart {
            config: FlRunSpec {
                rounds: 1,
                round_ms: 0,
                ..FlRunSpec::default()
            },
        },
        Command::FlStop { id: "fl-1".into() },
        Command::FlUpdate {
            id: "fl-1".into(),
            update: ClientUpdate {
                neuron: "stress-1".into(),
                examples: 3,
                weights: vec![0.5, -0.5],
            },
        },
    ];
    let queries = vec![
        Query::Neuron { id: "n-1".into() },
        Query::Logs {
            id: "n-0001".into(),
            tail: 5,
        },
        Query::RecentEvents { limit: 5 },
        Query::Audit {
            filter: AuditFilter {
                limit: Some(5),
                ..AuditFilter::default()
            },
        },
        Query::EventsSince { seq: 3 },
        Query::Rollout { id: 1 },
        Query::FlRun { id: "fl-1".into() },
        Query::FlModel { id: "fl-1".into() },
    ];
    commands
        .into_iter()
        .map(|c| ("/api/v1/command", serde_json::to_value(c).unwrap()))
        .chain(
            queries
                .into_iter()
                .map(|q| ("/api/v1/query", serde_json::to_value(q).unwrap())),
        )
        .collect()
}

/// What an attacker puts where a value was.
fn hostile(which: u8) -> Value {
    let deep = (0..200).fold(json!(1), |inner, _| json!([inner]));
    match which % 16 {
        0 => json!(1e308),
        1 => json!(-1e308),
        2 => json!(9_223_372_036_854_775_808u64),
        3 => json!(u64::MAX),
        4 => json!(-1),
        5 => json!(0),
        6 => json!(1.5),
        7 => json!("\u{1b}[2J\u{1b}]0;owned\u{7}"),
        8 => json!("\0"),
        9 => json!("x".repeat(10_000)),
        10 => json!(""),
        11 => Value::Null,
        12 => json!(true),
        13 => deep,
        14 => json!({"nested": {"deeper": [1e308, "\u{1b}"]}}),
        _ => json!(i64::MIN),
    }
}

/// Every place in `value` (objects' values, arrays' items), as JSON pointers.
fn places(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{k}");
                out.push(p.clone());
                places(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                places(v, p, out);
            }
        }
        _ => {}
    }
}

/// Property: whatever a caller with an admin token sends as a command or query, the server
/// answers below 500 and the engine keeps running.
#[test]
fn arbitrary_commands_and_queries_never_stop_the_engine() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (base, token) = runtime.block_on(async {
        let engine = support::engine_on(dir.path(), 4, false);
        let (base, handle) = serve(&engine);
        std::mem::forget(handle);
        let admin = session(&engine, ADMIN).await;
        let token = token(&admin, ADMIN).await;
        (base, token)
    });
    let client = reqwest::Client::new();
    let templates = templates();
    let cases: u32 = 1000;
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..templates.len(),
        proptest::collection::vec((any::<u32>(), any::<u8>()), 0..4),
    );
    let sent = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(&strategy, |(which, changes)| {
            let (path, template) = &templates[which];
            let mut body = template.clone();
            let mut spots = Vec::new();
            places(&body, String::new(), &mut spots);
            for (spot, value) in changes {
                if spots.is_empty() {
                    break;
                }
                let pointer = &spots[spot as usize % spots.len()];
                if let Some(slot) = body.pointer_mut(pointer) {
                    // A number is most often replaced by a hostile number (the values that
                    // overflow, go non-finite or negative), else by anything at all.
                    *slot = if slot.is_number() && value % 4 != 0 {
                        hostile(value % 7)
                    } else {
                        hostile(value)
                    };
                }
            }
            let status = runtime.block_on(async {
                client
                    .post(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let status = status.map_err(|e| TestCaseError::fail(format!("{body}: {e}")))?;
            prop_assert!(status < 500, "{} answered {} to {}", path, status, body);
            Ok(())
        })
        .unwrap();
    let sent = sent.into_inner();
    assert!(sent >= cases, "every case reached the server ({sent})");
    runtime.block_on(async {
        // Long enough for every fault injected above to act on a heartbeat.
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        let health = client.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "the engine still runs");
        assert_eq!(status_code(&client, &base, &token).await, 200);
    });
    eprintln!("{sent} arbitrary commands and queries: no 5xx, engine alive");
}

/// A `plexus serve` process on a temp data dir, killed when dropped.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_server(dir: &std::path::Path) -> Server {
    let port = free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["--neurons", "2", "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("PLEXUS_DATA_DIR", dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("plexus serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await
            && r.status() == 200
        {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("plexus serve did not come up");
}

fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(args)
        .env("PLEXUS_DATA_DIR", dir)
        .env_remove("PLEXUS_URL")
        .output()
        .expect("plexus");
    assert!(
        out.status.success(),
        "plexus {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// How long until `token` gets `want` from the server (up to 5 s).
async fn until_status(base: &str, token: &str, want: u16) -> std::time::Duration {
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(5) {
        if status_code(&client, base, token).await == want {
            return started.elapsed();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the server never answered {want}");
}

/// README's flow: a server runs, an admin makes a user and a token with the CLI on the same
/// data dir, and the server takes the token on the very next request (a script does not wait);
/// a revocation within a second.
#[tokio::test(flavor = "multi_thread")]
async fn the_server_sees_users_and_tokens_the_cli_makes_on_its_data_dir_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path()).await;
    cli(dir.path(), &["users", "add", "ops", "--role", "operator"]);
    let token = cli(dir.path(), &["users", "token", "ops"]);
    assert!(token.starts_with("plx_"), "{token}");
    let first = status_code(&reqwest::Client::new(), &server.base, &token).await;
    assert_eq!(
        first, 200,
        "the first request with a token issued a moment ago"
    );
    cli(dir.path(), &["users", "revoke", "ops"]);
    let took = until_status(&server.base, &token, 401).await;
    assert!(took.as_millis() <= 1500, "refused after {took:?}");
}

/// A file the CLI reads cannot grow memory: an endless device is refused with exit 2.
#[test]
fn the_cli_refuses_an_endless_input_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args([
            "--virtual-time",
            "--neurons",
            "2",
            "broadcast",
            "config",
            "/dev/zero",
        ])
        .env("PLEXUS_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/dev/zero") && stderr.contains("larger than 16 MiB"),
        "{stderr}"
    );
}

/// A scenario file's numbers are checked when it is read: file, line and key, exit 2.
#[test]
fn a_scenario_with_a_non_finite_number_is_refused_at_parse_time_naming_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/scenarios/combined-storm.toml"),
    )
    .unwrap();
    let broken = shipped.replace(
        "params = { loss = 0.1 }",
        "params = { loss = 0.1, jitter_ms = inf }",
    );
    assert_ne!(broken, shipped);
    let line = broken
        .lines()
        .position(|l| l.contains("jitter_ms = inf"))
        .unwrap()
        + 1;
    let file = dir.path().join("storm.toml");
    std::fs::write(&file, broken).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plexus"))
        .args(["--virtual-time", "--neurons", "6", "chaos", "run"])
        .arg(&file)
        .env("PLEXUS_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "storm.toml:{line}: key 'method[2].params.jitter_ms': inf"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_unknown_route_answers_like_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), 0);
    let (base, _server) = serve(&engine);
    let response = reqwest::get(format!("{base}/api/v2/nothing"))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/api/v2/nothing")
    );
}
