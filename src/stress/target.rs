//! What a request does to the system under test. One target drives a `dyn Backend` (the embedded
//! engine, or a server through `Remote`); against a server the `status` scenario goes straight to
//! `GET /api/federation/status` with reqwest, the endpoint an outside tool (wrk, oha) would hit.

/// The config a config-push scenario broadcasts (as a dry run).
const STRESS_CONFIG: &str = "model = \"resnet-50\"\nmodel_version = \"stress\"\nbatch_size = 32\nlearning_rate = 0.01\nheartbeat_interval_ms = 1000\nmax_concurrency = 16\n";

use async_trait::async_trait;
use std::sync::Arc;

use super::profile::Scenario;
use crate::api::wire::{
    ConfigStatus, Heartbeat, NeuronMessage, Registration, Report, SealedReport, Telemetry,
};
use crate::api::{ApiError, Command, ErrorCode, Query};
use crate::client::Backend;
use crate::neuron::identity::Keyring;

/// Every mock neuron's id starts with this; cleanup removes exactly these.
pub use crate::api::neuron::MOCK_NEURON_PREFIX as MOCK_PREFIX;

/// The `i`-th mock neuron of the pool registered before a run.
pub fn pool_id(i: u64) -> String {
    format!("{MOCK_PREFIX}n{i}")
}

pub fn registration(id: String) -> Registration {
    Registration {
        serve: None,
        proof: None,
        id,
        zone: "stress".into(),
        labels: vec![("role".into(), "mock".into())],
        config_version: "v-stress".into(),
    }
}

#[async_trait]
pub trait Target: Send + Sync {
    async fn call(&self, scenario: Scenario, seq: u64) -> Result<(), ApiError>;
}

/// A server's status endpoint, reached without the `Remote` backend's session machinery.
pub struct HttpStatus {
    pub client: reqwest::Client,
    /// Parsed once: a flat-out run sends tens of thousands a second.
    url: reqwest::Url,
    /// `Bearer <token>`, built once and marked sensitive (never in a debug print).
    authorization: reqwest::header::HeaderValue,
    /// Plain HTTP goes through the lean keep-alive pool; TLS through `client`.
    lean: Option<super::http1::GetPool>,
    /// The server's event stream (the `subscribe` scenario).
    pub events: super::ws::Events,
}

impl HttpStatus {
    /// `Err` names what is wrong with the server URL or the token.
    pub fn new(base: &str, token: &str) -> Result<Self, String> {
        let url = format!("{}/api/federation/status", base.trim_end_matches('/'));
        let mut authorization = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "the token holds characters a header cannot carry".to_string())?;
        authorization.set_sensitive(true);
        let url = reqwest::Url::parse(&url).map_err(|e| format!("{url}: {e}"))?;
        Ok(HttpStatus {
            client: reqwest::Client::new(),
            lean: super::http1::GetPool::new(&url, authorization.clone()),
            url,
            authorization,
            events: super::ws::Events::new(base, token),
        })
    }

    /// `GET /api/federation/status`, its answer read whole: a refusal is `Unauthenticated` or
    /// `Denied`, anything else not 2xx an error.
    pub async fn get(&self) -> Result<(), ApiError> {
        let status = match &self.lean {
            Some(pool) => pool.get().await.map_err(ApiError::unreachable)?,
            None => self.get_tls().await?,
        };
        match status {
            200..=299 => Ok(()),
            401 => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                format!("HTTP {status}"),
            )),
            403 | 429 => Err(ApiError::new(ErrorCode::Denied, format!("HTTP {status}"))),
            _ => Err(ApiError::failed(format!("HTTP {status}"))),
        }
    }

    /// Connections open and idle in the lean pool (0 over TLS).
    pub fn idle_connections(&self) -> usize {
        self.lean.as_ref().map_or(0, super::http1::GetPool::idle)
    }

    async fn get_tls(&self) -> Result<u16, ApiError> {
        let r = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .send()
            .await
            .map_err(|e| ApiError::unreachable(e.to_string()))?;
        let status = r.status();
        // Read the whole body: a request is done when its answer has arrived.
        let _ = r
            .bytes()
            .await
            .map_err(|e| ApiError::unreachable(e.to_string()))?;
        Ok(status.as_u16())
    }
}

pub struct BackendTarget {
    pub backend: Arc<dyn Backend>,
    /// Mock neurons registered before the run (heartbeats and telemetry address them).
    pub pool: u64,
    /// Their identities, by pool index: heartbeats are MAC'd like a real neuron's.
    pub keys: Vec<Keyring>,
    pub http: Option<HttpStatus>,
    /// The serving agents the `predict` scenario loads (found before the run).
    pub predict: Option<super::predict::PredictPool>,
}

fn heartbeat(id: &str, seq: u64, keys: Option<&Keyring>) -> SealedReport {
    let hb = Heartbeat {
        seq,
        incarnation: 1,
        config_version: "v-stress".into(),
        config: ConfigStatus::Applied,
        telemetry: Some(Telemetry {
            requests_total: seq,
            rps: 1.0,
            latency_p50_ms: 1.0,
            latency_p95_ms: 2.0,
            error_rate: 0.0,
            load: 0.1,
        }),
        auth: None,
    };
    let body = SealedReport::body_of(&Report {
        message: NeuronMessage::Heartbeat(hb),
        logs: Vec::new(),
    });
    let auth = keys.and_then(|k| k.seal_report(id, &body));
    SealedReport { body, auth }
}

impl BackendTarget {
    fn member(&self, seq: u64) -> Option<String> {
        (self.pool > 0).then(|| pool_id(seq % self.pool))
    }
}

#[async_trait]
impl Target for BackendTarget {
    async fn call(&self, scenario: Scenario, seq: u64) -> Result<(), ApiError> {
        let b = &self.backend;
        match scenario {
            Scenario::Register => {
                let id = format!("{MOCK_PREFIX}r{seq}");
                b.register_agent(registration(id)).await
            }
            Scenario::Heartbeat => match self.member(seq) {
                // Sequence numbers grow per neuron, as a real agent's do.
                Some(id) => b
                    .agent_message(
                        &id,
                        heartbeat(
                            &id,
                            seq / self.pool.max(1) + 1,
                            self.keys.get((seq % self.pool) as usize),
                        ),
                    )
                    .await
                    .map(|_| ()),
                None => Err(ApiError::bad_input(
                    "heartbeat needs mock neurons (--neurons)",
                )),
            },
            Scenario::ConfigPush => {
                // A dry-run broadcast: parsed, validated, planned, admitted, rate-limited and
                // audited like any push, but nothing is staged — real rollouts run one at a time
                // (a concurrent push is a conflict by design), which a load test must not fake.
                let config =
                    crate::api::rollout_doc::parse_config("stress-config.toml", STRESS_CONFIG)
                        .map_err(|e| ApiError::bad_input(e.to_string()))?;
                let selector = self
                    .member(seq)
                    .map(|id| format!("id={id}"))
                    .unwrap_or_default();
                b.submit(Command::BroadcastConfig {
                    config: Box::new(config),
                    selector,
                    expected_version: None,
                    dry_run: true,
                    plan: Default::default(),
                })
                .await
                .map(|_| ())
            }
            Scenario::Status => match &self.http {
                Some(http) => http.get().await,
                None => b.query(Query::Status).await.map(|_| ()),
            },
            Scenario::Telemetry => {
                let q = match self.member(seq) {
                    Some(id) => Query::Neuron { id },
                    None => Query::Neurons,
                };
                b.query(q).await.map(|_| ())
            }
            Scenario::Subscribe if self.http.is_some() => {
                let http = self.http.as_ref().expect("checked by the guard");
                let session = b.session().map(|s| s.id);
                http.events.first_frame(session.as_deref()).await
            }
            Scenario::Subscribe => {
                // In-process: a new subscriber: a live receiver, then the resync every joining face does.
                let _live = b.subscribe();
                b.query(Query::RecentEvents { limit: 100 })
                    .await
                    .map(|_| ())
            }
            Scenario::Predict => match &self.predict {
                Some(pool) => pool.call(seq).await,
                None => Err(ApiError::bad_input("predict: no serving agents were found")),
            },
            Scenario::FlRound => {
                let neuron = self
                    .member(seq)
                    .unwrap_or_else(|| format!("{MOCK_PREFIX}fl{seq}"));
                super::fl_round::call(b.as_ref(), neuron, seq).await
            }
        }
    }
}

/// A registered mock neuron enrols once, so that its heartbeats verify.
async fn enroll(b: &Arc<dyn Backend>, id: &str) -> Result<Keyring, ApiError> {
    // A mock neuron is an agent: it agrees its session key like a real one, from a random
    // secret (one derived from its index would let anyone compute its key).
    let mut keys = Keyring::agreeing(id, rand::random());
    if let Some(message) = keys.due(0, 1000) {
        let logs = Vec::new();
        let body = SealedReport::body_of(&Report { message, logs });
        let report = SealedReport { body, auth: None };
        for command in b.agent_message(id, report).await? {
            keys.on_command(0, &command);
        }
    }
    if !keys.has_session() {
        return Err(ApiError::failed(format!(
            "mock neuron {id} was not issued a credential"
        )));
    }
    Ok(keys)
}

/// Register and enrol the pool of mock neurons, `concurrency` at a time; returns how long it
/// took and their identities by pool index.
pub async fn register_pool(
    backend: &Arc<dyn Backend>,
    count: u64,
    concurrency: usize,
) -> Result<(std::time::Duration, Vec<Keyring>), ApiError> {
    let started = tokio::time::Instant::now();
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..count {
        let (b, slots) = (backend.clone(), slots.clone());
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let id = pool_id(i);
            b.register_agent(registration(id.clone())).await?;
            enroll(&b, &id).await.map(|keys| (i, keys))
        });
    }
    let mut keys: Vec<Option<Keyring>> = (0..count).map(|_| None).collect();
    while let Some(done) = tasks.join_next().await {
        let (i, k) = done.map_err(|e| ApiError::failed(format!("registration task: {e}")))??;
        keys[i as usize] = Some(k);
    }
    Ok((started.elapsed(), keys.into_iter().flatten().collect()))
}
