//! The detail screen: one neuron's state, telemetry, failure evidence, recovery attempts and logs.
//! It lives under the neurons tab; Esc goes back to where it was opened from.

mod draw;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fleet, Go, Screen, Tab, View};
use crate::api::{ApiError, LogLine, NeuronDetail};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::chrome::Outcome;

/// How many log lines the detail screen asks for.
pub const LOG_TAIL: usize = 200;

/// The neuron shown, with what the last fetch brought.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub id: String,
    pub detail: Option<NeuronDetail>,
    pub logs: Vec<LogLine>,
}

#[derive(Debug, Clone)]
pub struct Detail {
    pub shown: Option<Shown>,
    /// Where Esc goes.
    pub return_to: View,
}

impl Default for Detail {
    fn default() -> Self {
        Detail {
            shown: None,
            return_to: View::Neurons,
        }
    }
}

impl Detail {
    /// The neuron whose detail and logs the refresh fetches.
    pub fn id(&self) -> Option<&str> {
        self.shown.as_ref().map(|s| s.id.as_str())
    }

    pub fn open(&mut self, id: String, from: View) {
        self.return_to = from;
        self.shown = Some(Shown {
            id,
            detail: None,
            logs: Vec::new(),
        });
    }

    /// A fetch's answers for `id`: (changed, errors). An answer for a neuron no longer shown is
    /// dropped.
    pub fn on_data(
        &mut self,
        id: &str,
        detail: Result<NeuronDetail, ApiError>,
        logs: Result<Vec<LogLine>, ApiError>,
    ) -> (bool, Vec<ApiError>) {
        let Some(shown) = self.shown.as_mut().filter(|s| s.id == id) else {
            return (false, Vec::new());
        };
        let before = shown.clone();
        let mut errors = Vec::new();
        match detail {
            Ok(d) => shown.detail = Some(d),
            Err(e) => errors.push(e),
        }
        match logs {
            Ok(l) => shown.logs = l,
            Err(e) => errors.push(e),
        }
        (*shown != before, errors)
    }
}

impl Screen for Detail {
    /// It shows the fleet, which refreshes on its own.
    fn refresh_on_show(&self) -> bool {
        false
    }

    fn tab(&self) -> Option<Tab> {
        None
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new(Action::Back, "back", "Back to the previous view"),
            super::neurons::recover_action(),
            super::neurons::copy_action(),
        ]
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        let Some(id) = self.id().map(str::to_string) else {
            return Outcome::default();
        };
        match action {
            Action::Back => {
                ctx.go = Some(Go::Back);
                Outcome::redraw()
            }
            Action::Recover => super::neurons::ask_recover(ctx, id),
            Action::CopyId => super::neurons::copy(ctx, id),
            _ => Outcome::default(),
        }
    }

    fn selected_neuron(&self, _fleet: Fleet) -> Option<String> {
        self.id().map(str::to_string)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self.shown.as_ref());
    }
}
