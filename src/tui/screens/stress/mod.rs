//! The stress screen: `:stress [PROFILE] [--duration S] [--neurons N]`
//! starts a test through the gate (or just opens the view), `x` stops the running one after a
//! confirm, and the view follows the running or newest test by polling the backend once a second.

mod draw;
#[cfg(any(test, feature = "testkit"))]
pub mod fixtures;

use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Ctx, Fetch, Fleet, Screen, Tab, View, back};
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::{ApiError, Command, ErrorCode, Permission};
use crate::client::Backend;
use crate::tui::actions::{Action, ActionSpec};
use crate::tui::app::Msg;
use crate::tui::chrome::{Button, Confirm, Effect, Outcome};
use crate::tui::input::InputKind;
use crate::tui::palette::{Run, Verb};

/// What the view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stress {
    /// The running or newest test; `None` until one has run where the backend's engine is.
    pub progress: Option<Progress>,
    /// The first answer arrived (so "none yet" is an answer, not a wait).
    pub loaded: bool,
}

/// The palette verb.
pub fn verb() -> Verb {
    Verb {
        name: "stress",
        usage: "[PROFILE] [--duration S] [--neurons N]",
        help: "Show the stress view; with a profile (smoke, federation, elasticity, baseline, medium, high, spike, soak), start a test",
        takes_neuron: false,
        parse,
    }
}

fn parse(args: &[&str]) -> Result<Run, String> {
    if args.is_empty() {
        return Ok(Run::Stress(None));
    }
    let mut request = StressRequest {
        profile: "smoke".into(),
        ..StressRequest::default()
    };
    let mut profile = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match *word {
            "--duration" | "-d" => {
                let v = words.next().ok_or("--duration needs seconds")?;
                let secs = crate::stress::profile::parse_duration(v)
                    .map(|d| d.as_secs_f64())
                    .or_else(|| v.parse::<f64>().ok())
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .ok_or_else(|| format!("--duration: '{v}' is not a duration (30, 30s, 5m)"))?;
                request.duration_s = Some(secs);
            }
            "--neurons" | "-n" => {
                let v = words.next().ok_or("--neurons needs a count")?;
                request.neurons = Some(
                    v.parse()
                        .map_err(|_| format!("--neurons: '{v}' is not a count"))?,
                );
            }
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option '{flag}' (--duration, --neurons)"));
            }
            name if profile.is_none() => profile = Some(name.to_string()),
            extra => return Err(format!("one profile only, got '{extra}' too")),
        }
    }
    if let Some(p) = profile {
        request.profile = p;
    }
    Ok(Run::Stress(Some(request)))
}

impl Stress {
    /// `:stress` with or without a test to start (the router has switched to this screen).
    pub fn run(&self, ctx: &mut Ctx, request: Option<StressRequest>) -> Outcome {
        let Some(request) = request else {
            return Outcome::effect(Effect::Refresh);
        };
        // Only a preview of the gate's answer: the gate decides when the request arrives.
        if ctx.say_refused(View::Stress, Action::StartStress) {
            return Outcome::effect(Effect::Refresh);
        }
        if self.progress.as_ref().is_some_and(Progress::running) {
            ctx.error("stress: a test is already running (x stops it)");
            return Outcome::redraw();
        }
        ctx.info(format!("stress: asking to start {}", request.profile));
        Outcome::effect(Effect::StartStress(request))
    }

    /// `x`: stop the running test, after a confirm that opens on Cancel.
    fn ask_stop(&self, ctx: &mut Ctx) -> Outcome {
        let Some(p) = self.progress.as_ref().filter(|p| p.running()) else {
            ctx.info("stress: no test is running");
            return Outcome::redraw();
        };
        ctx.ask(Confirm {
            title: "Stop stress test".into(),
            question: format!(
                "Stop {} ({}, {:.0}s of {:.0}s)? Load stops now; the report is still written.",
                p.id, p.profile, p.elapsed_s, p.duration_s
            ),
            confirm_label: "Stop",
            command: Command::StressStop {
                test_id: p.id.clone(),
            },
            focus: Button::Cancel,
            touches: 0,
            then: None,
            typed: None,
        })
    }

    /// `c`: remove the mock neurons a test left behind (a test removes its own when it ends;
    /// one whose runner died does not), after a confirm that opens on Cancel.
    fn ask_cleanup(ctx: &mut Ctx) -> Outcome {
        ctx.ask(Confirm {
            title: "Remove mock neurons".into(),
            question: "Remove every stress test mock neuron (ids stress-…) from the fleet?".into(),
            confirm_label: "Remove",
            command: Command::TestCleanup,
            focus: Button::Cancel,
            touches: 0,
            then: None,
            typed: None,
        })
    }

    /// A poll's answer: whether it changed the screen, or the error to show.
    pub fn on_progress(&mut self, progress: Result<Progress, ApiError>) -> Result<bool, ApiError> {
        let before = self.clone();
        self.loaded = true;
        match progress {
            Ok(p) => self.progress = Some(p),
            // Nothing has run here yet: an answer, not an error.
            Err(e) if e.code == ErrorCode::NotFound => self.progress = None,
            Err(e) => return Err(e),
        }
        Ok(*self != before)
    }

    /// The answer to a start.
    pub fn on_started(ctx: &mut Ctx, started: Result<StressStarted, ApiError>) -> Outcome {
        match started {
            Ok(s) => ctx.info(format!("stress test {} started", s.test_id)),
            Err(e) => ctx.error(format!("stress: {}", e.message)),
        }
        Outcome::effect(Effect::Refresh)
    }
}

impl Screen for Stress {
    fn tab(&self) -> Option<Tab> {
        Some(Tab {
            label: "Stress",
            help: "Show stress tests: load, latency, thresholds",
            permission: None,
        })
    }

    fn actions(&self) -> Vec<ActionSpec> {
        vec![
            ActionSpec::new(
                Action::StartStress,
                "start",
                "Start a stress test (edit the line, Enter runs it)",
            )
            .needs(Permission::StressRun),
            ActionSpec::new(
                Action::StopStress,
                "stop",
                "Stop the running stress test (asks first)",
            )
            .dangerous()
            .needs(Permission::StressRun),
            ActionSpec::new(
                Action::CleanupStress,
                "cleanup",
                "Remove mock neurons a stopped test left behind (asks first)",
            )
            .dangerous()
            .needs(Permission::TestCleanup),
            back(),
        ]
    }

    fn on_action(&mut self, action: Action, ctx: &mut Ctx) -> Outcome {
        match action {
            // The palette, prefilled with a start line to edit.
            Action::StartStress => {
                let profile = self
                    .progress
                    .as_ref()
                    .map_or("smoke", |p| p.profile.as_str());
                ctx.open_input(InputKind::Palette, &format!("stress {profile}"))
            }
            Action::StopStress => self.ask_stop(ctx),
            Action::CleanupStress => Self::ask_cleanup(ctx),
            _ => Outcome::default(),
        }
    }

    fn fetch(&self, backend: Arc<dyn Backend>) -> Option<Fetch> {
        Some(Box::pin(async move {
            Msg::Stress(backend.stress_status(crate::stress::service::LATEST).await)
        }))
    }

    fn draw(&self, frame: &mut Frame, area: Rect, _fleet: Fleet) {
        draw::draw(frame, area, self);
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures as stress_fixtures;
    use super::*;
    use crate::api::Role;
    use crate::tui::fixtures;
    use crate::tui::screens::View;
    use crossterm::event::{KeyCode, KeyEvent};

    #[test]
    fn starting_asks_the_backend_only_for_a_role_the_gate_would_admit() {
        let mut op = fixtures::app_as(Role::Operator);
        fixtures::press(&mut op, ":stress elasticity --duration 30");
        let out = fixtures::press_enter(&mut op);
        assert_eq!(op.view, View::Stress);
        let Some(Effect::StartStress(r)) = out.effect else {
            panic!("no start: {out:?}");
        };
        assert_eq!(
            (r.profile.as_str(), r.duration_s),
            ("elasticity", Some(30.0))
        );

        let mut viewer = fixtures::app_as(Role::Viewer);
        fixtures::press(&mut viewer, ":stress smoke");
        let out = fixtures::press_enter(&mut viewer);
        assert_eq!(viewer.view, View::Stress, "the view still opens");
        assert_eq!(out.effect, Some(Effect::Refresh));
        let flash = viewer
            .flash
            .as_ref()
            .map(|f| f.text.clone())
            .unwrap_or_default();
        assert!(flash.contains("may not stress.run"), "{flash}");
        // `x` is refused the same way, before any dialog.
        viewer.update(Msg::Stress(Ok(stress_fixtures::running())));
        fixtures::press(&mut viewer, "x");
        assert!(viewer.confirm.is_none());
    }

    #[test]
    fn x_stops_only_a_running_test_and_only_after_confirming() {
        let mut app = fixtures::app_as(Role::Admin);
        fixtures::press(&mut app, ":stress");
        fixtures::press_enter(&mut app);
        app.update(Msg::Stress(Ok(stress_fixtures::finished())));
        fixtures::press(&mut app, "x");
        assert!(app.confirm.is_none(), "nothing running to stop");
        app.update(Msg::Stress(Ok(stress_fixtures::running())));
        fixtures::press(&mut app, "x");
        let dialog = app.confirm.as_ref().expect("asks first");
        assert_eq!(dialog.focus, Button::Cancel);
        assert_eq!(
            fixtures::press_enter(&mut app).effect,
            None,
            "Enter on Cancel does nothing"
        );
        fixtures::press(&mut app, "x");
        app.update(Msg::Key(KeyEvent::from(KeyCode::Tab)));
        assert_eq!(
            fixtures::press_enter(&mut app).effect,
            Some(Effect::Submit(Command::StressStop {
                test_id: "st-19a4c0ffee0".into()
            }))
        );
        // A second start while one runs is refused in the console already.
        fixtures::press(&mut app, ":stress smoke");
        assert_eq!(fixtures::press_enter(&mut app).effect, None);
    }

    #[test]
    fn no_test_yet_is_an_answer_not_an_error() {
        let mut app = fixtures::app_as(Role::Admin);
        let out = app.update(Msg::Stress(Err(ApiError::not_found("no stress test"))));
        assert!(out.redraw && app.screens.stress.loaded && app.screens.stress.progress.is_none());
        assert!(app.flash.is_none());
    }

    #[test]
    fn the_verb_parses_profile_duration_and_neurons() {
        assert_eq!(parse(&[]), Ok(Run::Stress(None)));
        let Ok(Run::Stress(Some(r))) = parse(&["elasticity", "--duration", "2m", "-n", "50"])
        else {
            panic!("did not parse");
        };
        assert_eq!(
            (r.profile.as_str(), r.duration_s, r.neurons),
            ("elasticity", Some(120.0), Some(50))
        );
        let Ok(Run::Stress(Some(r))) = parse(&["--duration", "15"]) else {
            panic!("did not parse");
        };
        assert_eq!((r.profile.as_str(), r.duration_s), ("smoke", Some(15.0)));
        assert!(parse(&["smoke", "--duration"]).is_err());
        assert!(parse(&["smoke", "--duration", "-3"]).is_err());
        assert!(parse(&["smoke", "soak"]).is_err());
        assert!(parse(&["smoke", "--rate", "5"]).is_err());
    }

    #[test]
    fn the_verb_help_names_every_built_in_profile() {
        for (name, _) in crate::stress::BUILTIN_PROFILES {
            assert!(
                verb().help.contains(name),
                "{name} missing from the :stress help"
            );
        }
    }
}
