//! The neurons screen: the fleet as a table, sorted and filtered, with the cursor kept on the
//! same neuron across refreshes; Enter opens its detail, `r` recovers it (asks first).

pub mod broadcast;
mod draw;
mod order;
#[cfg(test)]
mod tests;

pub use draw::{visible_rows, window_start};
pub use order::{Column, Sort, sorted_order};

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fleet, Go, Screen, Tab, moved, moves};
use crate::api::{Command, NeuronView, Permission};
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::chrome::{Button, Confirm, Effect, Outcome};
use crate::tui::filter::Filter;

#[derive(Debug, Clone)]
pub struct Neurons {
    /// Indices into the fleet's neurons, in display order.
    pub order: Vec<u32>,
    pub sort: Sort,
    /// Position in `order`.
    pub selected: usize,
    /// First visible position in `order`.
    pub offset: usize,
    pub filter: Option<Filter>,
    page: usize,
}

impl Default for Neurons {
    fn default() -> Self {
        Neurons {
            order: Vec::new(),
            sort: Sort {
                column: Column::Id,
                descending: false,
            },
            selected: 0,
            offset: 0,
            filter: None,
            page: 0,
        }
    }
}

impl Neurons {
    /// The neuron under the cursor.
    pub fn selected_in<'a>(&self, neurons: &'a [NeuronView]) -> Option<&'a NeuronView> {
        let index = *self.order.get(self.selected)?;
        neurons.get(index as usize)
    }

    /// Rebuild the order (new data, sort or filter), keeping the cursor on the same neuron when
    /// it is still there.
    pub fn resort(&mut self, neurons: &[NeuronView]) {
        let selected_id = self.selected_in(neurons).map(|n| n.id.clone());
        let mut order = sorted_order(neurons, self.sort);
        if let Some(f) = &self.filter {
            order.retain(|&i| f.matches(&neurons[i as usize]));
        }
        self.order = order;
        let found = selected_id.and_then(|id| {
            self.order
                .iter()
                .position(|&i| neurons[i as usize].id == id)
        });
        self.selected = found.unwrap_or(self.selected);
        self.clamp();
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.order.len().saturating_sub(1));
        self.offset = window_start(self.offset, self.selected, self.page, self.order.len());
    }
}

/// The `/` filter and its clearing, shared by the tables that filter.
pub fn filter_actions() -> [ActionSpec; 2] {
    [
        ActionSpec::new(
            Action::Filter,
            "filter",
            "Filter rows: regex, !regex, field=value",
        ),
        ActionSpec::new(Action::ClearFilter, "clear", "Drop the filter").no_hint(),
    ]
}

pub fn recover_action() -> ActionSpec {
    ActionSpec::new(
        Action::Recover,
        "recover",
        "Force recovery of the selected neuron (asks first)",
    )
    .dangerous()
    .needs(Permission::NeuronRecover)
}

pub fn copy_action() -> ActionSpec {
    ActionSpec::new(
        Action::CopyId,
        "copy id",
        "Copy the neuron id to the clipboard (OSC 52)",
    )
    .no_hint()
}

/// The recover dialog for `neuron` (opens on Cancel).
pub fn ask_recover(ctx: &mut Ctx, neuron: String) -> Outcome {
    ctx.ask(Confirm {
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
    })
}

/// Put a neuron id on the clipboard (OSC 52) and say so.
pub fn copy(ctx: &mut Ctx, id: String) -> Outcome {
    ctx.info(format!("copied {id} to the clipboard"));
    Outcome::effect(Effect::Copy(id))
}

impl Screen for Neurons {
    /// It shows the fleet, which refreshes on its own.
    fn refresh_on_show(&self) -> bool {
        false
    }

    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Neurons",
            help: "Show the neurons table",
            permission: None,
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        let mut actions = moves();
        actions.extend([
            ActionSpec::new(Action::Open, "detail", "Open the selected neuron"),
            recover_action(),
            ActionSpec::new(Action::SortNext, "sort", "Sort by the next column"),
            ActionSpec::new(Action::SortReverse, "reverse", "Reverse the sort order"),
            copy_action(),
        ]);
        actions.extend(filter_actions());
        actions
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        if let Some(to) = moved(action, self.selected, self.order.len(), ctx.page) {
            let before = (self.selected, self.offset);
            self.selected = to;
            self.clamp();
            return Outcome {
                redraw: before != (self.selected, self.offset),
                effect: None,
            };
        }
        let selected = self
            .selected_in(ctx.fleet.neurons)
            .map(|n| n.id.to_string());
        match action {
            Action::Open => match selected {
                Some(id) => {
                    ctx.go = Some(Go::Detail(id));
                    Outcome::effect(Effect::Refresh)
                }
                None => Outcome::default(),
            },
            Action::Recover => selected.map_or_else(Outcome::default, |id| ask_recover(ctx, id)),
            Action::CopyId => selected.map_or_else(Outcome::default, |id| copy(ctx, id)),
            Action::SortNext | Action::SortReverse => {
                if action == Action::SortNext {
                    self.sort.column = self.sort.column.next();
                } else {
                    self.sort.descending = !self.sort.descending;
                }
                self.resort(ctx.fleet.neurons);
                Outcome::redraw()
            }
            _ => Outcome::default(),
        }
    }

    fn on_fleet(&mut self, fleet: Fleet) -> bool {
        self.resort(fleet.neurons);
        true
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

    fn set_filter(&mut self, text: &str, fleet: Fleet) -> Option<Result<(), String>> {
        self.filter = if text.trim().is_empty() {
            None
        } else {
            match Filter::parse::<NeuronView>(text) {
                Ok(f) => Some(f),
                Err(e) => return Some(Err(e)),
            }
        };
        self.resort(fleet.neurons);
        Some(Ok(()))
    }

    fn selected_neuron(&self, fleet: Fleet) -> Option<String> {
        self.selected_in(fleet.neurons).map(|n| n.id.to_string())
    }

    fn draw(&self, frame: &mut Frame, area: Rect, fleet: Fleet) {
        draw::draw(frame, area, self, fleet);
    }
}
