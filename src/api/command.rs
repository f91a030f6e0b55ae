//! What a face can ask of the engine: commands change something, queries only read.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::alert::{Alert, AlertsReport, Matcher, Silence};
use super::chaos::{ChaosFaultView, ChaosSpec};
use super::event::EventEnvelope;
use super::fault::Fault;
use super::fl::{ClientUpdate, UpdateBatch};
use super::fl_run::{FlModelView, FlRunDetail, FlRunSpec, FlRunView};
use super::metrics::EngineMetrics;
use super::neuron::{LogLine, NeuronDetail, NeuronView};
use super::rollout::{
    Experiment, NeuronConfig, RolloutSummary, RolloutView, RolloutsReport, WavePlan,
};
use super::security::{
    AuditFilter, AuditRecord, ExportFormat, Permission, Role, SessionInfo, UserView, VerifyReport,
};
use super::status::{FailureView, StatusReport};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Force recovery of a neuron now (manual override), whatever its attempt count.
    Recover {
        neuron: String,
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
    /// Issue a new bearer token for a user (shown once); the old one and every session opened
    /// with it stop working at once.
    IssueToken {
        name: String,
    },
    /// Revoke a user's token and end the sessions opened with it.
    RevokeToken {
        name: String,
    },
    /// Remove a user; their token and sessions end.
    RemoveUser {
        name: String,
    },
    /// A one-time join token for agent `neuron`, valid for `ttl_ms` (shown once).
    InviteAgent {
        neuron: String,
        ttl_ms: u64,
    },
    /// Release an agent id from the key that enrolled it (its credential and sessions end).
    ForgetNeuron {
        neuron: String,
    },
    /// Change a user's role; their sessions end.
    SetRole {
        name: String,
        role: Role,
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
    /// A stress test ended with these threshold verdicts: the audit log keeps the outcome and
    /// every breach becomes a `StressThresholdBreached` event (the alert rule of that name).
    StressFinished {
        test_id: String,
        #[serde(default)]
        verdicts: Vec<crate::api::stress::Verdict>,
    },
    /// Remove every mock neuron a stress test registered (ids starting `stress-`).
    TestCleanup,
    /// Roll a config out to the neurons `selector` picks (all when empty): prepare, a durable
    /// decision, commit in waves, watch; reverted on any failure. Gets a new version. The
    /// config-push action class: rate-limited per user.
    BroadcastConfig {
        config: Box<NeuronConfig>,
        #[serde(default)]
        selector: String,
        /// The fleet version this push means to replace: another push got there first = conflict.
        #[serde(default)]
        expected_version: Option<String>,
        /// Validate and plan the waves; send nothing.
        #[serde(default)]
        dry_run: bool,
        #[serde(default)]
        plan: WavePlan,
    },
    /// Deploy an experiment variant through the same machinery; it reverts when its duration
    /// ends or when stopped (`Rollback`).
    BroadcastExperiment {
        experiment: Box<Experiment>,
        #[serde(default)]
        expected_version: Option<String>,
        #[serde(default)]
        dry_run: bool,
    },
    /// Stop the rollout in progress (reverting it), or roll the fleet back to `to` (default:
    /// the version the current one replaced).
    Rollback {
        #[serde(default)]
        to: Option<String>,
    },
    /// Acknowledge an alert: the console and `plexus alerts` show who is on it.
    AlertAck {
        fingerprint: String,
    },
    /// Mute the alerts all `matchers` select, from now for `duration_ms`.
    SilenceCreate {
        matchers: Vec<Matcher>,
        duration_ms: u64,
        #[serde(default)]
        comment: String,
    },
    /// End a silence now.
    SilenceExpire {
        id: String,
    },
    /// Start a federated-learning run across the fleet, trained on a worker thread.
    FlStart {
        #[serde(default)]
        config: FlRunSpec,
    },
    /// Stop a running FL run after its current round.
    FlStop {
        id: String,
    },
    /// A client's own update for the next round of a running FL run (the stress `fl-round`
    /// scenario: a mock neuron that fetched the model and trained on its partition).
    FlUpdate {
        id: String,
        update: ClientUpdate,
    },
}

impl Command {
    /// What the gate must allow.
    pub fn action(&self) -> Permission {
        match self {
            Command::Recover { .. } => Permission::NeuronRecover,
            Command::InjectFault { .. } | Command::ClearFaults { .. } => Permission::NeuronFault,
            Command::AddUser { .. }
            | Command::IssueToken { .. }
            | Command::RevokeToken { .. }
            | Command::RemoveUser { .. }
            | Command::SetRole { .. }
            | Command::ForgetNeuron { .. }
            | Command::InviteAgent { .. } => Permission::UsersManage,
            Command::ExportAudit { .. } => Permission::AuditExport,
            Command::ChaosInject { .. } | Command::ChaosStop { .. } => Permission::ChaosRun,
            Command::StressStart { .. }
            | Command::StressStop { .. }
            | Command::StressFinished { .. } => Permission::StressRun,
            Command::TestCleanup => Permission::TestCleanup,
            Command::BroadcastConfig { .. } | Command::Rollback { .. } => Permission::ConfigPush,
            Command::BroadcastExperiment { .. } => Permission::ExperimentDeploy,
            Command::AlertAck { .. } => Permission::AlertAck,
            Command::SilenceCreate { .. } | Command::SilenceExpire { .. } => {
                Permission::AlertSilence
            }
            Command::FlStart { .. } | Command::FlStop { .. } | Command::FlUpdate { .. } => {
                Permission::ExperimentDeploy
            }
        }
    }

    /// The name the audit log records: the action class, refined where one class has several
    /// commands (`plexus audit list --action users` matches `users.add` and `users.token`).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Recover { .. } => "neuron.recover",
            Command::InjectFault { .. } => "neuron.fault.inject",
            Command::ClearFaults { .. } => "neuron.fault.clear",
            Command::AddUser { .. } => "users.add",
            Command::IssueToken { .. } => "users.token",
            Command::RevokeToken { .. } => "users.revoke",
            Command::RemoveUser { .. } => "users.remove",
            Command::SetRole { .. } => "users.role",
            Command::ForgetNeuron { .. } => "neurons.forget",
            Command::InviteAgent { .. } => "neurons.invite",
            Command::ExportAudit { .. } => "audit.export",
            Command::ChaosInject { .. } => "chaos.inject",
            Command::ChaosStop { .. } => "chaos.stop",
            Command::StressStart { .. } => "stress.start",
            Command::StressFinished { .. } => "stress.finish",
            Command::StressStop { .. } => "stress.stop",
            Command::TestCleanup => "test.cleanup",
            Command::BroadcastConfig { .. } => "config.push",
            Command::BroadcastExperiment { .. } => "experiment.deploy",
            Command::Rollback { .. } => "config.rollback",
            Command::AlertAck { .. } => "alert.ack",
            Command::SilenceCreate { .. } => "alert.silence.create",
            Command::SilenceExpire { .. } => "alert.silence.expire",
            Command::FlStart { .. } => "fl.start",
            Command::FlStop { .. } => "fl.stop",
            Command::FlUpdate { .. } => "fl.update",
        }
    }

    /// What the command acts on, for the audit record.
    pub fn target(&self) -> String {
        match self {
            Command::Recover { neuron }
            | Command::InjectFault { neuron, .. }
            | Command::ClearFaults { neuron }
            | Command::ForgetNeuron { neuron }
            | Command::InviteAgent { neuron, .. } => neuron.clone(),
            Command::AddUser { name, .. }
            | Command::IssueToken { name }
            | Command::RevokeToken { name }
            | Command::RemoveUser { name }
            | Command::SetRole { name, .. } => name.clone(),
            Command::ExportAudit { .. } => "audit".into(),
            Command::ChaosInject { spec } => format!("{} → {}", spec.kind, spec.target),
            Command::ChaosStop { id } => id.clone(),
            Command::StressStart { test_id, profile } => format!("{test_id} ({profile})"),
            Command::StressFinished { test_id, .. } => test_id.clone(),
            Command::StressStop { test_id } => test_id.clone(),
            Command::TestCleanup => "mock neurons".into(),
            Command::BroadcastConfig { selector, .. } if selector.trim().is_empty() => {
                "all neurons".into()
            }
            Command::BroadcastConfig { selector, .. } => selector.clone(),
            Command::BroadcastExperiment { experiment, .. } => {
                format!("{} on {}", experiment.name, experiment.selector)
            }
            Command::Rollback { to } => to.clone().unwrap_or_else(|| "previous".into()),
            Command::AlertAck { fingerprint } => fingerprint.clone(),
            Command::SilenceCreate { matchers, .. } => {
                let parts: Vec<String> = matchers.iter().map(Matcher::to_string).collect();
                parts.join(",")
            }
            Command::SilenceExpire { id } => id.clone(),
            Command::FlStart { config: c } => {
                format!("{} / {} ({} rounds)", c.rule, c.attack, c.rounds)
            }
            Command::FlStop { id } => id.clone(),
            Command::FlUpdate { id, update } => format!("{id} ← {}", update.neuron),
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
        /// The attempt's unique id, as its `recovery_finished` event will carry it.
        #[serde(default)]
        attempt_id: u64,
    },
    FaultInjected {
        neuron: String,
        fault: String,
    },
    FaultsCleared {
        neuron: String,
    },
    NeuronForgotten {
        neuron: String,
    },
    /// The only time an invite is shown.
    AgentInvited {
        neuron: String,
        invite: String,
        expires: String,
    },
    UserAdded {
        user: UserView,
    },
    /// The only time the token is ever shown.
    TokenIssued {
        name: String,
        token: String,
    },
    /// A token was revoked, a user removed or a role changed; `sessions_ended` counts the
    /// sessions that ended with it.
    UserChanged {
        name: String,
        change: String,
        sessions_ended: usize,
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
    StressRecorded {
        test_id: String,
        breached: usize,
        /// Mock neurons that left the fleet with the test.
        #[serde(default)]
        mocks_removed: usize,
    },
    CleanedUp {
        /// Mock neurons removed.
        neurons: usize,
    },
    /// A rollout was accepted (or, for a dry run, only planned).
    RolloutStarted {
        rollout: RolloutSummary,
        dry_run: bool,
    },
    AlertAcked {
        alert: Box<Alert>,
    },
    SilenceCreated {
        silence: Silence,
    },
    SilenceExpired {
        silence: Silence,
    },
    FlStarted {
        run: Box<FlRunView>,
    },
    FlStopping {
        id: String,
    },
    /// The update joins round `round` of the run.
    FlUpdateQueued {
        id: String,
        round: u32,
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
                ..
            } => format!("recovery #{attempt} started on {neuron}: {strategy}"),
            CommandReply::FaultInjected { neuron, fault } => {
                format!("fault {fault} injected into {neuron}")
            }
            CommandReply::FaultsCleared { neuron } => format!("faults cleared on {neuron}"),
            CommandReply::AgentInvited {
                neuron, expires, ..
            } => format!("invite for agent {neuron}, one use, until {expires}"),
            CommandReply::NeuronForgotten { neuron } => {
                format!(
                    "{neuron} released: the next agent to register with this id enrols a new key"
                )
            }
            CommandReply::UserAdded { user } => {
                format!("user {} added as {}", user.name, user.role)
            }
            CommandReply::TokenIssued { name, .. } => format!("new token issued for {name}"),
            CommandReply::UserChanged {
                name,
                change,
                sessions_ended,
            } => format!("{name}: {change}; {sessions_ended} sessions ended"),
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
            CommandReply::StressRecorded {
                test_id,
                breached,
                mocks_removed,
            } => format!(
                "stress test {test_id} finished, {breached} thresholds breached, {mocks_removed} mock neurons removed"
            ),
            CommandReply::CleanedUp { neurons } => format!("{neurons} mock neurons removed"),
            CommandReply::RolloutStarted {
                rollout: r,
                dry_run,
            } => {
                if *dry_run {
                    return format!(
                        "dry run: would roll out {} → {} to {} neurons in {} waves (nothing started)",
                        r.replaces, r.version, r.targets, r.waves
                    );
                }
                format!(
                    "rollout r-{}: rolling out {} → {} to {} neurons in {} waves ({})",
                    r.id,
                    r.replaces,
                    r.version,
                    r.targets,
                    r.waves,
                    r.phase.as_str()
                )
            }
            CommandReply::AlertAcked { alert } => format!(
                "alert {} {} acknowledged by {}",
                alert.rule,
                alert.fingerprint,
                alert.acked_by.as_deref().unwrap_or("-")
            ),
            CommandReply::SilenceCreated { silence } => format!(
                "silence {} created for {}",
                silence.id,
                silence.matchers_text()
            ),
            CommandReply::SilenceExpired { silence } => {
                format!("silence {} expired", silence.id)
            }
            CommandReply::FlStarted { run } => format!(
                "fl run {} started: {} / {} on {} neurons, {} rounds",
                run.id, run.spec.rule, run.spec.attack, run.clients, run.rounds
            ),
            CommandReply::FlStopping { id } => format!("fl run {id} stopping"),
            CommandReply::FlUpdateQueued { id, round } => {
                format!("update queued for round {round} of fl run {id}")
            }
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
    /// The fleet's config version, drift (neurons per version) and recent rollouts.
    Rollouts,
    Rollout {
        id: u64,
    },
    /// Pending and firing alerts, grouped, and the recently resolved.
    Alerts,
    /// Active and pending silences.
    Silences,
    /// Engine-owned FL runs, oldest first.
    FlRuns,
    /// One FL run with its per-round history.
    FlRun {
        id: String,
    },
    /// The current global model of an FL run (what a client trains from).
    FlModel {
        id: String,
    },
    /// The updates an FL run received in `round` (runs started with `capture`; the last
    /// rounds only), in the `fl replay` file format.
    FlCapture {
        id: String,
        round: u32,
    },
}

impl Query {
    /// What the gate must allow.
    pub fn action(&self) -> Permission {
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
            | Query::Chaos
            | Query::Alerts
            | Query::Silences => Permission::NeuronView,
            Query::Users => Permission::UsersManage,
            Query::Audit { .. } | Query::VerifyAudit => Permission::AuditView,
            Query::Rollouts | Query::Rollout { .. } => Permission::ConfigView,
            Query::FlRuns
            | Query::FlRun { .. }
            | Query::FlModel { .. }
            | Query::FlCapture { .. } => Permission::ExperimentView,
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
            Query::Rollouts => "rollouts",
            Query::Rollout { .. } => "rollout",
            Query::Alerts => "alerts",
            Query::Silences => "silences",
            Query::FlRuns => "fl_runs",
            Query::FlRun { .. } => "fl_run",
            Query::FlModel { .. } => "fl_model",
            Query::FlCapture { .. } => "fl_capture",
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
    Rollouts(RolloutsReport),
    Rollout(Box<RolloutView>),
    Alerts(AlertsReport),
    Silences(Vec<Silence>),
    FlRuns(Vec<FlRunView>),
    FlRun(Box<FlRunDetail>),
    FlModel(Box<FlModelView>),
    FlCapture(Box<UpdateBatch>),
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
