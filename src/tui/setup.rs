//! From config, command line and environment to what the console starts with: keymap, theme at
//! the terminal's colour depth, ASCII mode, palette aliases, frame cap, and any errors to show.

use std::sync::Arc;

use super::TuiOptions;
use super::keymap::Keymap;
use super::palette::Palette;
use super::theme::{Depth, Theme, color};
use crate::config::{ColorChoice, Config, SourceError, paths};

/// What the command line adds to the config.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--color`, when given.
    pub color: Option<ColorChoice>,
    /// `--ascii`.
    pub ascii: bool,
}

/// What was resolved, for `plexus info` and the console alike.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub options: TuiOptions,
    pub keymap: String,
    pub theme: String,
    pub depth: Depth,
    /// Errors found on the way (the console shows them; it runs on the defaults instead).
    pub errors: Vec<SourceError>,
}

/// Resolves everything for `environment`. `config` is the loaded config, or the error that
/// loading it gave (the defaults are used then). `env` reads the environment.
pub fn resolve(
    config: Result<Config, SourceError>,
    overrides: &Overrides,
    environment: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Resolved {
    let mut errors = Vec::new();
    let config = config.unwrap_or_else(|e| {
        errors.push(e);
        Config::default()
    });
    let choice = overrides.color.unwrap_or(config.color);
    let depth = color::detect(choice, config.color_depth, env);
    let theme_name = config.theme_for(environment).to_string();
    let themes_dir = paths::themes_dir();
    let theme = Theme::load(&theme_name, themes_dir.as_deref(), depth).unwrap_or_else(|e| {
        errors.push(e);
        Theme::builtin("dark", depth).unwrap_or_default()
    });
    let keymap_file = paths::keymap_file();
    let (keymap, keymap_error) = Keymap::load(&config.keymap, keymap_file.as_deref());
    errors.extend(keymap_error);
    let ssh = env("SSH_TTY").is_some_and(|v| !v.is_empty());
    let max_fps = if ssh {
        config.ssh_max_fps
    } else {
        config.max_fps
    };
    Resolved {
        keymap: keymap.name.clone(),
        theme: theme.name.clone(),
        depth,
        options: TuiOptions {
            tick_ms: config.tick_ms,
            max_fps,
            registry: keymap.registry,
            theme: Arc::new(theme),
            ascii: overrides.ascii || config.ascii,
            palette: Palette::new(config.aliases.clone()),
            mouse: config.mouse,
            notices: errors.iter().map(ToString::to_string).collect(),
        },
        errors,
    }
}

/// [`resolve`] with the real environment.
pub fn resolve_from_env(
    config: Result<Config, SourceError>,
    overrides: &Overrides,
    environment: &str,
) -> Resolved {
    resolve(config, overrides, environment, &|k| std::env::var(k).ok())
}
