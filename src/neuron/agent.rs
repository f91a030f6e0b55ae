//! A real neuron (`plexus neuron --join URL --id ID`) runs as two processes: this supervisor,
//! which holds the agent's identity and talks to the orchestrator, and a worker (`worker.rs`)
//! that does the work — its workload or the predictions it serves, the FL rounds it trains. The
//! supervisor registers, heartbeats with the telemetry the worker reports, answers probes only
//! when the worker answers it, applies configs, ships log lines, and restarts the worker for real
//! when the orchestrator asks; a dead or hung worker makes it fall silent, as a dead neuron
//! would. Once it has an identity session it keeps a push channel (one WebSocket) open, so
//! commands reach it the moment they exist; while the channel is down it reports over HTTP and
//! picks up its commands in the answers, and reconnects with back-off.

use std::time::{Duration, Instant};

use super::channel::Channel;
use super::identity::Keyring;
use super::staging::ConfigSlot;
use super::state;
use super::supervise::{FaultMemory, WorkerHandle};
use super::worker::{FromWorker, ToWorker};
use crate::api::ApiError;
use crate::api::Fault;
use crate::api::fl_agent::ModelPush;
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
    /// Where the agent keeps its key and credential between processes (0600): its id is
    /// bound to that key, and a restarted agent proves it holds it.
    pub state: Option<std::path::PathBuf>,
    /// Keep a push channel open (`--no-push` turns it off: commands then ride on the answers).
    pub push: bool,
    /// How a worker is started: this program, resolved once at start (a binary replaced on disk
    /// later — an upgrade — is what the next worker runs; `/proc/self/exe` would then name a
    /// deleted file), with the agent's own arguments, less its token, plus `--worker`.
    pub worker_exe: std::path::PathBuf,
    pub worker_args: Vec<String>,
}

/// How long the worker has to answer a heartbeat's or a probe's question.
const WORKER_QUICK: Duration = Duration::from_millis(250);
/// How long it has to train an FL round.
const WORKER_TRAIN: Duration = Duration::from_secs(30);

/// Back-off between push channel attempts.
const CHANNEL_RETRY_FIRST: Duration = Duration::from_millis(200);
const CHANNEL_RETRY_MAX: Duration = Duration::from_secs(5);

struct Agent {
    http: reqwest::Client,
    options: AgentOptions,
    seq: u64,
    config: ConfigSlot,
    worker: WorkerHandle,
    faults: FaultMemory,
    /// The model being served, for a worker that starts after it arrived.
    model: Option<ModelPush>,
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
            serve: self.worker.serving.clone(),
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
        self.back_off_channel();
    }

    /// Wait before the next channel attempt, twice as long each time (up to the maximum).
    fn back_off_channel(&mut self) {
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
                self.back_off_channel();
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
            self.say_error(e);
        }
    }

    /// An error said on stderr and in the log the next report carries to the orchestrator.
    fn say_error(&mut self, e: String) {
        eprintln!("plexus neuron {}: {e}", self.options.id);
        self.logs.push(("error".into(), e));
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// A heartbeat with the telemetry the worker reports; `None` while the worker is dead or
    /// hung (a silent neuron sends nothing).
    async fn heartbeat(&mut self, interval_ms: u64) -> Option<NeuronMessage> {
        let answer = self
            .worker
            .ask(ToWorker::Tick { interval_ms }, WORKER_QUICK)
            .await;
        self.logs.append(&mut self.worker.logs);
        let Some(FromWorker::Telemetry { telemetry }) = answer else {
            return None;
        };
        self.seq += 1;
        // A byzantine neuron replays an earlier life: a stale incarnation no honest one sends.
        let incarnation = self.worker.incarnation - u64::from(self.faults.byzantine);
        Some(NeuronMessage::Heartbeat(Heartbeat {
            seq: self.seq,
            incarnation,
            config_version: self.config.version.clone(),
            config: self.config.status.clone(),
            telemetry,
            auth: None,
        }))
    }

    /// Whether the worker answers now (a dead or stopped one does not).
    async fn worker_answers(&mut self) -> bool {
        self.worker
            .ask(ToWorker::Ping, WORKER_QUICK)
            .await
            .is_some()
    }

    /// The orchestrator said restart: a fresh worker (carrying the faults a restart does not
    /// cure), a new incarnation, the model being served.
    async fn restart_worker(&mut self) {
        self.worker.kill().await;
        let carried = self.faults.restarted();
        match WorkerHandle::spawn(
            &self.options.worker_exe,
            &self.options.worker_args,
            &carried,
        )
        .await
        {
            Ok(worker) => self.worker = worker,
            // On stderr too: without a worker no report carries the log line.
            Err(e) => self.say_error(e),
        }
        self.seq = 0;
        // A fresh process runs the config it last applied: a failed apply is not carried over.
        if matches!(self.config.status, ConfigStatus::Failed { .. }) {
            self.config.status = ConfigStatus::Applied;
        }
        let line = if self.worker.alive() {
            (
                "info",
                format!("worker restarted (incarnation {})", self.worker.incarnation),
            )
        } else {
            ("error", "worker crashed during start-up".to_string())
        };
        self.logs.push((line.0.into(), line.1));
        if let Some(model) = self.model.clone() {
            self.serve(model).await;
        }
    }

    async fn serve(&mut self, model: ModelPush) {
        let version = model.version.clone();
        let answer = self
            .worker
            .ask(
                ToWorker::Serve {
                    model: Box::new(model),
                },
                Duration::from_secs(5),
            )
            .await;
        let line = match answer {
            Some(FromWorker::Done { error: None }) => ("info", format!("serving model {version}")),
            Some(FromWorker::Done { error: Some(e) }) => ("warn", e),
            _ => (
                "error",
                format!("model {version}: the worker did not take it"),
            ),
        };
        self.logs.push((line.0.into(), line.1));
    }

    /// A chaos fault, acted out for real: by the worker (crash, slow, analytics, byzantine
    /// updates), by stopping it (hang), or here (stale heartbeats, a failing config, identity).
    async fn suffer(&mut self, fault: Fault) {
        self.faults.remember(&fault);
        self.logs
            .push(("warn".into(), format!("fault injected: {fault}")));
        match fault {
            Fault::Hang => self.worker.stop(),
            Fault::Identity { mode } => self.keys.inject(mode),
            Fault::ConfigFailure => {}
            other => {
                let _ = self
                    .worker
                    .ask(ToWorker::Fault { fault: other }, Duration::from_secs(1))
                    .await;
                if !self.worker.alive() {
                    self.logs
                        .push(("error".into(), "worker crashed (SIGABRT)".into()));
                }
            }
        }
        self.logs.append(&mut self.worker.logs);
    }

    async fn recover_from_faults(&mut self) {
        self.faults.clear();
        self.keys.clear_fault();
        self.worker.resume();
        let _ = self
            .worker
            .ask(ToWorker::Clear, Duration::from_secs(1))
            .await;
        self.logs.push(("info".into(), "faults cleared".into()));
    }

    /// Enrol, handshake or renew when due; the answer comes back with the same request.
    async fn identity(&mut self, interval_ms: u64) {
        let now = self.now();
        let Some(message) = self.keys.due(now, interval_ms) else {
            return;
        };
        match self.report(message).await {
            Ok(commands) => self.obey(commands).await,
            Err(e) => eprintln!("plexus neuron {}: {e}", self.options.id),
        }
    }

    /// Carry out what the orchestrator asked.
    async fn obey(&mut self, commands: Vec<NeuronCommand>) {
        let mut queue: std::collections::VecDeque<NeuronCommand> = commands.into();
        while let Some(command) = queue.pop_front() {
            match command {
                NeuronCommand::Probe { nonce } => {
                    // Only a worker that answers makes the neuron answer; the MAC covers it.
                    if self.worker_answers().await {
                        let _ = self
                            .report(NeuronMessage::ProbeAck { nonce, auth: None })
                            .await;
                    }
                }
                NeuronCommand::Restart => {
                    self.logs.push((
                        "warn".into(),
                        "restart requested by the orchestrator (supervisor restarting the worker)"
                            .into(),
                    ));
                    self.restart_worker().await;
                }
                NeuronCommand::Fault { fault } => self.suffer(fault).await,
                NeuronCommand::ClearFaults => self.recover_from_faults().await,
                // A dead or hung worker does nothing more: the orchestrator's timeout decides.
                _ if !command.is_identity() && !self.worker_answers().await => {}
                NeuronCommand::ApplyConfig { version } => {
                    let (level, line) = self
                        .config
                        .apply(version, &mut self.faults.fail_next_config);
                    self.logs.push((level.into(), line));
                }
                NeuronCommand::FlRound(invite) => {
                    let (run, round) = (invite.run.clone(), invite.round);
                    match self
                        .worker
                        .ask(ToWorker::Train { invite }, WORKER_TRAIN)
                        .await
                    {
                        Some(FromWorker::Trained {
                            answer: Some(answer),
                            ..
                        }) => {
                            let _ = self.report(NeuronMessage::FlUpdate(Box::new(answer))).await;
                        }
                        Some(FromWorker::Trained { error: Some(e), .. }) => self
                            .logs
                            .push(("error".into(), format!("FL run {run} round {round}: {e}"))),
                        _ => {}
                    }
                }
                NeuronCommand::ServeModel(push) => {
                    self.model = Some((*push).clone());
                    self.serve(*push).await;
                }
                identity if identity.is_identity() => {
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
                    if let Some(h) = self
                        .config
                        .handle(&rollout, &mut self.faults.fail_next_config)
                    {
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
    }
}

/// Run the agent until it is killed: start its worker, join, and supervise.
pub async fn run(mut options: AgentOptions) -> Result<i32, ApiError> {
    let worker = WorkerHandle::spawn(&options.worker_exe, &options.worker_args, &[])
        .await
        .map_err(ApiError::failed)?;
    if !worker.is_running() {
        return Err(ApiError::bad_input(
            "the agent's worker did not start (its error is above)",
        ));
    }
    // A worker restarted later serves where the first one does (port 0 is picked once).
    if let Some(addr) = &worker.serving {
        eprintln!(
            "plexus neuron {}: serving predictions on http://{addr}",
            options.id
        );
        options.worker_args = pin_serve(&options.worker_args, addr);
    }
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| ApiError::failed(format!("HTTP client: {e}")))?;
    let id = options.id.clone();
    let incarnation = worker.incarnation;
    let mut agent = Agent {
        http,
        options,
        seq: 0,
        config: ConfigSlot::new("v1".into()),
        worker,
        faults: FaultMemory::default(),
        model: None,
        logs: vec![(
            "info".into(),
            format!("started (worker incarnation {incarnation})"),
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
                agent.obey(down.commands).await;
                continue;
            }
            Some(None) => {
                agent.channel_lost("closed by the server");
                continue;
            }
            None => {}
        }
        agent.identity(registered.heartbeat_ms).await;
        if !agent.keys.has_session() {
            continue;
        }
        agent.keep_channel().await;
        let Some(heartbeat) = agent.heartbeat(registered.heartbeat_ms).await else {
            continue;
        };
        match agent.report(heartbeat).await {
            Ok(commands) => agent.obey(commands).await,
            Err(e) => agent.on_error(e).await?,
        }
    }
}

/// `--serve HOST:0` becomes the address the first worker bound.
fn pin_serve(args: &[String], bound: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut replace_next = false;
    for arg in args {
        if replace_next {
            out.push(bound.to_string());
            replace_next = false;
        } else if arg == "--serve" {
            out.push(arg.clone());
            replace_next = true;
        } else if arg.starts_with("--serve=") {
            out.push(format!("--serve={bound}"));
        } else {
            out.push(arg.clone());
        }
    }
    out
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
