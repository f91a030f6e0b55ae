//! What faces see, built from the core's state: rows, the status report, the detail of one neuron.

use std::sync::Arc;

use super::core::Core;
use super::fleet::host::RawLogLine;
use super::fleet::tracked::TrackedNeuron;
use crate::api::{
    ApiError, FailureView, LogLine, Millis, NeuronDetail, NeuronView, RecoveryAttemptView,
    StateChange, StatusReport,
};

impl Core {
    pub fn neuron_view(&self, idx: u32, now: Millis) -> NeuronView {
        let n = &self.registry.neurons[idx as usize];
        let telemetry = n.telemetry;
        NeuronView {
            id: n.id.clone(),
            state: n.state,
            phi: round2(self.detector.phi(n, now)),
            last_heartbeat_ms: n.last_arrival.map(|at| now.saturating_sub(at)),
            config_version: n.config_version.clone(),
            zone: n.zone.clone(),
            latency_ms: telemetry.map(|t| round2(t.latency_p50_ms)),
            error_rate: telemetry.map(|t| (t.error_rate * 1e5).round() / 1e5),
            load: telemetry.map(|t| round2(t.load)),
            rps: telemetry.map(|t| round2(t.rps)),
            kind: n.kind.clone(),
            escalated: n.escalated,
        }
    }

    pub fn neuron_views(&self, now: Millis) -> Arc<Vec<NeuronView>> {
        Arc::new(
            self.registry
                .live_indexes()
                .map(|idx| self.neuron_view(idx, now))
                .collect(),
        )
    }

    fn failure_view(&self, idx: u32) -> Option<FailureView> {
        let e = self.recovery.episode(idx)?;
        if !e.failing {
            return None;
        }
        Some(FailureView {
            neuron: self.registry.neurons[idx as usize].id.to_string(),
            mode: e.mode,
            since: self.wall(e.since),
            attempts: e.attempts,
            escalated: e.escalated,
            evidence: e.evidence.clone(),
        })
    }

    pub fn failures(&self) -> Vec<FailureView> {
        self.recovery
            .failing()
            .filter_map(|(idx, _)| self.failure_view(idx))
            .collect()
    }

    pub fn status(&self, now: Millis) -> StatusReport {
        StatusReport {
            federation: self.cfg.federation.clone(),
            environment: self.cfg.environment.clone(),
            at: self.wall(now),
            heartbeat_interval_ms: self.cfg.heartbeat_ms,
            neurons: self.registry.state_counts(),
            failures: self.failures(),
            recoveries: self.recovery.counts.clone(),
            detections: self.recovery.detections.clone(),
            recent_recoveries: self.recovery.recent.iter().cloned().collect(),
            conditions: self.conditions(),
            config_versions: crate::engine::rollout::version_counts(&self.registry),
            refresh_ms: self.cfg.snapshot_ms,
            // The runner times verdicts; it fills this in.
            verdict_latency: Default::default(),
        }
    }

    fn log_lines(&self, raw: Vec<RawLogLine>) -> Vec<LogLine> {
        raw.into_iter()
            .map(|l| LogLine {
                at: self.wall(l.at),
                level: l.level.to_string(),
                message: l.message,
            })
            .collect()
    }

    pub fn logs(&self, id: &str, tail: usize) -> Result<Vec<LogLine>, ApiError> {
        let idx = self.find(id)?;
        Ok(self.log_lines(self.raw_logs(idx, tail)))
    }

    pub fn detail(&self, id: &str, now: Millis) -> Result<NeuronDetail, ApiError> {
        let idx = self.find(id)?;
        let n: &TrackedNeuron = &self.registry.neurons[idx as usize];
        let attempts = self
            .recovery
            .episode(idx)
            .map(|e| {
                e.log
                    .iter()
                    .map(|a| RecoveryAttemptView {
                        attempt: a.number,
                        id: a.id,
                        strategy: a.strategy.as_str().into(),
                        manual: a.manual,
                        started: self.wall(a.started),
                        outcome: a.outcome.as_str().into(),
                        mode: a.mode,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let observed = n.last_arrival.is_some();
        Ok(NeuronDetail {
            neuron: self.neuron_view(idx, now),
            labels: n.labels.to_vec(),
            heartbeat_interval_ms: n.expected_interval_ms,
            interval_mean_ms: observed.then(|| round2(n.intervals.mean())),
            interval_stddev_ms: observed.then(|| round2(n.intervals.std_dev())),
            history: n
                .history
                .iter()
                .map(|h| StateChange {
                    at: self.wall(h.at),
                    from: h.from,
                    to: h.to,
                    reason: h.reason.clone(),
                })
                .collect(),
            failure: self.failure_view(idx),
            recovery_attempts: attempts,
            logs: self.log_lines(self.raw_logs(idx, 20)),
            identity: self.identity.view(idx, &n.id),
        })
    }
}

/// Two decimals; never -0.0 (which JSON and tables would show as "-0").
fn round2(v: f64) -> f64 {
    if !v.is_finite() {
        return v;
    }
    let r = (v * 100.0).round() / 100.0;
    if r == 0.0 { 0.0 } else { r }
}
