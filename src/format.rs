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

/// A set value as people say it: `15m`, `1h`, `90s` as `1m30s`, `1h30m`,
/// `1d`, `350ms`, `1.5s`, in the units of [`short_duration`]. Exact (nothing is rounded away), so a message
/// comparing a value with its bound never shows the two alike; the units
/// after the first are two digits, as in [`short_duration`].
pub fn objective(d: Duration) -> String {
    if d.is_zero() {
        return "0s".to_string();
    }
    let s = d.as_secs();
    let nanos = d.subsec_nanos();
    if s == 0 && nanos.is_multiple_of(1_000_000) {
        return format!("{}ms", nanos / 1_000_000);
    }
    let units = [
        (s / 86_400, "d"),
        (s % 86_400 / 3600, "h"),
        (s % 3600 / 60, "m"),
    ];
    let mut out = String::new();
    for (n, unit) in units {
        if n > 0 || !out.is_empty() {
            push_unit(&mut out, n, unit);
        }
    }
    let seconds = s % 60;
    if seconds == 0 && nanos == 0 {
        // Trailing zero units say nothing: `1h`, not `1h00m`.
        while out.ends_with("00m") || out.ends_with("00h") {
            out.truncate(out.len() - 3);
        }
    } else {
        push_unit(&mut out, seconds, "");
        if nanos > 0 {
            let fraction = format!("{nanos:09}");
            out.push('.');
            out.push_str(fraction.trim_end_matches('0'));
        }
        out.push('s');
    }
    out
}

/// `n` and its unit, two digits when a larger unit comes before it.
fn push_unit(out: &mut String, n: u64, unit: &str) {
    if out.is_empty() {
        out.push_str(&n.to_string());
    } else {
        out.push_str(&format!("{n:02}"));
    }
    out.push_str(unit);
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

    #[test]
    fn objectives_are_exact_and_drop_only_zero_units() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_millis(350), "350ms"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_secs(45), "45s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(185), "3m05s"),
            (Duration::from_secs(900), "15m"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(3900), "1h05m"),
            (Duration::from_secs(7805), "2h10m05s"),
            (Duration::from_secs(3605), "1h00m05s"),
            (Duration::from_secs(86_400), "1d"),
            (Duration::from_secs(86_400 + 1800), "1d00h30m"),
            (Duration::from_secs(7 * 86_400), "7d"),
            (Duration::from_secs(2 * 86_400 + 3600), "2d01h"),
            (Duration::from_nanos(500), "0.0000005s"),
        ];
        for (d, shown) in cases {
            assert_eq!(objective(d), shown, "{d:?}");
        }
        // A value just over its bound never reads as the bound.
        let bound = Duration::from_secs(7 * 86_400);
        assert_ne!(objective(bound + Duration::from_nanos(1)), objective(bound));
    }
}
