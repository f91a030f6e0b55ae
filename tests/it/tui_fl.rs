//! The FL view's actions: starting and stopping a run go through a confirm dialog and reach the
//! backend as `FlStart`/`FlStop` commands; a role without the experiments permission is refused
//! with the gate's reason and no dialog; `:fl start …` carries its options into the command.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use plexus::api::fl::{Attack, Rule};
use plexus::api::{Command, Role};
use plexus::tui::app::{App, Effect, Msg, View};
use plexus::tui::fixtures;
use plexus::tui::screens::fl::fixtures as fl_fixtures;

fn press(app: &mut App, code: KeyCode) -> plexus::tui::app::Outcome {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn app(role: Role) -> App {
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(role, false));
    app.update(Msg::Resize {
        width: 120,
        height: 40,
    });
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(10)),
    });
    press(&mut app, KeyCode::Char('6'));
    app.update(Msg::Fl(Ok((
        fl_fixtures::runs(),
        Some(fl_fixtures::detail("fl-1")),
    ))));
    assert_eq!(app.view, View::Fl);
    app
}

/// Tab to the dialog's action button and press it.
fn confirm(app: &mut App) -> Option<Effect> {
    press(app, KeyCode::Tab);
    press(app, KeyCode::Enter).effect
}

#[test]
fn stop_asks_first_and_then_submits_the_shown_run() {
    let mut app = app(Role::Operator);
    assert_eq!(press(&mut app, KeyCode::Char('x')).effect, None);
    let dialog = app.confirm.as_ref().expect("a confirm dialog");
    assert!(dialog.question.contains("fl-1"), "{}", dialog.question);
    assert_eq!(
        confirm(&mut app),
        Some(Effect::Submit(Command::FlStop { id: "fl-1".into() }))
    );
}

#[test]
fn start_from_the_palette_carries_its_options() {
    let mut app = app(Role::Operator);
    press(&mut app, KeyCode::Char(':'));
    typed(
        &mut app,
        "fl start --rule bulyan --byzantine 0.2 --attack lie --rounds 40",
    );
    press(&mut app, KeyCode::Enter);
    match confirm(&mut app) {
        Some(Effect::Submit(Command::FlStart { config })) => {
            assert_eq!(config.rule, Rule::Bulyan);
            assert_eq!(config.attack, Attack::Lie);
            assert_eq!(config.byzantine, 0.2);
            assert_eq!(config.rounds, 40);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_palette_option_names_itself_and_opens_nothing() {
    let mut app = app(Role::Operator);
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "fl start --rule average");
    press(&mut app, KeyCode::Enter);
    assert!(app.confirm.is_none());
    let line = app.input.as_ref().and_then(|l| l.error.clone());
    let flash = app.flash.as_ref().map(|f| f.text.clone());
    let said = line.or(flash).unwrap_or_default();
    assert!(said.contains("--rule"), "{said:?}");
}

#[test]
fn a_viewer_is_refused_with_the_reason_and_no_dialog() {
    let mut app = app(Role::Viewer);
    press(&mut app, KeyCode::Char('s'));
    assert!(app.confirm.is_none());
    let flash = app
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(flash.starts_with("start run:"), "{flash}");
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "fl start");
    press(&mut app, KeyCode::Enter);
    assert!(app.confirm.is_none());
    let flash = app
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(flash.starts_with("start run:"), "{flash}");
}

/// The start dialog counts the neurons the run will train on, as the engine picks them: a
/// stress test's mock neurons hold no data and are not counted.
#[test]
fn the_start_dialog_counts_only_the_neurons_that_will_train() {
    let mut app = app(Role::Operator);
    let mut fleet = fixtures::neurons(10);
    for n in fleet.iter_mut().take(4) {
        n.id = format!("stress-{}", n.id).into();
    }
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(std::sync::Arc::new(fleet)),
    });
    press(&mut app, KeyCode::Char(':'));
    typed(&mut app, "fl start");
    press(&mut app, KeyCode::Enter);
    let dialog = app.confirm.as_ref().expect("asks first");
    assert!(
        dialog.question.starts_with("Train across 6 neurons"),
        "{}",
        dialog.question
    );
    assert_eq!(dialog.touches, 6);
}
