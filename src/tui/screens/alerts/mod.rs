//! The alerts screen: pending and firing alerts in group order, then the recently resolved;
//! `a` acknowledges the selected one, `s` opens the palette with a silence of its labels.

mod draw;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fetch, Fleet, Screen, Tab, back, moved, moves};
use crate::api::alert::{Alert, AlertsReport};
use crate::api::{Command, Permission, ask};
use crate::client::{Backend, BackendExt};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::app::Msg;
use crate::tui::chrome::{Effect, Outcome};
use crate::tui::input::InputKind;

#[derive(Debug, Clone, Default)]
pub struct Alerts {
    pub report: Option<AlertsReport>,
    pub selected: usize,
}

impl Alerts {
    pub fn rows(&self) -> Vec<&Alert> {
        self.report
            .as_ref()
            .map(|r| r.active().chain(&r.resolved).collect())
            .unwrap_or_default()
    }

    pub fn selected_alert(&self) -> Option<&Alert> {
        self.rows().get(self.selected).copied()
    }

    /// A new report; true when it changed what is shown.
    pub fn on_report(&mut self, report: AlertsReport) -> bool {
        let changed = self.report.as_ref() != Some(&report);
        self.report = Some(report);
        self.selected = self.selected.min(self.rows().len().saturating_sub(1));
        changed
    }
}

impl Screen for Alerts {
    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Alerts",
            help: "Show alerts: firing and pending, grouped",
            permission: None,
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        let mut actions = moves();
        actions.extend([
            ActionSpec::new(Action::AckAlert, "ack", "Acknowledge the selected alert")
                .needs(Permission::AlertAck),
            ActionSpec::new(
                Action::SilenceAlert,
                "silence",
                "Silence the selected alert (the palette opens with its labels)",
            )
            .needs(Permission::AlertSilence),
            back().no_hint(),
        ]);
        actions
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        if let Some(to) = moved(action, self.selected, self.rows().len(), ctx.page) {
            let moved = to != self.selected;
            self.selected = to;
            return Outcome {
                redraw: moved,
                effect: None,
            };
        }
        match action {
            Action::AckAlert => match self.selected_alert() {
                Some(a) => Outcome::effect(Effect::Submit(Command::AlertAck {
                    fingerprint: a.fingerprint.clone(),
                })),
                None => Outcome::default(),
            },
            Action::SilenceAlert => {
                let Some(a) = self.selected_alert() else {
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
                ctx.open_input(InputKind::Palette, &line)
            }
            _ => Outcome::default(),
        }
    }

    fn fetch(&self, backend: Arc<dyn Backend>) -> Option<Fetch> {
        Some(Box::pin(async move {
            Msg::Alerts(backend.ask(ask::alerts()).await)
        }))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self);
    }
}
