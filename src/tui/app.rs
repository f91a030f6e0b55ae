//! The console's state and its update function. No terminal, no clock, no I/O: messages come in,
//! state changes, and effects (things only the event loop can do) come out.

mod fl;
pub use fl::{FlData, FlState};

use crossterm::event::KeyEvent;
use std::cmp::Ordering;
use std::sync::Arc;

use super::actions::{Action, ActionSpec, Registry, Scope};
use super::filter::Filter;
use super::input::{InputKind, InputLine};
use super::palette::{History, Palette, Run};
use super::theme::Theme;
use crate::api::security::AuditFilter;
use crate::api::{
    ApiError, AuditRecord, Command, CommandReply, ErrorCode, LogLine, NeuronDetail, NeuronState,
    NeuronView, Role, SessionInfo, StatusReport,
};
use crate::client::BackendInfo;

/// How many log lines the detail view asks for.
pub const LOG_TAIL: usize = 200;
/// How long (in 1 Hz ticks) a flash message stays up.
const FLASH_TICKS: u64 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Neurons,
    Overview,
    Detail,
    Audit,
    Rollouts,
    Fl,
    Alerts,
    Stress,
    Chaos,
}

impl View {
    pub fn scope(self) -> Scope {
        match self {
            View::Neurons => Scope::Neurons,
            View::Overview => Scope::Overview,
            View::Detail => Scope::Detail,
            View::Audit => Scope::Audit,
            View::Rollouts => Scope::Rollouts,
            View::Fl => Scope::Fl,
            View::Alerts => Scope::Alerts,
            View::Stress => Scope::Stress,
            View::Chaos => Scope::Chaos,
        }
    }
}

/// A column of the neurons table, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Id,
    State,
    Phi,
    Heartbeat,
    Latency,
    ErrorRate,
    Config,
    Zone,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Id,
        Column::State,
        Column::Phi,
        Column::Heartbeat,
        Column::Latency,
        Column::ErrorRate,
        Column::Config,
        Column::Zone,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Id => "ID",
            Column::State => "STATE",
            Column::Phi => "PHI",
            Column::Heartbeat => "HB AGE",
            Column::Latency => "LAT",
            Column::ErrorRate => "ERR%",
            Column::Config => "CONFIG",
            Column::Zone => "ZONE",
        }
    }

    fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }

    /// Compares two rows by this column alone. Missing numbers sort after present ones.
    fn compare(self, a: &NeuronView, b: &NeuronView) -> Ordering {
        fn opt(a: Option<f64>, b: Option<f64>) -> Ordering {
            match (a, b) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
        match self {
            Column::Id => super::natural::cmp(&a.id, &b.id),
            Column::State => severity(a.state).cmp(&severity(b.state)),
            Column::Phi => opt(a.observed_phi(), b.observed_phi()),
            Column::Heartbeat => opt(
                a.last_heartbeat_ms.map(|v| v as f64),
                b.last_heartbeat_ms.map(|v| v as f64),
            ),
            Column::Latency => opt(a.latency_ms, b.latency_ms),
            Column::ErrorRate => opt(a.error_rate, b.error_rate),
            Column::Config => super::natural::cmp(&a.config_version, &b.config_version),
            Column::Zone => super::natural::cmp(&a.zone, &b.zone),
        }
    }
}

/// Sorting by state orders by how bad it is (healthy first; `S` puts the worst on top).
fn severity(state: NeuronState) -> u8 {
    match state {
        NeuronState::Healthy => 0,
        NeuronState::Pending => 1,
        NeuronState::Recovering => 2,
        NeuronState::Suspect => 3,
        NeuronState::Degraded => 4,
        NeuronState::ConfigFailed => 5,
        NeuronState::Offline => 6,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

/// An order-preserving integer key for the numeric columns (and state), so sorting compares
/// plain integers instead of chasing each row; `None` for the text columns. Missing numbers map
/// to `u64::MAX` (last when ascending).
fn numeric_key(column: Column, n: &NeuronView) -> Option<u64> {
    fn f64_key(v: Option<f64>) -> u64 {
        match v {
            // Flip the sign bit (positives) or all bits (negatives): IEEE order becomes u64 order.
            Some(v) => {
                let bits = v.to_bits();
                if bits >> 63 == 1 {
                    !bits
                } else {
                    bits | 1 << 63
                }
            }
            None => u64::MAX,
        }
    }
    match column {
        Column::State => Some(u64::from(severity(n.state))),
        Column::Phi => Some(f64_key(n.observed_phi())),
        Column::Heartbeat => Some(
            n.last_heartbeat_ms
                .map_or(u64::MAX, |v| v.min(u64::MAX - 1)),
        ),
        Column::Latency => Some(f64_key(n.latency_ms)),
        Column::ErrorRate => Some(f64_key(n.error_rate)),
        Column::Id | Column::Config | Column::Zone => None,
    }
}

/// The sorted, index-only view of the neurons: frames read it, only new data or a new sort
/// rebuilds it. Ties keep the backend's order (by index), so rows do not jump between refreshes.
pub fn sorted_order(neurons: &[NeuronView], sort: Sort) -> Vec<u32> {
    if neurons
        .first()
        .is_some_and(|n| numeric_key(sort.column, n).is_some())
    {
        let mut keyed: Vec<(u64, u32)> = neurons
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let key = numeric_key(sort.column, n).unwrap_or(u64::MAX);
                (if sort.descending { !key } else { key }, i as u32)
            })
            .collect();
        keyed.sort_unstable();
        return keyed.into_iter().map(|(_, i)| i).collect();
    }
    let mut order: Vec<u32> = (0..neurons.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| {
        let primary = sort
            .column
            .compare(&neurons[a as usize], &neurons[b as usize]);
        let primary = if sort.descending {
            primary.reverse()
        } else {
            primary
        };
        primary.then(a.cmp(&b))
    });
    order
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Confirm,
}

/// A question before a dangerous action. Opens with Cancel focused.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    pub confirm_label: &'static str,
    pub command: Command,
    pub focus: Button,
    /// How many neurons the command touches (said in the dialog).
    pub touches: usize,
    /// Fleet-wide actions: the federation name must be typed before Confirm does anything.
    pub typed: Option<Typed>,
    /// What Confirm does instead of submitting `command` (e.g. aborting an experiment).
    pub then: Option<Effect>,
}

/// The text the operator must type to arm a fleet-wide dialog.
#[derive(Debug, Clone)]
pub struct Typed {
    pub expected: String,
    pub input: tui_input::Input,
}

impl PartialEq for Typed {
    fn eq(&self, other: &Self) -> bool {
        self.expected == other.expected && self.input.value() == other.input.value()
    }
}

impl Confirm {
    /// Whether Confirm may run: always, unless a typed name is still missing.
    pub fn armed(&self) -> bool {
        self.typed
            .as_ref()
            .is_none_or(|t| t.input.value() == t.expected)
    }
}

/// The audit view's data: the newest records of the query, and the rows the filter lets through.
#[derive(Debug, Clone, Default)]
pub struct AuditState {
    pub records: Vec<AuditRecord>,
    /// Indices into `records`, oldest first.
    pub order: Vec<u32>,
    pub selected: usize,
    pub offset: usize,
    pub filter: Option<Filter>,
    /// What the periodic query asks the backend for.
    pub query: AuditFilter,
}

/// The rollouts view's data: the report and the selected rollout in full.
#[derive(Debug, Clone, Default)]
pub struct RolloutsState {
    pub report: Option<crate::api::rollout::RolloutsReport>,
    pub detail: Option<crate::api::rollout::RolloutView>,
    /// Index into the report's rollouts, newest first.
    pub selected: usize,
}

impl RolloutsState {
    /// The id of the selected rollout (the list shows the newest first).
    pub fn selected_id(&self) -> Option<u64> {
        let r = self.report.as_ref()?;
        r.rollouts.iter().rev().nth(self.selected).map(|s| s.id)
    }
}

/// The alerts view's data; rows are the pending and firing alerts in group order, then the
/// recently resolved.
#[derive(Debug, Clone, Default)]
pub struct AlertsState {
    pub report: Option<crate::api::alert::AlertsReport>,
    pub selected: usize,
}

impl AlertsState {
    pub fn rows(&self) -> Vec<&crate::api::alert::Alert> {
        self.report
            .as_ref()
            .map(|r| r.active().chain(&r.resolved).collect())
            .unwrap_or_default()
    }

    pub fn selected_alert(&self) -> Option<&crate::api::alert::Alert> {
        self.rows().get(self.selected).copied()
    }
}

/// How many audit records the live tail keeps.
pub const AUDIT_TAIL: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
    expires_at_tick: u64,
}

/// The detail view's data for one neuron.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    pub id: String,
    pub detail: Option<NeuronDetail>,
    pub logs: Vec<LogLine>,
}

/// The rollout report and the selected rollout in full.
pub type RolloutsData = (
    crate::api::rollout::RolloutsReport,
    Option<crate::api::rollout::RolloutView>,
);

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// 1 Hz: expires the flash line.
    Tick,
    Fleet {
        status: Result<StatusReport, ApiError>,
        neurons: Result<Arc<Vec<NeuronView>>, ApiError>,
    },
    Detail {
        id: String,
        detail: Result<NeuronDetail, ApiError>,
        logs: Result<Vec<LogLine>, ApiError>,
    },
    History(Result<Vec<u64>, ApiError>),
    CommandDone(Command, Result<CommandReply, ApiError>),
    Audit(Result<Vec<AuditRecord>, ApiError>),
    Rollouts(Result<RolloutsData, ApiError>),
    Fl(Result<FlData, ApiError>),
    /// The answer to a new-session request.
    SessionRenewed(Result<SessionInfo, ApiError>),
    /// The wall clock (unix ms), for the session age; sent about once a second.
    Now(i64),
    Alerts(Result<crate::api::alert::AlertsReport, ApiError>),
    /// The running or newest stress test's progress.
    Stress(Result<crate::api::stress::Progress, ApiError>),
    /// The answer to a stress start.
    StressStarted(Result<crate::api::stress::StressStarted, ApiError>),
    /// Faults the engine holds or held.
    Chaos(Result<Vec<crate::api::chaos::ChaosFaultView>, ApiError>),
    /// The console's experiment after a poll (or its end, or why it could not run).
    Experiment(Result<Box<crate::experiment::Progress>, ApiError>),
    /// Engine events after the drill watcher's newest, for drills' detection.
    ChaosEvents(Result<Vec<crate::api::EventEnvelope>, ApiError>),
}

/// What the update asks the event loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    Submit(Command),
    /// Fetch now rather than at the next tick (e.g. the detail view just opened).
    Refresh,
    RenewSession,
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Capture the mouse (true) or release it.
    SetMouse(bool),
    /// Hand the terminal back to the shell until resumed.
    Suspend,
    /// Ask the backend to start a stress test (the gate admits it).
    StartStress(crate::api::stress::StressRequest),
    /// Run a shipped chaos experiment in a task of the console.
    RunExperiment(String),
    /// Cancel the console's experiment (its rollbacks run).
    AbortExperiment,
}

/// The result of one update.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub redraw: bool,
    pub effect: Option<Effect>,
}

impl Outcome {
    /// This outcome, but redrawing (a palette command always changes the screen: it closed).
    fn or_redraw(self) -> Self {
        Outcome {
            redraw: true,
            ..self
        }
    }
    pub(super) fn redraw() -> Self {
        Outcome {
            redraw: true,
            effect: None,
        }
    }
    pub(super) fn effect(effect: Effect) -> Self {
        Outcome {
            redraw: true,
            effect: Some(effect),
        }
    }
}

/// What the console shows for an action the gate would refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Read-only session: the action is not offered at all.
    Hidden,
    /// The role lacks the permission: shown greyed, with the reason.
    Greyed(String),
}

pub struct App {
    pub info: BackendInfo,
    pub registry: Registry,
    pub view: View,
    /// Where Esc from the detail view goes.
    pub detail_return: View,
    pub status: Option<StatusReport>,
    pub neurons: Arc<Vec<NeuronView>>,
    /// Indices into `neurons`, in display order.
    pub order: Vec<u32>,
    pub sort: Sort,
    /// Position in `order`.
    pub selected: usize,
    /// First visible position in `order`.
    pub offset: usize,
    pub history: Vec<u64>,
    pub detail: Option<DetailState>,
    pub confirm: Option<Confirm>,
    pub help: bool,
    /// The help shows the palette's commands instead of the keys (Tab switches).
    pub help_commands: bool,
    pub flash: Option<Flash>,
    /// Terminal size, for paging and scrolling.
    pub size: (u16, u16),
    ticks: u64,
    pub theme: Arc<Theme>,
    pub ascii: bool,
    pub session: Option<SessionInfo>,
    /// Unix ms, for the session age.
    pub now_ms: i64,
    /// The gate said the session expired; `R` or `:session` starts a new one.
    pub session_expired: bool,
    /// The neurons table filter.
    pub filter: Option<Filter>,
    /// The `:` palette or `/` filter line, when open.
    pub input: Option<InputLine>,
    pub palette: Palette,
    pub palette_history: History,
    pub filter_history: History,
    pub audit: AuditState,
    pub rollouts: RolloutsState,
    pub fl: FlState,
    pub alerts: AlertsState,
    pub mouse: bool,
    pub stress: super::stress::StressState,
    pub chaos: super::chaos::ChaosState,
    /// The widest id, config version and zone in the fleet (columns follow their content).
    pub text_widths: TextWidths,
    /// The last fleet report's own time, and the local time (unix ms) it was first seen.
    fleet_seen: Option<(String, i64)>,
}

/// Widths (in characters) of the text columns' longest values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TextWidths {
    pub id: usize,
    pub config: usize,
    pub zone: usize,
}

impl TextWidths {
    fn of(neurons: &[NeuronView]) -> Self {
        let mut w = TextWidths::default();
        for n in neurons {
            w.id = w.id.max(n.id.chars().count());
            w.config = w.config.max(n.config_version.chars().count());
            w.zone = w.zone.max(n.zone.chars().count());
        }
        w
    }
}

/// Data older than this is marked stale: two of the engine's publishing periods (at least 1 s
/// each; larger fleets publish less often and say so in the status report).
pub fn stale_after_ms(status: Option<&StatusReport>) -> i64 {
    2 * status.map_or(1000, |s| s.refresh_ms.max(1000)) as i64
}

impl App {
    pub fn new(info: BackendInfo) -> Self {
        App {
            info,
            registry: Registry::default(),
            view: View::Neurons,
            detail_return: View::Neurons,
            status: None,
            neurons: Arc::new(Vec::new()),
            order: Vec::new(),
            sort: Sort {
                column: Column::Id,
                descending: false,
            },
            selected: 0,
            offset: 0,
            history: Vec::new(),
            detail: None,
            confirm: None,
            help: false,
            flash: None,
            size: (80, 24),
            ticks: 0,
            theme: Arc::new(Theme::default()),
            ascii: false,
            session: None,
            now_ms: 0,
            session_expired: false,
            filter: None,
            input: None,
            palette: Palette::default(),
            palette_history: History::default(),
            filter_history: History::default(),
            audit: AuditState::default(),
            rollouts: RolloutsState::default(),
            fl: FlState::default(),
            alerts: AlertsState::default(),
            mouse: false,
            stress: Default::default(),
            text_widths: TextWidths::default(),
            help_commands: false,
            fleet_seen: None,
            chaos: Default::default(),
        }
    }

    /// The role the gate will judge us by: the session's, else the backend's label.
    pub fn role(&self) -> Option<Role> {
        self.session
            .as_ref()
            .map(|s| s.role)
            .or_else(|| Role::parse(&self.info.role))
    }

    /// How long the fleet data has not moved on: since its report's own time last changed (the
    /// engine republishes at least every second), however many fetches came back meanwhile.
    pub fn data_age_ms(&self) -> Option<i64> {
        self.fleet_seen
            .as_ref()
            .map(|(_, seen)| (self.now_ms - seen).max(0))
    }

    /// Whether what is on screen is older than two publishing periods (see [`stale_after_ms`]).
    pub fn stale(&self) -> bool {
        self.data_age_ms()
            .is_some_and(|age| age > stale_after_ms(self.status.as_ref()))
    }

    pub fn read_only(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.read_only)
    }

    /// Why the gate would refuse `spec`, if it would: `Hidden` in read-only mode for anything
    /// that changes the fleet, `Greyed` when the role lacks the permission. Only a preview: the
    /// gate decides.
    pub fn refusal(&self, spec: &ActionSpec) -> Option<Refusal> {
        let permission = spec.permission?;
        if self.read_only() && permission.mutates() {
            return Some(Refusal::Hidden);
        }
        let role = self.role()?;
        (!crate::api::rbac::allowed(role, permission))
            .then(|| Refusal::Greyed(crate::api::rbac::refusal(role, permission)))
    }

    /// The session age as shown in the header (minute resolution, so it redraws once a minute).
    pub fn session_age(&self) -> Option<String> {
        let s = self.session.as_ref()?;
        let minutes = (self.now_ms - s.started_unix_ms).max(0) / 60_000;
        Some(if minutes < 1 {
            "<1m".into()
        } else if minutes < 60 {
            format!("{minutes}m")
        } else {
            format!("{}h{:02}m", minutes / 60, minutes % 60)
        })
    }

    /// The neuron under the cursor.
    pub fn selected_neuron(&self) -> Option<&NeuronView> {
        let index = *self.order.get(self.selected)?;
        self.neurons.get(index as usize)
    }

    /// The scopes whose keys are live right now, most specific first.
    pub fn active_scopes(&self) -> Vec<Scope> {
        if self.input.is_some() {
            vec![Scope::Input]
        } else if self.confirm.is_some() {
            vec![Scope::Confirm]
        } else if self.help {
            vec![Scope::Help]
        } else {
            vec![self.view.scope(), Scope::Global]
        }
    }

    /// The id the event loop should fetch detail and logs for.
    pub fn detail_id(&self) -> Option<&str> {
        match self.view {
            View::Detail => self.detail.as_ref().map(|d| d.id.as_str()),
            _ => None,
        }
    }

    pub fn update(&mut self, msg: Msg) -> Outcome {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Resize { width, height } => {
                self.size = (width, height);
                self.scroll_into_view();
                Outcome::redraw()
            }
            Msg::Tick => {
                self.ticks += 1;
                match &self.flash {
                    Some(f) if f.expires_at_tick <= self.ticks => {
                        self.flash = None;
                        Outcome::redraw()
                    }
                    _ => Outcome::default(),
                }
            }
            Msg::Fleet { status, neurons } => {
                let mut changed = false;
                if let (Ok(s), Ok(n)) = (&status, &neurons) {
                    let before = self.chaos.drills.clone();
                    self.chaos.drills.poll(&s.at, n);
                    changed |= self.chaos.drills != before;
                }
                match status {
                    Ok(s) => {
                        if self.fleet_seen.as_ref().is_none_or(|(at, _)| *at != s.at) {
                            self.fleet_seen = Some((s.at.clone(), self.now_ms));
                        }
                        changed |= self.status.as_ref() != Some(&s);
                        self.status = Some(s);
                    }
                    Err(e) => changed |= self.show_error(&e),
                }
                match neurons {
                    Ok(n) => changed |= self.set_neurons(n),
                    Err(e) => changed |= self.show_error(&e),
                }
                Outcome {
                    redraw: changed,
                    effect: None,
                }
            }
            Msg::Detail { id, detail, logs } => self.on_detail(id, detail, logs),
            Msg::History(Ok(h)) => {
                let changed = h != self.history;
                self.history = h;
                Outcome {
                    redraw: changed,
                    effect: None,
                }
            }
            Msg::History(Err(e)) => self.failed(&e),
            Msg::CommandDone(command, result) => {
                match result {
                    Ok(reply) => self.set_flash(FlashKind::Info, reply.summary()),
                    Err(e) if self.note_expiry(&e) => {}
                    Err(e) => self.set_flash(
                        FlashKind::Error,
                        format!(
                            "{} {} failed: {}",
                            command.name(),
                            command.target(),
                            e.message
                        ),
                    ),
                }
                // The fleet changed: show it without waiting for the next tick.
                Outcome::effect(Effect::Refresh)
            }
            Msg::Audit(Ok(records)) => Outcome {
                redraw: self.set_audit(records),
                effect: None,
            },
            Msg::Audit(Err(e)) => self.failed(&e),
            Msg::Rollouts(Ok((report, detail))) => {
                let changed = self.rollouts.report.as_ref() != Some(&report)
                    || self.rollouts.detail != detail;
                self.rollouts.report = Some(report);
                self.rollouts.detail = detail;
                Outcome {
                    redraw: changed,
                    effect: None,
                }
            }
            Msg::Rollouts(Err(e)) => self.failed(&e),
            Msg::Fl(data) => self.on_fl(data),
            Msg::Alerts(Ok(report)) => {
                let changed = self.alerts.report.as_ref() != Some(&report);
                self.alerts.report = Some(report);
                let rows = self.alerts.rows().len();
                self.alerts.selected = self.alerts.selected.min(rows.saturating_sub(1));
                Outcome {
                    redraw: changed,
                    effect: None,
                }
            }
            Msg::Alerts(Err(e)) => self.failed(&e),
            Msg::SessionRenewed(Ok(session)) => {
                self.set_flash(
                    FlashKind::Info,
                    format!(
                        "new session {} for {} ({})",
                        session.id, session.user, session.role
                    ),
                );
                self.session = Some(session);
                self.session_expired = false;
                Outcome::effect(Effect::Refresh)
            }
            Msg::SessionRenewed(Err(e)) => {
                self.set_flash(FlashKind::Error, format!("no new session: {}", e.message));
                Outcome::redraw()
            }
            Msg::Now(ms) => {
                let before = (self.session_age(), self.data_age_ms().map(|a| a / 1000));
                self.now_ms = ms;
                Outcome {
                    redraw: before != (self.session_age(), self.data_age_ms().map(|a| a / 1000)),
                    effect: None,
                }
            }
            Msg::Stress(progress) => self.on_stress(progress),
            Msg::StressStarted(started) => self.on_stress_started(started),
            Msg::Chaos(faults) => self.on_chaos(faults),
            Msg::Experiment(p) => self.on_experiment(p.map(|b| *b)),
            Msg::ChaosEvents(events) => self.on_chaos_events(events),
        }
    }

    /// A denial because the session expired: say so and offer a new one. True when it was one.
    fn note_expiry(&mut self, e: &ApiError) -> bool {
        if e.code != ErrorCode::SessionExpired {
            return false;
        }
        let key = self
            .registry
            .actions(Scope::Global)
            .iter()
            .find(|s| s.action == Action::RenewSession)
            .and_then(|s| s.keys.first())
            .map_or_else(
                || ":session".to_string(),
                |k| format!("{} or :session", k.label()),
            );
        let text = format!("session expired: press {key} for a new session");
        let changed = !self.session_expired || self.flash.as_ref().is_none_or(|f| f.text != text);
        self.session_expired = true;
        if changed {
            self.set_flash(FlashKind::Error, text);
        } else if let Some(f) = &mut self.flash {
            f.expires_at_tick = self.ticks + FLASH_TICKS;
        }
        true
    }

    /// Replaces the audit tail; keeps following the newest record when the cursor was on it.
    fn set_audit(&mut self, records: Vec<AuditRecord>) -> bool {
        if records == self.audit.records {
            return false;
        }
        let at_end = self.audit.selected + 1 >= self.audit.order.len();
        self.audit.records = records;
        self.refilter_audit();
        if at_end {
            self.audit.selected = usize::MAX;
        }
        self.clamp_selection();
        true
    }

    fn refilter_audit(&mut self) {
        let filter = self.audit.filter.as_ref();
        self.audit.order = (0..self.audit.records.len() as u32)
            .filter(|&i| filter.is_none_or(|f| f.matches(&self.audit.records[i as usize])))
            .collect();
    }

    /// Replaces the fleet data; re-sorts only if it actually changed. Keeps the cursor on the same
    /// neuron when it is still there, otherwise clamps it.
    fn set_neurons(&mut self, neurons: Arc<Vec<NeuronView>>) -> bool {
        if Arc::ptr_eq(&neurons, &self.neurons) || *neurons == *self.neurons {
            return false;
        }
        let selected_id = self.selected_neuron().map(|n| n.id.clone());
        self.text_widths = TextWidths::of(&neurons);
        self.neurons = neurons;
        self.order = self.filtered_order();
        self.reselect(selected_id);
        true
    }

    fn resort(&mut self) {
        let selected_id = self.selected_neuron().map(|n| n.id.clone());
        self.order = self.filtered_order();
        self.reselect(selected_id);
    }

    /// The sorted index with the filter applied.
    fn filtered_order(&self) -> Vec<u32> {
        let mut order = sorted_order(&self.neurons, self.sort);
        if let Some(f) = &self.filter {
            order.retain(|&i| f.matches(&self.neurons[i as usize]));
        }
        order
    }

    fn reselect(&mut self, id: Option<Arc<str>>) {
        let found = id.and_then(|id| {
            self.order
                .iter()
                .position(|&i| self.neurons[i as usize].id == id)
        });
        self.selected = found.unwrap_or(self.selected);
        self.clamp_selection();
    }

    fn clamp_selection(&mut self) {
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
        self.audit.selected = self
            .audit
            .selected
            .min(self.audit.order.len().saturating_sub(1));
        self.scroll_into_view();
    }

    fn scroll_into_view(&mut self) {
        let visible = self.visible_rows();
        self.offset = super::views::neurons::window_start(
            self.offset,
            self.selected,
            visible,
            self.order.len(),
        );
        self.audit.offset = super::views::neurons::window_start(
            self.audit.offset,
            self.audit.selected,
            visible,
            self.audit.order.len(),
        );
    }

    /// Rows of the neurons table that fit the current terminal.
    pub fn visible_rows(&self) -> usize {
        let header = super::views::header::height(self);
        super::views::neurons::visible_rows(self.size.1.saturating_sub(header + 2)) // flash + hints
    }

    fn on_detail(
        &mut self,
        id: String,
        detail: Result<NeuronDetail, ApiError>,
        logs: Result<Vec<LogLine>, ApiError>,
    ) -> Outcome {
        let Some(state) = self.detail.as_mut().filter(|d| d.id == id) else {
            // An answer for a detail view that is already closed.
            return Outcome::default();
        };
        let before = state.clone();
        let mut errors = Vec::new();
        match detail {
            Ok(d) => state.detail = Some(d),
            Err(e) => errors.push(e),
        }
        match logs {
            Ok(l) => state.logs = l,
            Err(e) => errors.push(e),
        }
        let mut changed = *state != before;
        for e in errors {
            if self.note_expiry(&e) {
                continue;
            }
            changed |= self.show_error(&e);
        }
        Outcome {
            redraw: changed,
            effect: None,
        }
    }

    /// An error to show at start (a bad config file): it stays up longer than a command result.
    pub fn notice(&mut self, text: String) {
        self.set_flash(FlashKind::Error, text);
        if let Some(f) = &mut self.flash {
            f.expires_at_tick = self.ticks + FLASH_TICKS * 5;
        }
    }

    pub(super) fn set_flash(&mut self, kind: FlashKind, text: String) {
        self.flash = Some(Flash {
            kind,
            text,
            expires_at_tick: self.ticks + FLASH_TICKS,
        });
    }

    /// A poll or command that failed: show its error (once) and do nothing else.
    pub(super) fn failed(&mut self, e: &ApiError) -> Outcome {
        Outcome {
            redraw: self.show_error(e),
            effect: None,
        }
    }

    /// Shows a backend error unless the same one is already up (polling repeats it 4 times a second).
    pub(super) fn show_error(&mut self, e: &ApiError) -> bool {
        if e.code == ErrorCode::SessionExpired {
            let was = self.session_expired;
            return self.note_expiry(e) && !was;
        }
        if let Some(f) = &mut self.flash
            && f.kind == FlashKind::Error
            && f.text == e.message
        {
            f.expires_at_tick = self.ticks + FLASH_TICKS;
            return false;
        }
        self.set_flash(FlashKind::Error, e.message.clone());
        true
    }

    /// Whether the terminal is below the size the layout needs: the screen then says so instead
    /// of drawing views and dialogs.
    pub fn too_small(&self) -> bool {
        let (w, h) = self.size;
        (w, h) != (0, 0) && (w < super::views::MIN_WIDTH || h < super::views::MIN_HEIGHT)
    }

    fn on_key(&mut self, key: KeyEvent) -> Outcome {
        // Nothing a key could act on is visible: only quitting is offered (as the screen says),
        // so no hidden dialog is confirmed or typed into.
        if self.too_small() {
            let quit = super::actions::Key::ctrl('c').matches(&key)
                || (key.code == crossterm::event::KeyCode::Char('q') && key.modifiers.is_empty());
            return if quit {
                Outcome::effect(Effect::Quit)
            } else {
                Outcome::default()
            };
        }
        let Some(action) = self.registry.lookup(&self.active_scopes(), &key) else {
            // Ctrl-C quits from anywhere, dialogs included.
            let ctrl_c = super::actions::Key::ctrl('c');
            if ctrl_c.matches(&key) {
                return Outcome::effect(Effect::Quit);
            }
            return self.on_text_key(key);
        };
        if self.input.is_some() {
            return self.on_input_action(action);
        }
        if self.confirm.is_some() {
            return self.on_confirm_action(action);
        }
        if self.help {
            if action == Action::SwitchButton {
                self.help_commands = !self.help_commands;
            } else {
                self.help = false;
                self.help_commands = false;
            }
            return Outcome::redraw();
        }
        if let Some(refused) = self.refused(action) {
            self.set_flash(FlashKind::Error, refused);
            return Outcome::redraw();
        }
        self.on_action(action)
    }

    /// An unbound key: typing into the input line or a dialog's name field.
    fn on_text_key(&mut self, key: KeyEvent) -> Outcome {
        use tui_input::backend::crossterm::EventHandler;
        let event = crossterm::event::Event::Key(key);
        let target = match (&mut self.input, &mut self.confirm) {
            (Some(line), _) => {
                line.error = None;
                if line.kind == InputKind::Palette {
                    self.palette_history.reset();
                } else {
                    self.filter_history.reset();
                }
                &mut line.input
            }
            (None, Some(Confirm { typed: Some(t), .. })) => &mut t.input,
            _ => return Outcome::default(),
        };
        let changed = target
            .handle_event(&event)
            .is_some_and(|c| c.value || c.cursor);
        Outcome {
            redraw: changed,
            effect: None,
        }
    }

    /// The refusal message when a key asks for something the gate would refuse.
    pub(super) fn refused(&self, action: Action) -> Option<String> {
        let spec = self
            .active_scopes()
            .into_iter()
            .flat_map(|s| self.registry.actions(s))
            .find(|s| s.action == action)?;
        match self.refusal(spec)? {
            Refusal::Hidden => Some(format!(
                "{}: not available in a read-only session",
                spec.name
            )),
            Refusal::Greyed(reason) => Some(format!("{}: {reason}", spec.name)),
        }
    }

    fn on_input_action(&mut self, action: Action) -> Outcome {
        let Some(line) = self.input.as_mut() else {
            return Outcome::default();
        };
        let history = match line.kind {
            InputKind::Palette => &mut self.palette_history,
            InputKind::Filter => &mut self.filter_history,
        };
        match action {
            Action::Close => {
                self.input = None;
                Outcome::redraw()
            }
            Action::HistoryPrev | Action::HistoryNext => {
                let entry = if action == Action::HistoryPrev {
                    history.older()
                } else {
                    history.newer()
                };
                if let Some(entry) = entry {
                    line.set(entry);
                }
                Outcome::redraw()
            }
            Action::Complete => {
                if line.kind != InputKind::Palette {
                    return Outcome::default();
                }
                let neurons = Arc::clone(&self.neurons);
                let ids = move |prefix: &str| -> Vec<String> {
                    neurons
                        .iter()
                        .filter(|n| n.id.starts_with(prefix))
                        .take(1000)
                        .map(|n| n.id.to_string())
                        .collect()
                };
                match self.palette.complete(line.input.value(), &ids) {
                    Some(done) => {
                        line.set(&done);
                        Outcome::redraw()
                    }
                    None => Outcome::default(),
                }
            }
            Action::Press => {
                let text = line.input.value().to_string();
                history.push(&text);
                match line.kind {
                    InputKind::Palette => match self.palette.resolve(&text) {
                        Ok(run) => {
                            self.input = None;
                            self.run(run)
                        }
                        Err(e) => {
                            line.error = Some(e);
                            Outcome::redraw()
                        }
                    },
                    InputKind::Filter => match self.set_filter(&text) {
                        Ok(()) => {
                            self.input = None;
                            Outcome::redraw()
                        }
                        Err(e) => {
                            if let Some(line) = self.input.as_mut() {
                                line.error = Some(e);
                            }
                            Outcome::redraw()
                        }
                    },
                }
            }
            _ => Outcome::default(),
        }
    }

    /// Filters the current table (empty text clears it).
    pub fn set_filter(&mut self, text: &str) -> Result<(), String> {
        let empty = text.trim().is_empty();
        if self.view == View::Audit {
            self.audit.filter = if empty {
                None
            } else {
                Some(Filter::parse::<AuditRecord>(text)?)
            };
            self.refilter_audit();
        } else {
            self.filter = if empty {
                None
            } else {
                Some(Filter::parse::<NeuronView>(text)?)
            };
            if self.view != View::Neurons {
                self.switch(View::Neurons);
            }
            self.resort();
        }
        self.clamp_selection();
        Ok(())
    }

    /// Runs a palette command.
    fn run(&mut self, run: Run) -> Outcome {
        match run {
            Run::Neurons => self.on_action(Action::ShowNeurons).or_redraw(),
            Run::Overview => self.on_action(Action::ShowOverview).or_redraw(),
            Run::Audit(query) => {
                if let Some(refused) = self.refused(Action::ShowAudit) {
                    self.set_flash(FlashKind::Error, refused);
                    return Outcome::redraw();
                }
                if query != self.audit.query {
                    self.audit.query = query;
                    self.audit.records.clear();
                    self.audit.order.clear();
                }
                self.switch(View::Audit);
                Outcome::effect(Effect::Refresh)
            }
            Run::Rollouts => self.on_action(Action::ShowRollouts).or_redraw(),
            Run::Fl => match self.refused(Action::ShowFl) {
                Some(refused) => {
                    self.set_flash(FlashKind::Error, refused);
                    Outcome::redraw()
                }
                None => self.on_action(Action::ShowFl).or_redraw(),
            },
            Run::FlStart(spec) => {
                self.switch(View::Fl);
                self.ask_fl_start(*spec)
            }
            Run::Alerts => self.on_action(Action::ShowAlerts).or_redraw(),
            Run::Silence(matchers, duration_ms) => {
                if let Some(refused) = self.refused(Action::SilenceAlert) {
                    self.set_flash(FlashKind::Error, refused);
                    return Outcome::redraw();
                }
                Outcome::effect(Effect::Submit(Command::SilenceCreate {
                    matchers,
                    duration_ms,
                    comment: "from the console".into(),
                }))
            }
            Run::Recover(id) => {
                if !self.neurons.iter().any(|n| *n.id == *id) {
                    self.set_flash(FlashKind::Error, format!("no neuron '{id}'"));
                    return Outcome::redraw();
                }
                self.ask_recover_of(id)
            }
            Run::Broadcast(version) => self.ask_broadcast(version),
            Run::Filter(text) => match self.set_filter(&text) {
                Ok(()) => Outcome::redraw(),
                Err(e) => {
                    self.set_flash(FlashKind::Error, e);
                    Outcome::redraw()
                }
            },
            Run::RenewSession => Outcome::effect(Effect::RenewSession),
            Run::Help => self.on_action(Action::Help),
            Run::Quit => Outcome::effect(Effect::Quit),
            Run::Stress(request) => self.run_stress(request),
            Run::Chaos(request) => self.run_chaos(request),
        }
    }

    fn on_confirm_action(&mut self, action: Action) -> Outcome {
        let Some(dialog) = self.confirm.as_mut() else {
            return Outcome::default();
        };
        match action {
            Action::SwitchButton => {
                dialog.focus = match dialog.focus {
                    Button::Cancel => Button::Confirm,
                    Button::Confirm => Button::Cancel,
                };
                Outcome::redraw()
            }
            Action::Press if dialog.focus == Button::Confirm && !dialog.armed() => {
                Outcome::default()
            }
            Action::Press => {
                let dialog = self.confirm.take();
                match dialog {
                    Some(Confirm {
                        focus: Button::Confirm,
                        then: Some(effect),
                        ..
                    }) => Outcome::effect(effect),
                    Some(Confirm {
                        focus: Button::Confirm,
                        command,
                        ..
                    }) => Outcome::effect(Effect::Submit(command)),
                    _ => Outcome::redraw(),
                }
            }
            Action::Close => {
                self.confirm = None;
                Outcome::redraw()
            }
            _ => Outcome::default(),
        }
    }

    fn on_action(&mut self, action: Action) -> Outcome {
        let page = self.visible_rows().max(1);
        match action {
            Action::Quit => Outcome::effect(Effect::Quit),
            Action::Help => {
                self.help = true;
                Outcome::redraw()
            }
            Action::ShowOverview => self.switch(View::Overview),
            Action::ShowNeurons => self.switch(View::Neurons),
            Action::ShowAudit => {
                let out = self.switch(View::Audit);
                Outcome {
                    effect: Some(Effect::Refresh),
                    ..out
                }
            }
            Action::ShowRollouts => {
                let out = self.switch(View::Rollouts);
                Outcome {
                    effect: Some(Effect::Refresh),
                    ..out
                }
            }
            Action::ShowFl => {
                let out = self.switch(View::Fl);
                Outcome {
                    effect: Some(Effect::Refresh),
                    ..out
                }
            }
            Action::ShowAlerts => {
                let out = self.switch(View::Alerts);
                Outcome {
                    effect: Some(Effect::Refresh),
                    ..out
                }
            }
            Action::FlStart => self.ask_fl_start(Default::default()),
            Action::FlStop => self.ask_fl_stop(),
            Action::AckAlert => match self.alerts.selected_alert() {
                Some(a) => Outcome::effect(Effect::Submit(Command::AlertAck {
                    fingerprint: a.fingerprint.clone(),
                })),
                None => Outcome::default(),
            },
            Action::SilenceAlert => {
                let Some(a) = self.alerts.selected_alert() else {
                    return Outcome::default();
                };
                // Prefilled with the alert's own labels (severity aside) and an hour: the
                // operator narrows or widens it before pressing Enter.
                let matchers: Vec<String> = a
                    .labels
                    .iter()
                    .filter(|(k, _)| *k != "severity")
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let line = format!("silence {} 1h", matchers.join(" "));
                self.open_input(InputKind::Palette, &line)
            }
            Action::Palette => self.open_input(InputKind::Palette, ""),
            Action::Filter => {
                let current = match self.view {
                    View::Audit => self.audit.filter.as_ref(),
                    _ => self.filter.as_ref(),
                };
                let text = current.map(|f| f.text.clone()).unwrap_or_default();
                self.open_input(InputKind::Filter, &text)
            }
            Action::ClearFilter => {
                let had = match self.view {
                    View::Audit => self.audit.filter.is_some(),
                    _ => self.filter.is_some(),
                };
                if had {
                    let _ = self.set_filter("");
                }
                Outcome {
                    redraw: had,
                    effect: None,
                }
            }
            Action::CopyId => {
                let id = match self.view {
                    View::Detail => self.detail.as_ref().map(|d| d.id.clone()),
                    _ => self.selected_neuron().map(|n| n.id.to_string()),
                };
                match id {
                    Some(id) => {
                        self.set_flash(FlashKind::Info, format!("copied {id} to the clipboard"));
                        Outcome::effect(Effect::Copy(id))
                    }
                    None => Outcome::default(),
                }
            }
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                let state = if self.mouse {
                    "captured"
                } else {
                    "released (text selection works)"
                };
                self.set_flash(FlashKind::Info, format!("mouse {state}"));
                Outcome::effect(Effect::SetMouse(self.mouse))
            }
            Action::RenewSession => Outcome::effect(Effect::RenewSession),
            Action::Suspend => Outcome::effect(Effect::Suspend),
            Action::Up => self.move_to(self.cursor().saturating_sub(1)),
            Action::Down => self.move_to(self.cursor().saturating_add(1)),
            Action::PageUp => self.move_to(self.cursor().saturating_sub(page)),
            Action::PageDown => self.move_to(self.cursor().saturating_add(page)),
            Action::Top => self.move_to(0),
            Action::Bottom => self.move_to(usize::MAX),
            Action::Open => {
                let Some(id) = self.selected_neuron().map(|n| n.id.to_string()) else {
                    return Outcome::default();
                };
                self.detail_return = self.view;
                self.detail = Some(DetailState {
                    id,
                    detail: None,
                    logs: Vec::new(),
                });
                self.view = View::Detail;
                Outcome::effect(Effect::Refresh)
            }
            Action::Back => {
                self.view = match self.view {
                    View::Detail => self.detail_return,
                    _ => View::Neurons,
                };
                self.detail = None;
                Outcome::redraw()
            }
            Action::Recover => self.ask_recover(),
            Action::SortNext => {
                self.sort.column = self.sort.column.next();
                self.resort();
                Outcome::redraw()
            }
            Action::SortReverse => {
                self.sort.descending = !self.sort.descending;
                self.resort();
                Outcome::redraw()
            }
            Action::SwitchButton
            | Action::Press
            | Action::Close
            | Action::Complete
            | Action::HistoryPrev
            | Action::HistoryNext => Outcome::default(),
            Action::StartStress => self.new_stress_line(),
            Action::StopStress => self.ask_stop_stress(),
            Action::CleanupStress => self.ask_cleanup_stress(),
            Action::ShowStress => self.run_stress(None),
            Action::ShowChaos => {
                let out = self.switch(View::Chaos);
                Outcome {
                    effect: Some(Effect::Refresh),
                    ..out
                }
            }
            Action::StartChaos => self.new_chaos_line(),
            Action::StopChaos => self.ask_stop_chaos(),
        }
    }

    fn switch(&mut self, view: View) -> Outcome {
        if self.view == view {
            return Outcome::default();
        }
        self.view = view;
        self.detail = None;
        Outcome::redraw()
    }

    /// The cursor position of the current table.
    fn cursor(&self) -> usize {
        match self.view {
            View::Audit => self.audit.selected,
            View::Rollouts => self.rollouts.selected,
            View::Alerts => self.alerts.selected,
            View::Chaos => self.chaos.selected,
            _ => self.selected,
        }
    }

    fn move_to(&mut self, position: usize) -> Outcome {
        let before = (
            self.selected,
            self.offset,
            self.audit.selected,
            self.audit.offset,
        );
        match self.view {
            View::Audit => self.audit.selected = position,
            View::Chaos => {
                let position = position.min(self.chaos.faults.len().saturating_sub(1));
                let moved = position != self.chaos.selected;
                self.chaos.selected = position;
                return Outcome {
                    redraw: moved,
                    effect: None,
                };
            }
            View::Alerts => {
                let position = position.min(self.alerts.rows().len().saturating_sub(1));
                let moved = position != self.alerts.selected;
                self.alerts.selected = position;
                return Outcome {
                    redraw: moved,
                    effect: None,
                };
            }
            View::Rollouts => {
                let count = self
                    .rollouts
                    .report
                    .as_ref()
                    .map_or(0, |r| r.rollouts.len());
                let position = position.min(count.saturating_sub(1));
                if position == self.rollouts.selected {
                    return Outcome::default();
                }
                // The selected rollout's detail is fetched anew.
                self.rollouts.selected = position;
                self.rollouts.detail = None;
                return Outcome {
                    redraw: true,
                    effect: Some(Effect::Refresh),
                };
            }
            _ => self.selected = position,
        }
        self.clamp_selection();
        Outcome {
            redraw: before
                != (
                    self.selected,
                    self.offset,
                    self.audit.selected,
                    self.audit.offset,
                ),
            effect: None,
        }
    }

    pub(super) fn open_input(&mut self, kind: InputKind, text: &str) -> Outcome {
        self.input = Some(InputLine::new(kind, text));
        Outcome::redraw()
    }

    fn ask_recover(&mut self) -> Outcome {
        let target = match self.view {
            View::Detail => self.detail.as_ref().map(|d| d.id.clone()),
            _ => self.selected_neuron().map(|n| n.id.to_string()),
        };
        let Some(neuron) = target else {
            return Outcome::default();
        };
        self.ask_recover_of(neuron)
    }

    fn ask_recover_of(&mut self, neuron: String) -> Outcome {
        self.confirm = Some(Confirm {
            title: "Recover neuron".into(),
            question: format!(
                "Force recovery of {neuron} now? This is a manual override. Touches 1 neuron."
            ),
            confirm_label: "Recover",
            command: Command::Recover { neuron },
            focus: Button::Cancel,
            touches: 1,
            then: None,
            typed: None,
        });
        Outcome::redraw()
    }

    /// A fleet-wide push: the dialog wants the federation name typed before it arms.
    fn ask_broadcast(&mut self, file: String) -> Outcome {
        if self.read_only() {
            self.set_flash(
                FlashKind::Error,
                "broadcast: not available in a read-only session".into(),
            );
            return Outcome::redraw();
        }
        // Checked before the dialog opens: a bad document never reaches the confirm.
        let config = match crate::config::read_text(&file)
            .map_err(|e| format!("{file}: {e}"))
            .and_then(|text| {
                crate::api::rollout_doc::parse_config(&file, &text).map_err(|e| e.to_string())
            }) {
            Ok(config) => config,
            Err(e) => {
                self.set_flash(FlashKind::Error, format!("broadcast: {e}"));
                return Outcome::redraw();
            }
        };
        let touches = self.neurons.len();
        let federation = self.info.federation.clone();
        self.confirm = Some(Confirm {
            title: "Broadcast config to the whole fleet".into(),
            question: format!(
                "Roll {file} (model {}) out to ALL {touches} neurons of {federation} in waves? Type the federation name to arm Confirm.",
                config.model
            ),
            confirm_label: "Broadcast",
            command: Command::BroadcastConfig {
                config: Box::new(config),
                selector: String::new(),
                expected_version: None,
                dry_run: false,
                plan: Default::default(),
            },
            focus: Button::Cancel,
            touches,
            then: None,
            typed: Some(Typed {
                expected: federation,
                input: tui_input::Input::default(),
            }),
        });
        Outcome::redraw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }
    fn ch(c: char) -> Msg {
        key(KeyCode::Char(c))
    }

    fn app_with(n: usize) -> App {
        let mut app = App::new(fixtures::info());
        app.update(Msg::Fleet {
            status: Ok(fixtures::status()),
            neurons: Ok(Arc::new(fixtures::neurons(n))),
        });
        app
    }

    fn ids(app: &App) -> Vec<String> {
        app.order
            .iter()
            .map(|&i| app.neurons[i as usize].id.to_string())
            .collect()
    }

    /// Every column sorts ascending by its own value, and `S` reverses exactly that.
    /// The rows in display order.
    fn sorted_rows(app: &App) -> Vec<&NeuronView> {
        app.order
            .iter()
            .map(|&i| &app.neurons[i as usize])
            .collect()
    }

    #[test]
    fn sorts_by_each_column_both_ways() {
        let mut app = app_with(50);
        for column in Column::ALL {
            app.sort = Sort {
                column,
                descending: false,
            };
            app.resort();
            let rows = sorted_rows(&app);
            for pair in rows.windows(2) {
                assert_ne!(
                    column.compare(pair[0], pair[1]),
                    Ordering::Greater,
                    "{column:?} out of order: {} before {}",
                    pair[0].id,
                    pair[1].id
                );
            }
            let ascending = ids(&app);
            app.update(ch('S'));
            let rows = sorted_rows(&app);
            for pair in rows.windows(2) {
                assert_ne!(
                    column.compare(pair[0], pair[1]),
                    Ordering::Less,
                    "{column:?} desc"
                );
            }
            assert_ne!(ascending, ids(&app), "{column:?} reversal changed nothing");
        }
    }

    /// The integer keys order floats like `total_cmp`, negatives and missing values included.
    #[test]
    fn numeric_keys_order_like_the_comparator() {
        let mut rows = fixtures::neurons(6);
        let values = [
            Some(2.5),
            None,
            Some(-1.0),
            Some(0.0),
            Some(-7.25),
            Some(1e9),
        ];
        for (row, v) in rows.iter_mut().zip(values) {
            row.latency_ms = v;
        }
        for descending in [false, true] {
            let sort = Sort {
                column: Column::Latency,
                descending,
            };
            let got: Vec<Option<f64>> = sorted_order(&rows, sort)
                .iter()
                .map(|&i| rows[i as usize].latency_ms)
                .collect();
            let mut want: Vec<Option<f64>> = values.to_vec();
            want.sort_by(|a, b| {
                let mut x = rows[0].clone();
                let mut y = rows[0].clone();
                x.latency_ms = *a;
                y.latency_ms = *b;
                let o = Column::Latency.compare(&x, &y);
                if descending { o.reverse() } else { o }
            });
            assert_eq!(got, want, "descending {descending}");
        }
    }

    #[test]
    fn s_cycles_through_every_column_and_wraps() {
        let mut app = app_with(5);
        let mut seen = vec![app.sort.column];
        for _ in 0..Column::ALL.len() {
            app.update(ch('s'));
            seen.push(app.sort.column);
        }
        assert_eq!(&seen[..8], &Column::ALL);
        assert_eq!(seen[8], Column::Id);
    }

    #[test]
    fn missing_numbers_sort_last() {
        let mut app = app_with(20);
        app.sort.column = Column::Latency;
        app.resort();
        let last = &app.neurons[*app.order.last().unwrap_or(&0) as usize];
        assert_eq!(last.latency_ms, None);
    }

    #[test]
    fn selection_clamps_when_the_fleet_shrinks() {
        let mut app = app_with(30);
        app.update(key(KeyCode::End));
        assert_eq!(app.selected, 29);
        app.update(Msg::Fleet {
            status: Ok(fixtures::status()),
            neurons: Ok(Arc::new(fixtures::neurons(10))),
        });
        assert_eq!(app.selected, 9);
        assert!(app.offset <= app.selected);
        app.update(Msg::Fleet {
            status: Ok(fixtures::status()),
            neurons: Ok(Arc::new(Vec::new())),
        });
        assert_eq!(app.selected, 0);
        assert!(app.selected_neuron().is_none());
        // Nothing to open or recover in an empty table.
        assert_eq!(app.update(key(KeyCode::Enter)), Outcome::default());
        assert_eq!(app.update(ch('r')), Outcome::default());
    }

    #[test]
    fn selection_follows_the_neuron_across_a_resort() {
        let mut app = app_with(30);
        app.update(ch('j'));
        app.update(ch('j'));
        let id = app.selected_neuron().map(|n| n.id.clone());
        app.update(ch('S'));
        assert_eq!(app.selected_neuron().map(|n| n.id.clone()), id);
    }

    #[test]
    fn moving_clamps_and_scrolls() {
        let mut app = app_with(1000);
        app.update(Msg::Resize {
            width: 80,
            height: 24,
        });
        let page = app.visible_rows();
        assert!(page > 5);
        app.update(ch('k'));
        assert_eq!(app.selected, 0);
        app.update(key(KeyCode::PageDown));
        assert_eq!(app.selected, page);
        assert!(app.selected >= app.offset && app.selected < app.offset + page);
        app.update(ch('G'));
        assert_eq!(app.selected, 999);
        assert_eq!(app.offset, 1000 - page);
        app.update(ch('g'));
        assert_eq!((app.selected, app.offset), (0, 0));
    }

    #[test]
    fn enter_opens_detail_and_esc_goes_back() {
        let mut app = app_with(10);
        app.update(ch('j'));
        let out = app.update(key(KeyCode::Enter));
        assert_eq!(out.effect, Some(Effect::Refresh));
        assert_eq!(app.view, View::Detail);
        assert_eq!(app.detail_id(), Some("n-0002"));
        // A stale answer for another neuron is ignored.
        let stale = app.update(Msg::Detail {
            id: "n-0009".into(),
            detail: Ok(fixtures::detail("n-0009")),
            logs: Ok(Vec::new()),
        });
        assert!(!stale.redraw);
        app.update(Msg::Detail {
            id: "n-0002".into(),
            detail: Ok(fixtures::detail("n-0002")),
            logs: Ok(fixtures::logs(3)),
        });
        assert!(app.detail.as_ref().is_some_and(|d| d.detail.is_some()));
        app.update(key(KeyCode::Esc));
        assert_eq!(app.view, View::Neurons);
        assert!(app.detail.is_none());
        assert_eq!(app.detail_id(), None);
    }

    #[test]
    fn overview_and_neurons_are_one_key_away() {
        let mut app = app_with(3);
        assert_eq!(app.view, View::Neurons, "opens on the neurons table");
        app.update(ch('o'));
        assert_eq!(app.view, View::Overview);
        app.update(ch('2'));
        assert_eq!(app.view, View::Neurons);
        app.update(ch('1'));
        assert_eq!(app.view, View::Overview);
        app.update(key(KeyCode::Esc));
        assert_eq!(app.view, View::Neurons);
    }

    #[test]
    fn recover_dialog_opens_on_cancel_and_enter_there_does_nothing() {
        let mut app = app_with(5);
        app.update(ch('j'));
        app.update(ch('r'));
        let dialog = app.confirm.as_ref().map(|c| (c.focus, c.command.clone()));
        assert_eq!(
            dialog,
            Some((
                Button::Cancel,
                Command::Recover {
                    neuron: "n-0002".into()
                }
            ))
        );
        // Keys of the table are dead while the dialog is up.
        app.update(ch('j'));
        assert_eq!(app.selected, 1);
        let out = app.update(key(KeyCode::Enter));
        assert_eq!(out.effect, None);
        assert!(app.confirm.is_none());
    }

    #[test]
    fn confirming_submits_recover_and_esc_cancels() {
        let mut app = app_with(5);
        app.update(ch('r'));
        app.update(key(KeyCode::Tab));
        let out = app.update(key(KeyCode::Enter));
        assert_eq!(
            out.effect,
            Some(Effect::Submit(Command::Recover {
                neuron: "n-0001".into()
            }))
        );
        app.update(ch('r'));
        app.update(key(KeyCode::Right));
        let out = app.update(key(KeyCode::Esc));
        assert_eq!(out.effect, None);
        assert!(app.confirm.is_none());
    }

    #[test]
    fn ctrl_c_quits_even_from_a_dialog() {
        let mut app = app_with(2);
        app.update(ch('r'));
        let out = app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )));
        assert_eq!(out.effect, Some(Effect::Quit));
        assert_eq!(
            app.update(ch('q')).effect,
            None,
            "q is not quit inside the dialog"
        );
    }

    #[test]
    fn command_results_and_errors_reach_the_flash_line() {
        let mut app = app_with(2);
        let cmd = Command::Recover {
            neuron: "n-0003".into(),
        };
        let out = app.update(Msg::CommandDone(
            cmd.clone(),
            Ok(CommandReply::RecoveryStarted {
                neuron: "n-0003".into(),
                attempt: 1,
                strategy: "restart".into(),
                attempt_id: 1,
            }),
        ));
        assert_eq!(out.effect, Some(Effect::Refresh));
        let text = app.flash.as_ref().map(|f| f.text.clone());
        assert_eq!(
            text.as_deref(),
            Some("recovery #1 started on n-0003: restart")
        );
        app.update(Msg::CommandDone(
            cmd,
            Err(ApiError::unknown_neuron("n-0003")),
        ));
        let flash = app.flash.clone();
        assert!(flash.as_ref().is_some_and(|f| {
            f.kind == FlashKind::Error
                && f.text
                    .starts_with("neuron.recover n-0003 failed: unknown neuron")
        }));
        for _ in 0..FLASH_TICKS {
            app.update(Msg::Tick);
        }
        assert!(app.flash.is_none(), "the flash expires");
    }

    #[test]
    fn identical_data_does_not_redraw() {
        let mut app = app_with(5);
        let out = app.update(Msg::Fleet {
            status: Ok(fixtures::status()),
            neurons: Ok(Arc::new(fixtures::neurons(5))),
        });
        assert!(!out.redraw);
        let mut changed = fixtures::neurons(5);
        changed[0].state = NeuronState::Offline;
        let out = app.update(Msg::Fleet {
            status: Ok(fixtures::status()),
            neurons: Ok(Arc::new(changed)),
        });
        assert!(out.redraw);
    }

    #[test]
    fn help_opens_and_any_close_key_closes_it() {
        let mut app = app_with(2);
        app.update(ch('?'));
        assert!(app.help);
        assert_eq!(app.active_scopes(), vec![Scope::Help]);
        app.update(key(KeyCode::Esc));
        assert!(!app.help);
        app.update(ch('?'));
        app.update(ch('?'));
        assert!(!app.help);
    }
}
