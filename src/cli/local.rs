//! Subcommands that need no engine: shell completions, the man page and `info`. They run before
//! anything is booted, so they work on a machine with no data dir yet.

use clap::CommandFactory;
use serde::Serialize;
use std::path::{Path, PathBuf};

use super::args::{Cli, CommandLine, Global};
use crate::api::ApiError;
use crate::config::{Config, paths};
use crate::tui::setup::{Overrides, resolve_from_env};

/// Runs `command` when it is a local one; `None` for everything else.
pub fn run(command: &CommandLine, global: Option<&Global>) -> Result<i32, ApiError> {
    let out = std::io::stdout();
    let mut out = out.lock();
    let io = |e: std::io::Error| ApiError::failed(format!("cannot write: {e}"));
    match command {
        CommandLine::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "plexus", &mut out);
            Ok(0)
        }
        CommandLine::Man => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(io)?;
            Ok(0)
        }
        CommandLine::Info { json } => {
            let report = info(global);
            if *json {
                super::output::json(&report)?;
            } else {
                print!("{}", report.text());
            }
            Ok(if report.config_error.is_some() { 2 } else { 0 })
        }
        _ => Err(ApiError::failed("not a local command")),
    }
}

pub fn is_local(command: &CommandLine) -> bool {
    matches!(
        command,
        CommandLine::Completions { .. } | CommandLine::Man | CommandLine::Info { .. }
    )
}

#[derive(Debug, Serialize)]
pub struct Info {
    pub version: &'static str,
    pub config_dir: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub config_file_exists: bool,
    pub config_error: Option<String>,
    pub keymap_file: Option<PathBuf>,
    pub themes_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub bundled_themes: Vec<&'static str>,
    pub bundled_keymaps: Vec<&'static str>,
    pub theme: String,
    pub keymap: String,
    pub color_depth: &'static str,
    /// Problems with the theme or keymap files (the console would fall back to the defaults).
    pub warnings: Vec<String>,
}

fn exists(path: Option<&Path>) -> bool {
    path.is_some_and(Path::exists)
}

pub fn info(global: Option<&Global>) -> Info {
    let config_file = paths::config_file();
    let loaded = Config::load_default();
    let config_error = loaded.as_ref().err().map(ToString::to_string);
    let overrides = Overrides {
        color: global.and_then(|g| g.color),
        ascii: global.is_some_and(|g| g.ascii),
    };
    let environment = global.map_or("dev", |g| g.environment.as_str());
    let resolved = resolve_from_env(loaded, &overrides, environment);
    let data_dir = global
        .and_then(|g| g.data_dir.clone())
        .or_else(super::boot::default_data_dir);
    Info {
        version: env!("CARGO_PKG_VERSION"),
        config_dir: paths::config_dir(),
        config_file_exists: exists(config_file.as_deref()),
        config_file,
        keymap_file: paths::keymap_file(),
        themes_dir: paths::themes_dir(),
        log_file: paths::log_file(data_dir.as_deref()),
        data_dir,
        bundled_themes: crate::tui::theme::BUILTIN.iter().map(|(n, _)| *n).collect(),
        bundled_keymaps: crate::tui::keymap::BUILTIN
            .iter()
            .map(|(n, _)| *n)
            .collect(),
        theme: resolved.theme,
        keymap: resolved.keymap,
        color_depth: resolved.depth.as_str(),
        warnings: resolved
            .errors
            .iter()
            .map(ToString::to_string)
            .filter(|w| Some(w) != config_error.as_ref())
            .collect(),
        config_error,
    }
}

impl Info {
    pub fn text(&self) -> String {
        let p = |p: &Option<PathBuf>| {
            p.as_ref()
                .map_or_else(|| "-".into(), |p| p.display().to_string())
        };
        let mut out = format!(
            "plexus {}\n\
             config dir     {}\n\
             config file    {}{}\n\
             keymap file    {}\n\
             themes dir     {}\n\
             data dir       {}\n\
             log file       {}\n\
             theme          {} (bundled: {})\n\
             keymap         {} (bundled: {})\n\
             colour depth   {}\n",
            self.version,
            p(&self.config_dir),
            p(&self.config_file),
            if self.config_file_exists {
                ""
            } else {
                " (not present: defaults)"
            },
            p(&self.keymap_file),
            p(&self.themes_dir),
            p(&self.data_dir),
            p(&self.log_file),
            self.theme,
            self.bundled_themes.join(", "),
            self.keymap,
            self.bundled_keymaps.join(", "),
            self.color_depth,
        );
        if let Some(e) = &self.config_error {
            out.push_str(&format!("config error   {e}\n"));
        }
        for w in &self.warnings {
            out.push_str(&format!("warning        {w}\n"));
        }
        out
    }
}
