//! Snapshots of every screen at the minimum size (80×24) and a roomy one (160×48), from fixed
//! fixture data: no engine, no clock. Review changed `.snap` files by eye before accepting them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use plexus::tui::app::{App, Msg};
use plexus::tui::{draw, fixtures};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

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

fn render(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| draw(f, app)).expect("draw");
    terminal.backend().buffer().clone()
}

fn key(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// An app with 40 neurons, a status report and a health history, sized for `width`×`height`.
fn app(width: u16, height: u16) -> App {
    let mut app = App::new(fixtures::info());
    app.update(Msg::Resize { width, height });
    app.update(Msg::Fleet {
        status: Ok(fixtures::status()),
        neurons: Ok(fixtures::shared_neurons(40)),
    });
    app.update(Msg::History(Ok(fixtures::history())));
    app
}

fn snapshot(name: &str, build: impl Fn(u16, u16) -> App) {
    for (w, h) in SIZES {
        let app = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&render(&app, w, h)));
    }
}

#[test]
fn neurons_view() {
    snapshot("neurons", |w, h| {
        let mut app = app(w, h);
        for _ in 0..3 {
            key(&mut app, KeyCode::Char('j'));
        }
        app
    });
}

#[test]
fn neurons_view_scrolled_and_sorted() {
    snapshot("neurons_sorted", |w, h| {
        let mut app = app(w, h);
        key(&mut app, KeyCode::Char('s')); // by state
        key(&mut app, KeyCode::Char('S')); // descending
        key(&mut app, KeyCode::End);
        app
    });
}

#[test]
fn overview_with_fleet_condition() {
    snapshot("overview", |w, h| {
        let mut app = app(w, h);
        app.update(Msg::Fleet {
            status: Ok(fixtures::status_with_condition()),
            neurons: Ok(fixtures::shared_neurons(40)),
        });
        key(&mut app, KeyCode::Char('o'));
        app
    });
}

#[test]
fn detail_view() {
    snapshot("detail", |w, h| {
        let mut app = app(w, h);
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Enter);
        app.update(Msg::Detail {
            id: "n-0003".into(),
            detail: Ok(fixtures::detail("n-0003")),
            logs: Ok(fixtures::logs(30)),
        });
        app
    });
}

#[test]
fn help_overlay() {
    snapshot("help", |w, h| {
        let mut app = app(w, h);
        key(&mut app, KeyCode::Char('?'));
        app
    });
}

#[test]
fn confirm_dialog() {
    snapshot("confirm", |w, h| {
        let mut app = app(w, h);
        key(&mut app, KeyCode::Char('j'));
        key(&mut app, KeyCode::Char('r'));
        app
    });
}

#[test]
fn confirm_dialog_with_recover_focused() {
    let mut app = app(80, 24);
    key(&mut app, KeyCode::Char('r'));
    key(&mut app, KeyCode::Tab);
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

#[test]
fn state_cells_are_coloured_by_meaning() {
    use plexus::api::NeuronState;
    use ratatui::style::Color;
    let app = app(160, 48);
    let buffer = render(&app, 160, 48);
    let mut seen = std::collections::HashSet::new();
    for y in 0..buffer.area.height {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        for state in NeuronState::ALL {
            // Match the whole word in the STATE column (it starts after "> n-0001  ").
            let Some(x) = row.find(&format!(" {} ", state.as_str())) else {
                continue;
            };
            let x = x as u16 + 1;
            if !(8..=20).contains(&x) {
                continue;
            }
            let expected = match state {
                NeuronState::Healthy => Color::Green,
                NeuronState::Offline => Color::Red,
                NeuronState::Suspect => Color::Yellow,
                NeuronState::Degraded => Color::Magenta,
                NeuronState::ConfigFailed => Color::LightRed,
                NeuronState::Recovering => Color::Cyan,
                NeuronState::Pending => Color::DarkGray,
            };
            assert_eq!(buffer[(x, y)].fg, expected, "{state} on row {y}");
            seen.insert(state);
        }
    }
    assert!(
        seen.len() >= 5,
        "fixture should show most states, saw {seen:?}"
    );
}
