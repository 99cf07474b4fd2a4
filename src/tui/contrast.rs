//! WCAG 2 contrast of a theme: the ratio between each text colour and the
//! background it is drawn on, for every pair the console actually draws
//! (each role on the terminal's background or its own, every role a table
//! row holds on the selected row's background, and each warning the header
//! bar draws over the bar, as the header module styles it). Named ANSI colours
//! are taken at xterm's default values; a theme declares the terminal it
//! is made for (dark or light background) by its name.

use ratatui::style::{Color, Modifier, Style};

use super::theme::{Roles, Theme};

/// A colour as the eye sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// xterm's default 16 colours, in ANSI order.
const XTERM: [Rgb; 16] = [
    Rgb(0x00, 0x00, 0x00),
    Rgb(0xcd, 0x00, 0x00),
    Rgb(0x00, 0xcd, 0x00),
    Rgb(0xcd, 0xcd, 0x00),
    Rgb(0x00, 0x00, 0xee),
    Rgb(0xcd, 0x00, 0xcd),
    Rgb(0x00, 0xcd, 0xcd),
    Rgb(0xe5, 0xe5, 0xe5),
    Rgb(0x7f, 0x7f, 0x7f),
    Rgb(0xff, 0x00, 0x00),
    Rgb(0x00, 0xff, 0x00),
    Rgb(0xff, 0xff, 0x00),
    Rgb(0x5c, 0x5c, 0xff),
    Rgb(0xff, 0x00, 0xff),
    Rgb(0x00, 0xff, 0xff),
    Rgb(0xff, 0xff, 0xff),
];

/// The terminal a theme is drawn on: its background and default text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    pub background: Rgb,
    pub foreground: Rgb,
}

impl Terminal {
    pub const DARK: Terminal = Terminal {
        background: XTERM[0],
        foreground: XTERM[7],
    };
    pub const LIGHT: Terminal = Terminal {
        background: XTERM[15],
        foreground: XTERM[0],
    };

    /// The terminal a theme is made for: `light` themes for a light one.
    pub fn for_theme(name: &str) -> Terminal {
        if name.contains("light") {
            Terminal::LIGHT
        } else {
            Terminal::DARK
        }
    }

    /// `color` on this terminal; `None` (unset, Reset) is the terminal's own.
    fn resolve(&self, color: Option<Color>, default: Rgb) -> Rgb {
        let index = |i: u8| XTERM[usize::from(i)];
        match color {
            None | Some(Color::Reset) => default,
            Some(Color::Rgb(r, g, b)) => Rgb(r, g, b),
            Some(Color::Indexed(i)) if i < 16 => index(i),
            Some(Color::Indexed(i)) if i >= 232 => {
                let level = 8 + 10 * (i - 232);
                Rgb(level, level, level)
            }
            Some(Color::Indexed(i)) => {
                let cube = i - 16;
                let step = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
                Rgb(step(cube / 36), step(cube / 6 % 6), step(cube % 6))
            }
            Some(Color::Black) => index(0),
            Some(Color::Red) => index(1),
            Some(Color::Green) => index(2),
            Some(Color::Yellow) => index(3),
            Some(Color::Blue) => index(4),
            Some(Color::Magenta) => index(5),
            Some(Color::Cyan) => index(6),
            Some(Color::Gray) => index(7),
            Some(Color::DarkGray) => index(8),
            Some(Color::LightRed) => index(9),
            Some(Color::LightGreen) => index(10),
            Some(Color::LightYellow) => index(11),
            Some(Color::LightBlue) => index(12),
            Some(Color::LightMagenta) => index(13),
            Some(Color::LightCyan) => index(14),
            Some(Color::White) => index(15),
        }
    }

    /// Text colour and background of `style` drawn over `under` (the
    /// background already there), reversed when the style says so.
    pub fn colours(&self, style: Style, under: Rgb) -> (Rgb, Rgb) {
        let fg = self.resolve(style.fg, self.foreground);
        let bg = self.resolve(style.bg, under);
        if style.add_modifier.contains(Modifier::REVERSED) {
            (bg, fg)
        } else {
            (fg, bg)
        }
    }
}

/// WCAG 2 relative luminance.
fn luminance(Rgb(r, g, b): Rgb) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG 2 contrast ratio, from 1 (none) to 21 (black on white).
pub fn ratio(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// One pair the console draws: what, its text colour and its background.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub what: String,
    pub text: Rgb,
    pub background: Rgb,
}

impl Pair {
    pub fn ratio(&self) -> f64 {
        ratio(self.text, self.background)
    }
}

/// Every text pair `theme` draws on `terminal`.
pub fn drawn_pairs(theme: &Theme, terminal: &Terminal) -> Vec<Pair> {
    let roles = &theme.style;
    let named = |roles: &Roles<Style>| -> Vec<(&'static str, Style)> {
        vec![
            ("header", roles.header),
            ("title", roles.title),
            ("text", roles.text),
            ("muted", roles.muted),
            ("ok", roles.ok),
            ("at_risk", roles.at_risk),
            ("breach", roles.breach),
            ("unknown", roles.unknown),
            ("stale", roles.stale),
            ("sparkline", roles.sparkline),
            ("key", roles.key),
            ("selection", roles.selection),
        ]
    };
    let mut pairs = Vec::new();
    let screen = terminal.background;
    for (name, style) in named(roles) {
        let (text, background) = terminal.colours(style, screen);
        pairs.push(Pair {
            what: name.to_string(),
            text,
            background,
        });
    }
    // A selected row: the row's style under, each cell's own on top.
    let (_, row_background) = terminal.colours(roles.selection, screen);
    let row_reversed = roles.selection.add_modifier.contains(Modifier::REVERSED);
    let in_rows = [
        ("text", roles.text),
        ("muted", roles.muted),
        ("ok", roles.ok),
        ("at_risk", roles.at_risk),
        ("breach", roles.breach),
        ("unknown", roles.unknown),
        ("stale", roles.stale),
        ("sparkline", roles.sparkline),
    ];
    for (name, style) in in_rows {
        let mut cell = style;
        if row_reversed {
            cell = cell.add_modifier(Modifier::REVERSED);
        }
        let under = if row_reversed { screen } else { row_background };
        let (text, background) = terminal.colours(cell, under);
        pairs.push(Pair {
            what: format!("{name} on the selected row"),
            text,
            background,
        });
    }
    // The header bar: its warnings are drawn over the bar's own style, so
    // a role that reads on the screen can vanish on the bar.
    for (name, style) in super::render::header::drawn_styles(roles) {
        let (text, background) = terminal.colours(roles.header.patch(style), screen);
        pairs.push(Pair {
            what: format!("{name} in the header"),
            text,
            background,
        });
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::BUILT_IN;

    #[test]
    fn ratios_match_wcag_examples() {
        let black = Rgb(0, 0, 0);
        let white = Rgb(255, 255, 255);
        assert!((ratio(black, white) - 21.0).abs() < 1e-9);
        assert!((ratio(white, white) - 1.0).abs() < 1e-9);
        // #767676 on white is the lightest grey that passes AA.
        assert!(ratio(Rgb(0x76, 0x76, 0x76), white) >= 4.5);
        assert!(ratio(Rgb(0x77, 0x77, 0x77), white) < 4.5);
    }

    #[test]
    fn every_shipped_theme_draws_text_at_a_contrast_of_at_least_4_5() {
        let mut failures = Vec::new();
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name).unwrap();
            let terminal = Terminal::for_theme(name);
            for pair in drawn_pairs(&theme, &terminal) {
                if pair.ratio() < 4.5 {
                    failures.push(format!("{name}: {} {:.2}", pair.what, pair.ratio()));
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn a_row_coloured_like_its_selection_is_caught() {
        // The high-contrast theme's old selection: white and light green
        // text on a yellow bar.
        let mut theme = Theme::built_in("high-contrast").unwrap();
        theme.style.selection = Style::default()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD);
        let low: Vec<String> = drawn_pairs(&theme, &Terminal::DARK)
            .into_iter()
            .filter(|p| p.ratio() < 4.5)
            .map(|p| p.what)
            .collect();
        assert!(
            low.contains(&"text on the selected row".to_string()),
            "{low:?}"
        );
        assert!(
            low.contains(&"ok on the selected row".to_string()),
            "{low:?}"
        );
    }
}
