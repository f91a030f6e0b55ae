//! Deterministic fixture data for snapshot tests, unit tests and benches: no engine, no clock.
//! Public (but hidden from docs) so `tests/` and `benches/` share one set of builders.

use std::sync::Arc;

use crate::api::{
    FailureMode, FailureView, FleetCondition, LogLine, NeuronDetail, NeuronState, NeuronView,
    Query, QueryReply, RecoveryAttemptView, RecoveryCounts, StateChange, StateCounts, StatusReport,
    status::{DetectionCounts, RecentRecovery},
};
use crate::client::BackendInfo;

/// A cheap, stable pseudo-random number per (index, salt), so rows differ without a RNG.
fn mix(i: usize, salt: u64) -> u64 {
    let mut x = (i as u64)
        .wrapping_add(salt)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

pub fn info() -> BackendInfo {
    BackendInfo {
        mode: "embedded".into(),
        federation: "atlas".into(),
        environment: "simulated".into(),
        user: "alice".into(),
        role: "operator".into(),
    }
}

/// The state of neuron `i`: mostly healthy, a few of every other state.
pub fn state_of(i: usize) -> NeuronState {
    match mix(i, 1) % 20 {
        0 => NeuronState::Offline,
        1 => NeuronState::Suspect,
        2 => NeuronState::Degraded,
        3 => NeuronState::ConfigFailed,
        4 => NeuronState::Recovering,
        5 => NeuronState::Pending,
        _ => NeuronState::Healthy,
    }
}

pub fn neuron(i: usize) -> NeuronView {
    let state = state_of(i);
    let reported = !matches!(state, NeuronState::Pending | NeuronState::Offline);
    let zones = ["eu-west", "us-east", "ap-south", "eu-central"];
    NeuronView {
        id: format!("n-{:04}", i + 1).into(),
        state,
        phi: match state {
            NeuronState::Offline => 16.0 + (mix(i, 2) % 40) as f64 / 10.0,
            NeuronState::Suspect => 8.0 + (mix(i, 2) % 30) as f64 / 10.0,
            _ => (mix(i, 2) % 200) as f64 / 100.0,
        },
        last_heartbeat_ms: (state != NeuronState::Pending).then(|| mix(i, 3) % 3_000),
        config_version: format!("v{}", 3 + mix(i, 4) % 3).into(),
        zone: zones[(mix(i, 5) % zones.len() as u64) as usize].into(),
        latency_ms: reported.then(|| 5.0 + (mix(i, 6) % 2_000) as f64 / 10.0),
        error_rate: reported.then(|| (mix(i, 7) % 500) as f64 / 10_000.0),
        load: reported.then(|| (mix(i, 8) % 100) as f64 / 100.0),
        rps: reported.then(|| (mix(i, 9) % 800) as f64),
        kind: "simulated".into(),
        escalated: state == NeuronState::Offline && mix(i, 10).is_multiple_of(2),
    }
}

pub fn neurons(n: usize) -> Vec<NeuronView> {
    (0..n).map(neuron).collect()
}

pub fn shared_neurons(n: usize) -> Arc<Vec<NeuronView>> {
    Arc::new(neurons(n))
}

pub fn counts(neurons: &[NeuronView]) -> StateCounts {
    let mut c = StateCounts {
        total: neurons.len() as u64,
        ..StateCounts::default()
    };
    for n in neurons {
        let slot = match n.state {
            NeuronState::Pending => &mut c.pending,
            NeuronState::Healthy => &mut c.healthy,
            NeuronState::Suspect => &mut c.suspect,
            NeuronState::Offline => &mut c.offline,
            NeuronState::Degraded => &mut c.degraded,
            NeuronState::ConfigFailed => &mut c.config_failed,
            NeuronState::Recovering => &mut c.recovering,
        };
        *slot += 1;
    }
    c
}

fn failure(neuron: &str, mode: FailureMode, attempts: u32, escalated: bool) -> FailureView {
    let evidence = match mode {
        FailureMode::Offline => "no heartbeat for 4.2s, phi 17.3, 3 probes unanswered",
        FailureMode::Timeout => "p50 latency 1840ms > 1000ms for 5 checks",
        FailureMode::ConfigFailure => "config v5 rejected: schema error at model.batch_size",
        FailureMode::AnalyticsFailure => "telemetry stopped 12s ago",
        FailureMode::Byzantine => "update norm 40x the median",
        FailureMode::Identity => "3 messages failed identity verification: MAC does not verify",
    };
    FailureView {
        neuron: neuron.into(),
        mode,
        since: "2025-03-14T09:26:53Z".into(),
        attempts,
        escalated,
        evidence: evidence.into(),
    }
}

/// Fleet size the status report describes (matches the snapshot tests' table).
pub const STATUS_FLEET: usize = 40;

/// A status report for a 40-neuron fleet with a few failures.
pub fn status() -> StatusReport {
    let fleet = neurons(STATUS_FLEET);
    StatusReport {
        federation: "atlas".into(),
        environment: "simulated".into(),
        at: "2025-03-14T09:30:00Z".into(),
        heartbeat_interval_ms: 1_000,
        neurons: counts(&fleet),
        failures: vec![
            failure("n-0003", FailureMode::Offline, 3, true),
            failure("n-0007", FailureMode::Timeout, 1, false),
            failure("n-0012", FailureMode::ConfigFailure, 0, false),
        ],
        recoveries: RecoveryCounts {
            attempted: 12,
            succeeded: 9,
            escalated: 1,
            success_rate: Some(0.818),
        },
        detections: DetectionCounts {
            offline: 5,
            timeout: 3,
            config_failure: 2,
            analytics_failure: 1,
            byzantine: 0,
            identity: 0,
        },
        recent_recoveries: (0..4)
            .map(|k| RecentRecovery {
                neuron: format!("n-{:04}", 20 - k * 3),
                mode: [FailureMode::Offline, FailureMode::Timeout][k % 2],
                attempt: 1 + (k as u32 % 2),
                strategy: ["restart", "reload_config"][k % 2].into(),
                outcome: ["succeeded", "failed"][usize::from(k == 2)].into(),
                at: format!("2025-03-14T09:2{}:1{}Z", 9 - k, k),
            })
            .collect(),
        conditions: Vec::new(),
        config_versions: vec![
            crate::api::rollout::VersionCount {
                version: "v4".into(),
                neurons: 30,
            },
            crate::api::rollout::VersionCount {
                version: "v3".into(),
                neurons: 10,
            },
        ],
        refresh_ms: 250,
        verdict_latency: crate::api::VerdictLatency {
            heartbeats: 600,
            p50_ms: 26,
            p99_ms: 51,
            max_ms: 60,
            window_ms: 15_000,
        },
    }
}

/// [`status`] with a raised fleet condition, for the header warning.
pub fn status_with_condition() -> StatusReport {
    let mut s = status();
    s.conditions.push(FleetCondition {
        kind: "fleet_silence".into(),
        since: "2025-03-14T09:29:40Z".into(),
        detail: "40% of neurons went silent at once; convictions paused".into(),
    });
    s
}

/// Healthy counts over time: a dip and a recovery.
pub fn history() -> Vec<u64> {
    (0..120u64)
        .map(|t| match t {
            40..=55 => 14 + (t % 3),
            56..=70 => 16 + (t - 56) / 4,
            _ => 20 + (t % 2),
        })
        .collect()
}

pub fn logs(n: usize) -> Vec<LogLine> {
    let msgs = [
        ("INFO", "heartbeat sent seq=4411"),
        ("INFO", "config v4 applied"),
        ("WARN", "request queue above 80%"),
        ("ERROR", "inference worker 2 crashed: out of memory"),
        ("INFO", "restarting worker pool"),
    ];
    (0..n)
        .map(|i| {
            let (level, message) = msgs[i % msgs.len()];
            LogLine {
                at: format!("2025-03-14T09:29:{:02}Z", 10 + i % 50),
                level: level.into(),
                message: message.into(),
            }
        })
        .collect()
}

/// A failing neuron with a history, one failed recovery and one in progress.
pub fn detail(id: &str) -> NeuronDetail {
    let mut neuron = neuron(2);
    neuron.id = id.into();
    neuron.state = NeuronState::Recovering;
    let change = |at: &str, from, to, reason: &str| StateChange {
        at: at.into(),
        from,
        to,
        reason: reason.into(),
    };
    NeuronDetail {
        neuron,
        labels: vec![
            ("model".into(), "resnet50".into()),
            ("gpu".into(), "a100".into()),
        ],
        heartbeat_interval_ms: 1_000,
        interval_mean_ms: Some(1_003.4),
        interval_stddev_ms: Some(41.7),
        history: vec![
            change(
                "2025-03-14T09:20:01Z",
                NeuronState::Pending,
                NeuronState::Healthy,
                "first heartbeat",
            ),
            change(
                "2025-03-14T09:26:50Z",
                NeuronState::Healthy,
                NeuronState::Suspect,
                "phi 8.4 > 8.0",
            ),
            change(
                "2025-03-14T09:26:53Z",
                NeuronState::Suspect,
                NeuronState::Offline,
                "3 probes unanswered",
            ),
            change(
                "2025-03-14T09:26:54Z",
                NeuronState::Offline,
                NeuronState::Recovering,
                "auto recovery #1",
            ),
        ],
        failure: Some(failure(id, FailureMode::Offline, 2, false)),
        recovery_attempts: vec![
            RecoveryAttemptView {
                attempt: 1,
                id: 11,
                strategy: "restart".into(),
                manual: false,
                started: "2025-03-14T09:26:54Z".into(),
                outcome: "failed".into(),
                mode: FailureMode::Offline,
            },
            RecoveryAttemptView {
                attempt: 2,
                id: 12,
                strategy: "reschedule".into(),
                manual: true,
                started: "2025-03-14T09:28:02Z".into(),
                outcome: "in_progress".into(),
                mode: FailureMode::Offline,
            },
        ],
        logs: logs(8),
        identity: None,
    }
}

/// The canned answer to a query about a fleet of `fleet` fixture neurons (fake backends in tests
/// and the demo share it).
pub fn answer(query: Query, fleet: usize) -> QueryReply {
    match query {
        Query::Status => QueryReply::Status(Box::new(status())),
        Query::Neurons => QueryReply::Neurons(shared_neurons(fleet)),
        Query::Neuron { id } => QueryReply::Neuron(Box::new(detail(&id))),
        Query::Logs { tail, .. } => QueryReply::Logs(logs(tail.min(40))),
        Query::HealthHistory => QueryReply::HealthHistory(history()),
        Query::Failures => QueryReply::Failures(status().failures),
        Query::RecentEvents { .. } => QueryReply::Events(Vec::new()),
        Query::Users => QueryReply::Users(Vec::new()),
        Query::EventsSince { .. } => QueryReply::Events(Vec::new()),
        Query::Metrics => QueryReply::Metrics(Default::default()),
        Query::Rollouts => {
            QueryReply::Rollouts(super::screens::rollouts::fixtures::rollouts_report())
        }
        Query::Rollout { id } => QueryReply::Rollout(Box::new(
            super::screens::rollouts::fixtures::rollout_view(id),
        )),
        Query::Audit { .. } => QueryReply::Audit(audit(30)),
        Query::Alerts => QueryReply::Alerts(super::screens::alerts::fixtures::alerts_report()),
        Query::Silences => QueryReply::Silences(Vec::new()),
        Query::VerifyAudit => QueryReply::Verify(crate::api::security::VerifyReport {
            intact: true,
            records: 0,
            first_bad_seq: None,
            problem: None,
            checkpoint_seq: 0,
            head_seq: None,
            trust: String::new(),
        }),
        Query::Session => QueryReply::Session(crate::api::SessionInfo {
            id: "s-fixture".into(),
            user: "ops".into(),
            role: crate::api::Role::Admin,
            started: "2026-01-01T00:00:00.000Z".into(),
            started_unix_ms: 1_767_225_600_000,
            source: "local".into(),
            read_only: false,
            idle_timeout_ms: 3_600_000,
        }),
        Query::Chaos => QueryReply::Chaos(Vec::new()),
        Query::FlRuns => QueryReply::FlRuns(super::screens::fl::fixtures::runs()),
        Query::FlRun { id } => {
            QueryReply::FlRun(Box::new(super::screens::fl::fixtures::detail(&id)))
        }
        Query::FlModel { .. } => QueryReply::FlModel(Box::new(crate::api::fl_run::FlModelView {
            run: "fl-1".into(),
            round: 0,
            dataset: crate::api::fl::DatasetName::Digits,
            weights: Vec::new(),
        })),
        Query::FlCapture { .. } => QueryReply::FlCapture(Box::default()),
    }
}

/// The fixture session: alice, operator, started at [`SESSION_START_MS`].
pub fn session(role: crate::api::Role, read_only: bool) -> crate::api::SessionInfo {
    crate::api::SessionInfo {
        id: "s-0001".into(),
        user: "alice".into(),
        role,
        started: "2025-03-14T09:18:00Z".into(),
        started_unix_ms: SESSION_START_MS,
        source: "local tty=/dev/pts/1 pid=4242".into(),
        read_only,
        idle_timeout_ms: 3_600_000,
    }
}

/// 2025-03-14T09:18:00Z: twelve minutes before the fixture status report.
pub const SESSION_START_MS: i64 = 1_741_943_880_000;
/// The fixture status report's time, in unix ms.
pub const NOW_MS: i64 = SESSION_START_MS + 12 * 60_000;

/// `n` audit records: mostly allowed recoveries, some denied pushes and a failure.
pub fn audit(n: usize) -> Vec<crate::api::AuditRecord> {
    use crate::api::security::AuditOutcome;
    let users = [("alice", "operator"), ("bob", "viewer"), ("root", "admin")];
    (0..n)
        .map(|i| {
            let (user, role) = users[(mix(i, 11) % 3) as usize];
            let (action, outcome, code, message) = match mix(i, 12) % 6 {
                0 if role == "viewer" => (
                    "neuron.recover",
                    AuditOutcome::Denied,
                    Some("denied"),
                    Some("role viewer may not neuron.recover".to_string()),
                ),
                1 => (
                    "config.push",
                    AuditOutcome::Failed,
                    Some("failed"),
                    Some("neuron n-0009 did not apply v5".into()),
                ),
                2 => ("neuron.view", AuditOutcome::Allowed, None, None),
                _ => ("neuron.recover", AuditOutcome::Allowed, None, None),
            };
            crate::api::AuditRecord {
                seq: i as u64 + 1,
                at: format!("2025-03-14T09:{:02}:{:02}Z", 18 + i / 60 % 12, i % 60),
                user: user.into(),
                role: role.into(),
                session: format!("s-{:04}", 1 + mix(i, 13) % 4),
                source: "local tty=/dev/pts/1 pid=4242".into(),
                action: action.into(),
                target: format!("n-{:04}", 1 + mix(i, 14) % 40),
                params_digest: format!("{:016x}", mix(i, 15)),
                outcome,
                error_code: code.map(str::to_string),
                message,
                prev_hash: format!("{:016x}", mix(i, 16)),
                hash: format!("{:016x}", mix(i + 1, 16)),
            }
        })
        .collect()
}

/// A console on fixture data, signed in as `role` (not read-only).
pub fn app_as(role: crate::api::Role) -> crate::tui::app::App {
    let mut app = crate::tui::app::App::new(info());
    app.session = Some(session(role, false));
    app
}

/// Presses each character of `text` as a key, as a person types it; the last key's outcome.
pub fn press(app: &mut crate::tui::app::App, text: &str) -> crate::tui::chrome::Outcome {
    let mut last = crate::tui::chrome::Outcome::default();
    for c in text.chars() {
        last = app.update(key(crossterm::event::KeyCode::Char(c)));
    }
    last
}

/// Presses Enter.
pub fn press_enter(app: &mut crate::tui::app::App) -> crate::tui::chrome::Outcome {
    app.update(key(crossterm::event::KeyCode::Enter))
}

fn key(code: crossterm::event::KeyCode) -> crate::tui::msg::Msg {
    crate::tui::msg::Msg::Key(crossterm::event::KeyEvent::from(code))
}
