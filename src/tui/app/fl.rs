//! The FL view's state and its two dangerous actions (start a run, stop the shown one), each
//! behind a confirm dialog; the gate decides, the console only greys out what it would refuse.

use super::{App, Button, Confirm, FlashKind, Outcome, Refusal};
use crate::api::fl_run::{FlRunDetail, FlRunSpec, FlRunState, FlRunView};
use crate::api::{ApiError, Command};
use crate::tui::actions::{Action, Scope};

/// The runs and the shown one (the newest) with its history.
#[derive(Debug, Clone, Default)]
pub struct FlState {
    pub runs: Option<Vec<FlRunView>>,
    pub detail: Option<FlRunDetail>,
}

/// What one refresh of the FL view fetched.
pub type FlData = (Vec<FlRunView>, Option<FlRunDetail>);

impl FlState {
    /// The run the view shows: the newest.
    pub fn shown(&self) -> Option<&FlRunView> {
        self.runs.as_ref()?.last()
    }
}

impl App {
    pub(super) fn on_fl(&mut self, data: Result<FlData, ApiError>) -> Outcome {
        match data {
            Ok((runs, detail)) => {
                let changed = self.fl.runs.as_ref() != Some(&runs) || self.fl.detail != detail;
                self.fl.runs = Some(runs);
                self.fl.detail = detail;
                Outcome {
                    redraw: changed,
                    effect: None,
                }
            }
            Err(e) => self.failed(&e),
        }
    }

    /// Why the gate would refuse an FL action, whatever scope the console is in (the palette).
    fn fl_refused(&mut self, action: Action) -> bool {
        let spec = self
            .registry
            .actions(Scope::Fl)
            .iter()
            .find(|s| s.action == action)
            .cloned();
        let text = match spec.as_ref().and_then(|s| Some((s.name, self.refusal(s)?))) {
            Some((name, Refusal::Hidden)) => {
                format!("{name}: not available in a read-only session")
            }
            Some((name, Refusal::Greyed(reason))) => format!("{name}: {reason}"),
            None => return false,
        };
        self.set_flash(FlashKind::Error, text);
        true
    }

    pub(super) fn ask_fl_start(&mut self, spec: FlRunSpec) -> Outcome {
        if self.fl_refused(Action::FlStart) {
            return Outcome::redraw();
        }
        if let Err(e) = spec.validate() {
            self.set_flash(FlashKind::Error, format!("fl start: {e}"));
            return Outcome::redraw();
        }
        // Counted as the engine picks them (mock neurons do not train).
        let eligible = self
            .neurons
            .iter()
            .filter(|n| FlRunSpec::takes_part(&n.id))
            .count();
        let touches = spec.participants(eligible);
        self.confirm = Some(Confirm {
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
        });
        Outcome::redraw()
    }

    pub(super) fn ask_fl_stop(&mut self) -> Outcome {
        if self.fl_refused(Action::FlStop) {
            return Outcome::redraw();
        }
        let Some(run) = self.fl.shown() else {
            self.set_flash(FlashKind::Error, "fl stop: no run to stop".into());
            return Outcome::redraw();
        };
        if run.state != FlRunState::Running {
            let text = format!("fl stop: {} is {}", run.id, run.state.as_str());
            self.set_flash(FlashKind::Error, text);
            return Outcome::redraw();
        }
        self.confirm = Some(Confirm {
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
        });
        Outcome::redraw()
    }
}
