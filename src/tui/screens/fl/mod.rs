//! The FL screen: the newest engine-owned run — loss and accuracy over rounds, who took part,
//! dropped out and was excluded (with the rule's score) — and its two dangerous actions (start a
//! run, stop the shown one), each behind a confirm dialog; the gate decides, the console only
//! greys out what it would refuse.

mod draw;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
pub mod palette;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fetch, Fleet, Screen, Tab, View, back};
use crate::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState, FlRunView};
use crate::api::{Command, Permission, ask};
use crate::client::{Backend, BackendExt};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::app::Msg;
use crate::tui::chrome::{Button, Confirm, Outcome};

/// What one refresh of the FL screen fetched.
pub type FlData = (Vec<FlRunView>, Option<FlRunDetail>);

/// The runs and the shown one (the newest) with its history.
#[derive(Debug, Clone, Default)]
pub struct Fl {
    pub runs: Option<Vec<FlRunView>>,
    pub detail: Option<FlRunDetail>,
}

impl Fl {
    /// The run the screen shows: the newest.
    pub fn shown(&self) -> Option<&FlRunView> {
        self.runs.as_ref()?.last()
    }

    /// New data; true when it changed what is shown.
    pub fn on_data(&mut self, (runs, detail): FlData) -> bool {
        let changed = self.runs.as_ref() != Some(&runs) || self.detail != detail;
        self.runs = Some(runs);
        self.detail = detail;
        changed
    }

    /// `s` or `:fl start …`: the start dialog, unless the gate would refuse or the spec is bad.
    pub fn ask_start(ctx: &mut Ctx, spec: FlRunSpec) -> Outcome {
        if ctx.say_refused(View::Fl, Action::FlStart) {
            return Outcome::redraw();
        }
        if let Err(e) = spec.validate() {
            ctx.error(format!("fl start: {e}"));
            return Outcome::redraw();
        }
        // Counted as the engine picks them (mock neurons do not train).
        let eligible = ctx
            .fleet
            .neurons
            .iter()
            .filter(|n| FlRunSpec::takes_part(&n.id))
            .count();
        let touches = spec.participants(eligible);
        ctx.ask(Confirm {
            title: "Start an FL run".into(),
            question: format!(
                "Train across {touches} neurons: rule {}, attack {} ({:.0}% Byzantine), {} rounds, mode {}?",
                spec.rule,
                spec.attack,
                spec.byzantine * 100.0,
                spec.rounds,
                spec.mode
            ),
            confirm_label: "Start",
            command: Command::FlStart { config: spec },
            focus: Button::Cancel,
            touches,
            then: None,
            typed: None,
        })
    }

    fn ask_stop(&self, ctx: &mut Ctx) -> Outcome {
        if ctx.say_refused(View::Fl, Action::FlStop) {
            return Outcome::redraw();
        }
        let Some(run) = self.shown() else {
            ctx.error("fl stop: no run to stop");
            return Outcome::redraw();
        };
        if run.state != FlRunState::Running {
            ctx.error(format!("fl stop: {} is {}", run.id, run.state.as_str()));
            return Outcome::redraw();
        }
        ctx.ask(Confirm {
            title: "Stop the FL run".into(),
            question: format!(
                "Stop {} at round {}/{}? The model keeps what it learned so far.",
                run.id, run.round, run.rounds
            ),
            confirm_label: "Stop",
            command: Command::FlStop { id: run.id.clone() },
            focus: Button::Cancel,
            touches: run.clients as usize,
            then: None,
            typed: None,
        })
    }
}

/// The runs and the newest one with its history.
pub async fn fetch(backend: &dyn Backend) -> Msg {
    let runs = match backend.ask(ask::fl_runs()).await {
        Ok(r) => r,
        Err(e) => return Msg::Fl(Err(e)),
    };
    let detail = match runs.last() {
        Some(run) => backend.ask(ask::fl_run(&run.id)).await.ok(),
        None => None,
    };
    Msg::Fl(Ok((runs, detail)))
}

impl Screen for Fl {
    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "FL",
            help: "Show federated learning: loss, accuracy, exclusions",
            permission: Some(Permission::ExperimentView),
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new(
                Action::FlStart,
                "start run",
                "Start an FL run (asks first; :fl start for options)",
            )
            .dangerous()
            .needs(Permission::ExperimentDeploy),
            ActionSpec::new(
                Action::FlStop,
                "stop run",
                "Stop the shown FL run (asks first)",
            )
            .dangerous()
            .needs(Permission::ExperimentDeploy),
            back().no_hint(),
        ]
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        match action {
            Action::FlStart => Self::ask_start(ctx, FlRunSpec::default()),
            Action::FlStop => self.ask_stop(ctx),
            _ => Outcome::default(),
        }
    }

    fn fetch(&self, backend: Arc<dyn Backend>) -> Option<Fetch> {
        Some(Box::pin(async move { fetch(backend.as_ref()).await }))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self);
    }
}
