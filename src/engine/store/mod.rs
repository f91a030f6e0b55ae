//! Durable state behind two small traits: [`Store`] for writes, [`StoreReader`] for what the
//! engine reads back (SQLite is the one store today). One writer thread applies batches in one
//! transaction each; a batch can carry an acknowledgement that fires only after its transaction
//! committed.

pub mod alerts;
pub mod chaos;
pub mod files;
pub mod invites;
pub mod pins;
pub mod rollouts;
pub mod sqlite;
pub mod sqlite_reader;
mod writer;

pub use sqlite::SqliteStore;
pub use writer::{Ack, StoreWriter};

use crate::api::FailureMode;
use crate::engine::audit::AuditEntry;

/// One change to persist. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    UpsertNeuron {
        id: String,
        zone: String,
        kind: String,
        labels_json: String,
        config_version: String,
        registered_at: i64,
    },
    StateChange {
        neuron: String,
        at: i64,
        from: &'static str,
        to: &'static str,
        reason: String,
    },
    FailureOpened {
        failure_id: u64,
        neuron: String,
        mode: FailureMode,
        since: i64,
        evidence: String,
    },
    FailureUpdated {
        failure_id: u64,
        attempts: u32,
        escalated: bool,
        resolved_at: Option<i64>,
    },
    AttemptStarted {
        attempt_id: u64,
        failure_id: u64,
        neuron: String,
        attempt: u32,
        strategy: &'static str,
        manual: bool,
        started_at: i64,
    },
    AttemptFinished {
        attempt_id: u64,
        finished_at: i64,
        outcome: &'static str,
    },
    Escalated {
        failure_id: u64,
        neuron: String,
        at: i64,
        attempts: u32,
    },
    UserAdded {
        name: String,
        role: &'static str,
        created: i64,
        /// A user that stands for one agent (made by redeeming an invite).
        agent_of: Option<String>,
    },
    InviteSaved(invites::Invite),
    InviteUsed {
        hash: String,
        at: i64,
    },
    /// A user's token hash; `None` revokes it.
    TokenSet {
        name: String,
        hash: Option<String>,
    },
    UserRemoved {
        name: String,
    },
    UserRole {
        name: String,
        role: &'static str,
    },
    /// A session ended (expired and pruned, or ended with its user, role or token).
    SessionEnded {
        id: String,
    },
    SessionOpened {
        id: String,
        user: String,
        started: i64,
        source: String,
        read_only: bool,
    },
    /// A rate-limited action was admitted (the sliding window survives restarts).
    RateAdmitted {
        user: String,
        action: &'static str,
        at: i64,
    },
    /// Appended to the hash chain inside the batch's transaction.
    Audit(AuditEntry),
    /// Apply the audit retention policy.
    PruneAudit {
        now: i64,
        retention_ms: i64,
    },
    /// A mock neuron removed by test cleanup.
    DeleteNeuron {
        id: String,
    },
    RolloutStarted(StoredRollout),
    /// The decision log: `commit` or `revert`, durable before the first step of it goes out.
    RolloutDecided {
        id: u64,
        decision: &'static str,
        at: i64,
    },
    RolloutFinished {
        id: u64,
        phase: &'static str,
        cause: Option<String>,
        targets_json: String,
        at: i64,
    },
    /// A neuron confirmed running this config version.
    NeuronConfig {
        neuron: String,
        version: String,
        at: i64,
    },
    /// An alert's current state (inserted or replaced by fingerprint).
    AlertSaved(Box<crate::api::alert::Alert>),
    AlertDeleted {
        fingerprint: String,
    },
    SilenceSaved(crate::api::alert::Silence),
    /// What a notification group was last told (the notification log).
    AlertGroupLogged(crate::engine::alerts::group::GroupLog),
    AlertGroupDropped {
        key: String,
    },
    /// A notification was handed to the sinks (history).
    NotificationSent {
        group_key: String,
        status: String,
        alerts: usize,
        at: i64,
    },
    /// A chaos fault was injected and is held.
    ChaosHeld {
        id: String,
        /// The fault's number (`c-N`): ids stay unique across restarts.
        seq: u64,
        kind: String,
        target: String,
        neurons_json: String,
        injected_at: i64,
        until_at: Option<i64>,
    },
    /// An agent id is bound to the key of the credential just issued to it.
    AgentPinned(pins::Pin),
    /// An admin released an agent id (`plexus neurons forget ID`).
    AgentReleased {
        neuron: String,
    },
    /// A chaos fault was reverted (`by`: duration, stopped, engine restart).
    ChaosReleased {
        id: String,
        at: i64,
        by: String,
    },
}

/// A rollout as stored (documents as JSON).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredRollout {
    pub id: u64,
    pub kind: String,
    pub version: String,
    pub replaces: String,
    pub config_json: String,
    pub selector: String,
    pub plan_json: String,
    pub by: String,
    pub started: String,
    pub targets_json: String,
    pub experiment_ms: Option<u64>,
    /// The last decision logged (`commit` / `revert`), if any.
    pub decision: Option<String>,
    /// Set once finished.
    pub finished_phase: Option<String>,
    pub cause: Option<String>,
    /// Wall ms it finished at (so a later process still knows how long it took).
    pub finished_unix_ms: Option<i64>,
}

/// A registered user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    pub name: String,
    pub role: String,
    pub created_unix_ms: i64,
    pub token_hash: Option<String>,
    /// The one agent id this user may act for (an invited agent), if any.
    pub agent_of: Option<String>,
}

/// What an earlier run left that the engine continues from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreInit {
    pub next_failure_id: u64,
    pub next_attempt_id: u64,
    pub users: Vec<StoredUser>,
    /// Recent admissions of rate-limited actions: (user, action, Unix ms).
    pub admissions: Vec<(String, String, i64)>,
    pub rollouts: Vec<StoredRollout>,
    /// (neuron, version) each neuron was last confirmed running.
    pub neuron_versions: Vec<(String, String)>,
    pub alerts: crate::engine::alerts::StoredAlerts,
    /// Chaos faults still held when the engine stopped, and the last fault number used.
    pub chaos_held: Vec<chaos::StoredChaos>,
    pub chaos_last: u64,
    /// The federation CA's secret, kept beside the store (see `engine::identity::keyfile`);
    /// `None` derives it from the seed (virtual-time simulations only).
    pub ca_secret: Option<[u8; 32]>,
    /// Agent ids and the keys they are bound to.
    pub agent_pins: Vec<pins::Pin>,
    /// Invites not yet used or expired.
    pub invites: Vec<invites::Invite>,
}

#[derive(Debug, thiserror::Error)]
#[error("store {path}: {message}")]
pub struct StoreError {
    pub path: String,
    pub message: String,
}

pub trait Store: Send {
    /// Apply a batch atomically.
    fn apply(&mut self, batch: &[StoreOp]) -> Result<(), StoreError>;
    fn init(&self) -> StoreInit;
}

/// What the engine reads back from its store while it runs, beside the writes it hands
/// [`Store::apply`]: users and invites another process may have added (`plexus users add` on
/// the same data dir), and the audit log for queries, exports and verification. Every store
/// brings one (SQLite: a second connection, [`sqlite_reader::SqliteReader`]).
pub trait StoreReader: Send {
    fn users(&self) -> Result<Vec<StoredUser>, StoreError>;
    /// Invites neither used nor expired at `now_unix_ms`.
    fn invites(&self, now_unix_ms: i64) -> Result<Vec<invites::Invite>, StoreError>;
    /// Audit records matching `filter`, oldest first (the newest `limit` when one is set).
    fn audit(
        &self,
        filter: &crate::api::security::AuditFilter,
    ) -> Result<Vec<crate::api::security::AuditRecord>, StoreError>;
    /// Walk the audit chain (and compare it with the head file, when there is one).
    fn verify_audit(
        &self,
        head: Option<&crate::engine::audit::head::HeadFile>,
    ) -> Result<crate::api::security::VerifyReport, StoreError>;
}
