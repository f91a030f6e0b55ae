//! The Stress view's state and behaviour: `:stress [PROFILE] [--duration S] [--neurons N]`
//! starts a test through the gate (or just opens the view), `x` stops the running one after a
//! confirm, and the view follows the running or newest test by polling the backend once a second.

use super::actions::Action;
use super::app::{App, Button, Confirm, Effect, FlashKind, Outcome, View};
use super::palette::{Run, Verb};
use crate::api::stress::{Progress, StressRequest, StressStarted};
use crate::api::{ApiError, Command, ErrorCode};

/// What the view shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StressState {
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
        help: "Show the stress view; with a profile (smoke, federation, elasticity, soak), start a test",
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

impl App {
    /// `:stress` with or without a test to start.
    pub(super) fn run_stress(&mut self, request: Option<StressRequest>) -> Outcome {
        self.view = View::Stress;
        self.detail = None;
        let Some(request) = request else {
            return Outcome::effect(Effect::Refresh);
        };
        // Only a preview of the gate's answer: the gate decides when the request arrives.
        if let Some(refused) = self.refused(Action::StartStress) {
            self.set_flash(FlashKind::Error, refused);
            return Outcome::effect(Effect::Refresh);
        }
        if self.stress.progress.as_ref().is_some_and(Progress::running) {
            self.set_flash(
                FlashKind::Error,
                "stress: a test is already running (x stops it)".into(),
            );
            return Outcome::redraw();
        }
        self.set_flash(
            FlashKind::Info,
            format!("stress: asking to start {}", request.profile),
        );
        Outcome::effect(Effect::StartStress(request))
    }

    /// `n`: the palette, prefilled with a start line to edit.
    pub(super) fn new_stress_line(&mut self) -> Outcome {
        let profile = self
            .stress
            .progress
            .as_ref()
            .map_or("smoke", |p| p.profile.as_str())
            .to_string();
        self.open_input(
            super::input::InputKind::Palette,
            &format!("stress {profile}"),
        )
    }

    /// `x`: stop the running test, after a confirm that opens on Cancel.
    pub(super) fn ask_stop_stress(&mut self) -> Outcome {
        let Some(p) = self.stress.progress.as_ref().filter(|p| p.running()) else {
            self.set_flash(FlashKind::Info, "stress: no test is running".into());
            return Outcome::redraw();
        };
        self.confirm = Some(Confirm {
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
        });
        Outcome::redraw()
    }

    /// `c`: remove the mock neurons a test left behind (a test removes its own when it ends;
    /// one whose runner died does not), after a confirm that opens on Cancel.
    pub(super) fn ask_cleanup_stress(&mut self) -> Outcome {
        self.confirm = Some(Confirm {
            title: "Remove mock neurons".into(),
            question: "Remove every stress test mock neuron (ids stress-…) from the fleet?".into(),
            confirm_label: "Remove",
            command: Command::TestCleanup,
            focus: Button::Cancel,
            touches: 0,
            then: None,
            typed: None,
        });
        Outcome::redraw()
    }

    pub(super) fn on_stress(&mut self, progress: Result<Progress, ApiError>) -> Outcome {
        let before = self.stress.clone();
        match progress {
            Ok(p) => self.stress.progress = Some(p),
            // Nothing has run here yet: an answer, not an error.
            Err(e) if e.code == ErrorCode::NotFound => self.stress.progress = None,
            Err(e) => {
                self.stress.loaded = true;
                return self.failed(&e);
            }
        }
        self.stress.loaded = true;
        Outcome {
            redraw: self.stress != before,
            effect: None,
        }
    }

    pub(super) fn on_stress_started(
        &mut self,
        started: Result<StressStarted, ApiError>,
    ) -> Outcome {
        match started {
            Ok(s) => self.set_flash(
                FlashKind::Info,
                format!("stress test {} started", s.test_id),
            ),
            Err(e) => self.set_flash(FlashKind::Error, format!("stress: {}", e.message)),
        }
        Outcome::effect(Effect::Refresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Role;
    use crate::tui::app::Msg;
    use crate::tui::{fixtures, stress_fixtures};
    use crossterm::event::{KeyCode, KeyEvent};

    fn keys(app: &mut App, text: &str) -> Outcome {
        let mut last = Outcome::default();
        for c in text.chars() {
            last = app.update(Msg::Key(KeyEvent::from(KeyCode::Char(c))));
        }
        last
    }

    fn enter(app: &mut App) -> Outcome {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)))
    }

    fn app_as(role: Role) -> App {
        let mut app = App::new(fixtures::info());
        app.session = Some(fixtures::session(role, false));
        app
    }

    #[test]
    fn starting_asks_the_backend_only_for_a_role_the_gate_would_admit() {
        let mut op = app_as(Role::Operator);
        keys(&mut op, ":stress elasticity --duration 30");
        let out = enter(&mut op);
        assert_eq!(op.view, View::Stress);
        let Some(Effect::StartStress(r)) = out.effect else {
            panic!("no start: {out:?}");
        };
        assert_eq!(
            (r.profile.as_str(), r.duration_s),
            ("elasticity", Some(30.0))
        );

        let mut viewer = app_as(Role::Viewer);
        keys(&mut viewer, ":stress smoke");
        let out = enter(&mut viewer);
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
        keys(&mut viewer, "x");
        assert!(viewer.confirm.is_none());
    }

    #[test]
    fn x_stops_only_a_running_test_and_only_after_confirming() {
        let mut app = app_as(Role::Admin);
        keys(&mut app, ":stress");
        enter(&mut app);
        app.update(Msg::Stress(Ok(stress_fixtures::finished())));
        keys(&mut app, "x");
        assert!(app.confirm.is_none(), "nothing running to stop");
        app.update(Msg::Stress(Ok(stress_fixtures::running())));
        keys(&mut app, "x");
        let dialog = app.confirm.as_ref().expect("asks first");
        assert_eq!(dialog.focus, Button::Cancel);
        assert_eq!(enter(&mut app).effect, None, "Enter on Cancel does nothing");
        keys(&mut app, "x");
        app.update(Msg::Key(KeyEvent::from(KeyCode::Tab)));
        assert_eq!(
            enter(&mut app).effect,
            Some(Effect::Submit(Command::StressStop {
                test_id: "st-19a4c0ffee0".into()
            }))
        );
        // A second start while one runs is refused in the console already.
        keys(&mut app, ":stress smoke");
        assert_eq!(enter(&mut app).effect, None);
    }

    #[test]
    fn no_test_yet_is_an_answer_not_an_error() {
        let mut app = app_as(Role::Admin);
        let out = app.update(Msg::Stress(Err(ApiError::not_found("no stress test"))));
        assert!(out.redraw && app.stress.loaded && app.stress.progress.is_none());
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
}
