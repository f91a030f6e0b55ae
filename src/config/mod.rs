//! The user's configuration: `config.toml` in the config dir (see `docs/console.md` for every
//! key). Errors name the file, line and key; headless commands exit 2 on them, the console falls
//! back to the defaults and shows the error.

pub mod alert_rules;
mod error;
pub mod paths;

pub use error::{SourceError, key_at, line_of};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// `--color` and the `color` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// How many colours the terminal shows; `auto` detects it from `COLORTERM` and `TERM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ColorDepthSetting {
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "truecolor")]
    TrueColor,
    #[serde(rename = "256")]
    Ansi256,
    #[serde(rename = "16")]
    Ansi16,
}

/// Everything `config.toml` may say. Every key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Theme name: a bundled one (`dark`, `light`, `16`) or `NAME` for `themes/NAME.toml` in the
    /// config dir.
    pub theme: String,
    /// Keymap name: `default` or `vim`; `keymap.toml` in the config dir overrides single actions.
    pub keymap: String,
    pub color: ColorChoice,
    /// Override the detected colour depth (SSH does not forward `COLORTERM`).
    pub color_depth: ColorDepthSetting,
    /// Plain ASCII symbols and borders.
    pub ascii: bool,
    /// Start every session read-only.
    pub read_only: bool,
    /// Capture the mouse at start (off by default: terminal text selection keeps working).
    pub mouse: bool,
    /// Most frames per second drawn locally.
    pub max_fps: u32,
    /// Most frames per second drawn when `SSH_TTY` is set.
    pub ssh_max_fps: u32,
    /// Polling period for the fleet, in ms.
    pub tick_ms: u64,
    /// Environment name → theme name, e.g. `prod = "light"`.
    pub environment_themes: BTreeMap<String, String>,
    /// Palette aliases: `alias = "verb args"`.
    pub aliases: BTreeMap<String, String>,
    /// Alert rules file (docs/alerts.md); `--alert-rules` wins.
    pub alert_rules: Option<std::path::PathBuf>,
    /// Alertmanager base URL alerts are pushed to; `--alertmanager` wins.
    pub alertmanager: Option<String>,
    /// Webhook URLs notified in Alertmanager's webhook format (added to `--alert-webhook`).
    pub alert_webhooks: Vec<String>,
    /// NDJSON file alert notifications are appended to; `--alert-ndjson` wins.
    pub alert_ndjson: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            theme: "dark".into(),
            keymap: "default".into(),
            color: ColorChoice::Auto,
            color_depth: ColorDepthSetting::Auto,
            ascii: false,
            read_only: false,
            mouse: false,
            max_fps: 60,
            ssh_max_fps: 10,
            tick_ms: 250,
            environment_themes: BTreeMap::new(),
            aliases: BTreeMap::new(),
            alert_rules: None,
            alertmanager: None,
            alert_webhooks: Vec::new(),
            alert_ndjson: None,
        }
    }
}

impl Config {
    /// Parses `text` (from `file`, for messages) and checks the values serde cannot.
    pub fn parse(file: &str, text: &str) -> Result<Config, SourceError> {
        let config: Config =
            toml::from_str(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        let locate = |key: &str| {
            let offset = text.find(&format!("{key} ")).or_else(|| text.find(key));
            SourceError::new(file, "").at(text, offset).key(key)
        };
        if !(1..=240).contains(&config.max_fps) {
            let mut e = locate("max_fps");
            e.message = format!("must be between 1 and 240, got {}", config.max_fps);
            return Err(e);
        }
        if !(1..=240).contains(&config.ssh_max_fps) {
            let mut e = locate("ssh_max_fps");
            e.message = format!("must be between 1 and 240, got {}", config.ssh_max_fps);
            return Err(e);
        }
        if !(50..=60_000).contains(&config.tick_ms) {
            let mut e = locate("tick_ms");
            e.message = format!("must be between 50 and 60000, got {}", config.tick_ms);
            return Err(e);
        }
        Ok(config)
    }

    /// Reads `path`; a missing file is the defaults.
    pub fn load(path: &Path) -> Result<Config, SourceError> {
        let file = path.display().to_string();
        match crate::config::read_text(path) {
            Ok(text) => Config::parse(&file, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(SourceError::new(&file, format!("cannot read: {e}"))),
        }
    }

    /// The config file of the config dir (defaults when there is none).
    pub fn load_default() -> Result<Config, SourceError> {
        match paths::config_file() {
            Some(path) => Config::load(&path),
            None => Ok(Config::default()),
        }
    }

    /// The theme for an environment: its mapping, else `theme`.
    pub fn theme_for(&self, environment: &str) -> &str {
        self.environment_themes
            .get(environment)
            .map_or(self.theme.as_str(), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_the_defaults() {
        assert_eq!(Config::parse("c.toml", ""), Ok(Config::default()));
    }

    #[test]
    fn keys_parse() {
        let c = Config::parse(
            "c.toml",
            "theme = \"light\"\ncolor_depth = \"256\"\nssh_max_fps = 5\n[environment_themes]\nprod = \"16\"\n[aliases]\nn = \"neurons\"\n",
        );
        let c = c.unwrap_or_default();
        assert_eq!(c.theme_for("prod"), "16");
        assert_eq!(c.theme_for("dev"), "light");
        assert_eq!(c.color_depth, ColorDepthSetting::Ansi256);
        assert_eq!(c.aliases.get("n").map(String::as_str), Some("neurons"));
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = Config::parse("c.toml", "theme = \"dark\"\nmause = true\n").err();
        let e = e.map(|e| (e.line, e.key));
        assert_eq!(e, Some((Some(2), Some("mause".into()))));
        let e = Config::parse("c.toml", "\n\nssh_max_fps = 0\n").err();
        assert_eq!(
            e.map(|e| (e.line, e.key)),
            Some((Some(3), Some("ssh_max_fps".into())))
        );
        let e = Config::parse("c.toml", "[aliases]\nx = 3\n").err();
        assert_eq!(
            e.map(|e| (e.line, e.key)),
            Some((Some(2), Some("aliases.x".into())))
        );
    }
}

/// The largest file Plexus reads as input (configs, scenarios, profiles, key maps, themes, alert
/// rules, FL captures): anything larger, or a device that never ends (`/dev/zero`), is refused
/// before it can grow memory.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Read a text input file, refusing it past [`MAX_INPUT_BYTES`].
pub fn read_text(path: impl AsRef<std::path::Path>) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {} MiB", MAX_INPUT_BYTES / (1024 * 1024)),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

#[cfg(test)]
mod read_tests {
    #[test]
    fn an_endless_device_is_refused_not_read() {
        let err = super::read_text("/dev/zero").unwrap_err();
        assert!(err.to_string().contains("larger than 16 MiB"), "{err}");
    }
}
