//! The console's alerts actions: `A` acknowledges the selected alert, `s` opens the palette with
//! a silence of its labels and Enter submits it, `:silence` parses matchers and a duration, and a
//! viewer is refused before anything is sent (the gate decides; the console only greys out).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use plexus::api::alert::MatchOp;
use plexus::api::{Command, Role};
use plexus::tui::app::{App, Effect, Msg, View};
use plexus::tui::fixtures;
use plexus::tui::screens::alerts::fixtures::alerts_report;

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .effect
}

fn alerts_app(role: Role) -> App {
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(role, false));
    app.update(Msg::Resize {
        width: 120,
        height: 30,
    });
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.view, View::Alerts);
    app.update(Msg::Alerts(Ok(alerts_report())));
    app
}

#[test]
fn ack_submits_the_selected_alerts_fingerprint() {
    let mut app = alerts_app(Role::Operator);
    press(&mut app, KeyCode::Char('j'));
    let second = alerts_report().groups[0].alerts[1].fingerprint.clone();
    assert_eq!(
        press(&mut app, KeyCode::Char('A')),
        Some(Effect::Submit(Command::AlertAck {
            fingerprint: second
        }))
    );
}

#[test]
fn silence_prefills_the_labels_and_enter_submits_it() {
    let mut app = alerts_app(Role::Operator);
    press(&mut app, KeyCode::Char('s'));
    let Some(Effect::Submit(Command::SilenceCreate {
        matchers,
        duration_ms,
        ..
    })) = press(&mut app, KeyCode::Enter)
    else {
        panic!("a silence is submitted");
    };
    assert_eq!(duration_ms, 3_600_000);
    let text: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        text,
        ["alertname=NeuronOffline", "neuron=n-0003", "zone=eu-west"]
    );
}

#[test]
fn the_silence_verb_takes_regex_matchers_and_a_duration() {
    let mut app = alerts_app(Role::Operator);
    press(&mut app, KeyCode::Char(':'));
    for c in "silence zone=~eu-.* 30m".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let Some(Effect::Submit(Command::SilenceCreate {
        matchers,
        duration_ms,
        ..
    })) = press(&mut app, KeyCode::Enter)
    else {
        panic!("a silence is submitted");
    };
    assert_eq!((matchers[0].op, duration_ms), (MatchOp::Re, 1_800_000));
}

#[test]
fn a_viewer_is_refused_before_anything_is_sent() {
    let mut app = alerts_app(Role::Viewer);
    assert_eq!(press(&mut app, KeyCode::Char('A')), None);
    assert_eq!(press(&mut app, KeyCode::Char('s')), None);
    assert!(app.input.is_none());
}
