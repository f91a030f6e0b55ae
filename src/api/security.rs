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
/// `api::rbac::allowed` (an exhaustive match: a new action without a rule does not
/// compile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
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

impl Permission {
    pub const ALL: [Permission; 16] = [
        Permission::NeuronView,
        Permission::NeuronRecover,
        Permission::NeuronFault,
        Permission::ConfigView,
        Permission::ConfigPush,
        Permission::ExperimentView,
        Permission::ExperimentDeploy,
        Permission::AuditView,
        Permission::AuditExport,
        Permission::UsersManage,
        Permission::StressRun,
        Permission::ChaosRun,
        Permission::TestCleanup,
        Permission::NeuronRegister,
        Permission::AlertAck,
        Permission::AlertSilence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::NeuronView => "neuron.view",
            Permission::NeuronRecover => "neuron.recover",
            Permission::NeuronFault => "neuron.fault",
            Permission::ConfigView => "config.view",
            Permission::ConfigPush => "config.push",
            Permission::ExperimentView => "experiment.view",
            Permission::ExperimentDeploy => "experiment.deploy",
            Permission::AuditView => "audit.view",
            Permission::AuditExport => "audit.export",
            Permission::UsersManage => "users.manage",
            Permission::StressRun => "stress.run",
            Permission::ChaosRun => "chaos.run",
            Permission::TestCleanup => "test.cleanup",
            Permission::NeuronRegister => "neuron.register",
            Permission::AlertAck => "alert.ack",
            Permission::AlertSilence => "alert.silence",
        }
    }

    /// Whether the action changes anything (hidden and refused in read-only mode).
    pub fn mutates(self) -> bool {
        !matches!(
            self,
            Permission::NeuronView
                | Permission::ConfigView
                | Permission::ExperimentView
                | Permission::AuditView
                | Permission::AuditExport
        )
    }
}

impl std::fmt::Display for Permission {
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
pub enum AuditOutcome {
    Allowed,
    Denied,
    Failed,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Allowed => "allowed",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failed => "failed",
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
    pub outcome: AuditOutcome,
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
