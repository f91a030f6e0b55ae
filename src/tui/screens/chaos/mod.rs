//! The chaos screen: `:chaos` opens it, `:chaos run NAME` runs a shipped
//! experiment in a task of the console (over the backend, through the gate), `:chaos inject KIND
//! TARGET [DURATION]` injects a drill, and `x` stops the selected drill or aborts the running
//! experiment (its rollbacks still run) after a confirm.

mod draw;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;
pub mod run;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fetch, Fleet, Screen, Tab, View, back, moved, moves};
use crate::api::chaos::{ChaosFaultView, ChaosKind, ChaosParams, ChaosSpec, Selector};
use crate::api::{ApiError, Command, Millis, Permission};
use crate::client::Backend;
use crate::experiment::Progress;
use crate::experiment::monitor::FaultRecord;
use crate::experiment::scenario::SHIPPED;
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::chrome::{Button, Confirm, Effect, Outcome};
use crate::tui::input::InputKind;
use crate::tui::palette::{Run, Verb};

/// What `:chaos` asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ChaosRequest {
    /// Run a shipped scenario by name.
    Run(String),
    Inject(ChaosSpec),
}

/// What the view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chaos {
    /// Faults the engine holds or held, newest first.
    pub faults: Vec<ChaosFaultView>,
    /// The experiment started from this console: live, or ended with its verdict.
    pub experiment: Option<Progress>,
    /// An experiment task of this console has not ended yet.
    pub running: Option<String>,
    pub selected: usize,
    /// The first answer arrived (so "none yet" is an answer, not a wait).
    pub loaded: bool,
}

/// One fault row: the engine's view (which carries the detection and recovery the engine
/// recorded), with the console's experiment record when its experiment injected it.
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
            .or(self.view.detected_ms)
    }
    /// An experiment's recovery holds its hypothesis too; a drill's is the engine's record.
    pub fn recovered_ms(&self) -> Option<Millis> {
        self.engine_ms(self.record.and_then(|r| r.recovered_ms))
            .or(self.view.recovered_ms)
    }
}

impl Chaos {
    pub fn rows(&self) -> Vec<FaultRow<'_>> {
        let records = self.experiment.as_ref().map(|p| p.faults.as_slice());
        self.faults
            .iter()
            .map(|view| FaultRow {
                view,
                record: records.and_then(|r| r.iter().find(|f| f.id == view.id)),
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

impl Chaos {
    /// `:chaos` with or without something to start (the router has switched to this screen).
    pub fn run(&mut self, ctx: &mut Ctx, request: Option<ChaosRequest>) -> Outcome {
        let Some(request) = request else {
            return Outcome::effect(Effect::Refresh);
        };
        // Only a preview of the gate's answer: the gate decides when the commands arrive.
        if ctx.say_refused(View::Chaos, Action::StartChaos) {
            return Outcome::effect(Effect::Refresh);
        }
        match request {
            ChaosRequest::Run(name) => {
                if let Some(running) = &self.running {
                    ctx.error(format!("chaos: {running} is still running (x aborts it)"));
                    return Outcome::redraw();
                }
                ctx.info(format!("chaos: starting {name}"));
                self.running = Some(name.clone());
                self.experiment = None;
                Outcome::effect(Effect::RunExperiment(name))
            }
            ChaosRequest::Inject(spec) => {
                Outcome::effect(Effect::Submit(Command::ChaosInject { spec }))
            }
        }
    }

    /// `x`: stop the selected drill, or abort the running experiment; asks first.
    fn ask_stop(&self, ctx: &mut Ctx) -> Outcome {
        let drill = self
            .selected_fault()
            .filter(|f| f.active() && !self.owned_by_experiment(&f.id))
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
        } else if let Some(name) = &self.running {
            // The abort itself is the runner's: its rollbacks stop each fault through the gate.
            let held = self
                .faults
                .iter()
                .find(|f| f.active() && self.owned_by_experiment(&f.id))
                .map_or_else(String::new, |f| f.id.clone());
            (
                "Abort experiment".to_string(),
                format!("Abort {name}? Its rollbacks run and stop every fault it still holds."),
                Command::ChaosStop { id: held },
            )
        } else {
            ctx.info("chaos: nothing running to stop");
            return Outcome::redraw();
        };
        let abort = title.starts_with("Abort");
        ctx.ask(Confirm {
            title,
            question,
            confirm_label: if abort { "Abort" } else { "Stop" },
            command,
            focus: Button::Cancel,
            touches: 0,
            then: abort.then_some(Effect::AbortExperiment),
            typed: None,
        })
    }

    /// A poll's answer: whether it changed the screen, or the error to show.
    pub fn on_faults(
        &mut self,
        faults: Result<Vec<ChaosFaultView>, ApiError>,
    ) -> Result<bool, ApiError> {
        let before = self.clone();
        self.loaded = true;
        let mut f = faults?;
        // Newest first; ids are `c-N` per engine.
        f.sort_by_key(|v| std::cmp::Reverse(v.injected_ms));
        self.faults = f;
        self.selected = self.selected.min(self.faults.len().saturating_sub(1));
        Ok(*self != before)
    }

    pub fn on_experiment(
        &mut self,
        ctx: &mut Ctx,
        progress: Result<Progress, ApiError>,
    ) -> Outcome {
        let mut refresh = true;
        match progress {
            Ok(p) => {
                if let Some(v) = p.verdict {
                    let v = format!("{v:?}").to_lowercase();
                    ctx.info(format!("chaos: {} ended: {v}", p.title));
                    self.running = None;
                } else {
                    // Progress comes every poll (100 ms); the fault list changes only when a
                    // step runs, so only then is it fetched now rather than at the next tick.
                    let ran = |p: &Progress| p.steps.iter().filter(|s| s.fault.is_some()).count();
                    refresh = self.experiment.as_ref().map(ran) != Some(ran(&p));
                }
                self.experiment = Some(p);
            }
            Err(e) => {
                self.running = None;
                ctx.error(format!("chaos: {}", e.message));
            }
        }
        Outcome {
            redraw: true,
            effect: refresh.then_some(Effect::Refresh),
        }
    }
}

impl Screen for Chaos {
    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Chaos",
            help: "Show chaos: faults with detect/recover times, the experiment",
            permission: None,
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        let mut actions = moves();
        actions.extend([
            ActionSpec::new(
                Action::StartChaos,
                "run",
                "Run a shipped experiment (edit the line, Enter runs it)",
            )
            .needs(Permission::ChaosRun),
            ActionSpec::new(
                Action::StopChaos,
                "stop",
                "Stop the selected drill, or abort the experiment (asks first)",
            )
            .dangerous()
            .needs(Permission::ChaosRun),
            back().no_hint(),
        ]);
        actions
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        if let Some(to) = moved(action, self.selected, self.faults.len(), ctx.page) {
            let moved = to != self.selected;
            self.selected = to;
            return Outcome {
                redraw: moved,
                effect: None,
            };
        }
        match action {
            // The palette, prefilled with a run line to edit.
            Action::StartChaos => ctx.open_input(InputKind::Palette, "chaos run single-crash"),
            Action::StopChaos => self.ask_stop(ctx),
            _ => Outcome::default(),
        }
    }

    fn fetch(&self, backend: Arc<dyn Backend>) -> Option<Fetch> {
        Some(Box::pin(
            async move { run::fetch_chaos(backend.as_ref()).await },
        ))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self);
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures as chaos_fixtures;
    use super::*;
    use crate::api::Role;
    use crate::tui::app::{App, Msg};
    use crate::tui::fixtures;
    use crate::tui::screens::View;
    use crossterm::event::{KeyCode, KeyEvent};

    /// Types `:text` and Enter: the command line, as a person uses it.
    fn run_line(app: &mut App, text: &str) -> Outcome {
        fixtures::press(app, &format!(":{text}"));
        fixtures::press_enter(app)
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
            let mut app = fixtures::app_as(role);
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
        let mut app = fixtures::app_as(Role::Operator);
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
        assert!(app.screens.chaos.running.is_none());
        assert!(matches!(
            run_line(&mut app, "chaos run single-crash").effect,
            Some(Effect::RunExperiment(_))
        ));
    }
}
