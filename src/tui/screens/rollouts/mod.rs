//! The rollouts screen: the fleet's config version and drift, recent rollouts (newest first) and
//! the selected one in full: waves, per-neuron results, the rollback cause.

mod draw;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fetch, Fleet, Screen, Tab, back, moved, moves};
use crate::api::ask;
use crate::api::rollout::{RolloutView, RolloutsReport};
use crate::client::{Backend, BackendExt};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::app::Msg;
use crate::tui::chrome::{Effect, Outcome};

/// The rollout report and the selected rollout in full.
pub type RolloutsData = (RolloutsReport, Option<RolloutView>);

#[derive(Debug, Clone, Default)]
pub struct Rollouts {
    pub report: Option<RolloutsReport>,
    pub detail: Option<RolloutView>,
    /// Index into the report's rollouts, newest first.
    pub selected: usize,
}

impl Rollouts {
    /// The id of the selected rollout (the list shows the newest first).
    pub fn selected_id(&self) -> Option<u64> {
        let r = self.report.as_ref()?;
        r.rollouts.iter().rev().nth(self.selected).map(|s| s.id)
    }

    /// New data; true when it changed what is shown.
    pub fn on_data(&mut self, (report, detail): RolloutsData) -> bool {
        let changed = self.report.as_ref() != Some(&report) || self.detail != detail;
        self.report = Some(report);
        self.detail = detail;
        changed
    }
}

/// The report and the selected rollout (the newest when none is selected yet).
pub async fn fetch(backend: &dyn Backend, selected: Option<u64>) -> Msg {
    let report = match backend.ask(ask::rollouts()).await {
        Ok(r) => r,
        Err(e) => return Msg::Rollouts(Err(e)),
    };
    let id = selected.or_else(|| report.rollouts.last().map(|r| r.id));
    let detail = match id {
        Some(id) => backend.ask(ask::rollout(id)).await.ok(),
        None => None,
    };
    Msg::Rollouts(Ok((report, detail)))
}

impl Screen for Rollouts {
    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Rollouts",
            help: "Show rollouts: waves, per-neuron results, rollback cause",
            permission: None,
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        let mut actions = moves();
        actions.push(back().no_hint());
        actions
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        let count = self.report.as_ref().map_or(0, |r| r.rollouts.len());
        match moved(action, self.selected, count, ctx.page) {
            Some(to) if to != self.selected => {
                // The selected rollout's detail is fetched anew.
                self.selected = to;
                self.detail = None;
                Outcome::effect(Effect::Refresh)
            }
            _ => Outcome::default(),
        }
    }

    fn fetch(&self, backend: Arc<dyn Backend>) -> Option<Fetch> {
        let selected = self.selected_id();
        Some(Box::pin(
            async move { fetch(backend.as_ref(), selected).await },
        ))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self);
    }
}
