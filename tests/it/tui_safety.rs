//! Safety in the console: counted and typed confirmations, read-only and role refusals shown
//! before the gate is asked, the expired-session offer, the palette and the filter.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use plexus::api::{ApiError, Command, ErrorCode, Role};
use plexus::tui::app::{App, Effect, Msg, Refusal, View};
use plexus::tui::fixtures;
use plexus::tui::views::hints;
use std::sync::Arc;

fn app(role: Role, read_only: bool) -> App {
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(role, read_only));
    app.update(Msg::Resize {
        width: 120,
        height: 40,
    });
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(40)),
    });
    app
}

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .effect
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

#[test]
fn fleet_wide_broadcast_arms_only_with_the_federation_name() {
    let mut a = app(Role::Operator, false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "model = \"m\"\nmodel_version = \"6\"\nbatch_size = 8\nlearning_rate = 0.1\nheartbeat_interval_ms = 1000\nmax_concurrency = 4\n",
    )
    .unwrap();
    press(&mut a, KeyCode::Char(':'));
    typed(&mut a, &format!("broadcast {}", file.display()));
    press(&mut a, KeyCode::Enter);
    let touches = a.confirm.as_ref().map(|c| (c.touches, c.armed()));
    assert_eq!(touches, Some((40, false)));
    press(&mut a, KeyCode::Tab);
    assert_eq!(press(&mut a, KeyCode::Enter), None, "not armed yet");
    assert!(a.confirm.is_some());
    typed(&mut a, "atlas");
    assert!(a.confirm.as_ref().is_some_and(|c| c.armed()));
    assert_eq!(
        press(&mut a, KeyCode::Enter),
        Some(Effect::Submit(Command::BroadcastConfig {
            config: Box::new(
                plexus::api::rollout_doc::parse_config(
                    "c.toml",
                    &std::fs::read_to_string(&file).unwrap()
                )
                .unwrap()
            ),
            selector: String::new(),
            expected_version: None,
            dry_run: false,
            plan: Default::default(),
        }))
    );
}

#[test]
fn a_broadcast_of_a_bad_file_names_line_and_field_and_opens_no_dialog() {
    let mut a = app(Role::Operator, false);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "model = \"m\"\nbatch_size = 0\n").unwrap();
    press(&mut a, KeyCode::Char(':'));
    typed(&mut a, &format!("broadcast {}", file.display()));
    press(&mut a, KeyCode::Enter);
    assert!(a.confirm.is_none());
    let flash = format!("{:?}", a.flash);
    assert!(flash.contains("bad.toml:"), "{flash}");
}

#[test]
fn read_only_hides_recover_and_a_viewer_sees_it_greyed_with_the_reason() {
    let a = app(Role::Operator, true);
    assert!(hints::hinted(&a).iter().all(|s| s.name != "recover"));
    let mut a = app(Role::Viewer, false);
    let spec = hints::hinted(&a)
        .into_iter()
        .find(|s| s.name == "recover")
        .cloned();
    let refusal = spec.as_ref().and_then(|s| a.refusal(s));
    assert!(
        matches!(&refusal, Some(Refusal::Greyed(r)) if r.contains("role viewer may not neuron.recover")),
        "{refusal:?}"
    );
    // Pressing it explains instead of opening the dialog; nothing is submitted.
    assert_eq!(press(&mut a, KeyCode::Char('r')), None);
    assert!(a.confirm.is_none());
    assert!(a.flash.as_ref().is_some_and(|f| f.text.contains("may not")));
}

#[test]
fn an_expired_session_is_said_and_r_offers_a_new_one() {
    let mut a = app(Role::Operator, false);
    a.update(Msg::CommandDone(
        Command::Recover {
            neuron: "n-0001".into(),
        },
        Err(ApiError::new(
            ErrorCode::SessionExpired,
            "session s-0001 expired after 60 min idle; open a new session",
        )),
    ));
    assert!(a.session_expired);
    let text = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        text.contains("session expired") && text.contains("R"),
        "{text}"
    );
    assert_eq!(
        press(&mut a, KeyCode::Char('R')),
        Some(Effect::RenewSession)
    );
    let mut fresh = fixtures::session(Role::Operator, false);
    fresh.id = "s-0002".into();
    a.update(Msg::SessionRenewed(Ok(fresh)));
    assert!(!a.session_expired);
    assert_eq!(a.session.as_ref().map(|s| s.id.as_str()), Some("s-0002"));
}

#[test]
fn palette_runs_verbs_says_unknown_ones_and_keeps_history() {
    let mut a = app(Role::Operator, false);
    press(&mut a, KeyCode::Char(':'));
    typed(&mut a, "train");
    press(&mut a, KeyCode::Enter);
    let error = a
        .input
        .as_ref()
        .and_then(|i| i.error.clone())
        .unwrap_or_default();
    assert!(error.starts_with("unknown command ':train'"), "{error}");
    press(&mut a, KeyCode::Esc);
    press(&mut a, KeyCode::Char(':'));
    typed(&mut a, "aud");
    press(&mut a, KeyCode::Tab);
    assert_eq!(
        a.input
            .as_ref()
            .map(|i| i.input.value().to_string())
            .as_deref(),
        Some("audit ")
    );
    typed(&mut a, "outcome=denied");
    assert_eq!(press(&mut a, KeyCode::Enter), Some(Effect::Refresh));
    assert_eq!(a.view, View::Audit);
    assert_eq!(a.screens.audit.query.outcome.as_deref(), Some("denied"));
    press(&mut a, KeyCode::Char(':'));
    press(&mut a, KeyCode::Up);
    assert_eq!(
        a.input
            .as_ref()
            .map(|i| i.input.value().to_string())
            .as_deref(),
        Some("audit outcome=denied")
    );
}

#[test]
fn filter_narrows_the_table_keeps_the_cursor_and_esc_clears() {
    let mut a = app(Role::Operator, false);
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "zone=eu");
    press(&mut a, KeyCode::Enter);
    let shown = a.screens.neurons.order.len();
    assert!(shown > 0 && shown < 40);
    assert!(
        a.screens
            .neurons
            .order
            .iter()
            .all(|&i| a.neurons[i as usize].zone.starts_with("eu"))
    );
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.screens.neurons.order.len(), 40, "Esc clears the filter");
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "[");
    press(&mut a, KeyCode::Enter);
    assert!(
        a.input.as_ref().is_some_and(|i| i.error.is_some()),
        "a bad regex keeps the line open"
    );
    press(&mut a, KeyCode::Esc);
    assert!(a.input.is_none());
    // New data is filtered too.
    press(&mut a, KeyCode::Char('/'));
    typed(&mut a, "!zone=eu");
    press(&mut a, KeyCode::Enter);
    a.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(fixtures::neurons(80))),
    });
    assert!(
        a.screens
            .neurons
            .order
            .iter()
            .all(|&i| !a.neurons[i as usize].zone.starts_with("eu"))
    );
}

#[test]
fn copy_and_mouse_are_effects_for_the_event_loop() {
    let mut a = app(Role::Operator, false);
    press(&mut a, KeyCode::Char('j'));
    assert_eq!(
        press(&mut a, KeyCode::Char('y')),
        Some(Effect::Copy("n-0002".into()))
    );
    assert_eq!(
        press(&mut a, KeyCode::Char('m')),
        Some(Effect::SetMouse(true))
    );
    assert_eq!(
        press(&mut a, KeyCode::Char('m')),
        Some(Effect::SetMouse(false))
    );
    let ctrl_z = a.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('z'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(ctrl_z.effect, Some(Effect::Suspend));
}

#[test]
fn only_the_session_expired_code_offers_a_new_session_not_a_message_that_says_expired() {
    let mut a = app(Role::Operator, false);
    a.update(Msg::CommandDone(
        Command::Recover {
            neuron: "n-0001".into(),
        },
        Err(ApiError::new(
            ErrorCode::Denied,
            "silence 7 expired; operator may not recover",
        )),
    ));
    assert!(!a.session_expired);
}
