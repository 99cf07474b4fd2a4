//! Text made to fit a cell: cut at a word boundary and marked with `…`,
//! never mid-word unless a single word is wider than the cell, measured in
//! terminal columns (a CJK character takes two). Every screen cuts its
//! text here; the whole text is always shown elsewhere (the detail pane,
//! a run step's detail), so a cut value only has to say what it is. Panes
//! that show text whole wrap it here, between words, under a hanging
//! indent.

use std::borrow::Cow;

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const ELLIPSIS: char = '…';
/// Characters after which a compound name may be cut: `orders-…`. Not
/// `.`: `15.…` or `db.…` would say less than the word before.
const JOINERS: &[char] = &['-', '/', '_'];

/// `text` in at most `width` columns: whole when it fits, else the words
/// that fit followed by `…`; a compound word (`orders-secondary`,
/// `us-east-1`) may be cut after one of its parts. A first word
/// with no such part is cut where the cell ends, since no boundary would
/// leave anything to read.
pub fn fit(text: &str, width: usize) -> Cow<'_, str> {
    if columns(text) <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let budget = width - 1;
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        let w = char_columns(c);
        if used + w > budget {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    let prefix = &text[..end];
    let mid_word = text[end..]
        .chars()
        .next()
        .is_some_and(|c| !c.is_whitespace())
        && !prefix.ends_with(JOINERS);
    let kept = if mid_word {
        // The last place a word ends: before a space, or after the joiner
        // of a compound (`orders-`, `/`).
        let mut boundaries = prefix.char_indices().filter_map(|(i, c)| {
            if c.is_whitespace() {
                Some(i)
            } else if JOINERS.contains(&c) {
                Some(i + c.len_utf8())
            } else {
                None
            }
        });
        boundaries
            .rfind(|&end| !trimmed(&prefix[..end]).is_empty())
            .map_or(prefix, |end| &prefix[..end])
    } else {
        prefix
    };
    let mut kept = match trimmed(kept) {
        "" => prefix,
        t => t,
    };
    // Characters that join into one wider glyph (an emoji and its
    // variation selector) can take more than their sum: drop what spills.
    while columns(kept) > budget {
        let Some((last, _)) = kept.char_indices().next_back() else {
            break;
        };
        kept = &kept[..last];
    }
    Cow::Owned(format!("{kept}{ELLIPSIS}"))
}

/// Columns `text` takes on screen: control characters take none (the
/// terminal backend drops them), the rest as Unicode's width says.
fn columns(text: &str) -> usize {
    if text.contains(char::is_control) {
        let shown: String = text.chars().filter(|c| !c.is_control()).collect();
        shown.width()
    } else {
        text.width()
    }
}

fn char_columns(c: char) -> usize {
    if c.is_control() {
        0
    } else {
        c.width().unwrap_or(0)
    }
}

/// [`fit`], then padded with spaces to exactly `width` columns: for
/// columns laid out in one line of text rather than a table.
pub fn fit_padded(text: &str, width: usize) -> String {
    let shown = fit(text, width);
    let pad = width.saturating_sub(columns(&shown));
    format!("{shown}{}", " ".repeat(pad))
}

/// `line` broken between words into lines of at most `width` columns,
/// each after the first indented by `hang` columns so a wrapped value
/// reads as one. Styles are kept; a word longer than a line is split.
pub fn wrap<'a>(line: Line<'a>, width: usize, hang: usize) -> Vec<Line<'a>> {
    let line_columns: usize = line.spans.iter().map(|s| columns(&s.content)).sum();
    if line_columns <= width || width == 0 {
        return vec![line];
    }
    let hang = if hang + 8 > width { 0 } else { hang };
    let mut out = Vec::new();
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut used = 0;
    // Whether the line holds more than its indent: a break before that
    // would only make an empty line.
    let mut has_words = false;
    let break_line = |spans: &mut Vec<Span<'a>>, out: &mut Vec<Line<'a>>| {
        if let Some(last) = spans.last_mut() {
            let kept = last.content.trim_end().to_string();
            last.content = kept.into();
        }
        out.push(Line::from(std::mem::take(spans)));
        spans.push(Span::raw(" ".repeat(hang)));
    };
    for (piece, style) in pieces(&line) {
        let w = columns(&piece);
        if piece.starts_with(char::is_whitespace) {
            // Spaces past the line's end are where it breaks: nothing to
            // draw (a wrapped line starts with a word, never a space).
            if used + w > width {
                continue;
            }
            spans.push(Span::styled(piece, style));
            used += w;
            continue;
        }
        if used + w > width && has_words {
            break_line(&mut spans, &mut out);
            used = hang;
        }
        if used + w <= width {
            spans.push(Span::styled(piece, style));
            used += w;
            has_words = true;
            continue;
        }
        // A word wider than a whole line: as much as fits on each.
        let mut part = String::new();
        for c in piece.chars() {
            let cw = char_columns(c);
            // Only the first line may start with the line's own spaces.
            let floor = if out.is_empty() { 0 } else { hang };
            if used + cw > width && used > floor {
                spans.push(Span::styled(std::mem::take(&mut part), style));
                break_line(&mut spans, &mut out);
                used = hang;
            }
            part.push(c);
            used += cw;
        }
        spans.push(Span::styled(part, style));
        has_words = true;
    }
    out.push(Line::from(spans));
    out.into_iter().map(|l| l.style(line.style)).collect()
}

/// A line's text as runs of spaces and of non-spaces, each with its style.
fn pieces(line: &Line<'_>) -> Vec<(String, Style)> {
    let mut out: Vec<(String, Style)> = Vec::new();
    for span in &line.spans {
        let mut run = String::new();
        let mut in_space = None;
        for c in span.content.chars() {
            let space = c.is_whitespace();
            if in_space.is_some_and(|s| s != space) {
                out.push((std::mem::take(&mut run), span.style));
            }
            in_space = Some(space);
            run.push(c);
        }
        if !run.is_empty() {
            out.push((run, span.style));
        }
    }
    out
}

/// `text` on at most `max_lines` lines of `width` columns, broken between
/// words; what does not fit ends the last line with `…`. For a table cell
/// that may grow a few lines to show its value whole.
pub fn wrap_cell(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = wrap(Line::raw(text.to_string()), width, 0)
        .iter()
        .map(|l| l.to_string())
        .collect();
    if lines.len() > max_lines && max_lines > 0 {
        let rest = lines.split_off(max_lines - 1).join(" ");
        lines.push(fit(&rest, width).into_owned());
    }
    lines
}

/// Without the spaces and joining punctuation a cut leaves at its end:
/// `lag,` or `to —` would read as if something followed.
fn trimmed(text: &str) -> &str {
    text.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '—' | '·'))
}

/// The width each column of a table gets, as ratatui's `Table` lays them
/// out with `spacing` between columns: so a cell's text can be fitted to
/// its column before the table would cut it mid-word.
pub fn column_widths(width: u16, constraints: &[Constraint], spacing: u16) -> Vec<usize> {
    Layout::horizontal(constraints.iter().copied())
        .flex(Flex::Start)
        .spacing(spacing)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|r| usize::from(r.width))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_fits_is_untouched() {
        assert!(matches!(
            fit("SECONDARY 300s", 14),
            Cow::Borrowed("SECONDARY 300s")
        ));
        assert_eq!(fit("", 0), "");
    }

    #[test]
    fn cuts_fall_between_words() {
        let note = "waits for DNS to point to orders-secondary still";
        assert_eq!(fit(note, 40), "waits for DNS to point to orders-…");
        assert_eq!(fit(note, 30), "waits for DNS to point to…");
        assert_eq!(fit("SECONDARY 300s", 13), "SECONDARY…");
        assert_eq!(fit("we refuse to fail over", 12), "we refuse…");
        // A cut just before a space keeps the whole last word.
        assert_eq!(fit("we refuse to fail over", 10), "we refuse…");
    }

    #[test]
    fn a_word_wider_than_the_cell_is_cut_inside() {
        assert_eq!(fit("secondarycluster", 10), "secondary…");
        assert_eq!(fit("secondarycluster is up", 10), "secondary…");
    }

    #[test]
    fn a_compound_word_is_cut_after_one_of_its_parts() {
        assert_eq!(fit("orders-secondary-cluster", 10), "orders-…");
        assert_eq!(fit("1 confirm-outage: failed", 16), "1 confirm-…");
        assert_eq!(fit("api.us-east-1.example.com", 16), "api.us-east-…");
        assert_eq!(fit("version 15.4 of it", 12), "version…");
        // A cut falling right after a joiner keeps it.
        assert_eq!(fit("orders-secondary", 8), "orders-…");
    }

    #[test]
    fn a_cut_does_not_leave_joining_punctuation() {
        assert_eq!(fit("lag 2s, replica caught up", 12), "lag 2s…");
        assert_eq!(fit("Orders — fail over", 10), "Orders…");
    }

    #[test]
    fn width_is_counted_in_terminal_columns() {
        // Each of these takes two columns.
        assert_eq!(fit("注文 サービス", 7), "注文…");
        assert_eq!(fit("注文サービス", 6), "注文…");
        // An odd column left over is not filled with half a character.
        assert_eq!(fit("注文サービス", 4), "注…");
        assert_eq!(fit("注文", 1), "…");
        assert_eq!(fit("abc", 0), "");
        assert!(fit("注文 サービス", 7).width() <= 7);
        // An emoji with its presentation selector takes two columns, more
        // than its characters' sum.
        let hearts = "\u{2764}\u{fe0f}\u{2764}\u{fe0f}\u{2764}\u{fe0f}";
        for width in 0..7 {
            assert!(columns(&fit(hearts, width)) <= width, "{width}");
        }
    }

    #[test]
    fn combining_marks_stay_with_their_letter() {
        let text = "cafe\u{301} au lait";
        assert_eq!(fit(text, 7), "cafe\u{301}…");
        assert_eq!(fit(text, 9), "cafe\u{301} au…");
    }

    #[test]
    fn never_wider_than_asked() {
        let texts = [
            "a b c d e f",
            "abcdefghij",
            "注文 サービス 注文",
            " leading",
            "x\u{301}y",
        ];
        for text in texts {
            for width in 0..14 {
                let shown = fit(text, width);
                assert!(shown.width() <= width, "{text:?} at {width}: {shown:?}");
            }
        }
    }

    #[test]
    fn padded_text_fills_its_columns_exactly() {
        assert_eq!(fit_padded("注文", 6), "注文  ");
        assert_eq!(fit_padded("failover now", 10), "failover… ");
        assert_eq!(fit_padded("abc", 3), "abc");
    }

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_long_line_wraps_between_words_under_its_hang() {
        let line = Line::from(vec![
            Span::raw("Regions     "),
            Span::styled("orders-use1.example.com DOWN", Style::new().bold()),
            Span::raw(" 3/16 checkers · threshold 3"),
        ]);
        let wrapped = wrap(line.clone(), 40, 14);
        assert_eq!(
            texts(&wrapped),
            [
                "Regions     orders-use1.example.com DOWN",
                "              3/16 checkers · threshold",
                "              3",
            ]
        );
        assert!(wrapped.iter().all(|l| l.width() <= 40));
        let host = wrapped[0]
            .spans
            .iter()
            .find(|s| s.content.contains("example"));
        assert!(host.is_some_and(|s| {
            s.style
                .add_modifier
                .contains(ratatui::style::Modifier::BOLD)
        }));
        // A value too long for the label's line moves under the hang.
        let wrapped = wrap(line, 30, 14);
        assert_eq!(
            texts(&wrapped),
            [
                "Regions",
                "              orders-use1.exam",
                "              ple.com DOWN",
                "              3/16 checkers ·",
                "              threshold 3",
            ]
        );
        assert!(wrapped.iter().all(|l| l.width() <= 30));
    }

    #[test]
    fn a_line_that_fits_is_one_line_and_a_huge_word_is_split() {
        let line = Line::raw("short");
        assert_eq!(texts(&wrap(line, 10, 2)), ["short"]);
        let long = Line::raw("x abcdefghijklmnopqrstuvwxyz");
        let wrapped = wrap(long, 10, 2);
        assert_eq!(
            texts(&wrapped),
            ["x", "  abcdefgh", "  ijklmnop", "  qrstuvwx", "  yz"]
        );
    }

    #[test]
    fn wrapped_lines_never_exceed_the_width() {
        let texts = [
            "注文 サービス 注文サービス注文サービス",
            "a  b   c    d",
            "  lead trail  ",
            "x",
        ];
        for text in texts {
            // From two columns: the widest character takes two.
            for width in 2..20 {
                for line in wrap(Line::raw(text), width, 4) {
                    assert!(line.width() <= width, "{text:?} at {width}: {line:?}");
                }
            }
        }
    }

    #[test]
    fn a_cell_wraps_to_its_lines_and_cuts_the_last() {
        let note = "timed out after 5m: last observed cluster orders-secondary is secondary";
        assert_eq!(
            wrap_cell(note, 30, 3),
            [
                "timed out after 5m: last",
                "observed cluster",
                "orders-secondary is secondary"
            ]
        );
        assert_eq!(
            wrap_cell(note, 30, 2),
            ["timed out after 5m: last", "observed cluster orders-…"]
        );
        assert_eq!(wrap_cell("", 10, 2), [""]);
    }

    #[test]
    fn column_widths_match_the_table_layout() {
        let widths = column_widths(
            30,
            &[
                Constraint::Length(5),
                Constraint::Min(4),
                Constraint::Length(6),
            ],
            1,
        );
        assert_eq!(widths, vec![5, 17, 6]);
    }

    proptest::proptest! {
        /// Hostile text (controls, marks, wide and invisible characters)
        /// never overflows its cell or its pane.
        #[test]
        fn any_text_fits_what_it_was_given(text in "\\PC{0,40}|[\\x00-\\x7f]{0,40}|.{0,40}", width in 0usize..30) {
            let shown = fit(&text, width);
            proptest::prop_assert!(columns(&shown) <= width, "{:?} at {}: {:?}", text, width, shown);
            if width >= 2 {
                for line in wrap(Line::raw(text.as_str()), width, 4) {
                    let taken: usize = line.spans.iter().map(|s| columns(&s.content)).sum();
                    proptest::prop_assert!(taken <= width, "{:?} at {}: {:?}", text, width, line);
                }
            }
        }
    }
}
