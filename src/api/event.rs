//! Live events (`plexus watch` prints one per line).

use serde::{Deserialize, Serialize};

use super::neuron::NeuronState;
use super::status::FailureMode;

/// An event with its sequence number and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Strictly increasing per engine.
    pub seq: u64,
    /// UTC time, RFC 3339.
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
}

/// A fleet-level condition raised by the local-health guard instead of convicting neurons one by one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetCondition {
    /// `engine_stall` or `fleet_silence`.
    pub kind: String,
    pub since: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    FleetRegistered {
        count: u64,
    },
    /// A real agent joined.
    NeuronRegistered {
        neuron: String,
    },
    NeuronStateChanged {
        neuron: String,
        from: NeuronState,
        to: NeuronState,
        reason: String,
    },
    FailureDetected {
        neuron: String,
        mode: FailureMode,
        evidence: String,
    },
    RecoveryStarted {
        neuron: String,
        /// Numbered within the failure episode.
        attempt: u32,
        strategy: String,
        manual: bool,
        /// Unique over the engine's life: what a caller waiting for its own attempt matches.
        #[serde(default)]
        attempt_id: u64,
    },
    RecoveryFinished {
        neuron: String,
        attempt: u32,
        succeeded: bool,
        detail: String,
        #[serde(default)]
        attempt_id: u64,
    },
    RecoveryEscalated {
        neuron: String,
        mode: FailureMode,
        attempts: u32,
    },
    ConditionRaised {
        condition: FleetCondition,
    },
    ConditionCleared {
        kind: String,
    },
    FaultInjected {
        neuron: String,
        fault: String,
    },
    /// A chaos fault was injected into `neurons` neurons.
    ChaosInjected {
        id: String,
        kind: String,
        target: String,
        neurons: usize,
    },
    /// A chaos fault was reverted (`by`: duration or stopped).
    ChaosReverted {
        id: String,
        kind: String,
        by: String,
    },
    /// A rollout changed phase or wave (started, decided, wave committed, finished).
    RolloutProgress {
        rollout: crate::api::rollout::RolloutSummary,
    },
    /// A stress test crossed one of its thresholds.
    StressThresholdBreached {
        test_id: String,
        threshold: String,
        detail: String,
    },
    /// An alert changed state (pending, firing, resolved) or was acknowledged.
    AlertChanged {
        fingerprint: String,
        rule: String,
        severity: crate::api::alert::Severity,
        state: crate::api::alert::AlertState,
        summary: String,
    },
    /// An engine-owned FL run finished a round.
    FlRoundFinished {
        run: String,
        round: u32,
        rounds: u32,
        loss: f64,
        accuracy: f64,
        participants: u32,
        dropped: u32,
        excluded: Vec<String>,
    },
    /// An FL run ended (`state`: finished, stopped or failed).
    FlRunFinished {
        run: String,
        state: String,
        rounds: u32,
        final_accuracy: Option<f64>,
        converged_round: Option<u32>,
        diverged: bool,
    },
    /// An FL run's loss blew up (non-finite, or well above the untrained model's).
    FlRunDiverged {
        run: String,
        round: u32,
        loss: f64,
    },
    /// The aggregation rule excluded or rejected updates this round (suspected Byzantine).
    FlByzantineDetected {
        run: String,
        round: u32,
        neurons: Vec<String>,
        rule: String,
    },
    /// A neuron renewed its credential before expiry (a new key, endorsed by the old one).
    CredentialRotated {
        neuron: String,
        serial: u64,
        /// UTC, RFC 3339.
        not_after: String,
    },
}

impl Event {
    /// Whether this event ends something a client may be waiting on (a rollout's wave or end,
    /// a recovery attempt, a chaos fault, an FL run): what it reads next must already agree.
    pub fn settles(&self) -> bool {
        matches!(
            self,
            Event::RecoveryFinished { .. }
                | Event::RecoveryEscalated { .. }
                | Event::FaultInjected { .. }
                | Event::ChaosInjected { .. }
                | Event::ChaosReverted { .. }
                | Event::RolloutProgress { .. }
                | Event::FlRunFinished { .. }
        )
    }

    /// The neuron this event is about, if any.
    pub fn neuron(&self) -> Option<&str> {
        match self {
            Event::NeuronStateChanged { neuron, .. }
            | Event::FailureDetected { neuron, .. }
            | Event::RecoveryStarted { neuron, .. }
            | Event::RecoveryFinished { neuron, .. }
            | Event::RecoveryEscalated { neuron, .. }
            | Event::FaultInjected { neuron, .. }
            | Event::NeuronRegistered { neuron }
            | Event::CredentialRotated { neuron, .. } => Some(neuron),
            _ => None,
        }
    }

    /// One line for humans (console event list, `plexus watch --output table`).
    pub fn summary(&self) -> String {
        match self {
            Event::FleetRegistered { count } => format!("{count} neurons registered"),
            Event::NeuronRegistered { neuron } => format!("agent {neuron} joined"),
            Event::NeuronStateChanged {
                neuron,
                from,
                to,
                reason,
            } => format!("{neuron} {from} → {to}: {reason}"),
            Event::FailureDetected {
                neuron,
                mode,
                evidence,
            } => format!("{neuron} failure {mode}: {evidence}"),
            Event::RecoveryStarted {
                neuron,
                attempt,
                strategy,
                manual,
                ..
            } => {
                let how = if *manual { "manual" } else { "auto" };
                format!("{neuron} recovery #{attempt} ({how}): {strategy}")
            }
            Event::RecoveryFinished {
                neuron,
                attempt,
                succeeded,
                detail,
                ..
            } => {
                let verdict = if *succeeded { "succeeded" } else { "failed" };
                format!("{neuron} recovery #{attempt} {verdict}: {detail}")
            }
            Event::RecoveryEscalated {
                neuron,
                mode,
                attempts,
            } => format!("{neuron} escalated after {attempts} attempts ({mode})"),
            Event::ConditionRaised { condition } => {
                format!("fleet condition {}: {}", condition.kind, condition.detail)
            }
            Event::ConditionCleared { kind } => format!("fleet condition {kind} cleared"),
            Event::FaultInjected { neuron, fault } => format!("{neuron} fault injected: {fault}"),
            Event::ChaosInjected {
                id,
                kind,
                target,
                neurons,
            } => format!("chaos {id}: {kind} injected into {neurons} neurons ({target})"),
            Event::ChaosReverted { id, kind, by } => format!("chaos {id}: {kind} reverted ({by})"),
            Event::RolloutProgress { rollout: r } => {
                let cause = r
                    .cause
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default();
                format!(
                    "rollout r-{} {} → {} {} (wave {}/{}){cause}",
                    r.id,
                    r.replaces,
                    r.version,
                    r.phase.as_str(),
                    r.wave,
                    r.waves
                )
            }
            Event::StressThresholdBreached {
                test_id,
                threshold,
                detail,
            } => format!("stress test {test_id} breached {threshold}: {detail}"),
            Event::AlertChanged {
                rule,
                severity,
                state,
                summary,
                ..
            } => format!(
                "alert {rule} ({}) {}: {summary}",
                severity.as_str(),
                state.as_str()
            ),
            Event::FlRoundFinished {
                run,
                round,
                rounds,
                loss,
                accuracy,
                participants,
                dropped,
                excluded,
            } => format!(
                "fl {run} round {round}/{rounds}: loss {loss:.3} acc {:.1}% ({participants} in, {dropped} dropped, {} excluded)",
                accuracy * 100.0,
                excluded.len()
            ),
            Event::FlRunFinished {
                run,
                state,
                rounds,
                final_accuracy,
                converged_round,
                diverged,
            } => {
                let acc = final_accuracy.map_or("-".into(), |a| format!("{:.1}%", a * 100.0));
                let conv = converged_round.map_or(String::new(), |r| format!(", converged at {r}"));
                let div = if *diverged { ", diverged" } else { "" };
                format!("fl {run} {state} after {rounds} rounds: acc {acc}{conv}{div}")
            }
            Event::FlRunDiverged { run, round, loss } => {
                format!("fl {run} diverged at round {round} (loss {loss:.3})")
            }
            Event::FlByzantineDetected {
                run,
                round,
                neurons,
                rule,
            } => format!(
                "fl {run} round {round}: {rule} excluded {}",
                neurons.join(", ")
            ),
            Event::CredentialRotated {
                neuron,
                serial,
                not_after,
            } => format!("{neuron} rotated its credential to #{serial} (valid until {not_after})"),
        }
    }
}
