//! Registration of 1,000 agents (tasks in one load process) against a real server over loopback:
//! wall time from the first request to the last acknowledged registration (each one admitted by
//! the gate and audited before it is answered). Run: `cargo bench --bench agents_register`.

use std::time::Instant;

use plexus::api::wire::Registration;
use plexus::api::{Command, CommandReply, Role};
use plexus::client::{Backend, Embedded};
use plexus::engine::config::EngineConfig;
use plexus::engine::{Engine, EngineOptions};
use plexus::neuron::{SimConfig, SimFleet};

#[tokio::main]
async fn main() {
    let agents: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::start(
        EngineOptions {
            config: EngineConfig::default(),
            seed: 1,
            data_dir: Some(dir.path().to_path_buf()),
            virtual_time: false,
            virtual_epoch_unix_ms: None,
            security: Default::default(),
            first_admin: "bench".into(),
            ca_key: None,
        },
        Box::new(SimFleet::new(&SimConfig {
            neurons: 0,
            ..SimConfig::default()
        })),
    )
    .expect("engine");
    let admin = Embedded::connect(engine.clone(), "bench", "bench", false)
        .await
        .expect("session");
    admin
        .submit(Command::AddUser {
            name: "agents".into(),
            role: Role::NeuronManager,
        })
        .await
        .expect("user");
    let CommandReply::TokenIssued { token, .. } = admin
        .submit(Command::IssueToken {
            name: "agents".into(),
        })
        .await
        .expect("token")
    else {
        panic!("a token")
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/api/v1/agents/register",
        listener.local_addr().expect("addr")
    );
    let handle = axum_server::Handle::new();
    tokio::spawn(plexus::server::serve_on(
        engine.clone(),
        listener,
        None,
        handle.clone(),
    ));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let http = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..agents)
        .map(|i| {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            tokio::spawn(async move {
                let body = Registration {
                    serve: None,
                    id: format!("load-{i:05}"),
                    zone: "load".into(),
                    labels: Vec::new(),
                    config_version: "v1".into(),
                    proof: None,
                };
                let response = http.post(url).bearer_auth(token).json(&body).send().await;
                response.map(|r| r.status().is_success()).unwrap_or(false)
            })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap_or(false) {
            ok += 1;
        }
    }
    let took = started.elapsed();
    println!(
        "{ok}/{agents} agents registered over HTTP in {:.0} ms ({:.0} registrations/s; target: 1,000 in <= 1 s)",
        took.as_secs_f64() * 1000.0,
        ok as f64 / took.as_secs_f64()
    );
    handle.shutdown();
    drop(admin);
    engine.shutdown();
}
