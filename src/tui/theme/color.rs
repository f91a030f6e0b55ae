//! Colour values in theme files and bringing them down to what the terminal can show.

use ratatui::style::Color;

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// No colour at all (`NO_COLOR`, `--color never`): bold and reverse still mark things.
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl Depth {
    pub fn as_str(self) -> &'static str {
        match self {
            Depth::None => "none",
            Depth::Ansi16 => "16",
            Depth::Ansi256 => "256",
            Depth::TrueColor => "truecolor",
        }
    }
}

const NAMES: [(&str, Color); 20] = [
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("grey", Color::Gray),
    ("darkgray", Color::DarkGray),
    ("bright_black", Color::DarkGray),
    ("lightred", Color::LightRed),
    ("lightgreen", Color::LightGreen),
    ("lightyellow", Color::LightYellow),
    ("lightblue", Color::LightBlue),
    ("lightmagenta", Color::LightMagenta),
    ("lightcyan", Color::LightCyan),
    ("white", Color::White),
    ("bright_white", Color::White),
    ("reset", Color::Reset),
];

/// The 16 ANSI colours with their usual (xterm) values, index order.
const ANSI: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// Parses a colour: an ANSI name (`red`, `lightred`, `darkgray`, …), `reset` (the terminal's
/// own colour), an index `0`–`255`, or `#rrggbb`.
pub fn parse(text: &str) -> Result<Color, String> {
    let t = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let squashed = t.replace('_', "");
    if let Some((_, c)) = NAMES
        .iter()
        .find(|(n, _)| *n == t || n.replace('_', "") == squashed)
    {
        return Ok(*c);
    }
    if let Some(hex) = t.strip_prefix('#') {
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            let v = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("'{text}' is not a #rrggbb colour"));
    }
    if let Ok(n) = t.parse::<u16>() {
        return u8::try_from(n)
            .map(Color::Indexed)
            .map_err(|_| format!("colour index {n} is out of 0..=255"));
    }
    Err(format!(
        "unknown colour '{text}' (use an ANSI name, 0-255, #rrggbb or reset)"
    ))
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).pow(2) as u32;
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

/// The RGB value of a 256-palette index (16–255; the first 16 are the ANSI colours).
fn indexed_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI[i as usize].1,
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            (v, v, v)
        }
    }
}

fn nearest_256(rgb: (u8, u8, u8)) -> u8 {
    (16..=255u8)
        .min_by_key(|&i| distance(indexed_rgb(i), rgb))
        .unwrap_or(16)
}

fn nearest_16(rgb: (u8, u8, u8)) -> Color {
    ANSI.iter()
        .min_by_key(|(_, v)| distance(*v, rgb))
        .map_or(Color::Reset, |(c, _)| *c)
}

/// `color` as the terminal of `depth` can show it.
pub fn downsample(color: Color, depth: Depth) -> Color {
    match (depth, color) {
        (Depth::None, _) => Color::Reset,
        (Depth::TrueColor, c) => c,
        (Depth::Ansi256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256((r, g, b))),
        (Depth::Ansi256, c) => c,
        (Depth::Ansi16, Color::Rgb(r, g, b)) => nearest_16((r, g, b)),
        (Depth::Ansi16, Color::Indexed(i)) => nearest_16(indexed_rgb(i)),
        (Depth::Ansi16, c) => c,
    }
}

/// The depth to draw with. `forced` is `--color`/`color`, `setting` the `color_depth` key;
/// `env` reads the environment (injected for tests).
pub fn detect(
    forced: crate::config::ColorChoice,
    setting: crate::config::ColorDepthSetting,
    env: &dyn Fn(&str) -> Option<String>,
) -> Depth {
    use crate::config::{ColorChoice, ColorDepthSetting};
    let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
    match forced {
        ColorChoice::Never => return Depth::None,
        ColorChoice::Auto if no_color => return Depth::None,
        _ => {}
    }
    match setting {
        ColorDepthSetting::TrueColor => return Depth::TrueColor,
        ColorDepthSetting::Ansi256 => return Depth::Ansi256,
        ColorDepthSetting::Ansi16 => return Depth::Ansi16,
        ColorDepthSetting::Auto => {}
    }
    let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
    let term = env("TERM").unwrap_or_default().to_ascii_lowercase();
    if colorterm == "truecolor" || colorterm == "24bit" {
        Depth::TrueColor
    } else if term.contains("256color") {
        Depth::Ansi256
    } else if term == "dumb" && forced == ColorChoice::Auto {
        Depth::None
    } else {
        Depth::Ansi16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ColorChoice, ColorDepthSetting};

    #[test]
    fn parses_every_form() {
        assert_eq!(parse("red"), Ok(Color::Red));
        assert_eq!(parse("Light-Red"), Ok(Color::LightRed));
        assert_eq!(parse("dark_gray"), Ok(Color::DarkGray));
        assert_eq!(parse("reset"), Ok(Color::Reset));
        assert_eq!(parse("208"), Ok(Color::Indexed(208)));
        assert_eq!(parse("#ff8000"), Ok(Color::Rgb(255, 128, 0)));
        assert!(parse("256").is_err());
        assert!(parse("#ff80").is_err());
        assert!(parse("reddish").is_err());
    }

    #[test]
    fn truecolor_comes_down_to_256_then_16() {
        let orange = Color::Rgb(255, 135, 0);
        assert_eq!(downsample(orange, Depth::TrueColor), orange);
        assert_eq!(downsample(orange, Depth::Ansi256), Color::Indexed(208));
        assert_eq!(
            downsample(Color::Rgb(250, 10, 10), Depth::Ansi16),
            Color::LightRed
        );
        assert_eq!(
            downsample(Color::Indexed(196), Depth::Ansi16),
            Color::LightRed
        );
        assert_eq!(downsample(Color::Green, Depth::None), Color::Reset);
    }

    #[test]
    fn detection_honours_no_color_colorterm_and_the_override() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let auto = ColorDepthSetting::Auto;
        assert_eq!(
            detect(
                ColorChoice::Auto,
                auto,
                &env(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")])
            ),
            Depth::None
        );
        assert_eq!(
            detect(
                ColorChoice::Always,
                auto,
                &env(&[("NO_COLOR", "1"), ("TERM", "xterm")])
            ),
            Depth::Ansi16
        );
        assert_eq!(
            detect(
                ColorChoice::Never,
                auto,
                &env(&[("COLORTERM", "truecolor")])
            ),
            Depth::None
        );
        assert_eq!(
            detect(ColorChoice::Auto, auto, &env(&[("COLORTERM", "truecolor")])),
            Depth::TrueColor
        );
        assert_eq!(
            detect(ColorChoice::Auto, auto, &env(&[("TERM", "xterm-256color")])),
            Depth::Ansi256
        );
        // Over SSH COLORTERM is lost; the config key says what the terminal really does.
        assert_eq!(
            detect(
                ColorChoice::Auto,
                ColorDepthSetting::TrueColor,
                &env(&[("TERM", "xterm")])
            ),
            Depth::TrueColor
        );
    }
}
