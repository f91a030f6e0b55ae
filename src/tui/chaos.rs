//! The Chaos view's state and behaviour: `:chaos` opens it, `:chaos run NAME` runs a shipped
//! experiment in a task of the console (over the backend, through the gate), `:chaos inject KIND
//! TARGET [DURATION]` injects a drill, and `x` stops the selected drill or aborts the running
//! experiment (its rollbacks still run) after a confirm.

use super::actions::Action;
use super::app::{App, Button, Confirm, Effect, FlashKind, Outcome, View};
use super::palette::{Run, Verb};
use crate::api::chaos::{ChaosFaultView, ChaosKind, ChaosParams, ChaosSpec, Selector};
use crate::api::{ApiError, Command, Millis};
use crate::experiment::Progress;
use crate::experiment::monitor::FaultRecord;
use crate::experiment::scenario::SHIPPED;

/// What `:chaos` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ChaosRequest {
    /// Run a shipped scenario by name.
    Run(String),
    Inject(ChaosSpec),
}

/// What the view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChaosState {
    /// Faults the engine holds or held, newest first.
    pub faults: Vec<ChaosFaultView>,
    /// The experiment started from this console: live, or ended with its verdict.
    pub experiment: Option<Progress>,
    /// An experiment task of this console has not ended yet.
    pub running: Option<String>,
    pub selected: usize,
    /// The first answer arrived (so "none yet" is an answer, not a wait).
    pub loaded: bool,
    /// Detection and recovery of faults outside the console's experiment.
    pub drills: super::chaos_drills::DrillWatch,
}

/// One fault row: the engine's view, with detection and recovery when a monitor saw them.
pub struct FaultRow<'a> {
    pub view: &'a ChaosFaultView,
    pub record: Option<&'a FaultRecord>,
}

impl FaultRow<'_> {
    /// An experiment-axis time placed on the engine's axis (the view's `injected_ms`).
    fn engine_ms(&self, experiment_ms: Option<Millis>) -> Option<Millis> {
        let r = self.record?;
        Some(experiment_ms? - r.injected_ms + self.view.injected_ms)
    }
    pub fn detected_ms(&self) -> Option<Millis> {
        self.engine_ms(self.record.and_then(|r| r.detected_ms))
    }
    pub fn recovered_ms(&self) -> Option<Millis> {
        self.engine_ms(self.record.and_then(|r| r.recovered_ms))
    }
}

impl ChaosState {
    pub fn rows(&self) -> Vec<FaultRow<'_>> {
        let records = self.experiment.as_ref().map(|p| p.faults.as_slice());
        self.faults
            .iter()
            .map(|view| FaultRow {
                view,
                record: records
                    .and_then(|r| r.iter().find(|f| f.id == view.id))
                    .or_else(|| self.drills.record(&view.id)),
            })
            .collect()
    }

    fn experiment_running(&self) -> bool {
        self.running.is_some()
    }

    fn selected_fault(&self) -> Option<&ChaosFaultView> {
        self.faults.get(self.selected)
    }

    /// Whether the running experiment injected this fault (it stops it itself).
    fn owned_by_experiment(&self, id: &str) -> bool {
        self.experiment_running()
            && self
                .experiment
                .as_ref()
                .is_some_and(|p| p.steps.iter().any(|s| s.fault.as_deref() == Some(id)))
    }
}

/// The palette verb.
pub fn verb() -> Verb {
    Verb {
        name: "chaos",
        usage: "[run NAME | inject KIND TARGET [DURATION]]",
        help: "Show the chaos view; run a shipped experiment or inject a drill",
        takes_neuron: false,
        parse,
    }
}

pub fn parse(args: &[&str]) -> Result<Run, String> {
    let names = || SHIPPED.map(|(n, _)| n).join(", ");
    match args {
        [] => Ok(Run::Chaos(None)),
        ["run"] => Err(format!("chaos run needs a scenario ({})", names())),
        ["run", name] => {
            if SHIPPED.iter().any(|(n, _)| n == name) {
                Ok(Run::Chaos(Some(ChaosRequest::Run(name.to_string()))))
            } else {
                Err(format!("unknown scenario '{name}' ({})", names()))
            }
        }
        ["run", _, extra, ..] => Err(format!("chaos run takes one scenario, got '{extra}' too")),
        ["inject", rest @ ..] => inject(rest).map(|s| Run::Chaos(Some(ChaosRequest::Inject(s)))),
        [other, ..] => Err(format!("unknown chaos verb '{other}' (run, inject)")),
    }
}

fn inject(args: &[&str]) -> Result<ChaosSpec, String> {
    let (kind, target, duration) = match args {
        [kind, target] => (kind, target, None),
        [kind, target, duration] => (kind, target, Some(duration)),
        [] | [_] => return Err("chaos inject needs KIND TARGET [DURATION]".into()),
        [_, _, _, extra, ..] => return Err(format!("chaos inject: unexpected '{extra}'")),
    };
    let duration_ms = match duration {
        Some(d) => {
            let ms =
                crate::api::chaos::parse_duration_ms(d).map_err(|e| format!("duration: {e}"))?;
            if ms == 0 {
                return Err("duration: must be longer than 0".into());
            }
            Some(ms)
        }
        None => None,
    };
    Ok(ChaosSpec {
        kind: ChaosKind::parse(kind).map_err(|e| format!("kind: {e}"))?,
        target: Selector::parse(target).map_err(|e| format!("target: {e}"))?,
        duration_ms,
        params: ChaosParams::default(),
    })
}

impl App {
    /// `:chaos` with or without something to start.
    pub(super) fn run_chaos(&mut self, request: Option<ChaosRequest>) -> Outcome {
        self.view = View::Chaos;
        self.detail = None;
        let Some(request) = request else {
            return Outcome::effect(Effect::Refresh);
        };
        // Only a preview of the gate's answer: the gate decides when the commands arrive.
        if let Some(refused) = self.refused(Action::StartChaos) {
            self.set_flash(FlashKind::Error, refused);
            return Outcome::effect(Effect::Refresh);
        }
        match request {
            ChaosRequest::Run(name) => {
                if let Some(running) = &self.chaos.running {
                    self.set_flash(
                        FlashKind::Error,
                        format!("chaos: {running} is still running (x aborts it)"),
                    );
                    return Outcome::redraw();
                }
                self.set_flash(FlashKind::Info, format!("chaos: starting {name}"));
                self.chaos.running = Some(name.clone());
                self.chaos.experiment = None;
                Outcome::effect(Effect::RunExperiment(name))
            }
            ChaosRequest::Inject(spec) => {
                Outcome::effect(Effect::Submit(Command::ChaosInject { spec }))
            }
        }
    }

    /// `s`: the palette, prefilled with a run line to edit.
    pub(super) fn new_chaos_line(&mut self) -> Outcome {
        self.open_input(super::input::InputKind::Palette, "chaos run single-crash")
    }

    /// `x`: stop the selected drill, or abort the running experiment; asks first.
    pub(super) fn ask_stop_chaos(&mut self) -> Outcome {
        let drill = self
            .chaos
            .selected_fault()
            .filter(|f| f.active() && !self.chaos.owned_by_experiment(&f.id))
            .cloned();
        let (title, question, command) = if let Some(f) = drill {
            (
                "Stop fault".to_string(),
                format!(
                    "Stop {} ({} on {}, {} neurons)? The fault is reverted now.",
                    f.id,
                    f.kind,
                    f.target,
                    f.neurons.len()
                ),
                Command::ChaosStop { id: f.id.clone() },
            )
        } else if let Some(name) = &self.chaos.running {
            // The abort itself is the runner's: its rollbacks stop each fault through the gate.
            let held = self
                .chaos
                .faults
                .iter()
                .find(|f| f.active() && self.chaos.owned_by_experiment(&f.id))
                .map_or_else(String::new, |f| f.id.clone());
            (
                "Abort experiment".to_string(),
                format!("Abort {name}? Its rollbacks run and stop every fault it still holds."),
                Command::ChaosStop { id: held },
            )
        } else {
            self.set_flash(FlashKind::Info, "chaos: nothing running to stop".into());
            return Outcome::redraw();
        };
        let abort = title.starts_with("Abort");
        self.confirm = Some(Confirm {
            title,
            question,
            confirm_label: if abort { "Abort" } else { "Stop" },
            command,
            focus: Button::Cancel,
            touches: 0,
            then: abort.then_some(Effect::AbortExperiment),
            typed: None,
        });
        Outcome::redraw()
    }

    pub(super) fn on_chaos(&mut self, faults: Result<Vec<ChaosFaultView>, ApiError>) -> Outcome {
        let before = self.chaos.clone();
        match faults {
            Ok(mut f) => {
                // Newest first; ids are `c-N` per engine.
                f.sort_by_key(|v| std::cmp::Reverse(v.injected_ms));
                self.chaos.drills.faults(&f);
                self.chaos.faults = f;
                self.chaos.selected = self
                    .chaos
                    .selected
                    .min(self.chaos.faults.len().saturating_sub(1));
            }
            Err(e) => {
                self.chaos.loaded = true;
                return self.failed(&e);
            }
        }
        self.chaos.loaded = true;
        Outcome {
            redraw: self.chaos != before,
            effect: None,
        }
    }

    pub(super) fn on_chaos_events(
        &mut self,
        events: Result<Vec<crate::api::EventEnvelope>, ApiError>,
    ) -> Outcome {
        let before = self.chaos.clone();
        match events {
            Ok(e) => self.chaos.drills.events(&e),
            Err(e) => return self.failed(&e),
        }
        Outcome {
            redraw: self.chaos != before,
            effect: None,
        }
    }

    pub(super) fn on_experiment(&mut self, progress: Result<Progress, ApiError>) -> Outcome {
        let mut refresh = true;
        match progress {
            Ok(p) => {
                if let Some(v) = p.verdict {
                    let v = format!("{v:?}").to_lowercase();
                    self.set_flash(FlashKind::Info, format!("chaos: {} ended: {v}", p.title));
                    self.chaos.running = None;
                } else {
                    // Progress comes every poll (100 ms); the fault list changes only when a
                    // step runs, so only then is it fetched now rather than at the next tick.
                    let ran = |p: &Progress| p.steps.iter().filter(|s| s.fault.is_some()).count();
                    refresh = self.chaos.experiment.as_ref().map(ran) != Some(ran(&p));
                }
                self.chaos.experiment = Some(p);
            }
            Err(e) => {
                self.chaos.running = None;
                self.set_flash(FlashKind::Error, format!("chaos: {}", e.message));
            }
        }
        Outcome {
            redraw: true,
            effect: refresh.then_some(Effect::Refresh),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Role;
    use crate::tui::app::Msg;
    use crate::tui::{chaos_fixtures, fixtures};
    use crossterm::event::{KeyCode, KeyEvent};

    fn run_line(app: &mut App, text: &str) -> Outcome {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char(':'))));
        for c in text.chars() {
            app.update(Msg::Key(KeyEvent::from(KeyCode::Char(c))));
        }
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)))
    }

    fn app_as(role: Role) -> App {
        let mut app = App::new(fixtures::info());
        app.session = Some(fixtures::session(role, false));
        app
    }

    #[test]
    fn the_verb_parses_run_and_inject_and_names_what_is_wrong() {
        assert_eq!(parse(&[]), Ok(Run::Chaos(None)));
        assert_eq!(
            parse(&["run", "zone-partition"]),
            Ok(Run::Chaos(Some(ChaosRequest::Run("zone-partition".into()))))
        );
        let e = parse(&["run", "nope"]).unwrap_err();
        assert!(
            e.contains("unknown scenario 'nope'") && e.contains("single-crash"),
            "{e}"
        );
        assert!(parse(&["run"]).is_err());
        assert!(parse(&["run", "single-crash", "x"]).is_err());
        let Ok(Run::Chaos(Some(ChaosRequest::Inject(s)))) =
            parse(&["inject", "packet-loss", "zone:eu-west", "30s"])
        else {
            panic!("did not parse");
        };
        assert_eq!(s.kind, ChaosKind::PacketLoss);
        assert_eq!(
            s.target,
            Selector::Zone {
                zone: "eu-west".into()
            }
        );
        assert_eq!(s.duration_ms, Some(30_000));
        let Ok(Run::Chaos(Some(ChaosRequest::Inject(s)))) = parse(&["inject", "crash", "n-0001"])
        else {
            panic!("did not parse");
        };
        assert_eq!(s.duration_ms, None, "held until stopped");
        assert!(
            parse(&["inject", "melt", "all"])
                .unwrap_err()
                .starts_with("kind:")
        );
        assert!(
            parse(&["inject", "crash", "bogus:1"])
                .unwrap_err()
                .starts_with("target:")
        );
        assert!(
            parse(&["inject", "crash", "all", "soon"])
                .unwrap_err()
                .starts_with("duration:")
        );
        assert!(parse(&["inject", "crash", "all", "0s"]).is_err());
        assert!(parse(&["inject", "crash"]).is_err());
        assert!(parse(&["inject", "crash", "all", "1s", "x"]).is_err());
        assert!(parse(&["explode"]).is_err());
    }

    #[test]
    fn roles_without_chaos_run_are_refused_before_the_backend() {
        for role in [Role::Viewer, Role::NeuronManager] {
            let mut app = app_as(role);
            let out = run_line(&mut app, "chaos run single-crash");
            assert_eq!(app.view, View::Chaos, "the view still opens");
            assert_eq!(out.effect, Some(Effect::Refresh));
            let flash = app
                .flash
                .as_ref()
                .map(|f| f.text.clone())
                .unwrap_or_default();
            assert!(flash.contains("may not chaos.run"), "{role:?}: {flash}");
            assert_eq!(
                run_line(&mut app, "chaos inject crash all").effect,
                Some(Effect::Refresh)
            );
            app.update(Msg::Chaos(Ok(chaos_fixtures::faults())));
            app.update(Msg::Key(KeyEvent::from(KeyCode::Char('x'))));
            assert!(app.confirm.is_none(), "{role:?}: x is refused too");
        }
    }

    #[test]
    fn x_aborts_the_running_experiment_only_after_confirming() {
        let mut app = app_as(Role::Operator);
        assert_eq!(
            run_line(&mut app, "chaos run single-crash").effect,
            Some(Effect::RunExperiment("single-crash".into()))
        );
        app.update(Msg::Chaos(Ok(chaos_fixtures::faults())));
        let mut p = chaos_fixtures::running();
        // The experiment's fault is the held one here, so x means the experiment.
        p.steps[0].fault = Some("c-1".into());
        app.update(Msg::Experiment(Ok(Box::new(p))));
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('j'))));
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('x'))));
        let dialog = app.confirm.as_ref().expect("asks first");
        assert_eq!(
            (dialog.focus, dialog.confirm_label),
            (Button::Cancel, "Abort")
        );
        let enter = || Msg::Key(KeyEvent::from(KeyCode::Enter));
        assert_eq!(app.update(enter()).effect, None, "Cancel does nothing");
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('x'))));
        app.update(Msg::Key(KeyEvent::from(KeyCode::Tab)));
        assert_eq!(app.update(enter()).effect, Some(Effect::AbortExperiment));
        // The verdict ends the run; a new one may start.
        app.update(Msg::Experiment(Ok(Box::new(chaos_fixtures::finished()))));
        assert!(app.chaos.running.is_none());
        assert!(matches!(
            run_line(&mut app, "chaos run single-crash").effect,
            Some(Effect::RunExperiment(_))
        ));
    }
}
