//! The overview screen: state counts, detections, recoveries, current failures, recent events
//! and the healthy-neuron sparkline.

mod draw;

pub use draw::ASCII_BARS;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fleet, Go, Screen, Tab, View, back};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::chrome::Outcome;

#[derive(Debug, Clone, Default)]
pub struct Overview;

impl Screen for Overview {
    /// It shows the fleet, which refreshes on its own.
    fn refresh_on_show(&self) -> bool {
        false
    }

    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Overview",
            help: "Show the fleet overview",
            permission: None,
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![back()]
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        if action == Action::Back {
            ctx.go = Some(Go::To(View::Neurons));
            return Outcome::redraw();
        }
        Outcome::default()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, fleet: Fleet) {
        draw::draw(frame, area, fleet);
    }
}
