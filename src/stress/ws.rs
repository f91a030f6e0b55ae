//! The `subscribe` scenario against a server, for real: a WebSocket to `/api/v1/events`,
//! authenticated with the token, timed until its first frame (the server's `hello`). And a crowd
//! of N subscribers held open through a run, counting how many the server keeps and how late
//! each event reaches them (the event's own time to its receipt: the fan-out lag).

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::api::stream::SESSION_HEADER;
use crate::api::stress::Latency;
use crate::api::{ApiError, ErrorCode, EventEnvelope};

/// How many subscribers of a crowd connect at once.
const CONNECT_AT_ONCE: usize = 32;

/// A server's event stream.
#[derive(Debug, Clone)]
pub struct Events {
    pub url: String,
    pub token: String,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn refused(e: WsError) -> ApiError {
    match e {
        WsError::Http(r) => match r.status().as_u16() {
            401 => ApiError::new(ErrorCode::Unauthenticated, "WebSocket upgrade: HTTP 401"),
            403 | 429 => ApiError::new(
                ErrorCode::Denied,
                format!("WebSocket upgrade: HTTP {}", r.status()),
            ),
            s => ApiError::failed(format!("WebSocket upgrade: HTTP {s}")),
        },
        other => ApiError::unreachable(format!("WebSocket: {other}")),
    }
}

impl Events {
    /// `base` is the server's `http(s)://host:port`.
    pub fn new(base: &str, token: &str) -> Self {
        let base = base.trim_end_matches('/');
        let ws = match base.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => format!("ws://{}", base.trim_start_matches("http://")),
        };
        Events {
            url: format!("{ws}/api/v1/events"),
            token: token.to_string(),
        }
    }

    /// Upgrade with the token (and, when given, an existing session, so a load test does not
    /// open a session per subscriber).
    async fn connect(&self, session: Option<&str>) -> Result<Socket, ApiError> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| ApiError::bad_input(format!("{}: {e}", self.url)))?;
        let headers = request.headers_mut();
        let bearer = format!("Bearer {}", self.token)
            .parse()
            .map_err(|_| ApiError::bad_input("the token is not a valid header value"))?;
        headers.insert("authorization", bearer);
        if let Some(s) = session.and_then(|s| s.parse().ok()) {
            headers.insert(SESSION_HEADER, s);
        }
        // Events are small: a 16 KiB read buffer instead of the default 128 KiB per subscriber
        // keeps a crowd of thousands from costing the generator a gigabyte.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(16 * 1024);
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), false)
                .await
                .map_err(refused)?;
        Ok(socket)
    }

    /// One subscriber: connect, authenticate, wait for the first frame, close.
    pub async fn first_frame(&self, session: Option<&str>) -> Result<(), ApiError> {
        let mut socket = self.connect(session).await?;
        let got = match socket.next().await {
            Some(Ok(Message::Text(_))) => Ok(()),
            Some(Ok(Message::Close(_))) | None => Err(ApiError::failed(
                "the event stream closed before its first frame",
            )),
            Some(Ok(_)) => Err(ApiError::failed(
                "the event stream's first frame is not text",
            )),
            Some(Err(e)) => Err(ApiError::unreachable(format!("WebSocket: {e}"))),
        };
        // Closing is courtesy, not part of the measured request: do not wait for the echo.
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
        });
        got
    }
}

#[derive(Default)]
struct Tally {
    connected: AtomicU64,
    peak: AtomicU64,
    failed: AtomicU64,
    received: AtomicU64,
    /// Events missed by a subscriber (gaps in its sequence numbers).
    lost: AtomicU64,
}

/// Subscribers held open until [`Crowd::finish`]; the count follows [`Crowd::resize`].
pub struct Crowd {
    events: Events,
    session: Option<String>,
    /// One stop flag per subscriber asked for (connected, or failed to connect).
    members: Vec<Arc<AtomicBool>>,
    most_wanted: usize,
    tally: Arc<Tally>,
    lag: Arc<Mutex<Histogram<u64>>>,
    tasks: tokio::task::JoinSet<()>,
    first_error: Arc<Mutex<Option<String>>>,
    phases: Vec<PhaseHold>,
}

/// How many subscribers were connected at the end of a phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseHold {
    pub phase: String,
    pub wanted: usize,
    pub held: u64,
}

/// What a crowd saw (in `summary.json` as `subscribers`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrowdReport {
    /// The most asked for at once.
    pub wanted: usize,
    /// The most that were connected at once.
    pub held: u64,
    pub failed: u64,
    pub events_received: u64,
    pub events_lost: u64,
    /// Event time to receipt, in ms (the server's clock against ours: one machine, or NTP).
    pub fanout_lag_ms: Latency,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseHold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

impl Crowd {
    pub fn new(events: &Events, session: Option<String>) -> Crowd {
        Crowd {
            events: events.clone(),
            session,
            members: Vec::new(),
            most_wanted: 0,
            tally: Arc::new(Tally::default()),
            lag: Arc::new(Mutex::new(
                // Microseconds, up to an hour.
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static histogram bounds"),
            )),
            tasks: tokio::task::JoinSet::new(),
            first_error: Arc::new(Mutex::new(None)),
            phases: Vec::new(),
        }
    }

    /// A crowd of `n`, connected.
    pub async fn hold(events: &Events, session: Option<String>, n: usize) -> Crowd {
        let mut crowd = Crowd::new(events, session);
        crowd.resize(n).await;
        crowd
    }

    /// Grow to `n` (connecting a few at a time; returns once every attempt has finished) or
    /// shrink to `n` (the newest leave).
    pub async fn resize(&mut self, n: usize) {
        self.most_wanted = self.most_wanted.max(n);
        while self.members.len() > n {
            if let Some(stop) = self.members.pop() {
                stop.store(true, Ordering::SeqCst);
            }
        }
        let gate = Arc::new(tokio::sync::Semaphore::new(CONNECT_AT_ONCE));
        while self.members.len() < n {
            let Ok(permit) = gate.clone().acquire_owned().await else {
                break;
            };
            let stop = Arc::new(AtomicBool::new(false));
            self.members.push(stop.clone());
            let (events, session) = (self.events.clone(), self.session.clone());
            let (tally, lag, first_error) = (
                self.tally.clone(),
                self.lag.clone(),
                self.first_error.clone(),
            );
            self.tasks.spawn(async move {
                let socket = events.connect(session.as_deref()).await;
                drop(permit);
                match socket {
                    Ok(socket) => subscriber(socket, stop, tally, lag).await,
                    Err(e) => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        first_error
                            .lock()
                            .expect("error lock")
                            .get_or_insert(e.message);
                    }
                }
            });
        }
        // Every connection attempt has finished once all permits are back.
        let _ = gate.acquire_many(CONNECT_AT_ONCE as u32).await;
    }

    /// Connected right now.
    pub fn connected(&self) -> u64 {
        self.tally.connected.load(Ordering::Relaxed)
    }

    /// Note how many are connected as `phase` ends.
    pub fn phase_ended(&mut self, phase: &str, wanted: usize) {
        self.phases.push(PhaseHold {
            phase: phase.to_string(),
            wanted,
            held: self.connected(),
        });
    }

    pub async fn finish(mut self) -> CrowdReport {
        for stop in &self.members {
            stop.store(true, Ordering::SeqCst);
        }
        while self.tasks.join_next().await.is_some() {}
        let lag = self.lag.lock().expect("lag lock");
        let at = |q: f64| {
            if lag.is_empty() {
                0.0
            } else {
                lag.value_at_quantile(q) as f64 / 1e3
            }
        };
        CrowdReport {
            wanted: self.most_wanted,
            held: self.tally.peak.load(Ordering::Relaxed),
            failed: self.tally.failed.load(Ordering::Relaxed),
            events_received: self.tally.received.load(Ordering::Relaxed),
            events_lost: self.tally.lost.load(Ordering::Relaxed),
            fanout_lag_ms: Latency {
                p50: at(0.5),
                p95: at(0.95),
                p99: at(0.99),
                max: lag.max() as f64 / 1e3,
            },
            phases: std::mem::take(&mut self.phases),
            first_error: self.first_error.lock().expect("error lock").clone(),
        }
    }
}

/// Keep the crowd at each phase's size, phase by phase from now (the run's start; the first
/// phase's crowd is already connected), until the phases end or `stop` is set.
pub async fn follow_phases(
    mut crowd: Crowd,
    phases: Vec<(String, Duration, usize)>,
    stop: Arc<AtomicBool>,
) -> CrowdReport {
    let mut end = tokio::time::Instant::now();
    for (i, (name, duration, wanted)) in phases.iter().enumerate() {
        if i > 0 {
            crowd.resize(*wanted).await;
        }
        end += *duration;
        while tokio::time::Instant::now() < end && !stop.load(Ordering::SeqCst) {
            let left = end - tokio::time::Instant::now();
            tokio::time::sleep(left.min(Duration::from_millis(100))).await;
        }
        crowd.phase_ended(name, *wanted);
        if stop.load(Ordering::SeqCst) {
            break;
        }
    }
    crowd.finish().await
}

async fn subscriber(
    mut socket: Socket,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
    lag: Arc<Mutex<Histogram<u64>>>,
) {
    let now = tally.connected.fetch_add(1, Ordering::Relaxed) + 1;
    tally.peak.fetch_max(now, Ordering::Relaxed);
    let mut last: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        let frame = match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
            Err(_) => continue,
            Ok(Some(Ok(frame))) => frame,
            // Closed or broken: this subscriber is gone.
            Ok(_) => break,
        };
        let Message::Text(text) = frame else { continue };
        let Ok(event) = serde_json::from_str::<EventEnvelope>(&text) else {
            continue;
        };
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&event.at) {
            let us = (chrono::Utc::now() - at.to_utc())
                .num_microseconds()
                .unwrap_or(i64::MAX)
                .max(1) as u64;
            lag.lock().expect("lag lock").saturating_record(us);
        }
        if let Some(last) = last {
            tally
                .lost
                .fetch_add(event.seq.saturating_sub(last + 1), Ordering::Relaxed);
        }
        last = Some(event.seq);
        tally.received.fetch_add(1, Ordering::Relaxed);
    }
    tally.connected.fetch_sub(1, Ordering::Relaxed);
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
}
