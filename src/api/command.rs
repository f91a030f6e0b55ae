//! What a face can ask of the engine: commands change something, queries only read.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::chaos::{ChaosFaultView, ChaosSpec};
use super::event::EventEnvelope;
use super::fault::Fault;
use super::metrics::EngineMetrics;
use super::neuron::{LogLine, NeuronDetail, NeuronView};
use super::security::{
    Action, AuditFilter, AuditRecord, ExportFormat, Role, SessionInfo, UserView, VerifyReport,
};
use super::status::{FailureView, StatusReport};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Force recovery of a neuron now (manual override), whatever its attempt count.
    Recover {
        neuron: String,
    },
    /// Ask neurons (all when empty) to apply a config version. The config-push action class:
    /// rate-limited per user.
    PushConfig {
        version: String,
        neurons: Vec<String>,
    },
    /// Inject a fault into a simulated neuron (drills; chaos builds on it).
    InjectFault {
        neuron: String,
        fault: Fault,
    },
    /// Remove injected faults from a simulated neuron.
    ClearFaults {
        neuron: String,
    },
    AddUser {
        name: String,
        role: Role,
    },
    /// Issue a new bearer token for a user (shown once).
    IssueToken {
        name: String,
    },
    /// Export audit records (the export itself is audited).
    ExportAudit {
        format: ExportFormat,
        filter: AuditFilter,
    },
    /// Inject a chaos fault into the neurons a selector picks (reverted after its duration).
    ChaosInject {
        spec: ChaosSpec,
    },
    /// Revert a chaos fault now.
    ChaosStop {
        id: String,
    },
    /// Admit a stress test: the gate decides and the audit log records it; the load itself comes
    /// from the client that asked (the generator is a client, see docs/stress.md).
    StressStart {
        test_id: String,
        profile: String,
    },
    /// Stop a running stress test.
    StressStop {
        test_id: String,
    },
    /// Remove every mock neuron a stress test registered (ids starting `stress-`).
    TestCleanup,
}

impl Command {
    /// What the gate must allow.
    pub fn action(&self) -> Action {
        match self {
            Command::Recover { .. } => Action::NeuronRecover,
            Command::PushConfig { .. } => Action::ConfigPush,
            Command::InjectFault { .. } | Command::ClearFaults { .. } => Action::NeuronFault,
            Command::AddUser { .. } | Command::IssueToken { .. } => Action::UsersManage,
            Command::ExportAudit { .. } => Action::AuditExport,
            Command::ChaosInject { .. } | Command::ChaosStop { .. } => Action::ChaosRun,
            Command::StressStart { .. } | Command::StressStop { .. } => Action::StressRun,
            Command::TestCleanup => Action::TestCleanup,
        }
    }

    /// The name the audit log records: the action class, refined where one class has several
    /// commands (`plexus audit list --action users` matches `users.add` and `users.token`).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Recover { .. } => "neuron.recover",
            Command::PushConfig { .. } => "config.push",
            Command::InjectFault { .. } => "neuron.fault.inject",
            Command::ClearFaults { .. } => "neuron.fault.clear",
            Command::AddUser { .. } => "users.add",
            Command::IssueToken { .. } => "users.token",
            Command::ExportAudit { .. } => "audit.export",
            Command::ChaosInject { .. } => "chaos.inject",
            Command::ChaosStop { .. } => "chaos.stop",
            Command::StressStart { .. } => "stress.start",
            Command::StressStop { .. } => "stress.stop",
            Command::TestCleanup => "test.cleanup",
        }
    }

    /// What the command acts on, for the audit record.
    pub fn target(&self) -> String {
        match self {
            Command::Recover { neuron }
            | Command::InjectFault { neuron, .. }
            | Command::ClearFaults { neuron } => neuron.clone(),
            Command::PushConfig { version, neurons } if neurons.is_empty() => {
                format!("{version} → all neurons")
            }
            Command::PushConfig { version, neurons } => {
                format!("{version} → {}", neurons.join(","))
            }
            Command::AddUser { name, .. } | Command::IssueToken { name } => name.clone(),
            Command::ExportAudit { .. } => "audit".into(),
            Command::ChaosInject { spec } => format!("{} → {}", spec.kind, spec.target),
            Command::ChaosStop { id } => id.clone(),
            Command::StressStart { test_id, profile } => format!("{test_id} ({profile})"),
            Command::StressStop { test_id } => test_id.clone(),
            Command::TestCleanup => "mock neurons".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CommandReply {
    /// A recovery attempt was started.
    RecoveryStarted {
        neuron: String,
        attempt: u32,
        strategy: String,
    },
    ConfigPushed {
        version: String,
        neurons: usize,
    },
    FaultInjected {
        neuron: String,
        fault: String,
    },
    FaultsCleared {
        neuron: String,
    },
    UserAdded {
        user: UserView,
    },
    /// The only time the token is ever shown.
    TokenIssued {
        name: String,
        token: String,
    },
    AuditExported {
        records: Vec<AuditRecord>,
    },
    ChaosInjected {
        fault: ChaosFaultView,
    },
    ChaosStopped {
        fault: ChaosFaultView,
    },
    StressAdmitted {
        test_id: String,
    },
    StressStopping {
        test_id: String,
    },
    CleanedUp {
        /// Mock neurons removed.
        neurons: usize,
    },
}

impl CommandReply {
    /// One line for people (the console's flash line, headless tables).
    pub fn summary(&self) -> String {
        match self {
            CommandReply::RecoveryStarted {
                neuron,
                attempt,
                strategy,
            } => format!("recovery #{attempt} started on {neuron}: {strategy}"),
            CommandReply::ConfigPushed { version, neurons } => {
                format!("config {version} sent to {neurons} neurons")
            }
            CommandReply::FaultInjected { neuron, fault } => {
                format!("fault {fault} injected into {neuron}")
            }
            CommandReply::FaultsCleared { neuron } => format!("faults cleared on {neuron}"),
            CommandReply::UserAdded { user } => {
                format!("user {} added as {}", user.name, user.role)
            }
            CommandReply::TokenIssued { name, .. } => format!("new token issued for {name}"),
            CommandReply::AuditExported { records } => {
                format!("{} audit records exported", records.len())
            }
            CommandReply::ChaosInjected { fault } => format!(
                "chaos {} {} injected into {} neurons",
                fault.id,
                fault.kind,
                fault.neurons.len()
            ),
            CommandReply::ChaosStopped { fault } => {
                format!("chaos {} {} reverted", fault.id, fault.kind)
            }
            CommandReply::StressAdmitted { test_id } => format!("stress test {test_id} admitted"),
            CommandReply::StressStopping { test_id } => format!("stress test {test_id} stopping"),
            CommandReply::CleanedUp { neurons } => format!("{neurons} mock neurons removed"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "query", rename_all = "snake_case")]
pub enum Query {
    Status,
    Neurons,
    Neuron {
        id: String,
    },
    Logs {
        id: String,
        tail: usize,
    },
    /// Current failures with their evidence.
    Failures,
    /// Healthy-neuron counts over time, oldest first (one sample per second).
    HealthHistory,
    /// The last `limit` events, oldest first.
    RecentEvents {
        limit: usize,
    },
    Users,
    Audit {
        filter: AuditFilter,
    },
    VerifyAudit,
    /// The session this face acts in.
    Session,
    /// Events with a sequence number above `seq` that are still kept, oldest first (resuming a
    /// stream: a gap before the first one means some were lost and the client must resync).
    EventsSince {
        seq: u64,
    },
    Metrics,
    /// Chaos faults held now and recently reverted.
    Chaos,
}

impl Query {
    /// What the gate must allow.
    pub fn action(&self) -> Action {
        match self {
            Query::Status
            | Query::Neurons
            | Query::Neuron { .. }
            | Query::Logs { .. }
            | Query::Failures
            | Query::HealthHistory
            | Query::RecentEvents { .. }
            | Query::EventsSince { .. }
            | Query::Metrics
            | Query::Session
            | Query::Chaos => Action::NeuronView,
            Query::Users => Action::UsersManage,
            Query::Audit { .. } | Query::VerifyAudit => Action::AuditView,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Query::Status => "status",
            Query::Neurons => "neurons",
            Query::Neuron { .. } => "neuron",
            Query::Logs { .. } => "logs",
            Query::Failures => "failures",
            Query::HealthHistory => "health_history",
            Query::RecentEvents { .. } => "recent_events",
            Query::Users => "users",
            Query::Audit { .. } => "audit",
            Query::VerifyAudit => "verify_audit",
            Query::Session => "session",
            Query::EventsSince { .. } => "events_since",
            Query::Metrics => "metrics",
            Query::Chaos => "chaos",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// Tagged on the wire (`{"kind": "status", "data": …}`) so a remote client decodes it
/// without guessing; headless commands print the inner data.
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum QueryReply {
    Status(Box<StatusReport>),
    Neurons(Arc<Vec<NeuronView>>),
    Neuron(Box<NeuronDetail>),
    Logs(Vec<LogLine>),
    Failures(Vec<FailureView>),
    HealthHistory(Vec<u64>),
    Events(Vec<EventEnvelope>),
    Users(Vec<UserView>),
    Audit(Vec<AuditRecord>),
    Verify(VerifyReport),
    Session(SessionInfo),
    Metrics(EngineMetrics),
    Chaos(Vec<ChaosFaultView>),
}

/// `plexus recover ID --json`: how a forced recovery ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecoveryOutcome {
    pub neuron: String,
    pub attempt: u32,
    pub strategy: String,
    /// `succeeded`, `failed`, `started` (with --no-wait) or `timeout`.
    pub outcome: String,
    pub detail: String,
    /// Engine time from the command to its outcome.
    pub took_ms: u64,
}
