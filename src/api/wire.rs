//! The neuron wire protocol: what a neuron sends the orchestrator and what it is told.
//! Simulated neurons use the same messages in-process; real agents will send them as JSON.

use serde::{Deserialize, Serialize};

use super::identity::{Auth, Bytes32, Credential, Enroll, Handshake, ReportAuth, report_digest};
use super::rollout::NeuronConfig;

/// What a neuron measured over its last heartbeat interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Telemetry {
    /// Requests served since the neuron started.
    pub requests_total: u64,
    pub rps: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub error_rate: f64,
    pub load: f64,
}

impl Telemetry {
    /// Finite, non-negative, and rates within their ranges.
    pub fn is_valid(&self) -> bool {
        let finite = [
            self.rps,
            self.latency_p50_ms,
            self.latency_p95_ms,
            self.error_rate,
            self.load,
        ]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0);
        finite && self.error_rate <= 1.0 && self.latency_p95_ms >= self.latency_p50_ms
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConfigStatus {
    Applied,
    Failed { version: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Increases by one per heartbeat since the neuron (re)started.
    pub seq: u64,
    /// The neuron's incarnation: bumps on every restart.
    pub incarnation: u64,
    pub config_version: std::sync::Arc<str>,
    pub config: ConfigStatus,
    /// `None` when the analytics pipeline is down.
    pub telemetry: Option<Telemetry>,
    /// The MAC under the neuron's session; a heartbeat without a valid one is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Auth>,
}

/// Neuron → orchestrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NeuronMessage {
    Heartbeat(Heartbeat),
    ProbeAck {
        nonce: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auth: Option<Auth>,
    },
    /// The answer to a rollout step: a vote on Stage, the outcome of Commit or Revert.
    Rollout(RolloutReply),
    /// Ask the federation's CA for a credential (first join, renewal, re-issue). Boxed, as is
    /// a handshake: rare and large, they would make every heartbeat that moves through the
    /// link as large as themselves.
    Enroll(Box<Enroll>),
    /// Present a credential to get a session key for heartbeat MACs.
    Handshake(Box<Handshake>),
    /// An agent's update for an FL round it was invited to (counts only inside a verified report).
    FlUpdate(Box<super::fl_agent::FlAnswer>),
}

/// Which rollout step a [`RolloutReply`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStep {
    Stage,
    Commit,
    Revert,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutReply {
    pub rollout: u64,
    /// The version the step was about (for Revert: the version reverted to).
    pub version: String,
    pub step: RolloutStep,
    /// ACK (true) or NACK / failure (false).
    pub ok: bool,
    pub detail: String,
}

/// Orchestrator → neuron (or its supervisor, for a restart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NeuronCommand {
    Probe {
        nonce: u64,
    },
    Restart,
    ApplyConfig {
        version: String,
    },
    /// Validate and hold a config without running it; answer with a vote.
    Stage {
        rollout: u64,
        version: String,
        config: NeuronConfig,
    },
    /// Run the staged config. Idempotent: a neuron already on `version` acknowledges again.
    Commit {
        rollout: u64,
        version: String,
    },
    /// Drop what was staged; a later Commit of this rollout is refused.
    Abort {
        rollout: u64,
        version: String,
    },
    /// Go back to `to` (the version run before the rollout); idempotent.
    Revert {
        rollout: u64,
        to: String,
    },
    /// The answer to an enrolment: a new credential, and the session made with it — the
    /// engine's X25519 share when the neuron sent one (the key is agreed, never sent), else
    /// (in-process simulated neurons only) the key itself.
    Credential {
        credential: Credential,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_key: Option<Bytes32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kx: Option<Bytes32>,
    },
    /// The answer to a handshake: MAC under credential `serial` with the agreed key (or, for an
    /// in-process neuron, this key).
    Session {
        serial: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_key: Option<Bytes32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kx: Option<Bytes32>,
    },
    /// A message failed identity verification; the neuron drops its session and starts over.
    IdentityRefused {
        reason: String,
        /// An enrolment was refused (the session, if any, still stands); otherwise the
        /// session is not accepted and the neuron must handshake again.
        #[serde(default)]
        enrolment: bool,
    },
    /// Recovery: drop the credential and enrol afresh with a new key (enrolment is open).
    Reenroll,
    /// Train one round of an FL run from the global model it carries; answer with `fl_update`.
    FlRound(Box<super::fl_agent::FlInvite>),
    /// Serve this model from the next prediction on (serving agents).
    ServeModel(Box<super::fl_agent::ModelPush>),
    /// Chaos: misbehave this way, for real (a real agent's supervisor and worker act it out).
    Fault {
        fault: super::fault::Fault,
    },
    /// Chaos reverted: behave again (a crashed worker stays down until restarted).
    ClearFaults,
}

impl NeuronCommand {
    /// The answers of the identity exchange (credential, session, refusal, re-enrol).
    pub fn is_identity(&self) -> bool {
        matches!(
            self,
            NeuronCommand::Credential { .. }
                | NeuronCommand::Session { .. }
                | NeuronCommand::IdentityRefused { .. }
                | NeuronCommand::Reenroll
        )
    }
}

/// `POST /api/v1/agents/register`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub id: String,
    pub zone: String,
    #[serde(default)]
    pub labels: Vec<(String, String)>,
    pub config_version: String,
    /// Proof that the caller holds the key this id is bound to (re-registering a bound id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<RegistrationProof>,
    /// Where the agent serves predictions (`host:port`; `plexus neuron --serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve: Option<String>,
}

/// A signature by the key an id is bound to over `"plexus-register-v1\0" id "\0" at` (Unix ms,
/// i64 BE); taken within five minutes of the server's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationProof {
    pub at: i64,
    pub signature: super::identity::Bytes64,
}

/// How far a registration proof's time may be from the server's.
pub const REGISTRATION_PROOF_SKEW_MS: i64 = 5 * 60_000;

/// The bytes a registration proof signs.
pub fn register_bytes(spiffe_id: &str, at: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(64);
    b.extend_from_slice(b"plexus-register-v1\0");
    b.extend_from_slice(spiffe_id.as_bytes());
    b.push(0);
    b.extend_from_slice(&at.to_be_bytes());
    b
}

/// The answer to a registration: how often to send heartbeats.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registered {
    pub heartbeat_ms: u64,
    /// After an invite: the agent's own token, shown this once (keep it, the invite is spent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `POST /api/v1/agents/{id}/messages`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub message: NeuronMessage,
    /// New log lines since the last report: (level, message).
    #[serde(default)]
    pub logs: Vec<(String, String)>,
}

/// The largest report an agent may send (its log lines included).
pub const MAX_REPORT_BYTES: usize = 256 * 1024;

/// A report as it travels: its exact JSON bytes and the MAC over them (none on an enrolment or a
/// handshake, which their signatures vouch for).
#[derive(Debug, Clone)]
pub struct SealedReport {
    pub body: Vec<u8>,
    pub auth: Option<ReportAuth>,
}

/// A report as the engine takes it: parsed, with the digest of the bytes it came in.
#[derive(Debug, Clone)]
pub struct OpenedReport {
    pub message: NeuronMessage,
    pub logs: Vec<(String, String)>,
    pub digest: [u8; 32],
    pub auth: Option<ReportAuth>,
}

impl SealedReport {
    /// Serialise `report` once: these bytes are what is sent and what the MAC covers.
    pub fn body_of(report: &Report) -> Vec<u8> {
        serde_json::to_vec(report).expect("a report serialises")
    }

    pub fn open(self) -> Result<OpenedReport, super::ApiError> {
        if self.body.len() > MAX_REPORT_BYTES {
            return Err(super::ApiError::bad_input(format!(
                "report of {} bytes is larger than {MAX_REPORT_BYTES}",
                self.body.len()
            )));
        }
        let report: Report = serde_json::from_slice(&self.body)
            .map_err(|e| super::ApiError::bad_input(format!("malformed report: {e}")))?;
        Ok(OpenedReport {
            message: report.message,
            logs: report.logs,
            digest: report_digest(&self.body),
            auth: self.auth,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commands {
    pub commands: Vec<NeuronCommand>,
}
