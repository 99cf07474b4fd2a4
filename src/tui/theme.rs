//! Colours by role, loaded from TOML: built-in themes are embedded, user
//! themes come from a directory, and `NO_COLOR` keeps only modifiers.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::{Deserialize, Deserializer};

use crate::config::source_file::{FileError, parse_toml, read_text};

/// Built-in themes: name and TOML text.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

pub const DEFAULT_THEME: &str = "dark";

/// One value per role on screen. Deserialized with [`RoleSpec`] values from
/// a theme file, used with [`Style`] values.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles<T> {
    /// The top bar.
    pub header: T,
    /// Pane titles and table column headings.
    pub title: T,
    /// Ordinary values.
    pub text: T,
    /// Secondary text: units, labels, hints.
    pub muted: T,
    pub border: T,
    /// The selected table row.
    pub selection: T,
    pub ok: T,
    pub at_risk: T,
    pub breach: T,
    pub unknown: T,
    /// Data that is no longer current.
    pub stale: T,
    pub sparkline: T,
    /// Key names in the footer and help.
    pub key: T,
}

impl<T> Roles<T> {
    /// Pairs each role with the same role of `other`.
    fn zip<U, V>(self, other: Roles<U>, mut f: impl FnMut(T, U) -> V) -> Roles<V> {
        Roles {
            header: f(self.header, other.header),
            title: f(self.title, other.title),
            text: f(self.text, other.text),
            muted: f(self.muted, other.muted),
            border: f(self.border, other.border),
            selection: f(self.selection, other.selection),
            ok: f(self.ok, other.ok),
            at_risk: f(self.at_risk, other.at_risk),
            breach: f(self.breach, other.breach),
            unknown: f(self.unknown, other.unknown),
            stale: f(self.stale, other.stale),
            sparkline: f(self.sparkline, other.sparkline),
            key: f(self.key, other.key),
        }
    }

    fn map<U>(self, mut f: impl FnMut(T) -> U) -> Roles<U> {
        Roles {
            header: f(self.header),
            title: f(self.title),
            text: f(self.text),
            muted: f(self.muted),
            border: f(self.border),
            selection: f(self.selection),
            ok: f(self.ok),
            at_risk: f(self.at_risk),
            breach: f(self.breach),
            unknown: f(self.unknown),
            stale: f(self.stale),
            sparkline: f(self.sparkline),
            key: f(self.key),
        }
    }
}

/// How one role looks, as written in a theme file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    #[serde(default)]
    pub fg: Option<ThemeColor>,
    #[serde(default)]
    pub bg: Option<ThemeColor>,
    #[serde(default)]
    pub modifiers: Vec<ThemeModifier>,
}

impl RoleSpec {
    fn style(&self) -> Style {
        let mut style = Style::default();
        if let Some(fg) = self.fg {
            style = style.fg(fg.0);
        }
        if let Some(bg) = self.bg {
            style = style.bg(bg.0);
        }
        self.modifiers
            .iter()
            .fold(style, |s, m| s.add_modifier(m.modifier()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThemeColor(pub Color);

/// A colour as a theme file may write it: a name or `#rrggbb` as a string,
/// or an ANSI palette index as a number or a numeric string.
impl<'de> Deserialize<'de> for ThemeColor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ColorVisitor)
    }
}

const COLOR_FORMS: &str =
    "a name (red, light-blue, dark-gray, ...), \"#rrggbb\", or an ANSI index 0-255";

struct ColorVisitor;

impl serde::de::Visitor<'_> for ColorVisitor {
    type Value = ThemeColor;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(COLOR_FORMS)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ThemeColor, E> {
        Color::from_str(text).map(ThemeColor).map_err(|_| {
            E::custom(format!(
                "unknown colour `{}`: use {COLOR_FORMS}",
                text.escape_debug()
            ))
        })
    }

    fn visit_i64<E: serde::de::Error>(self, index: i64) -> Result<ThemeColor, E> {
        u8::try_from(index)
            .map(|i| ThemeColor(Color::Indexed(i)))
            .map_err(|_| E::custom(format!("ANSI colour index must be 0 to 255, not {index}")))
    }

    fn visit_u64<E: serde::de::Error>(self, index: u64) -> Result<ThemeColor, E> {
        u8::try_from(index)
            .map(|i| ThemeColor(Color::Indexed(i)))
            .map_err(|_| E::custom(format!("ANSI colour index must be 0 to 255, not {index}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeModifier {
    Bold,
    Dim,
    Italic,
    Underlined,
    Reversed,
    CrossedOut,
}

impl ThemeModifier {
    fn modifier(self) -> Modifier {
        match self {
            ThemeModifier::Bold => Modifier::BOLD,
            ThemeModifier::Dim => Modifier::DIM,
            ThemeModifier::Italic => Modifier::ITALIC,
            ThemeModifier::Underlined => Modifier::UNDERLINED,
            ThemeModifier::Reversed => Modifier::REVERSED,
            ThemeModifier::CrossedOut => Modifier::CROSSED_OUT,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub style: Roles<Style>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("unknown theme `{name}`; available: {}", available.join(", "))]
    Unknown {
        name: String,
        available: Vec<String>,
    },
}

impl Theme {
    /// Parses a theme file's text; `path` names it in errors. A role the
    /// file leaves out looks as it does in the default (dark) theme, so a
    /// user theme need only say what it changes.
    pub fn parse(name: &str, path: &Path, text: &str) -> Result<Theme, FileError> {
        let written: Roles<Option<RoleSpec>> = parse_toml(path, text)?;
        let base = Theme::default().style;
        Ok(Theme {
            name: name.to_string(),
            style: written.zip(base, |spec, inherited| {
                spec.map_or(inherited, |s| s.style())
            }),
        })
    }

    /// A built-in theme by name.
    pub fn built_in(name: &str) -> Option<Theme> {
        BUILT_IN.iter().find(|(n, _)| *n == name).map(|(n, text)| {
            let roles: Roles<RoleSpec> = parse_toml(&built_in_path(n), text)
                .unwrap_or_else(|e| unreachable!("built-in theme {n} is checked by tests: {e}"));
            Theme {
                name: n.to_string(),
                style: roles.map(|r| r.style()),
            }
        })
    }

    /// The theme with colours removed and modifiers kept. A role that was
    /// set apart by its background (header, selection) is drawn reversed so
    /// it still stands out.
    pub fn without_colors(self) -> Theme {
        Theme {
            name: self.name,
            style: self.style.map(|s| {
                let plain = Style::default()
                    .add_modifier(s.add_modifier)
                    .remove_modifier(s.sub_modifier);
                if s.bg.is_some_and(|bg| bg != Color::Reset) {
                    plain.add_modifier(Modifier::REVERSED)
                } else {
                    plain
                }
            }),
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::built_in(DEFAULT_THEME).unwrap_or_else(|| unreachable!("the default is built in"))
    }
}

fn built_in_path(name: &str) -> PathBuf {
    PathBuf::from(format!("themes/{name}.toml"))
}

/// Finds a theme by name: a file in `user_dir` first (so a user can redefine
/// a built-in), then the built-ins. A name ending in `.toml` or holding a
/// path separator is read as a file path.
pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
    if name.ends_with(".toml") || name.contains(std::path::MAIN_SEPARATOR) || name.contains('/') {
        let path = Path::new(name);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(name)
            .to_string();
        return Ok(from_file(&stem, path)?);
    }
    if let Some(dir) = user_dir {
        let path = dir.join(format!("{name}.toml"));
        // Anything there, even a dangling link or a FIFO, is the user's
        // theme: say what is wrong with it rather than ignore it.
        if path.symlink_metadata().is_ok() {
            return Ok(from_file(name, &path)?);
        }
    }
    Theme::built_in(name).ok_or_else(|| ThemeError::Unknown {
        name: name.to_string(),
        available: available(user_dir),
    })
}

fn from_file(name: &str, path: &Path) -> Result<Theme, FileError> {
    Theme::parse(name, path, &read_text(path)?)
}

/// Names of every theme [`load`] can find, sorted.
pub fn available(user_dir: Option<&Path>) -> Vec<String> {
    let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(entries) = user_dir.and_then(|d| std::fs::read_dir(d).ok()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            {
                names.push(stem.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// `NO_COLOR` set to a non-empty value (no-color.org).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_parses_and_defines_every_role() {
        for (name, text) in BUILT_IN {
            let roles: Roles<RoleSpec> =
                parse_toml(&built_in_path(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let theme = Theme {
                name: name.to_string(),
                style: roles.map(|r| r.style()),
            };
            assert_ne!(theme.style.ok, theme.style.breach, "{name}");
            assert_ne!(theme.style.stale, theme.style.text, "{name}");
        }
    }

    #[test]
    fn a_bad_colour_names_file_line_and_column() {
        let text = BUILT_IN[0]
            .1
            .replace("fg = \"#ff5f5f\"", "fg = \"reddish\"");
        let err = Theme::parse("x", Path::new("mine.toml"), &text).unwrap_err();
        let shown = err.to_string();
        let line = text.lines().position(|l| l.contains("reddish")).unwrap() + 1;
        assert!(shown.starts_with(&format!("mine.toml:{line}:")), "{shown}");
        assert!(shown.contains("unknown colour `reddish`"), "{shown}");
    }

    #[test]
    fn a_missing_role_is_inherited_from_the_default_theme() {
        let theme =
            Theme::parse("x", Path::new("t.toml"), "[ok]\nfg = \"blue\"\n[header]\n").unwrap();
        let dark = Theme::default().style;
        assert_eq!(theme.style.ok, Style::default().fg(Color::Blue));
        // Written but empty: plain, not inherited.
        assert_eq!(theme.style.header, Style::default());
        assert_eq!(theme.style.breach, dark.breach);
        assert_eq!(theme.style.selection, dark.selection);
    }

    #[test]
    fn colours_may_be_ansi_indexes_as_numbers() {
        let theme = Theme::parse("x", Path::new("t.toml"), "[ok]\nfg = 5\nbg = \"200\"\n").unwrap();
        assert_eq!(theme.style.ok.fg, Some(Color::Indexed(5)));
        assert_eq!(theme.style.ok.bg, Some(Color::Indexed(200)));
        let edge = Theme::parse("x", Path::new("t.toml"), "[ok]\nfg = 0\nbg = 255\n").unwrap();
        assert_eq!(edge.style.ok.fg, Some(Color::Indexed(0)));
        assert_eq!(edge.style.ok.bg, Some(Color::Indexed(255)));
    }

    #[test]
    fn bad_colour_values_are_refused_where_they_are_written() {
        let cases = [
            (
                "fg = 256",
                "t.toml:2:6: ANSI colour index must be 0 to 255, not 256",
            ),
            (
                "fg = -1",
                "t.toml:2:6: ANSI colour index must be 0 to 255, not -1",
            ),
            ("fg = 99999999999999999999", "t.toml:2:6: "),
            (
                "fg = 1.5",
                "t.toml:2:6: invalid type: floating point `1.5`, expected a name",
            ),
            ("fg = true", "t.toml:2:6: invalid type: boolean `true`"),
            ("fg = \"\"", "t.toml:2:6: unknown colour ``"),
            ("fg = [1]", "t.toml:2:6: invalid type: sequence"),
            (
                "fg = \"\\u001b[31m\"",
                "t.toml:2:6: unknown colour `\\u{1b}[31m`",
            ),
        ];
        for (line, expected) in cases {
            let text = format!("[ok]\n{line}\n");
            let shown = Theme::parse("x", Path::new("t.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(shown.starts_with(expected), "{line}: {shown}");
        }
    }

    #[test]
    fn an_unknown_modifier_is_an_error() {
        let text = BUILT_IN[0]
            .1
            .replacen("modifiers = [\"bold\"]", "modifiers = [\"blink\"]", 1);
        let err = Theme::parse("x", Path::new("t.toml"), &text).unwrap_err();
        assert!(err.to_string().contains("blink"), "{err}");
    }

    #[test]
    fn an_unknown_name_lists_the_available_themes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), BUILT_IN[1].1).unwrap();
        let err = load("nope", Some(dir.path())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown theme `nope`; available: dark, high-contrast, light, mine"
        );
    }

    #[test]
    fn a_user_theme_is_found_before_a_built_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dark.toml"), BUILT_IN[1].1).unwrap();
        let theme = load("dark", Some(dir.path())).unwrap();
        assert_eq!(theme.style, Theme::built_in("light").unwrap().style);
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_user_theme_link_is_reported_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dark.toml");
        std::os::unix::fs::symlink(dir.path().join("gone.toml"), &path).unwrap();
        let err = load("dark", Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("dangling symbolic link"), "{err}");
    }

    #[test]
    fn a_broken_user_theme_reports_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "[header\n").unwrap();
        let err = load("mine", Some(dir.path())).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}:1:", path.display())),
            "{err}"
        );
    }

    #[test]
    fn without_colors_keeps_modifiers_and_reverses_backgrounds() {
        let theme = Theme::built_in("dark").unwrap().without_colors();
        for style in [theme.style.ok, theme.style.breach, theme.style.header] {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
        assert!(theme.style.breach.add_modifier.contains(Modifier::BOLD));
        assert!(theme.style.header.add_modifier.contains(Modifier::REVERSED));
        assert!(
            theme
                .style
                .selection
                .add_modifier
                .contains(Modifier::REVERSED)
        );
        assert!(!theme.style.ok.add_modifier.contains(Modifier::REVERSED));
    }
}
