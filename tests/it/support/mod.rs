//! Shared by the integration tests: engines on virtual time over a real store, and sessions.

#![allow(dead_code)]

pub mod proxy;

use std::path::Path;

use plexus::api::{Command, CommandReply, Role};
use plexus::client::{Backend, Embedded};
use plexus::engine::config::EngineConfig;
use plexus::engine::{Engine, EngineOptions};
use plexus::neuron::{SimConfig, SimFleet};

pub const ADMIN: &str = "root";

/// Run a benchmark's figures as every bench does: on two worker threads, this machine's cores.
pub fn block_on<F: std::future::Future>(figures: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(figures)
}

/// An engine on virtual time with `neurons` simulated neurons, storing in `dir`.
pub fn engine(dir: &Path, neurons: usize) -> Engine {
    engine_on(dir, neurons, true)
}

/// The same on real time (`virtual_time` false) or virtual time.
pub fn engine_on(dir: &Path, neurons: usize, virtual_time: bool) -> Engine {
    engine_configured(dir, neurons, virtual_time, |_| {})
}

/// On virtual time, with the engine config adjusted by `adjust`.
pub fn engine_with(dir: &Path, neurons: usize, adjust: impl FnOnce(&mut EngineConfig)) -> Engine {
    engine_configured(dir, neurons, true, adjust)
}

/// Any clock, with the engine config adjusted by `adjust` (500 ms heartbeat before it).
pub fn engine_configured(
    dir: &Path,
    neurons: usize,
    virtual_time: bool,
    adjust: impl FnOnce(&mut EngineConfig),
) -> Engine {
    let mut config = EngineConfig {
        heartbeat_ms: 500,
        ..EngineConfig::default()
    };
    adjust(&mut config);
    let fleet = SimFleet::new(&SimConfig {
        neurons,
        heartbeat_ms: config.heartbeat_ms,
        seed: 1,
        wait_for_keys: virtual_time,
        ..SimConfig::default()
    });
    Engine::start(
        EngineOptions {
            config,
            seed: 1,
            data_dir: Some(dir.to_path_buf()),
            virtual_time,
            virtual_epoch_unix_ms: None,
            security: Default::default(),
            first_admin: ADMIN.into(),
            ca_key: None,
        },
        Box::new(fleet),
    )
    .expect("engine starts")
}

pub async fn session(engine: &Engine, user: &str) -> Embedded {
    Embedded::connect(engine.clone(), user, "test", false)
        .await
        .expect("session opens")
}

/// Register `name` with `role` as the admin, and open a session for it.
pub async fn user_with_role(engine: &Engine, name: &str, role: Role) -> Embedded {
    let admin = session(engine, ADMIN).await;
    let reply = admin
        .submit(Command::AddUser {
            name: name.into(),
            role,
        })
        .await
        .expect("admin adds users");
    assert!(matches!(reply, CommandReply::UserAdded { .. }));
    session(engine, name).await
}

/// Serve `engine` on `listener` in the background; the handle shuts it down.
pub fn serve_on(engine: &Engine, listener: std::net::TcpListener) -> axum_server::Handle {
    let handle = axum_server::Handle::new();
    tokio::spawn(plexus::server::serve_on(
        engine.clone(),
        listener,
        None,
        handle.clone(),
    ));
    handle
}

/// Serve `engine` on a free loopback port: the base URL and the handle.
pub fn serve(engine: &Engine) -> (String, axum_server::Handle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    (base, serve_on(engine, listener))
}

/// A config document as an operator writes it.
pub const CONFIG_TOML: &str = "model = \"resnet-50\"\nmodel_version = \"2.0\"\nbatch_size = 64\nlearning_rate = 0.01\nheartbeat_interval_ms = 1000\nmax_concurrency = 32\n\n[features]\nfast_path = true\n";

/// A config push of [`CONFIG_TOML`] to `selector` (all when empty).
pub fn config_push(selector: &str, dry_run: bool) -> Command {
    Command::BroadcastConfig {
        config: Box::new(
            plexus::api::rollout_doc::parse_config("config.toml", CONFIG_TOML).unwrap(),
        ),
        selector: selector.into(),
        expected_version: None,
        dry_run,
        plan: Default::default(),
    }
}

/// Agent processes that are killed when the test ends, however it ends, and the temp dir their
/// keys live in between processes.
pub struct Agents(pub Vec<std::process::Child>, pub tempfile::TempDir);

impl Drop for Agents {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A neuron-manager user `agents` and a token for it (what agents authenticate with).
pub async fn agent_token(admin: &Embedded) -> String {
    admin
        .submit(Command::AddUser {
            name: "agents".into(),
            role: Role::NeuronManager,
        })
        .await
        .expect("admin adds the agents user");
    token(admin, "agents").await
}

/// A new bearer token for the existing user `name`, issued by `admin`.
pub async fn token(admin: &Embedded, name: &str) -> String {
    match admin
        .submit(Command::IssueToken { name: name.into() })
        .await
        .expect("a token")
    {
        CommandReply::TokenIssued { token, .. } => token,
        other => panic!("{other:?}"),
    }
}

/// Send `request` and parse its answer as JSON (the HTTP tests' usual step).
pub async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("a JSON answer")
}

/// Render the console into a `w`×`h` test terminal and return the screen as text.
pub fn screen_text(app: &plexus::tui::App, w: u16, h: u16) -> String {
    use ratatui::{Terminal, backend::TestBackend};
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal.draw(|f| plexus::tui::draw(f, app)).expect("draws");
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `plexus neuron --join URL --id ID` processes, one per id.
pub fn spawn_agents(token: &str, url: &str, ids: impl IntoIterator<Item = String>) -> Agents {
    let plain: Vec<(String, Vec<&str>)> = ids.into_iter().map(|id| (id, Vec::new())).collect();
    spawn_agents_with(token, url, &plain)
}

/// Agent processes, each with its own extra flags (`--byzantine sign-flip`, `--data FILE`, …).
pub fn spawn_agents_with(token: &str, url: &str, agents: &[(String, Vec<&str>)]) -> Agents {
    spawn_agents_from(Path::new(env!("CARGO_BIN_EXE_plexus")), token, url, agents)
}

/// As [`spawn_agents_with`], running the program at `exe` (a copy the test may replace).
pub fn spawn_agents_from(
    exe: &Path,
    token: &str,
    url: &str,
    agents: &[(String, Vec<&str>)],
) -> Agents {
    let state = tempfile::tempdir().expect("a temp dir for the agents' keys");
    let dir = state.path().to_path_buf();
    Agents(
        agents
            .iter()
            .map(|(id, extra)| {
                std::process::Command::new(exe)
                    .args(["neuron", "--join", url, "--id", id])
                    .args(extra)
                    .env("PLEXUS_TOKEN", token)
                    .env("PLEXUS_DATA_DIR", &dir)
                    .stdout(std::process::Stdio::null())
                    .stderr(agent_stderr())
                    .spawn()
                    .expect("an agent process")
            })
            .collect(),
        state,
    )
}

/// Agents are quiet in tests; `PLEXUS_TEST_AGENT_STDERR=1` lets their stderr through (debugging).
fn agent_stderr() -> std::process::Stdio {
    if std::env::var_os("PLEXUS_TEST_AGENT_STDERR").is_some() {
        std::process::Stdio::inherit()
    } else {
        std::process::Stdio::null()
    }
}

/// The name libtest knows a test by, for re-running this binary on one test in a child process:
/// `module::name`, without the crate (`module_path!()` in the test's module gives `it::module`).
pub fn test_name(module_path: &str, name: &str) -> String {
    let module = module_path.split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{name}")
}

/// Run the stress tool's `predict` scenario (only it, no mock neurons) with the phases and
/// thresholds of `profile`, writing its reports to `out`.
pub async fn run_predict(
    backend: std::sync::Arc<dyn plexus::client::Backend>,
    mut profile: plexus::stress::profile::Profile,
    out: std::path::PathBuf,
) -> plexus::stress::job::Done {
    profile.neurons = 0;
    profile.scenarios = vec![(plexus::stress::profile::Scenario::Predict, 1)];
    let live = plexus::stress::run::Live::new("st-predict", &profile);
    plexus::stress::job::execute(
        backend,
        plexus::stress::job::Plan {
            thresholds: profile.thresholds.clone(),
            profile,
            seed: 1,
            out,
            target: "embedded".into(),
            http: None,
            subscribers: 0,
        },
        "st-predict",
        live,
    )
    .await
    .expect("the predict run")
}
