//! The audit screen: a live tail of the audit log (the newest records of the `:audit` query),
//! filtered on screen with `/`.

mod draw;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fetch, Fleet, Screen, Tab, back, moved, moves};
use crate::api::Permission;
use crate::api::security::AuditFilter;
use crate::api::{AuditRecord, ask};
use crate::client::{Backend, BackendExt};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::app::Msg;
use crate::tui::chrome::Outcome;
use crate::tui::filter::Filter;
use crate::tui::screens::neurons::window_start;

/// How many audit records the live tail keeps.
pub const AUDIT_TAIL: usize = 500;

#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub records: Vec<AuditRecord>,
    /// Indices into `records`, oldest first.
    pub order: Vec<u32>,
    pub selected: usize,
    pub offset: usize,
    pub filter: Option<Filter>,
    /// What the periodic query asks the backend for.
    pub query: AuditFilter,
    page: usize,
}

impl Audit {
    /// Replaces the tail; keeps following the newest record when the cursor was on it.
    pub fn on_records(&mut self, records: Vec<AuditRecord>) -> bool {
        if records == self.records {
            return false;
        }
        let at_end = self.selected + 1 >= self.order.len();
        self.records = records;
        self.refilter();
        if at_end {
            self.selected = usize::MAX;
        }
        self.clamp();
        true
    }

    /// A new `:audit` query: the tail starts over.
    pub fn set_query(&mut self, query: AuditFilter) {
        if query != self.query {
            self.query = query;
            self.records.clear();
            self.order.clear();
        }
    }

    fn refilter(&mut self) {
        let filter = self.filter.as_ref();
        self.order = (0..self.records.len() as u32)
            .filter(|&i| filter.is_none_or(|f| f.matches(&self.records[i as usize])))
            .collect();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
        self.offset = window_start(self.offset, self.selected, self.page, self.order.len());
    }
}

impl Screen for Audit {
    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Audit",
            help: "Show the audit log (live tail)",
            permission: Some(Permission::AuditView),
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        let mut actions = moves();
        actions.extend(super::neurons::filter_actions());
        actions.push(back().no_hint());
        actions
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        let Some(to) = moved(action, self.selected, self.order.len(), ctx.page) else {
            return Outcome::default();
        };
        let before = (self.selected, self.offset);
        self.selected = to;
        self.clamp();
        Outcome {
            redraw: before != (self.selected, self.offset),
            effect: None,
        }
    }

    fn fetch(&self, backend: Arc<dyn Backend>) -> Option<Fetch> {
        let filter = AuditFilter {
            limit: Some(AUDIT_TAIL),
            ..self.query.clone()
        };
        Some(Box::pin(async move {
            Msg::Audit(backend.ask(ask::audit(filter)).await)
        }))
    }

    fn on_page(&mut self, page: usize) {
        self.page = page;
        self.clamp();
    }

    fn filter_text(&self) -> Option<String> {
        Some(
            self.filter
                .as_ref()
                .map(|f| f.text.clone())
                .unwrap_or_default(),
        )
    }

    fn set_filter(&mut self, text: &str, _fleet: Fleet) -> Option<Result<(), String>> {
        let filter = if text.trim().is_empty() {
            None
        } else {
            match Filter::parse::<AuditRecord>(text) {
                Ok(f) => Some(f),
                Err(e) => return Some(Err(e)),
            }
        };
        self.filter = filter;
        self.refilter();
        self.clamp();
        Some(Ok(()))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self);
    }
}
