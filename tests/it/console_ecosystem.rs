//! The console's outside: the config file (errors name file, line and key; headless commands
//! exit 2), `plexus info`, shell completions and the man page, and the per-environment theme.

use plexus::config::Config;
use plexus::tui::setup::{Overrides, resolve};
use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn plexus(config_dir: &Path, args: &[&str]) -> Run {
    let data = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_plexus"))
        .arg("--data-dir")
        .arg(data.path())
        .args(["--virtual-time", "--neurons", "3"])
        .args(args)
        .env("PLEXUS_CONFIG_DIR", config_dir)
        .env_remove("PLEXUS_DATA_DIR")
        .output()
        .expect("run plexus");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn a_bad_config_stops_headless_commands_with_exit_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("config.toml");
    std::fs::write(&file, "theme = \"dark\"\n\nssh_max_fps = \"fast\"\n").expect("write");
    let run = plexus(dir.path(), &["status"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let want = format!("{}:3: key 'ssh_max_fps'", file.display());
    assert!(run.stderr.contains(&want), "{}", run.stderr);
}

#[test]
fn read_only_in_the_config_applies_to_headless_commands() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("config.toml"), "read_only = true\n").expect("write");
    let run = plexus(dir.path(), &["recover", "n-0001", "--no-wait"]);
    assert_eq!(run.code, 3, "denied: {} {}", run.stdout, run.stderr);
}

#[test]
fn info_prints_every_path_and_the_active_theme_and_keymap() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("config.toml"),
        "theme = \"light\"\nkeymap = \"vim\"\ncolor_depth = \"256\"\n",
    )
    .expect("write");
    let run = plexus(dir.path(), &["info", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let config_dir = dir.path().display().to_string();
    assert_eq!(v["config_dir"], config_dir.as_str());
    assert_eq!(v["theme"], "light");
    assert_eq!(v["keymap"], "vim");
    assert_eq!(v["color_depth"], "256");
    for key in [
        "config_file",
        "keymap_file",
        "themes_dir",
        "data_dir",
        "log_file",
    ] {
        assert!(v[key].is_string(), "{key} missing: {v}");
    }
    let text = plexus(dir.path(), &["info"]).stdout;
    for label in [
        "config file",
        "keymap file",
        "themes dir",
        "data dir",
        "log file",
        "theme",
        "keymap",
    ] {
        assert!(text.contains(label), "{label}: {text}");
    }
}

#[test]
fn info_reports_a_bad_keymap_as_a_warning() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("keymap.toml"),
        "[neurons]\nrecover = [\"ctrl-k\"]\n",
    )
    .expect("write");
    let run = plexus(dir.path(), &["info", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("keymap.toml:2: key 'neurons.recover'"),
        "{warnings}"
    );
    assert_eq!(v["keymap"], "default");
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let dir = tempfile::tempdir().expect("dir");
    for shell in ["bash", "zsh", "fish"] {
        let run = plexus(dir.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains("plexus") && run.stdout.contains("read-only"),
            "{shell}"
        );
    }
    let man = plexus(dir.path(), &["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH plexus"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(man.stdout.contains("ascii"));
}

fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn production_gets_its_own_theme_and_ssh_a_lower_frame_cap() {
    let config = Config::parse(
        "config.toml",
        "theme = \"dark\"\nssh_max_fps = 8\n[environment_themes]\nprod = \"light\"\n",
    );
    let overrides = Overrides::default();
    let prod = resolve(
        config.clone(),
        &overrides,
        "prod",
        &env(&[("COLORTERM", "truecolor")]),
    );
    assert_eq!(prod.theme, "light");
    assert_eq!(prod.options.max_fps, 60);
    let dev = resolve(
        config,
        &overrides,
        "dev",
        &env(&[("SSH_TTY", "/dev/pts/3")]),
    );
    assert_eq!(dev.theme, "dark");
    assert_eq!(dev.options.max_fps, 8);
    assert!(dev.errors.is_empty(), "{:?}", dev.errors);
}

#[test]
fn a_bad_config_in_the_console_falls_back_and_is_shown() {
    let bad = Config::parse("config.toml", "thme = \"x\"\n");
    let r = resolve(bad, &Overrides::default(), "dev", &env(&[]));
    assert_eq!(r.theme, "dark");
    assert_eq!(r.options.notices.len(), 1);
    assert!(
        r.options.notices[0].starts_with("config.toml:1: key 'thme'"),
        "{:?}",
        r.options.notices
    );
    let unknown_theme = Config::parse("config.toml", "theme = \"neon\"\n");
    let r = resolve(unknown_theme, &Overrides::default(), "dev", &env(&[]));
    assert!(
        r.options.notices[0].contains("unknown theme 'neon'"),
        "{:?}",
        r.options.notices
    );
}
