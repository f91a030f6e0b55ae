//! Keymap and theme files as users write them: every file in `tests/fixtures/*/valid` loads, and
//! every file in `tests/fixtures/*/invalid` is refused with an error naming the file, the line
//! and the key given in its first line (`# expect: line=N key=K message=TEXT`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use plexus::config::SourceError;
use plexus::tui::actions::{Action, Scope};
use plexus::tui::keymap::Keymap;
use plexus::tui::theme::{Depth, Meaning, Theme};
use ratatui::style::Color;
use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

struct Expect {
    line: usize,
    key: String,
    message: String,
}

fn expectation(text: &str, path: &Path) -> Expect {
    let first = text.lines().next().unwrap_or_default();
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{}: first line must be '# expect: ...'", path.display()));
    let (line, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let (key, message) = rest.split_once(' ').unwrap_or((rest, ""));
    Expect {
        line: line.trim_start_matches("line=").parse().unwrap_or(0),
        key: key.trim_start_matches("key=").to_string(),
        message: message.trim_start_matches("message=").to_string(),
    }
}

fn check(path: &Path, text: &str, error: Option<SourceError>) {
    let want = expectation(text, path);
    let name = path.display().to_string();
    let Some(e) = error else {
        panic!("{name} was accepted");
    };
    assert_eq!(e.file, name, "{e}");
    assert_eq!(e.line, Some(want.line), "{name}: {e}");
    assert_eq!(e.key.as_deref(), Some(want.key.as_str()), "{name}: {e}");
    assert!(e.message.contains(&want.message), "{name}: {e}");
    // The one-line form an operator sees names all three.
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("{name}:{}: key '{}'", want.line, want.key)),
        "{shown}"
    );
}

#[test]
fn invalid_keymaps_name_file_line_and_key() {
    for path in files("keymaps/invalid") {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let result = Keymap::with_overrides("default", &path.display().to_string(), &text);
        check(&path, &text, result.err());
    }
}

#[test]
fn invalid_themes_name_file_line_and_key() {
    for path in files("themes/invalid") {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let result = Theme::parse("t", &path.display().to_string(), &text, Depth::TrueColor);
        check(&path, &text, result.err());
    }
}

#[test]
fn valid_keymaps_load_on_both_bases() {
    for base in ["default", "vim"] {
        for path in files("keymaps/valid") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let map = Keymap::with_overrides(base, &path.display().to_string(), &text);
            assert!(map.is_ok(), "{base} + {}: {map:?}", path.display());
        }
    }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn overrides_rebind_and_unbind_by_action_name() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keymaps/valid/rebind.toml"),
    )
    .unwrap_or_default();
    let map = Keymap::with_overrides("default", "rebind.toml", &text).expect("loads");
    let live = [
        Scope::Screen(plexus::tui::app::View::Neurons),
        Scope::Global,
    ];
    assert_eq!(map.registry.lookup(&live, &key('x')), Some(Action::Recover));
    assert_eq!(map.registry.lookup(&live, &key('r')), None);
    assert_eq!(map.registry.lookup(&live, &key('q')), None, "quit lost q");
    // Everything not mentioned keeps its built-in keys.
    assert_eq!(map.registry.lookup(&live, &key('j')), Some(Action::Down));
    assert_eq!(
        map.registry.lookup(
            &[Scope::Screen(plexus::tui::app::View::Detail), Scope::Global],
            &key('r')
        ),
        Some(Action::Recover),
        "the detail view was not mentioned"
    );

    let text = "[neurons]\nrecover = []\n";
    let map = Keymap::with_overrides("default", "unbind.toml", text).expect("loads");
    assert_eq!(map.registry.lookup(&live, &key('r')), None);
}

#[test]
fn a_broken_user_keymap_falls_back_to_the_default_and_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keymap.toml");
    std::fs::write(&path, "[neurons]\nrecover = [\"j\"]\n").expect("write");
    let (map, error) = Keymap::load("vim", Some(&path));
    assert_eq!(map.name, "default");
    let error = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        error.contains("keymap.toml:2: key 'neurons.recover'"),
        "{error}"
    );
    assert_eq!(
        map.registry
            .lookup(&[Scope::Screen(plexus::tui::app::View::Neurons)], &key('r')),
        Some(Action::Recover)
    );
}

#[test]
fn valid_themes_load_and_colour_by_meaning() {
    for path in files("themes/valid") {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let theme = Theme::parse("t", &path.display().to_string(), &text, Depth::TrueColor);
        assert!(theme.is_ok(), "{}: {theme:?}", path.display());
    }
    let t = Theme::parse(
        "i",
        "indexed.toml",
        "[state]\nhealthy = 46\noffline = \"LightRed\"\n",
        Depth::TrueColor,
    )
    .expect("theme");
    assert_eq!(t.color(Meaning::StateHealthy), Color::Indexed(46));
    assert_eq!(t.color(Meaning::StateOffline), Color::LightRed);
    let t16 = Theme::parse(
        "o",
        "ocean.toml",
        "[state]\nhealthy = \"#00d7af\"\n",
        Depth::Ansi16,
    )
    .expect("theme");
    assert!(
        matches!(
            t16.color(Meaning::StateHealthy),
            Color::Cyan | Color::LightCyan | Color::Green
        ),
        "{:?}",
        t16.color(Meaning::StateHealthy)
    );
}
