//! Themes as data: colours by meaning (`state.healthy`, `alert.critical`, `header.prod`, …) in
//! TOML files. `themes/dark.toml`, `themes/light.toml` and `themes/16.toml` are built in; a user
//! theme `NAME.toml` in the config dir's `themes/` starts from `dark` and overrides keys. Colours
//! are brought down to the terminal's depth once, at load, so drawing never converts.

pub mod color;

use ratatui::style::Color;
use std::path::Path;
use toml::de::{DeTable, DeValue};

pub use color::Depth;

use crate::config::SourceError;

/// The bundled themes, by name.
pub const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    ("16", include_str!("../../../themes/16.toml")),
];

macro_rules! meanings {
    ($($variant:ident => $key:literal),+ $(,)?) => {
        /// What a colour means; each is one `section.key` of a theme file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Meaning { $($variant),+ }

        impl Meaning {
            pub const ALL: &'static [Meaning] = &[$(Meaning::$variant),+];
            pub fn key(self) -> &'static str {
                match self { $(Meaning::$variant => $key),+ }
            }
        }
    };
}

meanings! {
    StatePending => "state.pending",
    StateHealthy => "state.healthy",
    StateSuspect => "state.suspect",
    StateDegraded => "state.degraded",
    StateRecovering => "state.recovering",
    StateConfigFailed => "state.config_failed",
    StateOffline => "state.offline",
    AlertCritical => "alert.critical",
    AlertWarning => "alert.warning",
    AlertInfo => "alert.info",
    ChartHealth => "chart.health",
    ChartLoss => "chart.loss",
    ChartAccuracy => "chart.accuracy",
    UiText => "ui.text",
    UiBackground => "ui.background",
    UiDim => "ui.dim",
    UiTitle => "ui.title",
    UiBorder => "ui.border",
    UiKey => "ui.key",
    UiDanger => "ui.danger",
    UiDisabled => "ui.disabled",
    UiOk => "ui.ok",
    UiError => "ui.error",
    UiWarningText => "ui.warning_text",
    HeaderBrand => "header.brand",
    HeaderBrandText => "header.brand_text",
    HeaderEnv => "header.env",
    HeaderProd => "header.prod",
    HeaderLock => "header.lock",
}

impl Meaning {
    pub fn parse(key: &str) -> Option<Meaning> {
        Meaning::ALL.iter().copied().find(|m| m.key() == key)
    }
}

/// A loaded theme: one colour per meaning, already at the terminal's depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub depth: Depth,
    colors: Vec<Color>,
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark", Depth::TrueColor).unwrap_or_else(|_| Theme {
            name: "none".into(),
            depth: Depth::None,
            colors: vec![Color::Reset; Meaning::ALL.len()],
        })
    }
}

impl Theme {
    pub fn color(&self, meaning: Meaning) -> Color {
        self.colors
            .get(meaning as usize)
            .copied()
            .unwrap_or(Color::Reset)
    }

    /// A bundled theme at `depth`.
    pub fn builtin(name: &str, depth: Depth) -> Result<Theme, SourceError> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            return Err(SourceError::new(
                "config",
                format!("unknown theme '{name}' (bundled: dark, light, 16; or themes/{name}.toml in the config dir)"),
            )
            .key("theme"));
        };
        let colors = vec![Color::Reset; Meaning::ALL.len()];
        let mut theme = Theme {
            name: name.into(),
            depth: Depth::TrueColor,
            colors,
        };
        let seen = theme.apply(&format!("built-in themes/{name}.toml"), text)?;
        if let Some(missing) = Meaning::ALL.iter().find(|m| !seen.contains(m)) {
            return Err(SourceError::new(
                &format!("built-in themes/{name}.toml"),
                "missing colour",
            )
            .key(missing.key()));
        }
        Ok(theme.at_depth(depth))
    }

    /// A theme file: `dark` with the file's colours on top.
    pub fn parse(name: &str, file: &str, text: &str, depth: Depth) -> Result<Theme, SourceError> {
        let mut theme = Theme::builtin("dark", Depth::TrueColor)?;
        theme.name = name.into();
        theme.apply(file, text)?;
        Ok(theme.at_depth(depth))
    }

    /// By name: a user file `themes_dir/NAME.toml` wins over a bundled theme of the same name.
    pub fn load(name: &str, themes_dir: Option<&Path>, depth: Depth) -> Result<Theme, SourceError> {
        if let Some(path) = themes_dir.map(|d| d.join(format!("{name}.toml"))) {
            match crate::config::read_text(&path) {
                Ok(text) => return Theme::parse(name, &path.display().to_string(), &text, depth),
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(SourceError::new(
                        &path.display().to_string(),
                        format!("cannot read: {e}"),
                    ));
                }
                Err(_) => {}
            }
        }
        Theme::builtin(name, depth)
    }

    fn at_depth(mut self, depth: Depth) -> Theme {
        for c in &mut self.colors {
            *c = color::downsample(*c, depth);
        }
        self.depth = depth;
        self
    }

    /// Sets the colours in `text`; returns which meanings it set.
    fn apply(&mut self, file: &str, text: &str) -> Result<Vec<Meaning>, SourceError> {
        let doc = DeTable::parse(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        let mut seen = Vec::new();
        for (section, value) in doc.get_ref().iter() {
            let DeValue::Table(entries) = value.get_ref() else {
                return Err(SourceError::new(
                    file,
                    "expected a section such as [state] with colour keys",
                )
                .at(text, Some(section.span().start))
                .key(section.get_ref().to_string()));
            };
            for (key, value) in entries.iter() {
                let dotted = format!("{}.{}", section.get_ref(), key.get_ref());
                let err = |offset: usize, message: String| {
                    SourceError::new(file, message)
                        .at(text, Some(offset))
                        .key(dotted.clone())
                };
                let Some(meaning) = Meaning::parse(&dotted) else {
                    return Err(err(key.span().start, "unknown colour key".into()));
                };
                let parsed = match value.get_ref() {
                    DeValue::String(s) => color::parse(s),
                    DeValue::Integer(i) => color::parse(i.as_str()),
                    other => Err(format!("expected a colour, found a {}", other.type_str())),
                };
                let c = parsed.map_err(|m| err(value.span().start, m))?;
                self.colors[meaning as usize] = c;
                seen.push(meaning);
            }
        }
        Ok(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_sets_every_meaning_at_every_depth() {
        for (name, _) in BUILTIN {
            for depth in [Depth::TrueColor, Depth::Ansi256, Depth::Ansi16, Depth::None] {
                let t = Theme::builtin(name, depth);
                assert!(t.is_ok(), "{name} {depth:?}: {t:?}");
            }
        }
    }

    #[test]
    fn the_16_colour_theme_needs_no_downsampling() {
        let t16 = Theme::builtin("16", Depth::Ansi16);
        let full = Theme::builtin("16", Depth::TrueColor);
        assert_eq!(t16.map(|t| t.colors), full.map(|t| t.colors));
    }

    #[test]
    fn user_theme_overrides_on_top_of_dark() {
        let t = Theme::parse(
            "mine",
            "mine.toml",
            "[state]\nhealthy = \"#00ff00\"\n",
            Depth::TrueColor,
        );
        let t = t.unwrap_or_default();
        assert_eq!(t.color(Meaning::StateHealthy), Color::Rgb(0, 255, 0));
        assert_eq!(t.name, "mine");
    }
}
