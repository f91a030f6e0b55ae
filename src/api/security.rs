//! Roles, actions, sessions and audit records: what the gate decides about and what it records.

use serde::{Deserialize, Serialize};

/// A user's role (the RBAC matrix in README, The gate). Command-line names: `admin`, `operator`,
/// `neuron-manager`, `viewer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Admin,
    Operator,
    NeuronManager,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Operator,
        Role::NeuronManager,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::NeuronManager => "neuron-manager",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the gate can be asked to allow. Each has exactly one rule in
/// `engine::gate::rbac::allowed` (an exhaustive match: a new action without a rule does not
/// compile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read neurons, status, logs, events.
    NeuronView,
    /// Force recovery of a neuron.
    NeuronRecover,
    /// Inject or clear faults in simulated neurons (drills, chaos).
    NeuronFault,
    ConfigView,
    ConfigPush,
    ExperimentView,
    ExperimentDeploy,
    AuditView,
    AuditExport,
    /// Users, roles, tokens.
    UsersManage,
    /// Start or stop stress tests.
    StressRun,
    /// Run chaos experiments.
    ChaosRun,
    /// Remove mock neurons and test data.
    TestCleanup,
    /// A real neuron agent registers and reports (heartbeats, probe answers, logs).
    NeuronRegister,
    /// Acknowledge an alert (someone is on it).
    AlertAck,
    /// Create or expire silences.
    AlertSilence,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::NeuronView,
        Action::NeuronRecover,
        Action::NeuronFault,
        Action::ConfigView,
        Action::ConfigPush,
        Action::ExperimentView,
        Action::ExperimentDeploy,
        Action::AuditView,
        Action::AuditExport,
        Action::UsersManage,
        Action::StressRun,
        Action::ChaosRun,
        Action::TestCleanup,
        Action::NeuronRegister,
        Action::AlertAck,
        Action::AlertSilence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::NeuronView => "neuron.view",
            Action::NeuronRecover => "neuron.recover",
            Action::NeuronFault => "neuron.fault",
            Action::ConfigView => "config.view",
            Action::ConfigPush => "config.push",
            Action::ExperimentView => "experiment.view",
            Action::ExperimentDeploy => "experiment.deploy",
            Action::AuditView => "audit.view",
            Action::AuditExport => "audit.export",
            Action::UsersManage => "users.manage",
            Action::StressRun => "stress.run",
            Action::ChaosRun => "chaos.run",
            Action::TestCleanup => "test.cleanup",
            Action::NeuronRegister => "neuron.register",
            Action::AlertAck => "alert.ack",
            Action::AlertSilence => "alert.silence",
        }
    }

    /// Whether the action changes anything (hidden and refused in read-only mode).
    pub fn mutates(self) -> bool {
        !matches!(
            self,
            Action::NeuronView
                | Action::ConfigView
                | Action::ExperimentView
                | Action::AuditView
                | Action::AuditExport
        )
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub name: String,
    pub role: Role,
    pub created: String,
    pub has_token: bool,
}

/// The session a face acts in (shown in the console header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: String,
    pub user: String,
    pub role: Role,
    pub started: String,
    /// Unix ms of the start, for computing the age.
    pub started_unix_ms: i64,
    pub source: String,
    pub read_only: bool,
    pub idle_timeout_ms: u64,
}

/// `allowed`, `denied` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// One audit record as stored and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    /// UTC, RFC 3339.
    pub at: String,
    pub user: String,
    pub role: String,
    pub session: String,
    /// `local tty=/dev/pts/1 pid=123` or a remote address.
    pub source: String,
    pub action: String,
    pub target: String,
    /// SHA-256 of the command's parameters in canonical JSON.
    pub params_digest: String,
    pub outcome: Outcome,
    /// Stable error code when denied or failed.
    pub error_code: Option<String>,
    pub message: Option<String>,
    /// Hash of the previous record (or of the pruning checkpoint).
    pub prev_hash: String,
    pub hash: String,
}

/// `plexus audit verify --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub intact: bool,
    pub records: u64,
    /// First sequence number that does not verify.
    pub first_bad_seq: Option<u64>,
    pub problem: Option<String>,
    /// Records before this were pruned under the retention policy (0 = none pruned).
    pub checkpoint_seq: u64,
    /// The last record the signed head (kept outside the database) names, if there is one.
    #[serde(default)]
    pub head_seq: Option<u64>,
    /// What this verification can and cannot catch.
    #[serde(default)]
    pub trust: String,
}

/// Filters of `plexus audit list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Unix ms lower bound.
    pub since_unix_ms: Option<i64>,
    pub limit: Option<usize>,
}

/// Formats of `plexus audit export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Json,
    Ndjson,
    Csv,
}
