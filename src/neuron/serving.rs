//! A serving agent (`plexus neuron --join … --serve HOST:PORT`): it answers predictions with the
//! federation's current global model, which the orchestrator pushes to it after every FL round
//! (`serve_model`). The model is swapped atomically: a request in flight finishes on the model it
//! started with, the next one uses the new one, and none fails in between. Its heartbeat telemetry
//! comes from the requests it really served (see [`Serving::telemetry`]).
//!
//! `POST /v1/predict` with `{"features": [..]}` answers `{"model", "class", "probabilities"}`;
//! with `{"batch": [[..], ..]}` (at most [`MAX_BATCH`] rows) `{"model", "predictions": [..]}`.
//! `GET /v1/model` answers the version, run, round and data set served. Features are raw (as in
//! the shipped CSV); the agent standardises them as the run did.

use arc_swap::ArcSwapOption;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::api::fl::DatasetName;
use crate::api::fl_agent::ModelPush;
use crate::api::wire::Telemetry;
use crate::api::{ApiError, ErrorCode};
use crate::engine::fl::data::{self, Scale};
use crate::engine::fl::model::LogReg;

/// Rows one batch may carry.
pub const MAX_BATCH: usize = 1024;
/// Largest prediction request body.
const BODY_LIMIT: usize = 1024 * 1024;

/// The model being served and how to read raw features for it.
struct Served {
    push: ModelPush,
    model: LogReg,
    scale: Arc<Scale>,
}

/// What the requests of one heartbeat interval did.
struct Window {
    started: Instant,
    latency_us: Histogram<u64>,
    errors: u64,
    busy: Duration,
}

impl Window {
    fn new() -> Window {
        Window {
            started: Instant::now(),
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            errors: 0,
            busy: Duration::ZERO,
        }
    }
}

pub struct Serving {
    served: ArcSwapOption<Served>,
    window: Mutex<Window>,
    requests_total: AtomicU64,
    /// Added to every prediction (the chaos `slow` fault acts here).
    pub extra_latency_ms: AtomicU64,
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PredictRequest {
    #[serde(default)]
    features: Option<Vec<f32>>,
    #[serde(default)]
    batch: Option<Vec<Vec<f32>>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Prediction {
    pub class: usize,
    pub probabilities: Vec<f32>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ModelInfo {
    pub version: String,
    pub run: String,
    pub round: u32,
    pub dataset: DatasetName,
}

fn error(status: StatusCode, code: ErrorCode, message: String) -> Response {
    (status, Json(ApiError::new(code, message))).into_response()
}

impl Serving {
    /// Listen on `addr` and serve (no model until the orchestrator sends one: 503 meanwhile).
    pub async fn start(addr: std::net::SocketAddr) -> Result<Arc<Serving>, String> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("--serve {addr}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("--serve: {e}"))?;
        let serving = Arc::new(Serving {
            served: ArcSwapOption::empty(),
            window: Mutex::new(Window::new()),
            requests_total: AtomicU64::new(0),
            extra_latency_ms: AtomicU64::new(0),
            addr,
        });
        let app = axum::Router::new()
            .route("/v1/predict", axum::routing::post(predict))
            .route("/v1/model", axum::routing::get(model))
            .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(serving.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(serving)
    }

    /// Serve `push` from the next request on. Refused (and the old model kept) when it does not
    /// fit its data set.
    pub fn install(&self, push: ModelPush) -> Result<(), String> {
        let (model, scale) = match self.served.load().as_ref() {
            // The same run's data set and split: its shape and statistics are already known.
            Some(s) if s.push.dataset == push.dataset && s.push.seed == push.seed => {
                (s.model, s.scale.clone())
            }
            _ => {
                let bundled = data::load(push.dataset);
                let scale = Arc::new(data::standardiser(&bundled, push.seed));
                (LogReg::for_data(&bundled), scale)
            }
        };
        if push.weights.len() != model.params() || push.weights.iter().any(|w| !w.is_finite()) {
            return Err(format!(
                "model {}: {} weights (finite), {} takes {}",
                push.version,
                push.weights.len(),
                push.dataset,
                model.params()
            ));
        }
        self.served
            .store(Some(Arc::new(Served { push, model, scale })));
        Ok(())
    }

    fn record(&self, took: Duration, failed: bool) {
        self.requests_total.fetch_add(1, Ordering::Relaxed);
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = w.latency_us.record((took.as_micros() as u64).max(1));
        w.busy += took;
        if failed {
            w.errors += 1;
        }
    }

    /// What the requests since the last call did (and start a new window).
    pub fn telemetry(&self) -> Telemetry {
        let w = std::mem::replace(
            &mut *self.window.lock().unwrap_or_else(PoisonError::into_inner),
            Window::new(),
        );
        let elapsed = w.started.elapsed().as_secs_f64().max(1e-3);
        let count = w.latency_us.len();
        let ms = |q: f64| {
            if count == 0 {
                0.0
            } else {
                w.latency_us.value_at_quantile(q) as f64 / 1000.0
            }
        };
        Telemetry {
            requests_total: self.requests_total.load(Ordering::Relaxed),
            rps: count as f64 / elapsed,
            latency_p50_ms: ms(0.5),
            latency_p95_ms: ms(0.95),
            error_rate: if count == 0 {
                0.0
            } else {
                (w.errors as f64 / count as f64).min(1.0)
            },
            load: (w.busy.as_secs_f64() / elapsed).max(0.0),
        }
    }
}

fn classify(served: &Served, raw: &[f32]) -> Result<Prediction, String> {
    if raw.len() != served.model.dim {
        return Err(format!(
            "{} features; the {} model takes {}",
            raw.len(),
            served.push.dataset,
            served.model.dim
        ));
    }
    if raw.iter().any(|v| !v.is_finite()) {
        return Err("a feature is not a finite number".into());
    }
    let mut x = raw.to_vec();
    served.scale.row(&mut x);
    let probabilities = served.model.probabilities(&served.push.weights, &x);
    let class = probabilities
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(c, _)| c);
    Ok(Prediction {
        class,
        probabilities,
    })
}

async fn predict(State(serving): State<Arc<Serving>>, body: axum::body::Bytes) -> Response {
    let started = Instant::now();
    let extra = serving.extra_latency_ms.load(Ordering::Relaxed);
    if extra > 0 {
        tokio::time::sleep(Duration::from_millis(extra)).await;
    }
    let answer = answer(&serving, &body);
    let failed = answer.status().is_server_error();
    serving.record(started.elapsed(), failed);
    answer
}

fn answer(serving: &Serving, body: &[u8]) -> Response {
    // The model this request started with, whatever is installed meanwhile.
    let Some(served) = serving.served.load_full() else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Failed,
            "no model yet: the orchestrator sends one after the first FL round".into(),
        );
    };
    let request: PredictRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadInput,
                format!("request body: {e}"),
            );
        }
    };
    let bad = |m: String| error(StatusCode::BAD_REQUEST, ErrorCode::BadInput, m);
    let version = served.push.version.clone();
    match (request.features, request.batch) {
        (Some(features), None) => match classify(&served, &features) {
            Ok(p) => Json(serde_json::json!({
                "model": version, "class": p.class, "probabilities": p.probabilities
            }))
            .into_response(),
            Err(e) => bad(format!("features: {e}")),
        },
        (None, Some(batch)) if batch.len() > MAX_BATCH => {
            bad(format!("batch: {} rows; at most {MAX_BATCH}", batch.len()))
        }
        (None, Some(batch)) => {
            let mut predictions = Vec::with_capacity(batch.len());
            for (i, row) in batch.iter().enumerate() {
                match classify(&served, row) {
                    Ok(p) => predictions.push(p),
                    Err(e) => return bad(format!("batch row {i}: {e}")),
                }
            }
            Json(serde_json::json!({ "model": version, "predictions": predictions }))
                .into_response()
        }
        _ => bad("give either \"features\": [...] or \"batch\": [[...], ...]".into()),
    }
}

async fn model(State(serving): State<Arc<Serving>>) -> Response {
    match serving.served.load_full() {
        Some(s) => Json(ModelInfo {
            version: s.push.version.clone(),
            run: s.push.run.clone(),
            round: s.push.round,
            dataset: s.push.dataset,
        })
        .into_response(),
        None => error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Failed,
            "no model yet".into(),
        ),
    }
}
