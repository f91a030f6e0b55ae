//! The action registry is the single source of keys, hints and help: these tests check that every
//! declared action is reachable by its keys, listed in the help overlay and (if marked) hinted.

use crate::support;

use crossterm::event::{KeyEvent, KeyModifiers};
use plexus::tui::actions::{Registry, Scope};
use plexus::tui::app::{App, Msg, View};
use plexus::tui::fixtures;
use plexus::tui::views::hints;

fn app_in(view: View) -> App {
    let mut app = App::new(fixtures::info());
    app.update(Msg::Resize {
        width: 200,
        height: 60,
    });
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(10)),
    });
    let key = match view {
        View::Neurons => None,
        View::Overview => Some('o'),
        View::Detail => None,
        View::Audit => Some('a'),
        View::Rollouts => Some('4'),
        View::Fl => Some('6'),
        View::Alerts => Some('5'),
        // Palette only: `:stress`.
        View::Stress => None,
        View::Chaos => Some('7'),
    };
    if let Some(c) = key {
        app.update(Msg::Key(KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    if view == View::Stress {
        for c in ":stress".chars() {
            app.update(Msg::Key(KeyEvent::new(
                crossterm::event::KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
        }
        app.update(Msg::Key(KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            KeyModifiers::NONE,
        )));
    }
    if view == View::Detail {
        app.update(Msg::Key(KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            KeyModifiers::NONE,
        )));
    }
    assert_eq!(app.view, view);
    app
}

fn screen(app: &App) -> String {
    support::screen_text(app, 200, 60)
}

#[test]
fn every_action_of_a_view_appears_in_its_help() {
    for view in [
        View::Neurons,
        View::Overview,
        View::Detail,
        View::Audit,
        View::Rollouts,
        View::Fl,
        View::Alerts,
        View::Stress,
        View::Chaos,
    ] {
        let mut app = app_in(view);
        app.update(Msg::Key(KeyEvent::new(
            crossterm::event::KeyCode::Char('?'),
            KeyModifiers::NONE,
        )));
        assert!(app.help);
        let text = screen(&app);
        for scope in [view.scope(), Scope::Global] {
            for spec in app.registry.actions(scope) {
                for needle in [spec.key_labels().as_str(), spec.name, spec.description] {
                    assert!(
                        text.contains(needle),
                        "{view:?} help lacks {needle:?}\n{text}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_hint_bar_shows_every_hinted_action_of_the_live_scopes() {
    for view in [
        View::Neurons,
        View::Overview,
        View::Detail,
        View::Audit,
        View::Rollouts,
        View::Fl,
        View::Alerts,
        View::Stress,
        View::Chaos,
    ] {
        let app = app_in(view);
        let text = screen(&app);
        let bar = text.lines().last().unwrap_or_default().to_string();
        let hinted = hints::hinted(&app);
        assert!(!hinted.is_empty());
        for spec in hinted {
            let entry = format!("{} {}", spec.keys[0].label(), spec.name);
            assert!(
                bar.contains(&entry),
                "{view:?} hint bar lacks {entry:?}: {bar}"
            );
        }
    }
}

#[test]
fn every_key_of_every_action_reaches_that_action() {
    let registry = Registry::default();
    for scope in [
        Scope::Screen(plexus::tui::app::View::Neurons),
        Scope::Screen(plexus::tui::app::View::Overview),
        Scope::Screen(plexus::tui::app::View::Detail),
        Scope::Screen(plexus::tui::app::View::Audit),
    ] {
        let live = [scope, Scope::Global];
        for spec in live.iter().flat_map(|s| registry.actions(*s)) {
            for key in &spec.keys {
                let event = KeyEvent::new(key.code, key.modifiers);
                assert_eq!(
                    registry.lookup(&live, &event),
                    Some(spec.action),
                    "{} in {scope:?}",
                    key.label()
                );
            }
        }
    }
    for scope in [Scope::Confirm, Scope::Help, Scope::Input] {
        for spec in registry.actions(scope) {
            for key in &spec.keys {
                let event = KeyEvent::new(key.code, key.modifiers);
                assert_eq!(registry.lookup(&[scope], &event), Some(spec.action));
            }
        }
    }
}

#[test]
fn dangerous_actions_are_marked_in_the_help() {
    let registry = Registry::default();
    let recover = registry
        .actions(Scope::Screen(plexus::tui::app::View::Neurons))
        .iter()
        .find(|s| s.name == "recover");
    assert!(recover.is_some_and(|s| s.dangerous));
    let mut app = app_in(View::Neurons);
    app.update(Msg::Key(KeyEvent::new(
        crossterm::event::KeyCode::Char('?'),
        KeyModifiers::NONE,
    )));
    assert!(screen(&app).contains("(asks first)"));
}

/// The screen list drives the header: every screen with a tab is reachable by a key in both
/// bundled keymaps, and its tab shows that key, in list order.
#[test]
fn every_tab_comes_from_the_screen_list_with_its_key_from_the_keymap() {
    use plexus::tui::actions::Action;
    use plexus::tui::keymap::Keymap;
    use plexus::tui::screens::Screens;
    let tabs: Vec<View> = Screens::ORDER
        .iter()
        .copied()
        .filter(|&v| Screens::default().get(v).tab().is_some())
        .collect();
    assert!(tabs.len() >= 8, "{tabs:?}");
    for name in ["default", "vim"] {
        let registry = Keymap::builtin(name).expect("bundled keymap").registry;
        for &view in &tabs {
            let bound = registry
                .actions(Scope::Global)
                .iter()
                .find(|s| s.action == Action::Show(view))
                .is_some_and(|s| !s.keys.is_empty());
            assert!(bound, "{name}: no key shows {view:?}");
        }
    }
    let mut app = app_in(View::Neurons);
    app.update(Msg::Resize {
        width: 200,
        height: 50,
    });
    let top = screen(&app).lines().next().unwrap_or_default().to_string();
    let mut at = 0;
    for view in tabs {
        let label = Screens::default().get(view).tab().unwrap().label;
        let found = top[at..]
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {top}"));
        at += found + label.len();
    }
}
