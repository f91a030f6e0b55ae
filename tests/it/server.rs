//! The API end to end on 127.0.0.1 with a real HTTP client: role × endpoint gives 200/401/403 as
//! the matrix says, malformed bodies give 400, the original paths answer, the event stream is
//! ordered, resumable and tells laggards to resync, and /metrics is valid Prometheus text.

use crate::support;

use futures_util::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use plexus::api::rbac::allowed;
use plexus::api::stream::Control;
use plexus::api::{Command, EventEnvelope, Fault, Permission, Role};
use plexus::client::Backend;
use plexus::engine::Engine;
use support::{ADMIN, session};

struct Server {
    base: String,
    engine: Engine,
    handle: axum_server::Handle,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

async fn start(engine: Engine) -> Server {
    let (base, handle) = support::serve(&engine);
    Server {
        base,
        engine,
        handle,
    }
}

/// A token for a fresh user with `role`.
async fn token(engine: &Engine, name: &str, role: Role) -> String {
    let admin = session(engine, ADMIN).await;
    if name != ADMIN {
        admin
            .submit(Command::AddUser {
                name: name.into(),
                role,
            })
            .await
            .unwrap();
    }
    support::token(&admin, name).await
}

struct Endpoint {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    action: Permission,
}

fn endpoints() -> Vec<Endpoint> {
    use Permission::*;
    let e = |method, path, body, action| Endpoint {
        method,
        path,
        body,
        action,
    };
    vec![
        e("GET", "/api/v1/status", None, NeuronView),
        e("GET", "/api/v1/neurons", None, NeuronView),
        e("GET", "/api/v1/neurons/n-0001", None, NeuronView),
        e(
            "GET",
            "/api/v1/neurons/n-0001/logs?tail=5",
            None,
            NeuronView,
        ),
        e("GET", "/api/v1/failures", None, NeuronView),
        e(
            "POST",
            "/api/v1/query",
            Some(r#"{"query":"status"}"#),
            NeuronView,
        ),
        e(
            "POST",
            "/api/v1/neurons/n-0002/recover",
            None,
            NeuronRecover,
        ),
        e(
            "POST",
            "/api/v1/command",
            Some(
                r#"{"command":"inject_fault","neuron":"n-0003","fault":{"kind":"slow","factor":2.0,"persistent":false}}"#,
            ),
            NeuronFault,
        ),
        e("GET", "/api/v1/users", None, UsersManage),
        e("GET", "/api/v1/audit?limit=5", None, AuditView),
        e("GET", "/api/v1/audit/verify", None, AuditView),
        e(
            "POST",
            "/api/v1/agents/register",
            Some(r#"{"id":"agent-x","zone":"lab","config_version":"v1"}"#),
            NeuronRegister,
        ),
        e("GET", "/api/federation/status", None, NeuronView),
        e(
            "GET",
            "/api/federation/failure-detection/status",
            None,
            NeuronView,
        ),
        e(
            "GET",
            "/api/federation/failure-detection/failures/n-0001",
            None,
            NeuronView,
        ),
        e(
            "POST",
            "/api/federation/failure-detection/recovery/n-0002",
            None,
            NeuronRecover,
        ),
        e(
            "POST",
            "/api/federation/configs/broadcast",
            Some(
                r#"{"config":{"model":"m","model_version":"1","batch_size":8,"learning_rate":0.1,"heartbeat_interval_ms":1000,"max_concurrency":4},"selector":"n-0001","dry_run":true}"#,
            ),
            ConfigPush,
        ),
        e(
            "GET",
            "/api/federation/neurons/n-0001/logs",
            None,
            NeuronView,
        ),
        e("GET", "/metrics", None, NeuronView),
    ]
}

async fn call(http: &reqwest::Client, base: &str, ep: &Endpoint, token: Option<&str>) -> u16 {
    let url = format!("{base}{}", ep.path);
    let mut request = match ep.method {
        "GET" => http.get(url),
        _ => http.post(url),
    };
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = ep.body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_and_endpoint_answers_as_the_matrix_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(support::engine(dir.path(), 4)).await;
    server.engine.advance(2_000).await.unwrap();
    let http = reqwest::Client::new();
    for ep in endpoints() {
        assert_eq!(
            call(&http, &server.base, &ep, None).await,
            401,
            "{} without a token",
            ep.path
        );
        assert_eq!(
            call(&http, &server.base, &ep, Some("plx_nonsense")).await,
            401,
            "{} bad token",
            ep.path
        );
    }
    for role in Role::ALL {
        let token = token(&server.engine, &format!("u-{role}"), role).await;
        for ep in endpoints() {
            let status = call(&http, &server.base, &ep, Some(&token)).await;
            if allowed(role, ep.action) {
                // Allowed by the gate: success, or the operation itself declined (409: e.g.
                // recovering a healthy neuron) — never 401/403.
                assert!(
                    status == 200 || status == 409,
                    "{role} {} {} → {status}",
                    ep.method,
                    ep.path
                );
            } else {
                assert_eq!(status, 403, "{role} {} {}", ep.method, ep.path);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_get_a_400_that_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(support::engine(dir.path(), 2)).await;
    let token = token(&server.engine, ADMIN, Role::Admin).await;
    let http = reqwest::Client::new();
    for (path, body, field) in [
        (
            "/api/federation/configs/broadcast",
            r#"{"config": {"model": 3}}"#,
            "string",
        ),
        (
            "/api/federation/configs/broadcast",
            r#"{"selector": "all", "color": "red"}"#,
            "color",
        ),
        ("/api/v1/command", r#"{"command": "recover"}"#, "neuron"),
        (
            "/api/v1/command",
            r#"{"command": "launch_missiles"}"#,
            "launch_missiles",
        ),
        (
            "/api/v1/agents/register",
            r#"{"id": "a", "zone": 7, "config_version": "v1"}"#,
            "zone",
        ),
        ("/api/v1/query", "not json at all", "expected"),
    ] {
        let response = http
            .post(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{path} {body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["code"], "bad_input");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(field), "{path} {body}: {message}");
    }
    // Too large a body is refused, not read.
    let huge = format!(
        r#"{{"version": "{}"}}"#,
        "x".repeat(plexus::server::BODY_LIMIT + 1)
    );
    let response = http
        .post(format!("{}/api/federation/configs/broadcast", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_of_each_query_is_what_the_headless_command_prints() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(support::engine(dir.path(), 3)).await;
    server.engine.advance(2_000).await.unwrap();
    let token = token(&server.engine, ADMIN, Role::Admin).await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", server.base))
            .bearer_auth(&token)
            .send()
    };
    let original: serde_json::Value = get("/api/federation/status")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v1: serde_json::Value = get("/api/v1/status").await.unwrap().json().await.unwrap();
    assert_eq!(original, v1);
    for key in ["neurons", "failures", "recoveries"] {
        assert!(v1.get(key).is_some(), "{key}");
    }
    let neurons: serde_json::Value = get("/api/v1/neurons").await.unwrap().json().await.unwrap();
    assert_eq!(neurons.as_array().unwrap().len(), 3);
    assert!(neurons[0]["phi"].is_number());
    // Every original path is served: an empty experiment broadcast is a 400, not a 404.
    let empty = http
        .post(format!(
            "{}/api/federation/experiments/broadcast",
            server.base
        ))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status().as_u16(), 400);
}

async fn ws(
    base: &str,
    token: &str,
    query: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("{}/api/v1/events{query}", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

enum Frame {
    Event(EventEnvelope),
    Control(Control),
}

async fn next_frame(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Option<Frame> {
    let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .ok()??
        .ok()?;
    let Message::Text(text) = message else {
        return None;
    };
    if let Ok(event) = serde_json::from_str::<EventEnvelope>(&text) {
        return Some(Frame::Event(event));
    }
    serde_json::from_str::<Control>(&text)
        .ok()
        .map(Frame::Control)
}

/// A subscriber sends nothing but control frames: the event stream refuses a large incoming
/// message (it costs the server no more than its 4 KiB bound) and closes that socket, while a
/// small one is ignored and the stream goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_bounds_what_a_subscriber_may_send() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let server = start(support::engine(dir.path(), 4)).await;
    let token = token(&server.engine, ADMIN, Role::Admin).await;
    let mut polite = ws(&server.base, &token, "?since=0").await;
    let mut flooding = ws(&server.base, &token, "?since=0").await;
    for socket in [&mut polite, &mut flooding] {
        assert!(matches!(next_frame(socket).await, Some(Frame::Control(_))));
    }
    polite.send(Message::text("ping")).await.unwrap();
    let _ = flooding.send(Message::text("x".repeat(64 * 1024))).await;
    // The flooding socket ends (an error or a close), the polite one still hears events.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match flooding.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "a 64 KiB message from a subscriber ends its socket"
    );
    server.engine.advance(3_000).await.unwrap();
    assert!(
        matches!(next_frame(&mut polite).await, Some(Frame::Event(_))),
        "the polite subscriber still streams"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_is_ordered_and_resumes_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(support::engine(dir.path(), 4)).await;
    let token = token(&server.engine, ADMIN, Role::Admin).await;
    let admin = session(&server.engine, ADMIN).await;

    let mut socket = ws(&server.base, &token, "?since=0").await;
    let Some(Frame::Control(hello)) = next_frame(&mut socket).await else {
        panic!("hello first")
    };
    assert_eq!(hello.control, "hello");
    server.engine.advance(3_000).await.unwrap();
    let mut seen = Vec::new();
    while let Some(Frame::Event(e)) = next_frame(&mut socket).await {
        seen.push(e.seq);
        if e.seq >= 5 {
            break;
        }
    }
    drop(socket);
    // Events happen while the client is away.
    admin
        .submit(Command::InjectFault {
            neuron: "n-0002".into(),
            fault: Fault::Crash { persistent: false },
        })
        .await
        .unwrap();
    server.engine.advance(6_000).await.unwrap();
    let last = *seen.last().unwrap();
    let mut socket = ws(
        &server.base,
        &token,
        &format!("?since={last}&epoch={}", hello.epoch),
    )
    .await;
    let mut resumed = Vec::new();
    loop {
        match next_frame(&mut socket).await {
            Some(Frame::Event(e)) => resumed.push(e),
            Some(Frame::Control(c)) if c.control == "hello" => continue,
            Some(Frame::Control(c)) => panic!("unexpected {c:?}"),
            None => break,
        }
        if resumed
            .iter()
            .any(|e| matches!(e.event, plexus::api::Event::RecoveryFinished { .. }))
        {
            break;
        }
    }
    let seqs: Vec<u64> = seen
        .iter()
        .copied()
        .chain(resumed.iter().map(|e| e.seq))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "every event once, in order: {seqs:?}"
    );
    assert!(
        resumed
            .iter()
            .any(|e| matches!(e.event, plexus::api::Event::FailureDetected { .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_subscriber_is_told_to_resync_and_does_not_slow_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let engine = support::engine_with(dir.path(), 2000, |cfg| cfg.event_capacity = 16);
    let server = start(engine.clone()).await;
    let token = token(&server.engine, ADMIN, Role::Admin).await;
    let mut socket = ws(&server.base, &token, "").await;
    // 2,000 first heartbeats arrive in a burst far faster than one subscriber can be written to,
    // through a channel that holds 16 events, while the client reads nothing.
    let started = std::time::Instant::now();
    engine.advance(3_000).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the engine did not wait for the client"
    );
    let mut resync = None;
    while let Some(frame) = next_frame(&mut socket).await {
        if let Frame::Control(c) = frame
            && c.control == "resync"
        {
            resync = Some(c);
            break;
        }
    }
    let resync = resync.expect("told to resync");
    assert_eq!(resync.reason.as_deref(), Some("lagged"));
    assert!(resync.missed.unwrap_or(0) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(support::engine(dir.path(), 3)).await;
    server.engine.advance(2_000).await.unwrap();
    let token = token(&server.engine, ADMIN, Role::Admin).await;
    let http = reqwest::Client::new();
    let _ = http
        .get(format!("{}/api/v1/status", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let text = http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "plexus_neurons{state=\"healthy\"} 3",
        "plexus_failure_detections_total{mode=\"offline\"}",
        "plexus_recovery_attempts_total",
        "plexus_escalations_total",
        "plexus_gate_decisions_total{action=\"neuron.view\",outcome=\"allowed\"}",
        "plexus_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/status\",status=\"200\",le=\"+Inf\"} 1",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    // Every series the shipped Grafana dashboard charts exists.
    let dashboard = include_str!("../../assets/grafana/plexus-dashboard.json");
    let mut charted: Vec<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("plexus_") && w.len() > "plexus_".len())
        .collect();
    charted.sort_unstable();
    charted.dedup();
    assert!(charted.len() >= 8, "{charted:?}");
    for series in charted {
        assert!(
            text.contains(series),
            "the dashboard charts {series}, which /metrics lacks"
        );
    }
    // promtool (Debian's prometheus package, installed by .ci/run) is the judge when present.
    if let Ok(mut child) = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("promtool not installed: checked the exposition by its names only");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_speaks_tls_with_a_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        eprintln!("openssl not available: TLS not exercised");
        return;
    }
    let engine = support::engine(dir.path(), 1);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let handle = axum_server::Handle::new();
    tokio::spawn(plexus::server::serve_on(
        engine,
        listener,
        Some((cert, key)),
        handle.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let answer = http
        .get(format!("https://{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert!(
        http.get(format!("http://{address}/healthz"))
            .send()
            .await
            .is_err(),
        "plain HTTP is not served"
    );
    handle.shutdown();
}
