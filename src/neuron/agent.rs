//! A real neuron as its own process (`plexus neuron --join URL --id ID`): it registers with a
//! server, heartbeats with telemetry from its workload, answers probes, applies configs, ships
//! its log lines, and restarts for real (re-executes itself) when the orchestrator asks. Once it
//! has an identity session it keeps a push channel (one WebSocket) open, so commands reach it the
//! moment they exist; while the channel is down it reports over HTTP and picks up its commands in
//! the answers, and reconnects with back-off.

use rand::SeedableRng;
use rand_pcg::Pcg32;
use std::time::{Duration, Instant};

use super::channel::Channel;
use super::identity::Keyring;
use super::staging::ConfigSlot;
use super::state;
use super::workload::Workload;
use crate::api::ApiError;
use crate::api::identity::REPORT_AUTH_HEADER;
use crate::api::wire::{
    Commands, ConfigStatus, Heartbeat, NeuronCommand, NeuronMessage, Registered, Registration,
    Report, SealedReport,
};

pub struct AgentOptions {
    pub server: String,
    pub token: String,
    pub id: String,
    pub zone: String,
    pub labels: Vec<(String, String)>,
    pub seed: u64,
    /// Where the agent keeps its key and credential between processes (0600): its id is
    /// bound to that key, and a restarted agent proves it holds it.
    pub state: Option<std::path::PathBuf>,
    /// Keep a push channel open (`--no-push` turns it off: commands then ride on the answers).
    pub push: bool,
    /// Trains the FL rounds it is invited to (its data, and whether it attacks).
    pub learner: super::learner::Learner,
    /// Serves predictions (`--serve`): its telemetry then comes from the requests it served.
    pub serving: Option<std::sync::Arc<super::serving::Serving>>,
}

/// Back-off between push channel attempts.
const CHANNEL_RETRY_FIRST: Duration = Duration::from_millis(200);
const CHANNEL_RETRY_MAX: Duration = Duration::from_secs(5);

struct Agent {
    http: reqwest::Client,
    options: AgentOptions,
    incarnation: u64,
    seq: u64,
    config: ConfigSlot,
    workload: Workload,
    rng: Pcg32,
    logs: Vec<(String, String)>,
    started: Instant,
    keys: Keyring,
    /// The token an invite turned into (kept in the state file; the invite is spent).
    own_token: Option<String>,
    /// The push channel, while it is up.
    channel: Option<Channel>,
    channel_retry: Duration,
    next_channel_try: Instant,
}

impl Agent {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.options.server.trim_end_matches('/'))
    }

    async fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let request = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.options.token)
            .json(body);
        self.send(request).await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::unreachable(format!("{}: {e}", self.options.server)))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            serde_json::from_str(&text).map_err(|e| ApiError::failed(format!("bad answer: {e}")))
        } else {
            Err(serde_json::from_str::<ApiError>(&text)
                .unwrap_or_else(|_| ApiError::failed(format!("HTTP {status}: {text}"))))
        }
    }

    async fn register(&mut self) -> Result<Registered, ApiError> {
        let registered: Registered = self.register_once().await?;
        if let Some(token) = &registered.token {
            self.options.token = token.clone();
            self.own_token = Some(token.clone());
            self.save_keys();
        }
        Ok(registered)
    }

    async fn register_once(&self) -> Result<Registered, ApiError> {
        let registration = Registration {
            id: self.options.id.clone(),
            zone: self.options.zone.clone(),
            labels: self.options.labels.clone(),
            config_version: self.config.version.to_string(),
            serve: self.options.serving.as_ref().map(|s| s.addr.to_string()),
            proof: self
                .keys
                .registration_proof(chrono::Utc::now().timestamp_millis()),
        };
        self.post("/api/v1/agents/register", &registration).await
    }

    /// Send one message. The body is serialised once; the MAC covers exactly those bytes. Log
    /// lines ride only on MAC'd reports (an enrolment or handshake is vouched for by its
    /// signature alone, which does not cover them).
    async fn report(&mut self, message: NeuronMessage) -> Result<Vec<NeuronCommand>, ApiError> {
        let by_signature = matches!(
            message,
            NeuronMessage::Enroll(_) | NeuronMessage::Handshake(_)
        );
        let logs = if by_signature {
            Vec::new()
        } else {
            std::mem::take(&mut self.logs)
        };
        let body = SealedReport::body_of(&Report { message, logs });
        let auth = if by_signature {
            None
        } else {
            self.keys.seal_report(&self.options.id, &body)
        };
        if let Some(channel) = &mut self.channel {
            // Commands come back on the channel. A send that fails is not retried over HTTP: the
            // server may have taken it, and the same MAC counter twice is a replay.
            match channel.send(&body, auth.as_ref()).await {
                Ok(()) => return Ok(Vec::new()),
                Err(e) => {
                    self.channel_lost(&e);
                    return Ok(Vec::new());
                }
            }
        }
        let path = format!("/api/v1/agents/{}/messages", self.options.id);
        let mut request = self
            .http
            .post(self.url(&path))
            .bearer_auth(&self.options.token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(auth) = auth {
            request = request.header(REPORT_AUTH_HEADER, auth.header());
        }
        let answer: Commands = self.send(request).await?;
        Ok(answer.commands)
    }

    fn channel_lost(&mut self, why: &str) {
        if self.channel.take().is_some() {
            eprintln!(
                "plexus neuron {}: push channel lost ({why}); reporting over HTTP until it is back",
                self.options.id
            );
        }
        self.next_channel_try = Instant::now() + self.channel_retry;
        self.channel_retry = (self.channel_retry * 2).min(CHANNEL_RETRY_MAX);
    }

    /// Open the push channel when it is down and due, then bind it at once with a MAC'd report
    /// (a probe answer that answers nothing), so pushing starts before the next heartbeat.
    async fn keep_channel(&mut self) {
        if !self.options.push
            || self.channel.is_some()
            || !self.keys.has_session()
            || Instant::now() < self.next_channel_try
        {
            return;
        }
        match Channel::connect(&self.options.server, &self.options.id, &self.options.token).await {
            Ok(channel) => {
                self.channel = Some(channel);
                self.channel_retry = CHANNEL_RETRY_FIRST;
                let _ = self
                    .report(NeuronMessage::ProbeAck {
                        nonce: 0,
                        auth: None,
                    })
                    .await;
            }
            Err(e) => {
                let first = self.channel_retry == CHANNEL_RETRY_FIRST;
                self.next_channel_try = Instant::now() + self.channel_retry;
                self.channel_retry = (self.channel_retry * 2).min(CHANNEL_RETRY_MAX);
                if first {
                    eprintln!(
                        "plexus neuron {}: no push channel ({e}); reporting over HTTP, retrying",
                        self.options.id
                    );
                }
            }
        }
    }

    /// Keep the key and credential for the next process (a failure to write is logged: the
    /// agent runs on, but a restart will need an admin to release its id).
    fn save_keys(&mut self) {
        let Some(path) = &self.options.state else {
            return;
        };
        let saved = state::AgentState {
            token: self.own_token.clone(),
            keys: self.keys.save(),
        };
        if let Err(e) = state::save(path, &saved) {
            eprintln!("plexus neuron {}: {e}", self.options.id);
            self.logs.push(("error".into(), e));
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn heartbeat(&mut self, interval_ms: u64) -> NeuronMessage {
        self.seq += 1;
        let now = self.now();
        let telemetry = match &self.options.serving {
            Some(serving) => serving.telemetry(),
            None => self.workload.advance(now, interval_ms, 1.0, &mut self.rng),
        };
        let heartbeat = Heartbeat {
            seq: self.seq,
            incarnation: self.incarnation,
            config_version: self.config.version.clone(),
            config: self.config.status.clone(),
            telemetry: Some(telemetry),
            auth: None,
        };
        NeuronMessage::Heartbeat(heartbeat)
    }

    /// Enrol, handshake or renew when due; the answer comes back with the same request.
    async fn identity(&mut self, interval_ms: u64) -> bool {
        let now = self.now();
        let Some(message) = self.keys.due(now, interval_ms) else {
            return true;
        };
        match self.report(message).await {
            Ok(commands) => self.obey(commands).await,
            Err(e) => {
                eprintln!("plexus neuron {}: {e}", self.options.id);
                true
            }
        }
    }

    /// Carry out what the orchestrator asked. Returns false when the process is restarting.
    async fn obey(&mut self, commands: Vec<NeuronCommand>) -> bool {
        let mut queue: std::collections::VecDeque<NeuronCommand> = commands.into();
        while let Some(command) = queue.pop_front() {
            match command {
                NeuronCommand::Probe { nonce } => {
                    // The report's MAC covers the answer.
                    let _ = self
                        .report(NeuronMessage::ProbeAck { nonce, auth: None })
                        .await;
                }
                NeuronCommand::ApplyConfig { version } => {
                    self.logs
                        .push(("info".into(), format!("config {version} applied")));
                    self.config.version = version.into();
                    self.config.status = ConfigStatus::Applied;
                }
                NeuronCommand::FlRound(invite) => {
                    let trained = self.options.learner.train(&invite);
                    match trained {
                        Ok(answer) => {
                            let _ = self.report(NeuronMessage::FlUpdate(Box::new(answer))).await;
                        }
                        Err(e) => self.logs.push((
                            "error".into(),
                            format!("FL run {} round {}: {e}", invite.run, invite.round),
                        )),
                    }
                }
                NeuronCommand::ServeModel(push) => {
                    let line = match &self.options.serving {
                        Some(serving) => match serving.install(*push.clone()) {
                            Ok(()) => ("info", format!("serving model {}", push.version)),
                            Err(e) => ("error", e),
                        },
                        None => (
                            "warn",
                            format!("model {} sent, but this agent does not serve", push.version),
                        ),
                    };
                    self.logs.push((line.0.into(), line.1));
                }
                NeuronCommand::Restart => {
                    self.logs.push((
                        "warn".into(),
                        "restart requested by the orchestrator; re-executing".into(),
                    ));
                    let _ = self
                        .report(NeuronMessage::ProbeAck {
                            nonce: 0,
                            auth: None,
                        })
                        .await;
                    return false;
                }
                identity @ (NeuronCommand::Credential { .. }
                | NeuronCommand::Session { .. }
                | NeuronCommand::IdentityRefused { .. }
                | NeuronCommand::Reenroll) => {
                    if let NeuronCommand::IdentityRefused { reason, .. } = &identity {
                        self.logs
                            .push(("error".into(), format!("identity refused: {reason}")));
                    }
                    let now = self.now();
                    let before = self.keys.serial();
                    self.keys.on_command(now, &identity);
                    if self.keys.serial() != before {
                        self.save_keys();
                    }
                }
                rollout => {
                    // Answer a rollout step at once rather than on the next heartbeat: the
                    // answer brings back whatever else is waiting.
                    let mut never = false;
                    if let Some(h) = self.config.handle(&rollout, &mut never) {
                        self.logs.push((h.log.0.into(), h.log.1));
                        if let Some(reply) = h.reply
                            && let Ok(more) = self.report(NeuronMessage::Rollout(reply)).await
                        {
                            queue.extend(more);
                        }
                    }
                }
            }
        }
        true
    }
}

/// Run the agent until it is killed; re-executes itself when asked to restart.
pub async fn run(options: AgentOptions) -> Result<i32, ApiError> {
    let mut rng = Pcg32::seed_from_u64(options.seed);
    let workload = Workload::new(&mut rng);
    // A new process is a new incarnation: the start time orders them across restarts.
    let incarnation = chrono::Utc::now().timestamp_millis() as u64;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ApiError::failed(format!("HTTP client: {e}")))?;
    let id = options.id.clone();
    let mut agent = Agent {
        http,
        options,
        incarnation,
        seq: 0,
        config: ConfigSlot::new("v1".into()),
        workload,
        rng,
        logs: vec![(
            "info".into(),
            format!("started (incarnation {incarnation})"),
        )],
        started: Instant::now(),
        keys: Keyring::agreeing(&id, rand::random()),
        own_token: None,
        channel: None,
        channel_retry: CHANNEL_RETRY_FIRST,
        next_channel_try: Instant::now(),
    };
    if let Some(path) = agent.options.state.clone() {
        match state::load(&path) {
            Ok(Some(saved)) => {
                if let Some(keys) = saved.keys {
                    let now_unix = chrono::Utc::now().timestamp_millis();
                    agent.keys = Keyring::resume(&id, keys, 0, now_unix);
                }
                // An invite is spent once: the token it turned into is the one to use.
                if let Some(token) = saved.token {
                    agent.options.token = token.clone();
                    agent.own_token = Some(token);
                }
            }
            Ok(None) => {}
            Err(e) => return Err(ApiError::bad_input(e)),
        }
    }
    let mut backoff = Duration::from_millis(200);
    let registered = loop {
        match agent.register().await {
            Ok(registered) => break registered,
            Err(e) if e.code == crate::api::ErrorCode::Unreachable => {
                eprintln!(
                    "plexus neuron: {e}; retrying in {:.1} s",
                    backoff.as_secs_f64()
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    };
    eprintln!(
        "plexus neuron {} joined {} (heartbeat {} ms)",
        agent.options.id, agent.options.server, registered.heartbeat_ms
    );
    let mut tick = tokio::time::interval(Duration::from_millis(registered.heartbeat_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let pushed = tokio::select! {
            _ = tick.tick() => None,
            down = next_down(&mut agent.channel) => Some(down),
        };
        match pushed {
            Some(Some(down)) => {
                if let Some(e) = down.error {
                    agent.on_error(e).await?;
                }
                if !agent.obey(down.commands).await {
                    return restart(&agent.options.token);
                }
                continue;
            }
            Some(None) => {
                agent.channel_lost("closed by the server");
                continue;
            }
            None => {}
        }
        if !agent.identity(registered.heartbeat_ms).await {
            return restart(&agent.options.token);
        }
        if !agent.keys.has_session() {
            continue;
        }
        agent.keep_channel().await;
        let heartbeat = agent.heartbeat(registered.heartbeat_ms);
        match agent.report(heartbeat).await {
            Ok(commands) => {
                if !agent.obey(commands).await {
                    return restart(&agent.options.token);
                }
            }
            Err(e) => agent.on_error(e).await?,
        }
    }
}

/// The next frame of the push channel; never ready while there is none.
async fn next_down(channel: &mut Option<Channel>) -> Option<crate::api::channel::ChannelDown> {
    match channel {
        Some(channel) => channel.next().await,
        None => std::future::pending().await,
    }
}

impl Agent {
    /// A report met an error (over HTTP or on the channel).
    async fn on_error(&mut self, e: ApiError) -> Result<(), ApiError> {
        if e.code == crate::api::ErrorCode::NotFound {
            // The server restarted and forgot us: join again (and enrol afresh). The keys
            // stay: the id is bound to them, and the registration proves it.
            self.channel = None;
            self.register().await?;
        } else {
            eprintln!("plexus neuron {}: {e}", self.options.id);
        }
        Ok(())
    }
}

/// Replace this process with a fresh copy of itself (a real restart). The token goes to the new
/// process in its environment, never on its command line (where any user could read it).
fn restart(token: &str) -> Result<i32, ApiError> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(|e| ApiError::failed(format!("restart: {e}")))?;
    let args = without_token(std::env::args().skip(1));
    let err = std::process::Command::new(exe)
        .args(args)
        .env("PLEXUS_TOKEN", token)
        .exec();
    Err(ApiError::failed(format!("restart failed: {err}")))
}

/// The arguments less `--token VALUE` / `--token=VALUE`.
pub fn without_token(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for arg in args {
        if skip_next {
            skip_next = false;
        } else if arg == "--token" {
            skip_next = true;
        } else if !arg.starts_with("--token=") {
            out.push(arg);
        }
    }
    out
}
