//! Compact human formats shared by the screens and the reports, and the
//! one filter every piece of untrusted text passes before a terminal sees it.

use std::borrow::Cow;
use std::time::Duration;

/// `350ms`, `4.2s`, `7s`, `3m05s`, `2h10m`, `3d04h`: short enough for a
/// table cell, precise enough at the scale an operator cares about, never
/// finer than milliseconds. The one duration format of every screen.
pub fn short_duration(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 10 && !ms.is_multiple_of(1000) {
        format!("{:.1}s", d.as_secs_f64())
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

/// An objective as people say it: `15m`, `1h`, `90s`, `1h30m`.
pub fn objective(d: Duration) -> String {
    let s = d.as_secs();
    if d.is_zero() {
        "0".to_string()
    } else if !s.is_multiple_of(60) {
        short_duration(d)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    }
}

/// `text` made safe to print as (part of) one line on a terminal. Runbook
/// files, provider errors and HTTP bodies are not trusted: an escape
/// sequence in them could retitle or clear the operator's terminal, move
/// the cursor over what was printed, or, with a line break, print a line
/// that looks like the console's own (a fake API call in a plan). Tabs and
/// line breaks become spaces; other control characters (C0, DEL, C1 such
/// as the one-byte CSI) and the invisible bidirectional overrides that
/// reorder what is shown are dropped, as ratatui drops control characters
/// on the console's screens.
pub fn printable(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() || is_bidi_control(c);
    if !text.contains(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\t' | '\n' | '\r' => Some(' '),
                c if unsafe_char(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// Unicode's explicit directional formatting characters (UAX #9).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_lose_their_escape_and_line_breaks_become_spaces() {
        assert_eq!(
            printable("a\u{1b}]0;owned\u{7}b\u{1b}[2Jc"),
            "a]0;ownedb[2Jc"
        );
        assert_eq!(printable("one\ntwo\r\tthree"), "one two  three");
        assert_eq!(printable("\u{9b}31mred\u{7f}"), "31mred");
        assert_eq!(printable("abc\u{202e}fed"), "abcfed");
    }

    #[test]
    fn ordinary_text_is_passed_through_untouched() {
        let text = "Orders — fail over to us-west-2 · ✓ 100%";
        assert!(matches!(printable(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn each_scale_has_its_unit() {
        let cases = [
            (Duration::from_millis(350), "350ms"),
            (Duration::from_millis(4200), "4.2s"),
            (Duration::from_secs(7), "7s"),
            (Duration::from_nanos(151_994_100), "151ms"),
            (Duration::from_secs(42), "42s"),
            (Duration::from_secs(185), "3m05s"),
            (Duration::from_secs(7800), "2h10m"),
            (Duration::from_secs(3 * 86_400 + 4 * 3600), "3d04h"),
        ];
        for (d, shown) in cases {
            assert_eq!(short_duration(d), shown);
        }
    }
}
