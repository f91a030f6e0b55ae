//! The `predict` scenario: load the fleet itself. Before the run the serving agents are found
//! through the server (agents whose registration carries a `serve` address); each request then
//! goes to the next of them round-robin, a `POST /v1/predict` with one row of the shipped digits
//! test split, and counts as an error unless it is answered 2xx. The agents' telemetry reports
//! what they served, so the console shows their latency and load move, and alerts fire on them.

use crate::api::fl::DatasetName;
use crate::api::fl_agent::SERVE_LABEL;
use crate::api::{ApiError, ask};
use crate::client::{Backend, BackendExt};
use crate::engine::fl::data;

pub struct PredictPool {
    http: reqwest::Client,
    /// `http://HOST:PORT/v1/predict` of each serving agent.
    endpoints: Vec<String>,
    /// Request bodies: one per test row.
    bodies: Vec<String>,
}

impl PredictPool {
    /// The serving agents the server knows now; an error when there are none.
    pub async fn discover(backend: &dyn Backend) -> Result<PredictPool, ApiError> {
        let neurons = backend.neurons().await?;
        let mut endpoints = Vec::new();
        for n in neurons.iter().filter(|n| &*n.kind == "agent") {
            let detail = backend.ask(ask::neuron(&n.id)).await?;
            if let Some((_, addr)) = detail.labels.iter().find(|(k, _)| k == SERVE_LABEL) {
                endpoints.push(format!("http://{addr}/v1/predict"));
            }
        }
        if endpoints.is_empty() {
            return Err(ApiError::bad_input(
                "scenario predict: no serving agents (plexus neuron --serve HOST:PORT) are registered",
            ));
        }
        let digits = data::load(DatasetName::Digits);
        let (_, test) = data::raw_split(&digits, 1);
        let bodies = (0..test.len())
            .map(|i| serde_json::json!({ "features": test.row(i) }).to_string())
            .collect();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::failed(format!("HTTP client: {e}")))?;
        Ok(PredictPool {
            http,
            endpoints,
            bodies,
        })
    }

    pub fn agents(&self) -> usize {
        self.endpoints.len()
    }

    pub async fn call(&self, seq: u64) -> Result<(), ApiError> {
        let endpoint = &self.endpoints[(seq % self.endpoints.len() as u64) as usize];
        let body = self.bodies[(seq % self.bodies.len() as u64) as usize].clone();
        let r = self
            .http
            .post(endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| ApiError::unreachable(format!("{endpoint}: {e}")))?;
        let status = r.status();
        let _ = r.bytes().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(ApiError::failed(format!("{endpoint}: HTTP {status}")))
        }
    }
}
