//! The bottom line: the keys that work now (from the key table, only those
//! that do something where the console is), the `:` palette or the filter
//! being typed, or a one-off notice until the next key (the Runbooks and
//! Follow screens show theirs in their own status lines).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::{App, Screen};
use crate::tui::theme::Roles;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let line = if app.palette.open {
        palette_line(app, usize::from(area.width))
    } else if app.filter_editing {
        Line::from(vec![
            Span::styled(" /", theme.key),
            Span::styled(format!("{}▏", app.shown_filter()), theme.text),
            Span::styled("  Enter keep  Esc clear", theme.muted),
        ])
    } else if app.dialog_open() {
        // A dialog takes every key (its own lines say which): only the ways
        // out are left to say here.
        Line::from(vec![
            Span::styled(" Esc", theme.key),
            Span::styled(" cancel the dialog  ", theme.muted),
            Span::styled("Ctrl-C", theme.key),
            Span::styled(" quit", theme.muted),
        ])
    } else if let Some(notice) = app
        .notice
        .as_ref()
        .filter(|_| !matches!(app.screen, Screen::Runbooks | Screen::Follow))
    {
        Line::from(Span::styled(format!(" {notice}"), theme.at_risk))
    } else {
        let mut keys = app
            .keys
            .footer(&app.contexts(), |action| app.applies(action));
        fit(&mut keys, usize::from(area.width));
        let mut line = key_line(theme, &keys);
        if !app.filter.is_empty() && app.screen == Screen::Dashboard {
            line.push_span(Span::styled(
                format!(" filter: {}", app.filter),
                theme.at_risk,
            ));
        }
        line
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The palette being typed, then why it was refused or what Tab offers.
fn palette_line(app: &App, width: usize) -> Line<'static> {
    use unicode_width::UnicodeWidthStr;
    let theme = &app.theme.style;
    let input = format!("{}▏", app.palette.input);
    let room = width.saturating_sub(2 + input.width());
    let mut spans = vec![
        Span::styled(" :", theme.key),
        Span::styled(input, theme.text),
    ];
    if let Some(error) = &app.palette.error {
        let error = format!("  {error}");
        spans.push(Span::styled(
            super::fit::fit(&error, room).into_owned(),
            theme.breach,
        ));
    } else {
        let offered = app.palette.suggestions(&app.vocabulary());
        spans.push(Span::styled(palette_hint(&offered, room), theme.muted));
    }
    Line::from(spans)
}

/// What the palette offers and its keys in at most `room` columns: whole
/// suggestions while they fit (`…` for the rest), the keys said shorter
/// when room is short; nothing is cut inside a word.
fn palette_hint(offered: &[impl AsRef<str>], room: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if offered.is_empty() {
        return super::fit::fit("  no such command · Esc close", room).into_owned();
    }
    let tails = [
        " · Tab complete · Enter run · Esc close",
        " · Tab · Enter · Esc",
        "",
    ];
    for (i, tail) in tails.iter().enumerate() {
        let last = i + 1 == tails.len();
        let mut shown = String::from(" ");
        let mut count = 0;
        for s in offered {
            let piece = format!(" {}", s.as_ref());
            let more = if count + 1 < offered.len() { 2 } else { 0 };
            if shown.width() + piece.width() + more + tail.width() > room {
                break;
            }
            shown.push_str(&piece);
            count += 1;
        }
        if count < offered.len() {
            shown.push_str(" …");
        }
        if (count > 0 || last) && shown.width() + tail.width() <= room {
            return shown + tail;
        }
    }
    String::new()
}

/// Drops items until the line fits, never cutting one: help and quit (the
/// last two) stay, then the screen's own keys before the global ones.
fn fit(keys: &mut Vec<(String, &str)>, width: usize) {
    let drawn = |keys: &[(String, &str)]| -> usize {
        keys.iter()
            .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
            .sum()
    };
    while drawn(keys) > width && keys.len() > 2 {
        keys.remove(keys.len() - 3);
    }
}

fn key_line(theme: &Roles<Style>, keys: &[(String, &str)]) -> Line<'static> {
    let mut spans = Vec::with_capacity(keys.len() * 2);
    for (key, what) in keys {
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.muted));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use unicode_width::UnicodeWidthStr;

    use super::palette_hint;

    #[test]
    fn the_palette_hint_fits_with_whole_suggestions_and_shorter_keys() {
        let offered = [
            "runbooks",
            "runs",
            "readiness",
            "timeline",
            "follow",
            "outage",
            "dashboard",
            "report",
            "help",
            "quit",
        ];
        for room in [0, 10, 24, 40, 60, 80, 150] {
            let hint = palette_hint(&offered, room);
            assert!(hint.width() <= room, "{room}: {hint:?}");
            // Every word shown is a whole suggestion or a key's name.
            for word in hint.split_whitespace() {
                let known = offered.contains(&word)
                    || ["·", "…", "Tab", "complete", "Enter", "run", "Esc", "close"]
                        .contains(&word);
                assert!(known, "{room}: {word:?} in {hint:?}");
            }
        }
        assert_eq!(
            palette_hint(&["runs"], 80),
            "  runs · Tab complete · Enter run · Esc close"
        );
        assert!(palette_hint(&offered, 40).contains('…'));
    }
}
