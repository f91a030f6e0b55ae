//! Snapshots of every screen at the minimum size (80×24) and a roomy one (200×50), from fixed
//! fixture data: no engine, no clock. Three kinds: the text (default look), the text in
//! `--ascii` mode, and a per-cell style dump in each bundled theme (text-only snapshots cannot
//! see colours). Review changed `.snap` files by eye before accepting them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use plexus::api::Role;
use plexus::tui::app::{App, Msg};
use plexus::tui::theme::{Depth, Theme};
use plexus::tui::{draw, fixtures};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use std::fmt::Write;
use std::sync::Arc;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];
const THEMES: [&str; 3] = ["dark", "light", "16"];

/// The buffer as plain text, one line per row, trailing blanks trimmed.
fn text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn color(c: Color) -> String {
    match c {
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        Color::Indexed(i) => format!("i{i}"),
        other => format!("{other:?}"),
    }
}

fn modifiers(m: Modifier) -> String {
    [
        (Modifier::BOLD, "b"),
        (Modifier::DIM, "d"),
        (Modifier::ITALIC, "i"),
        (Modifier::UNDERLINED, "u"),
        (Modifier::REVERSED, "r"),
        (Modifier::CROSSED_OUT, "x"),
    ]
    .iter()
    .filter(|(flag, _)| m.contains(*flag))
    .map(|(_, s)| *s)
    .collect()
}

/// Runs of equal style per row, `x0-x1 fg/bg/mods`; plain runs (no colour, no modifier) left out.
fn styles(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut runs = Vec::new();
        let mut x = 0;
        while x < area.width {
            let c = &buffer[(x, y)];
            let key = (c.fg, c.bg, c.modifier);
            let start = x;
            while x < area.width && {
                let d = &buffer[(x, y)];
                (d.fg, d.bg, d.modifier) == key
            } {
                x += 1;
            }
            if key != (Color::Reset, Color::Reset, Modifier::empty()) {
                runs.push(format!(
                    "{start}-{} {}/{}/{}",
                    x - 1,
                    color(key.0),
                    color(key.1),
                    modifiers(key.2)
                ));
            }
        }
        if !runs.is_empty() {
            let _ = writeln!(out, "{y:02}: {}", runs.join("  "));
        }
    }
    out
}

fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| draw(f, app)).expect("draw");
    terminal.backend().buffer().clone()
}

/// A screen without the header (its rows blank): the header has its own snapshots, so a new tab
/// changes those, not every screen's.
fn screen(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|f| plexus::tui::views::draw_without_header(f, app))
        .expect("draw");
    terminal.backend().buffer().clone()
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// An app with 40 neurons, a status report, a health history and an operator session twelve
/// minutes old, sized for `width`×`height`.
fn app(width: u16, height: u16) -> App {
    let mut app = App::new(fixtures::info());
    app.session = Some(fixtures::session(Role::Operator, false));
    app.now_ms = fixtures::NOW_MS;
    app.update(Msg::Resize { width, height });
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(40)),
    });
    app.update(Msg::History(Ok(fixtures::history())));
    app
}

type Setup = fn(&mut App);

/// Every screen, as the keys that lead to it.
const SCREENS: [(&str, Setup); 26] = [
    ("neurons", |a| {
        for _ in 0..3 {
            press(a, KeyCode::Char('j'));
        }
    }),
    ("neurons_sorted", |a| {
        press(a, KeyCode::Char('s'));
        press(a, KeyCode::Char('S'));
        press(a, KeyCode::End);
    }),
    ("overview", |a| {
        a.update(Msg::Fleet {
            status: Ok(fixtures::status_with_condition()),
            neurons: Ok(fixtures::shared_neurons(40)),
        });
        press(a, KeyCode::Char('o'));
    }),
    ("detail", |a| {
        press(a, KeyCode::Char('j'));
        press(a, KeyCode::Char('j'));
        press(a, KeyCode::Enter);
        a.update(Msg::Detail {
            id: "n-0003".into(),
            detail: Ok(fixtures::detail("n-0003")),
            logs: Ok(fixtures::logs(30)),
        });
    }),
    ("help", |a| press(a, KeyCode::Char('?'))),
    ("confirm", |a| {
        press(a, KeyCode::Char('j'));
        press(a, KeyCode::Char('r'));
    }),
    ("audit", |a| {
        press(a, KeyCode::Char('a'));
        a.update(Msg::Audit(Ok(fixtures::audit(60))));
    }),
    ("audit_filtered", |a| {
        press(a, KeyCode::Char('a'));
        a.update(Msg::Audit(Ok(fixtures::audit(60))));
        press(a, KeyCode::Char('/'));
        typed(a, "outcome=denied");
        press(a, KeyCode::Enter);
    }),
    ("palette", |a| {
        press(a, KeyCode::Char(':'));
        typed(a, "recover n-00");
    }),
    ("filtered", |a| {
        press(a, KeyCode::Char('/'));
        typed(a, "zone=eu");
        press(a, KeyCode::Enter);
    }),
    ("broadcast", |a| {
        press(a, KeyCode::Char(':'));
        typed(a, "broadcast tests/fixtures/rollout_config.toml");
        press(a, KeyCode::Enter);
        typed(a, "atl");
    }),
    ("rollouts", |a| {
        press(a, KeyCode::Char('4'));
        a.update(Msg::Rollouts(Ok((
            plexus::tui::screens::rollouts::fixtures::rollouts_report(),
            Some(plexus::tui::screens::rollouts::fixtures::rollout_view(2)),
        ))));
    }),
    ("fl", |a| {
        press(a, KeyCode::Char('6'));
        a.update(Msg::Fl(Ok((
            plexus::tui::screens::fl::fixtures::runs(),
            Some(plexus::tui::screens::fl::fixtures::detail("fl-1")),
        ))));
    }),
    ("fl_stop_confirm", |a| {
        press(a, KeyCode::Char('6'));
        a.update(Msg::Fl(Ok((
            plexus::tui::screens::fl::fixtures::runs(),
            Some(plexus::tui::screens::fl::fixtures::detail("fl-1")),
        ))));
        press(a, KeyCode::Char('x'));
    }),
    ("fl_viewer", |a| {
        a.session = Some(fixtures::session(Role::Viewer, false));
        press(a, KeyCode::Char('6'));
        a.update(Msg::Fl(Ok((
            plexus::tui::screens::fl::fixtures::runs(),
            Some(plexus::tui::screens::fl::fixtures::detail("fl-1")),
        ))));
    }),
    ("alerts", |a| {
        press(a, KeyCode::Char('5'));
        a.update(Msg::Alerts(Ok(
            plexus::tui::screens::alerts::fixtures::alerts_report(),
        )));
        press(a, KeyCode::Char('j'));
    }),
    ("alerts_silence", |a| {
        press(a, KeyCode::Char('5'));
        a.update(Msg::Alerts(Ok(
            plexus::tui::screens::alerts::fixtures::alerts_report(),
        )));
        press(a, KeyCode::Char('j'));
        press(a, KeyCode::Char('s'));
    }),
    ("viewer_read_only", |a| {
        a.session = Some(fixtures::session(Role::Viewer, true));
        press(a, KeyCode::Char('?'));
    }),
    ("stress_running", |a| {
        press(a, KeyCode::Char(':'));
        typed(a, "stress");
        press(a, KeyCode::Enter);
        a.update(Msg::Stress(Ok(
            plexus::tui::screens::stress::fixtures::running(),
        )));
    }),
    ("stress_finished", |a| {
        press(a, KeyCode::Char(':'));
        typed(a, "stress");
        press(a, KeyCode::Enter);
        a.update(Msg::Stress(Ok(
            plexus::tui::screens::stress::fixtures::finished(),
        )));
    }),
    ("stress_stop_confirm", |a| {
        press(a, KeyCode::Char(':'));
        typed(a, "stress");
        press(a, KeyCode::Enter);
        a.update(Msg::Stress(Ok(
            plexus::tui::screens::stress::fixtures::running(),
        )));
        press(a, KeyCode::Char('x'));
    }),
    ("stress_viewer", |a| {
        a.session = Some(fixtures::session(Role::Viewer, false));
        press(a, KeyCode::Char(':'));
        typed(a, "stress smoke");
        press(a, KeyCode::Enter);
        a.update(Msg::Stress(Ok(
            plexus::tui::screens::stress::fixtures::finished(),
        )));
    }),
    ("chaos_faults_filling_in", |a| {
        a.session = Some(fixtures::session(Role::Admin, false));
        press(a, KeyCode::Char('7'));
        a.update(Msg::Chaos(Ok(
            plexus::tui::screens::chaos::fixtures::faults(),
        )));
        a.update(Msg::Experiment(Ok(Box::new(
            plexus::tui::screens::chaos::fixtures::finished(),
        ))));
    }),
    ("chaos_experiment_running", |a| {
        a.session = Some(fixtures::session(Role::Admin, false));
        press(a, KeyCode::Char(':'));
        typed(a, "chaos run single-crash");
        press(a, KeyCode::Enter);
        a.update(Msg::Chaos(Ok(
            plexus::tui::screens::chaos::fixtures::faults(),
        )));
        a.update(Msg::Experiment(Ok(Box::new(
            plexus::tui::screens::chaos::fixtures::running(),
        ))));
    }),
    ("chaos_stop_confirm", |a| {
        a.session = Some(fixtures::session(Role::Admin, false));
        press(a, KeyCode::Char('7'));
        a.update(Msg::Chaos(Ok(
            plexus::tui::screens::chaos::fixtures::faults(),
        )));
        // The newest (c-2) is reverted already; the hang drill below it is held.
        press(a, KeyCode::Char('j'));
        press(a, KeyCode::Char('x'));
    }),
    ("chaos_viewer", |a| {
        a.session = Some(fixtures::session(Role::Viewer, false));
        press(a, KeyCode::Char(':'));
        typed(a, "chaos run single-crash");
        press(a, KeyCode::Enter);
        a.update(Msg::Chaos(Ok(
            plexus::tui::screens::chaos::fixtures::faults(),
        )));
    }),
];

fn build(setup: Setup, w: u16, h: u16) -> App {
    let mut a = app(w, h);
    setup(&mut a);
    a
}

#[test]
fn every_screen_as_text() {
    for (name, setup) in SCREENS {
        for (w, h) in SIZES {
            let app = build(setup, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&screen(&app, w, h)));
        }
    }
}

#[test]
fn every_screen_in_ascii() {
    for (name, setup) in SCREENS {
        for (w, h) in SIZES {
            let mut app = build(setup, w, h);
            app.ascii = true;
            assert!(
                text(&render(&app, w, h)).is_ascii(),
                "{name} {w}x{h} is not ASCII"
            );
            let body = text(&screen(&app, w, h));
            insta::assert_snapshot!(format!("ascii_{name}_{w}x{h}"), body);
        }
    }
}

#[test]
fn every_screen_in_every_theme() {
    for theme in THEMES {
        let loaded = Theme::builtin(theme, Depth::TrueColor).expect("bundled theme");
        let loaded = Arc::new(loaded);
        for (name, setup) in SCREENS {
            for (w, h) in SIZES {
                let mut app = build(setup, w, h);
                app.theme = Arc::clone(&loaded);
                insta::assert_snapshot!(
                    format!("style_{theme}_{name}_{w}x{h}"),
                    styles(&screen(&app, w, h))
                );
            }
        }
    }
}

/// NO_COLOR: no cell carries a colour, yet selection and emphasis still show (reverse, bold).
#[test]
fn no_color_draws_without_colour_but_keeps_emphasis() {
    for (name, setup) in SCREENS {
        let mut app = build(setup, 80, 24);
        app.theme = Arc::new(Theme::builtin("dark", Depth::None).expect("theme"));
        let buffer = render(&app, 80, 24);
        let mut emphasis = false;
        for cell in buffer.content() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{name}");
            emphasis |= !cell.modifier.is_empty();
        }
        assert!(emphasis, "{name}: nothing stands out without colour");
    }
}

/// The header on its own: identity, tabs (from the screen list, keys from the keymap), counts.
#[test]
fn the_header_in_text_ascii_and_a_theme() {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        let rows = plexus::tui::views::header::height(&a) as usize;
        let top = |a: &App| -> String {
            text(&render(a, w, h))
                .lines()
                .take(rows)
                .collect::<Vec<_>>()
                .join("\n")
        };
        insta::assert_snapshot!(format!("header_{w}x{h}"), top(&a));
        a.ascii = true;
        insta::assert_snapshot!(format!("ascii_header_{w}x{h}"), top(&a));
    }
    let mut a = app(200, 50);
    a.theme = Arc::new(Theme::builtin("dark", Depth::TrueColor).expect("theme"));
    let rows = plexus::tui::views::header::height(&a) as usize;
    let dump = styles(&render(&a, 200, 50));
    let header: Vec<&str> = dump.lines().take(rows).collect();
    insta::assert_snapshot!("style_dark_header_200x50", header.join("\n"));
}

#[test]
fn confirm_dialog_with_recover_focused() {
    let mut app = app(80, 24);
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Tab);
    insta::assert_snapshot!("confirm_recover_focused_80x24", text(&render(&app, 80, 24)));
}

#[test]
fn flash_line_shows_errors() {
    let mut app = app(80, 24);
    app.update(Msg::CommandDone(
        plexus::api::Command::Recover {
            neuron: "n-0404".into(),
        },
        Err(plexus::api::ApiError::unknown_neuron("n-0404")),
    ));
    let screen = text(&render(&app, 80, 24));
    assert!(
        screen.contains(" neuron.recover n-0404 failed: unknown neuron 'n-0404'"),
        "{screen}"
    );
}

/// Just below the minimum in each direction: the whole message, no broken layout.
#[test]
fn too_small_screen() {
    for (w, h) in [(79, 24), (80, 23), (40, 10)] {
        let app = app(w, h);
        let screen = text(&render(&app, w, h));
        insta::assert_snapshot!(format!("too_small_{w}x{h}"), screen);
        let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&format!("Plexus needs at least 80×24 (now {w}×{h})")),
            "{screen}"
        );
    }
}

/// The header always says where and who: federation, environment, user, role, session age, and
/// the lock when read-only.
#[test]
fn header_shows_identity_session_and_lock() {
    let mut a = app(80, 24);
    let top = text(&render(&a, 80, 24));
    let first = top.lines().next().unwrap_or_default().to_string();
    for needle in ["atlas", "simulated", "alice (operator)", "session 12m"] {
        assert!(first.contains(needle), "{needle} missing: {first}");
    }
    assert!(!first.contains("read-only"));
    a.session = Some(fixtures::session(Role::Viewer, true));
    let first = text(&render(&a, 200, 50))
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.contains("read-only") && first.contains("(viewer)"),
        "{first}"
    );
    let narrow = text(&render(&a, 80, 24))
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        narrow.contains("RO") && narrow.contains("alice (viewer)"),
        "{narrow}"
    );
}

#[test]
fn state_cells_are_coloured_by_the_theme() {
    use plexus::api::NeuronState;
    use plexus::tui::theme::Meaning;
    use plexus::tui::views::style::state_meaning;
    for theme in THEMES {
        let mut app = app(200, 50);
        let loaded = Theme::builtin(theme, Depth::TrueColor).expect("theme");
        app.theme = Arc::new(loaded.clone());
        let buffer = render(&app, 200, 50);
        let mut seen = std::collections::HashSet::new();
        for y in 0..buffer.area.height {
            let row: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            for state in NeuronState::ALL {
                let Some(x) = row.find(&format!(" {} ", state.as_str())) else {
                    continue;
                };
                let x = x as u16 + 1;
                if !(8..=20).contains(&x) {
                    continue;
                }
                let expected: Color = loaded.color(state_meaning(state));
                assert_eq!(buffer[(x, y)].fg, expected, "{theme}: {state} on row {y}");
                seen.insert(state);
            }
        }
        assert!(
            seen.len() >= 5,
            "fixture should show most states, saw {seen:?}"
        );
        let _ = Meaning::ALL;
    }
}

/// Data that stopped moving (an engine stalled at boot, a remote console that lost its server)
/// is marked: after two publishing periods the header says how old it is and the rows are
/// greyed; a report with a new time clears it.
#[test]
fn stale_data_is_marked_and_cleared_by_fresh_data() {
    let mut app = app(80, 24);
    let fresh = text(&render(&app, 80, 24));
    assert!(!fresh.contains("STALE"), "{fresh}");
    // Refreshes keep coming back with the same report (250 ms period: stale after 2 s).
    app.update(Msg::Now(fixtures::NOW_MS + 1_900));
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(40)),
    });
    assert!(!app.stale(), "within two periods");
    app.update(Msg::Now(fixtures::NOW_MS + 41_000));
    assert!(app.stale());
    let buffer = render(&app, 80, 24);
    let screen = text(&buffer);
    assert!(screen.contains("STALE 41s"), "{screen}");
    insta::assert_snapshot!("stale_neurons_80x24", screen);
    // Every row is greyed: no state colour survives.
    let row = (0..buffer.area.width)
        .map(|x| buffer[(x, 5)].style().fg)
        .collect::<Vec<_>>();
    let dim = plexus::tui::views::style::dim().fg;
    assert!(row.iter().skip(3).take(20).all(|fg| *fg == dim), "{row:?}");

    // A remote console whose fetches fail keeps the old data, still marked stale.
    app.update(Msg::Fleet {
        status: Err(plexus::api::ApiError::unreachable("server gone")),
        neurons: Err(plexus::api::ApiError::unreachable("server gone")),
    });
    assert!(app.stale());
    // A report with a new time clears it.
    let mut newer = fixtures::status();
    newer.at = "2025-03-14T09:30:41Z".into();
    app.update(Msg::Fleet {
        status: Ok(newer),
        neurons: Ok(fixtures::shared_neurons(40)),
    });
    assert!(!app.stale());
    assert!(!text(&render(&app, 80, 24)).contains("STALE"));
}

/// Columns follow their content: a stress test's ids, versions and zones show whole (not cut at
/// eight characters), and ids sort numerically as the headless output lists them.
#[test]
fn long_ids_show_whole_and_sort_numerically() {
    let mut app = app(120, 24);
    let mut neurons = fixtures::neurons(12);
    for (i, n) in neurons.iter_mut().enumerate() {
        n.id = format!("stress-n{}", 11 - i).into();
        n.config_version = "v-stress-canary".into();
        n.zone = "zone-stress-east".into();
    }
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(Arc::new(neurons)),
    });
    let screen = text(&render(&app, 120, 24));
    for whole in ["stress-n10", "v-stress-canary", "zone-stress-east"] {
        assert!(screen.contains(whole), "{whole} cut:\n{screen}");
    }
    let rows: Vec<&str> = screen
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("stress-n")))
        .collect();
    let expected: Vec<String> = (0..12).map(|i| format!("stress-n{i}")).collect();
    assert_eq!(rows, expected);
}

/// The palette: its error goes under the line (the typed text stays whole), the verbs it could
/// become are listed (narrowing as one types, with how many more), one verb shows its usage.
#[test]
fn the_palette_keeps_its_input_and_lists_what_it_could_become() {
    let mut app = app(80, 24);
    press(&mut app, KeyCode::Char(':'));
    let screen = text(&render(&app, 80, 24));
    let last = screen.lines().nth(23).unwrap();
    assert!(
        last.contains("audit") && last.contains("more, type to narrow"),
        "{last}"
    );
    typed(&mut app, "str");
    let screen = text(&render(&app, 80, 24));
    assert!(
        screen
            .lines()
            .nth(23)
            .unwrap()
            .contains(":stress [PROFILE]"),
        "{screen}"
    );
    typed(&mut app, "essy-and-a-long-tail-of-words");
    press(&mut app, KeyCode::Enter);
    let screen = text(&render(&app, 80, 24));
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(
        lines[22], " :stressy-and-a-long-tail-of-words",
        "the input stays whole"
    );
    assert!(
        lines[23].contains("unknown command ':stressy"),
        "{}",
        lines[23]
    );
    insta::assert_snapshot!("palette_error_80x24", screen);
}

/// `?` lists the keys; Tab in it lists the palette's commands with their usage.
#[test]
fn help_lists_the_palette_commands() {
    let mut app = app(120, 40);
    press(&mut app, KeyCode::Char('?'));
    assert!(text(&render(&app, 120, 40)).contains("Tab commands"));
    press(&mut app, KeyCode::Tab);
    let screen = text(&render(&app, 120, 40));
    for verb in [":stress [PROFILE]", ":chaos", ":recover", ":silence"] {
        assert!(screen.contains(verb), "{verb}:\n{screen}");
    }
    insta::assert_snapshot!("help_commands_120x40", screen);
    press(&mut app, KeyCode::Tab);
    assert!(!text(&render(&app, 120, 40)).contains("Commands (:)"));
    press(&mut app, KeyCode::Esc);
    assert!(!app.help);
}

/// A dialog hidden by a too-small terminal takes no keys: Enter does not confirm what cannot be
/// seen; back at size the dialog is still there.
#[test]
fn a_hidden_dialog_takes_no_keys() {
    let mut app = app(80, 24);
    press(&mut app, KeyCode::Char('r'));
    press(&mut app, KeyCode::Tab);
    assert!(app.confirm.is_some());
    app.update(Msg::Resize {
        width: 60,
        height: 20,
    });
    let out = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    assert_eq!(out.effect, None, "nothing submitted while hidden");
    app.update(Msg::Resize {
        width: 80,
        height: 24,
    });
    assert!(app.confirm.is_some(), "the dialog waits");
    let out = app.update(Msg::Resize {
        width: 60,
        height: 20,
    });
    let _ = out;
    let quit = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    )));
    assert_eq!(quit.effect, Some(plexus::tui::app::Effect::Quit));
}
