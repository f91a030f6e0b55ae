//! The console's chrome, shared by every screen: the flash line, confirm dialogs, what an
//! update asks of the event loop, and the preview of what the gate would refuse.

use super::actions::ActionSpec;
use crate::api::{Command, Role};

/// How long (in 1 Hz ticks) a flash message stays up.
pub const FLASH_TICKS: u64 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Confirm,
}

/// A question before a dangerous action. Opens with Cancel focused.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    pub confirm_label: &'static str,
    pub command: Command,
    pub focus: Button,
    /// How many neurons the command touches (said in the dialog).
    pub touches: usize,
    /// Fleet-wide actions: the federation name must be typed before Confirm does anything.
    pub typed: Option<Typed>,
    /// What Confirm does instead of submitting `command` (e.g. aborting an experiment).
    pub then: Option<Effect>,
}

/// The text the operator must type to arm a fleet-wide dialog.
#[derive(Debug, Clone)]
pub struct Typed {
    pub expected: String,
    pub input: tui_input::Input,
}

impl PartialEq for Typed {
    fn eq(&self, other: &Self) -> bool {
        self.expected == other.expected && self.input.value() == other.input.value()
    }
}

impl Confirm {
    /// Whether Confirm may run: always, unless a typed name is still missing.
    pub fn armed(&self) -> bool {
        self.typed
            .as_ref()
            .is_none_or(|t| t.input.value() == t.expected)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
    pub(crate) expires_at_tick: u64,
}

/// What the update asks the event loop to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    Submit(Command),
    /// Fetch now rather than at the next tick (e.g. the detail view just opened).
    Refresh,
    RenewSession,
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Capture the mouse (true) or release it.
    SetMouse(bool),
    /// Hand the terminal back to the shell until resumed.
    Suspend,
    /// Ask the backend to start a stress test (the gate admits it).
    StartStress(crate::api::stress::StressRequest),
    /// Run a shipped chaos experiment in a task of the console.
    RunExperiment(String),
    /// Cancel the console's experiment (its rollbacks run).
    AbortExperiment,
}

/// The result of one update.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub redraw: bool,
    pub effect: Option<Effect>,
}

impl Outcome {
    /// This outcome, but redrawing (a palette command always changes the screen: it closed).
    pub fn or_redraw(self) -> Self {
        Outcome {
            redraw: true,
            ..self
        }
    }
    pub fn redraw() -> Self {
        Outcome {
            redraw: true,
            effect: None,
        }
    }
    pub fn effect(effect: Effect) -> Self {
        Outcome {
            redraw: true,
            effect: Some(effect),
        }
    }
}

/// What the console shows for an action the gate would refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Read-only session: the action is not offered at all.
    Hidden,
    /// The role lacks the permission: shown greyed, with the reason.
    Greyed(String),
}

/// Why the gate would refuse `spec` for `role`, if it would: `Hidden` in a read-only session for
/// anything that changes the fleet, `Greyed` when the role lacks the permission. Only a preview:
/// the gate decides.
pub fn refusal(role: Option<Role>, read_only: bool, spec: &ActionSpec) -> Option<Refusal> {
    let permission = spec.permission?;
    if read_only && permission.mutates() {
        return Some(Refusal::Hidden);
    }
    let role = role?;
    (!crate::api::rbac::allowed(role, permission))
        .then(|| Refusal::Greyed(crate::api::rbac::refusal(role, permission)))
}

/// The flash text for an action the gate would refuse.
pub fn refused_text(spec: &ActionSpec, refusal: Refusal) -> String {
    match refusal {
        Refusal::Hidden => format!("{}: not available in a read-only session", spec.name),
        Refusal::Greyed(reason) => format!("{}: {reason}", spec.name),
    }
}
