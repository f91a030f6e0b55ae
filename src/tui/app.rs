//! The console's state and its update function: a router over the screens (`screens/`). No
//! terminal, no clock, no I/O: messages come in, state changes, and effects (things only the
//! event loop can do) come out. The app owns what every screen shares — the fleet as last
//! fetched, the chrome (flash line, dialogs, input line, help), the session — and hands a screen
//! only a narrow [`Ctx`].

mod commands;
mod keys;

use std::sync::Arc;

use super::actions::{Action, ActionSpec, Registry, Scope};
use super::input::{InputKind, InputLine};
use super::palette::{History, Palette};
use super::screens::stress::Stress;
use super::screens::{Ctx, Fleet, Go, Screen, Screens, neurons};
use super::theme::Theme;
use crate::api::{ApiError, ErrorCode, NeuronView, Role, SessionInfo, StatusReport};
use crate::client::BackendInfo;

pub use super::chrome::{
    Button, Confirm, Effect, FLASH_TICKS, Flash, FlashKind, Outcome, Refusal, Typed,
};
pub use super::msg::Msg;
pub use super::screens::View;
pub use super::screens::audit::AUDIT_TAIL;
pub use super::screens::detail::LOG_TAIL;
pub use super::screens::neurons::{Column, Sort, sorted_order};

pub struct App {
    pub info: BackendInfo,
    pub registry: Registry,
    pub view: View,
    pub screens: Screens,
    pub status: Option<StatusReport>,
    pub neurons: Arc<Vec<NeuronView>>,
    pub history: Vec<u64>,
    /// The widest id, config version and zone in the fleet (columns follow their content).
    pub text_widths: TextWidths,
    /// The last fleet report's own time, and the local time (unix ms) it was first seen.
    fleet_seen: Option<(String, i64)>,
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
    /// The `:` palette or `/` filter line, when open.
    pub input: Option<InputLine>,
    pub palette: Palette,
    pub palette_history: History,
    pub filter_history: History,
    pub mouse: bool,
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
            screens: Screens::default(),
            status: None,
            neurons: Arc::new(Vec::new()),
            history: Vec::new(),
            text_widths: TextWidths::default(),
            fleet_seen: None,
            confirm: None,
            help: false,
            help_commands: false,
            flash: None,
            size: (80, 24),
            ticks: 0,
            theme: Arc::new(Theme::default()),
            ascii: false,
            session: None,
            now_ms: 0,
            session_expired: false,
            input: None,
            palette: Palette::default(),
            palette_history: History::default(),
            filter_history: History::default(),
            mouse: false,
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

    /// Why the gate would refuse `spec`, if it would (a preview: the gate decides).
    pub fn refusal(&self, spec: &ActionSpec) -> Option<Refusal> {
        super::chrome::refusal(self.role(), self.read_only(), spec)
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

    /// What every screen may read.
    pub fn fleet(&self) -> Fleet<'_> {
        Fleet {
            status: self.status.as_ref(),
            neurons: &self.neurons,
            history: &self.history,
            text_widths: self.text_widths,
            stale: self.stale(),
        }
    }

    /// The neuron under the neurons table's cursor.
    pub fn selected_neuron(&self) -> Option<&NeuronView> {
        self.screens.neurons.selected_in(&self.neurons)
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
            View::Detail => self.screens.detail.id(),
            _ => None,
        }
    }

    /// Run `f` on the screens with a narrow context, then go where it asked.
    fn act<R>(&mut self, f: impl FnOnce(&mut Screens, &mut Ctx) -> R) -> R {
        let (page, stale, role, read_only) = (
            self.visible_rows().max(1),
            self.stale(),
            self.role(),
            self.read_only(),
        );
        let mut ctx = Ctx {
            fleet: Fleet {
                status: self.status.as_ref(),
                neurons: &self.neurons,
                history: &self.history,
                text_widths: self.text_widths,
                stale,
            },
            registry: &self.registry,
            role,
            read_only,
            federation: &self.info.federation,
            page,
            confirm: &mut self.confirm,
            input: &mut self.input,
            flash: &mut self.flash,
            ticks: self.ticks,
            go: None,
        };
        let out = f(&mut self.screens, &mut ctx);
        if let Some(go) = ctx.go {
            self.go(go);
        }
        out
    }

    fn go(&mut self, go: Go) {
        match go {
            Go::To(view) => {
                self.switch(view);
            }
            Go::Detail(id) => {
                self.screens.detail.open(id, self.view);
                self.view = View::Detail;
            }
            Go::Back => {
                self.view = self.screens.detail.return_to;
                self.screens.detail.shown = None;
            }
        }
    }

    pub fn update(&mut self, msg: Msg) -> Outcome {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Resize { width, height } => {
                self.size = (width, height);
                self.sync_page();
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
            Msg::Fleet { status, neurons } => self.on_fleet(status, neurons),
            Msg::Detail { id, detail, logs } => {
                let (mut changed, errors) = self.screens.detail.on_data(&id, detail, logs);
                for e in errors {
                    changed |= self.show_error(&e);
                }
                redraw_if(changed)
            }
            Msg::History(Ok(h)) => {
                let changed = h != self.history;
                self.history = h;
                redraw_if(changed)
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
            Msg::Audit(r) => {
                let r = r.map(|records| self.screens.audit.on_records(records));
                self.changed(r)
            }
            Msg::Rollouts(r) => {
                let r = r.map(|data| self.screens.rollouts.on_data(data));
                self.changed(r)
            }
            Msg::Fl(r) => {
                let r = r.map(|data| self.screens.fl.on_data(data));
                self.changed(r)
            }
            Msg::Alerts(r) => {
                let r = r.map(|report| self.screens.alerts.on_report(report));
                self.changed(r)
            }
            Msg::Stress(p) => {
                let r = self.screens.stress.on_progress(p);
                self.changed(r)
            }
            Msg::StressStarted(s) => self.act(|_, ctx| Stress::on_started(ctx, s)),
            Msg::Chaos(f) => {
                let r = self.screens.chaos.on_faults(f);
                self.changed(r)
            }
            Msg::Experiment(p) => self.act(|s, ctx| s.chaos.on_experiment(ctx, p.map(|b| *b))),
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
                redraw_if(before != (self.session_age(), self.data_age_ms().map(|a| a / 1000)))
            }
        }
    }

    /// A screen's data arrived: redraw if it changed; an error is shown once.
    fn changed(&mut self, result: Result<bool, ApiError>) -> Outcome {
        match result {
            Ok(changed) => redraw_if(changed),
            Err(e) => self.failed(&e),
        }
    }

    fn on_fleet(
        &mut self,
        status: Result<StatusReport, ApiError>,
        neurons: Result<Arc<Vec<NeuronView>>, ApiError>,
    ) -> Outcome {
        let mut changed = false;
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
        let fresh = match neurons {
            Ok(n) if !(Arc::ptr_eq(&n, &self.neurons) || *n == *self.neurons) => {
                self.text_widths = TextWidths::of(&n);
                self.neurons = n;
                true
            }
            Ok(_) => false,
            Err(e) => {
                changed |= self.show_error(&e);
                false
            }
        };
        self.sync_page();
        changed |= self.act(|screens, ctx| {
            let mut changed = false;
            for (view, screen) in screens.all_mut() {
                // The table re-sorts only on new rows; drills look at every report.
                if fresh || view != View::Neurons {
                    changed |= screen.on_fleet(ctx.fleet);
                }
            }
            changed
        });
        redraw_if(changed)
    }

    /// Tell the tables how many rows fit now.
    fn sync_page(&mut self) {
        let page = self.visible_rows();
        for (_, screen) in self.screens.all_mut() {
            screen.on_page(page);
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

    /// Rows of a table that fit the current terminal.
    pub fn visible_rows(&self) -> usize {
        let header = super::views::header::height(self);
        neurons::visible_rows(self.size.1.saturating_sub(header + 2)) // flash + hints
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
        redraw_if(self.show_error(e))
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

    /// Filters the current table (empty text clears it); a screen without one filters the
    /// neurons table and shows it.
    pub fn set_filter(&mut self, text: &str) -> Result<(), String> {
        let view = self.view;
        let applied = self.act(|s, ctx| s.get_mut(view).set_filter(text, ctx.fleet));
        if let Some(result) = applied {
            return result;
        }
        self.act(|s, ctx| s.neurons.set_filter(text, ctx.fleet))
            .unwrap_or(Ok(()))?;
        self.switch(View::Neurons);
        Ok(())
    }

    /// The global actions; anything else is the shown screen's.
    pub(super) fn on_action(&mut self, action: Action) -> Outcome {
        if let Action::Show(view) = action {
            let out = self.switch(view);
            return if self.screens.get(view).refresh_on_show() {
                Outcome {
                    effect: Some(Effect::Refresh),
                    ..out
                }
            } else {
                out
            };
        }
        match action {
            Action::Quit => Outcome::effect(Effect::Quit),
            Action::Help => {
                self.help = true;
                Outcome::redraw()
            }
            Action::Palette => self.open_input(InputKind::Palette, ""),
            Action::Filter => {
                let screen = self.screens.get(self.view);
                let text = screen
                    .filter_text()
                    .or_else(|| self.screens.neurons.filter_text())
                    .unwrap_or_default();
                self.open_input(InputKind::Filter, &text)
            }
            Action::ClearFilter => {
                let had = self
                    .screens
                    .get(self.view)
                    .filter_text()
                    .is_some_and(|t| !t.is_empty());
                if had {
                    let _ = self.set_filter("");
                }
                redraw_if(had)
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
            _ => {
                let view = self.view;
                self.act(|screens, ctx| screens.get_mut(view).on_action(action, ctx))
            }
        }
    }

    fn switch(&mut self, view: View) -> Outcome {
        if self.view == view {
            return Outcome::default();
        }
        self.view = view;
        self.screens.detail.shown = None;
        Outcome::redraw()
    }

    pub(super) fn open_input(&mut self, kind: InputKind, text: &str) -> Outcome {
        self.input = Some(InputLine::new(kind, text));
        Outcome::redraw()
    }
}

fn redraw_if(changed: bool) -> Outcome {
    Outcome {
        redraw: changed,
        effect: None,
    }
}
