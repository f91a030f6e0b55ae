//! The console's screens: one folder each, behind one [`Screen`] trait. A screen holds its state,
//! declares its actions (the keymap binds their keys), fetches its data, handles its actions and
//! draws its body; it sees a narrow [`Ctx`] (the fleet as last fetched, the flash line, dialogs,
//! the input line, the role preview), never the whole app. The ordered list at the bottom of this
//! file drives the header's tabs, help, the hint bar, refresh and drawing.
//!
//! Adding a screen: a folder here with a type that implements `Screen`, one line in `screens!`
//! below, and keys for its actions and its `show_…` in `keymaps/*.toml`.

pub mod alerts;
pub mod audit;
pub mod chaos;
pub mod detail;
pub mod fl;
pub mod neurons;
pub mod overview;
pub mod rollouts;
pub mod stress;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::actions::{Action, ActionSpec, Registry, Scope};
use super::app::{Msg, TextWidths};
use super::chrome::{Confirm, FLASH_TICKS, Flash, FlashKind, Outcome, refusal, refused_text};
use super::input::{InputKind, InputLine};
use crate::api::{NeuronView, Permission, Role, StatusReport};
use crate::client::Backend;

/// A screen's data fetch, run by the event loop while the screen is shown.
pub type Fetch = Pin<Box<dyn Future<Output = Msg> + Send>>;

/// What every screen may read: the fleet as the last refresh brought it.
#[derive(Clone, Copy)]
pub struct Fleet<'a> {
    pub status: Option<&'a StatusReport>,
    pub neurons: &'a Arc<Vec<NeuronView>>,
    /// Healthy-neuron counts, one a second, oldest first.
    pub history: &'a [u64],
    pub text_widths: TextWidths,
    /// What is on screen is older than two publishing periods.
    pub stale: bool,
}

/// Where an action asks the console to go (applied by the router after the action).
#[derive(Debug, Clone, PartialEq)]
pub enum Go {
    To(View),
    /// The detail screen of this neuron (Esc comes back here).
    Detail(String),
    /// Leave the detail screen for where it was opened from.
    Back,
}

/// The narrow context a screen acts in.
pub struct Ctx<'a> {
    pub fleet: Fleet<'a>,
    pub registry: &'a Registry,
    pub role: Option<Role>,
    pub read_only: bool,
    pub federation: &'a str,
    /// Rows of a table that fit the terminal.
    pub page: usize,
    pub confirm: &'a mut Option<Confirm>,
    pub input: &'a mut Option<InputLine>,
    pub(super) flash: &'a mut Option<Flash>,
    pub(super) ticks: u64,
    /// Set by a screen to move elsewhere.
    pub go: Option<Go>,
}

impl Ctx<'_> {
    pub fn flash(&mut self, kind: FlashKind, text: String) {
        *self.flash = Some(Flash {
            kind,
            text,
            expires_at_tick: self.ticks + FLASH_TICKS,
        });
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.flash(FlashKind::Info, text.into());
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.flash(FlashKind::Error, text.into());
    }

    /// Why the gate would refuse `action` of screen `view` (the text the flash line shows), if
    /// it would. Only a preview: the gate decides.
    pub fn refused(&self, view: View, action: Action) -> Option<String> {
        let spec = self
            .registry
            .actions(Scope::Screen(view))
            .iter()
            .find(|s| s.action == action)?;
        refusal(self.role, self.read_only, spec).map(|r| refused_text(spec, r))
    }

    /// Says why the gate would refuse `action`, and whether it would.
    pub fn say_refused(&mut self, view: View, action: Action) -> bool {
        match self.refused(view, action) {
            Some(text) => {
                self.error(text);
                true
            }
            None => false,
        }
    }

    /// A question before a dangerous action.
    pub fn ask(&mut self, dialog: Confirm) -> Outcome {
        *self.confirm = Some(dialog);
        Outcome::redraw()
    }

    /// Open the palette (or filter line) with `text` to edit.
    pub fn open_input(&mut self, kind: InputKind, text: &str) -> Outcome {
        *self.input = Some(InputLine::new(kind, text));
        Outcome::redraw()
    }
}

/// A header tab: its label, and its `show_…` action's help line and permission (the key is the
/// one the keymap binds to that action).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tab {
    pub label: &'static str,
    pub help: &'static str,
    pub permission: Option<Permission>,
}

pub trait Screen {
    /// Its header tab, if it has one (the detail screen lives under the neurons tab).
    fn tab(&self) -> Option<Tab>;

    /// Its actions with no keys bound, in display order (hints and help show them so).
    fn actions(&self) -> Vec<ActionSpec>;

    /// One of its actions, pressed while it is shown (the router has checked the gate preview).
    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome;

    /// Whether showing it fetches its data at once (screens that poll their own data).
    fn refresh_on_show(&self) -> bool {
        true
    }

    /// Its data, fetched while it is shown (every second, and at once when asked).
    fn fetch(&self, _backend: Arc<dyn Backend>) -> Option<Fetch> {
        None
    }

    /// New fleet data arrived; true when the screen changed.
    fn on_fleet(&mut self, _fleet: Fleet) -> bool {
        false
    }

    /// The terminal has `page` table rows now: keep the cursor in view.
    fn on_page(&mut self, _page: usize) {}

    /// The `/` filter's current text, for screens with a filterable table.
    fn filter_text(&self) -> Option<String> {
        None
    }

    /// Set (or with empty text, clear) its filter. `None` when it has no filter.
    fn set_filter(&mut self, _text: &str, _fleet: Fleet) -> Option<Result<(), String>> {
        None
    }

    /// The neuron id under the cursor (copy, recover), if it shows neurons.
    fn selected_neuron(&self, _fleet: Fleet) -> Option<String> {
        None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, fleet: Fleet);
}

/// The ordered screen list: one line per screen, in header-tab order — its field, its type, its
/// name in the `View` enum and its title in help. It makes the `View` enum, the `Screens` struct
/// (one typed field each), the keymap names (`[neurons]`, `show_neurons`) and the lookups the
/// router uses.
macro_rules! screens {
    ($($field:ident: $ty:ty => $view:ident, $title:literal;)*) => {
        /// Which screen is shown.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum View {
            $($view,)*
        }

        impl View {
            /// Its keymap section (`neurons`).
            pub fn name(self) -> &'static str {
                match self {
                    $(View::$view => stringify!($field),)*
                }
            }

            /// Its `show_…` action's name in keymap files.
            pub fn show_action_name(self) -> &'static str {
                match self {
                    $(View::$view => concat!("show_", stringify!($field)),)*
                }
            }

            /// Its title in help.
            pub fn title(self) -> &'static str {
                match self {
                    $(View::$view => $title,)*
                }
            }
        }

        /// Every screen's state.
        #[derive(Default)]
        pub struct Screens {
            $(pub $field: $ty,)*
        }

        impl Screens {
            /// In header order.
            pub const ORDER: &'static [View] = &[$(View::$view,)*];

            pub fn get(&self, view: View) -> &dyn Screen {
                match view {
                    $(View::$view => &self.$field,)*
                }
            }

            pub fn get_mut(&mut self, view: View) -> &mut dyn Screen {
                match view {
                    $(View::$view => &mut self.$field,)*
                }
            }

            /// Every screen, in header order.
            pub fn all(&self) -> Vec<(View, &dyn Screen)> {
                vec![$((View::$view, &self.$field as &dyn Screen),)*]
            }

            pub fn all_mut(&mut self) -> Vec<(View, &mut dyn Screen)> {
                vec![$((View::$view, &mut self.$field as &mut dyn Screen),)*]
            }
        }
    };
}

screens! {
    overview: overview::Overview => Overview, "Overview";
    neurons: neurons::Neurons => Neurons, "Neurons";
    detail: detail::Detail => Detail, "Neuron detail";
    audit: audit::Audit => Audit, "Audit log";
    rollouts: rollouts::Rollouts => Rollouts, "Rollouts";
    alerts: alerts::Alerts => Alerts, "Alerts";
    fl: fl::Fl => Fl, "Federated learning";
    chaos: chaos::Chaos => Chaos, "Chaos";
    stress: stress::Stress => Stress, "Stress test";
}

impl View {
    pub fn scope(self) -> Scope {
        Scope::Screen(self)
    }
}

/// The table moves every list screen shares (keys from the keymap).
pub fn moves() -> Vec<ActionSpec> {
    use Action as A;
    vec![
        ActionSpec::new(A::Up, "up", "Select the row above"),
        ActionSpec::new(A::Down, "down", "Select the row below"),
        ActionSpec::new(A::PageUp, "page up", "Move one page up").no_hint(),
        ActionSpec::new(A::PageDown, "page down", "Move one page down").no_hint(),
        ActionSpec::new(A::Top, "top", "Jump to the first row").no_hint(),
        ActionSpec::new(A::Bottom, "bottom", "Jump to the last row").no_hint(),
    ]
}

/// Where a table move takes a cursor at `at` over `len` rows (`None`: not a move).
pub fn moved(action: Action, at: usize, len: usize, page: usize) -> Option<usize> {
    let to = match action {
        Action::Up => at.saturating_sub(1),
        Action::Down => at.saturating_add(1),
        Action::PageUp => at.saturating_sub(page.max(1)),
        Action::PageDown => at.saturating_add(page.max(1)),
        Action::Top => 0,
        Action::Bottom => usize::MAX,
        _ => return None,
    };
    Some(to.min(len.saturating_sub(1)))
}

/// "Back to the neurons table", a screen's Esc.
pub fn back() -> ActionSpec {
    ActionSpec::new(Action::Back, "back", "Back to the neurons table")
}
