//! The remote backend: the same `Backend` over the network. Commands and queries go over HTTP
//! (reqwest); events come over a WebSocket (tokio-tungstenite) that reconnects with back-off and
//! resumes from the last event it saw.

use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

use super::{Backend, BackendInfo};
use crate::api::identity::REPORT_AUTH_HEADER;
use crate::api::stream::{Control, SESSION_HEADER};
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::wire::{Commands, NeuronCommand, Registered, Registration, SealedReport};
use crate::api::{
    ApiError, Command, CommandReply, ErrorCode, EventEnvelope, Query, QueryReply, SessionInfo,
};

/// Events buffered for local subscribers.
const LOCAL_CHANNEL: usize = 8192;
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

struct Shared {
    http: reqwest::Client,
    base: String,
    token: String,
    session: Mutex<SessionInfo>,
    connected: AtomicBool,
    events: broadcast::Sender<EventEnvelope>,
    federation: Mutex<(String, String)>,
}

pub struct Remote {
    shared: Arc<Shared>,
    stream: tokio::task::JoinHandle<()>,
}

fn unreachable(base: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::unreachable(format!("orchestrator at {base} is unreachable: {e}"))
}

impl Shared {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn open_session(&self) -> Result<SessionInfo, ApiError> {
        let response = self
            .http
            .post(self.url("/api/v1/sessions"))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| unreachable(&self.base, e))?;
        let fresh: SessionInfo = decode(response).await?;
        *self.session.lock().expect("session lock") = fresh.clone();
        Ok(fresh)
    }

    /// Send with the current session; when the server no longer knows it (it restarted),
    /// open a new one and send once more.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let retry = request.try_clone();
        match self.send_once(request).await {
            Err(e) if e.code == ErrorCode::Unauthenticated && e.message.contains("session") => {
                let Some(retry) = retry else { return Err(e) };
                self.open_session().await?;
                self.send_once(retry).await
            }
            other => other,
        }
    }

    async fn send_once<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let session = self.session.lock().expect("session lock").id.clone();
        let response = request
            .bearer_auth(&self.token)
            .header(SESSION_HEADER, session)
            .send()
            .await
            .map_err(|e| {
                self.connected.store(false, Ordering::Relaxed);
                unreachable(&self.base, e)
            })?;
        self.connected.store(true, Ordering::Relaxed);
        decode(response).await
    }
}

async fn decode<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, ApiError> {
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::unreachable(format!("reading the answer: {e}")))?;
    if status.is_success() {
        return serde_json::from_str(&text).map_err(|e| {
            ApiError::failed(format!("the server answered something unexpected: {e}"))
        });
    }
    Err(serde_json::from_str::<ApiError>(&text).unwrap_or_else(|_| {
        let code = match status.as_u16() {
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Denied,
            400 => ErrorCode::BadInput,
            404 => ErrorCode::NotFound,
            _ => ErrorCode::Failed,
        };
        ApiError::new(code, format!("HTTP {status}: {}", text.trim()))
    }))
}

impl Remote {
    /// Reach the server at `url` with `token`: open a session, learn the federation's name, and
    /// start following its events.
    pub async fn connect(url: &str, token: &str) -> Result<Remote, ApiError> {
        let base = url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ApiError::bad_input(format!(
                "--connect {url}: use an http:// or https:// URL"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ApiError::failed(format!("HTTP client: {e}")))?;
        let response = http
            .post(format!("{base}/api/v1/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| unreachable(&base, e))?;
        let session: SessionInfo = decode(response).await?;
        let (events, _) = broadcast::channel(LOCAL_CHANNEL);
        let shared = Arc::new(Shared {
            http,
            base,
            token: token.to_string(),
            session: Mutex::new(session),
            connected: AtomicBool::new(true),
            events,
            federation: Mutex::new((String::new(), String::new())),
        });
        if let Ok(status) = shared
            .send::<crate::api::StatusReport>(shared.http.get(shared.url("/api/v1/status")))
            .await
        {
            *shared.federation.lock().expect("federation lock") =
                (status.federation, status.environment);
        }
        let stream = tokio::spawn(follow_events(shared.clone()));
        Ok(Remote { shared, stream })
    }

    /// Whether the last exchange with the server worked.
    pub fn connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        self.stream.abort();
    }
}

/// Follow the event stream for as long as the backend lives: reconnect with exponential back-off
/// and resume from the last sequence number of this server epoch.
async fn follow_events(shared: Arc<Shared>) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    // From the start of what the server keeps, as the embedded `watch` does.
    let mut last_seq: u64 = 0;
    let mut epoch: Option<String> = None;
    let mut backoff = BACKOFF_START;
    loop {
        let mut url = shared.url("/api/v1/events").replacen("http", "ws", 1);
        url = match &epoch {
            Some(e) => format!("{url}?since={last_seq}&epoch={e}"),
            None => format!("{url}?since={last_seq}"),
        };
        let session = shared.session.lock().expect("session lock").id.clone();
        let request = url.into_client_request().ok().map(|mut request| {
            let headers = request.headers_mut();
            if let Ok(v) = format!("Bearer {}", shared.token).parse() {
                headers.insert("authorization", v);
            }
            if let Ok(v) = session.parse() {
                headers.insert(SESSION_HEADER, v);
            }
            request
        });
        let connection = match request {
            Some(request) => match tokio_tungstenite::connect_async(request).await {
                Ok(connection) => Some(connection),
                Err(tokio_tungstenite::tungstenite::Error::Http(response))
                    if response.status().as_u16() == 401 =>
                {
                    // A restarted server does not know our session: open a new one.
                    let _ = shared.open_session().await;
                    None
                }
                Err(_) => None,
            },
            None => None,
        };
        if let Some((mut socket, _)) = connection {
            shared.connected.store(true, Ordering::Relaxed);
            backoff = BACKOFF_START;
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    if let Message::Ping(data) = message {
                        let _ = socket.send(Message::Pong(data)).await;
                    }
                    continue;
                };
                if let Ok(event) = serde_json::from_str::<EventEnvelope>(&text) {
                    last_seq = event.seq;
                    let _ = shared.events.send(event);
                } else if let Ok(control) = serde_json::from_str::<Control>(&text)
                    && epoch.as_deref() != Some(control.epoch.as_str())
                {
                    // A new server run: its sequence numbers start over.
                    epoch = Some(control.epoch);
                    last_seq = 0;
                }
            }
        }
        shared.connected.store(false, Ordering::Relaxed);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

#[async_trait]
impl Backend for Remote {
    fn info(&self) -> BackendInfo {
        let session = self.shared.session.lock().expect("session lock").clone();
        let (federation, environment) = self
            .shared
            .federation
            .lock()
            .expect("federation lock")
            .clone();
        let state = if self.connected() {
            "connected"
        } else {
            "reconnecting"
        };
        BackendInfo {
            mode: format!("remote {} ({state})", self.shared.base),
            federation,
            environment,
            user: session.user,
            role: session.role.as_str().into(),
        }
    }

    async fn submit(&self, command: Command) -> Result<CommandReply, ApiError> {
        let request = self
            .shared
            .http
            .post(self.shared.url("/api/v1/command"))
            .json(&command);
        self.shared.send(request).await
    }

    async fn query(&self, query: Query) -> Result<QueryReply, ApiError> {
        let request = self
            .shared
            .http
            .post(self.shared.url("/api/v1/query"))
            .json(&query);
        self.shared.send(request).await
    }

    fn subscribe(&self) -> broadcast::Receiver<EventEnvelope> {
        self.shared.events.subscribe()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await
    }

    fn session(&self) -> Option<SessionInfo> {
        Some(self.shared.session.lock().expect("session lock").clone())
    }

    async fn renew_session(&self) -> Result<SessionInfo, ApiError> {
        self.shared.open_session().await
    }

    async fn register_agent(&self, registration: Registration) -> Result<(), ApiError> {
        let s = &self.shared;
        let request = s
            .http
            .post(s.url("/api/v1/agents/register"))
            .json(&registration);
        s.send::<Registered>(request).await.map(|_| ())
    }

    async fn agent_message(
        &self,
        id: &str,
        report: SealedReport,
    ) -> Result<Vec<NeuronCommand>, ApiError> {
        let s = &self.shared;
        let mut request = s
            .http
            .post(s.url(&format!("/api/v1/agents/{id}/messages")))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(report.body);
        if let Some(auth) = report.auth {
            request = request.header(REPORT_AUTH_HEADER, auth.header());
        }
        s.send::<Commands>(request).await.map(|c| c.commands)
    }

    async fn stress_start(&self, request: StressRequest) -> Result<StressStarted, ApiError> {
        let s = &self.shared;
        let request = s
            .http
            .post(s.url("/api/federation/stress-test/start"))
            .json(&request);
        s.send(request).await
    }

    async fn stress_status(&self, id: &str) -> Result<Progress, ApiError> {
        let s = &self.shared;
        let request = s
            .http
            .get(s.url(&format!("/api/federation/stress-test/status/{id}")));
        s.send(request).await
    }

    async fn stress_stop(&self, id: &str) -> Result<CommandReply, ApiError> {
        let s = &self.shared;
        let request = s
            .http
            .post(s.url(&format!("/api/federation/stress-test/stop/{id}")));
        s.send(request).await
    }
}
