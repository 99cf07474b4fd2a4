//! Text made to fit a cell: cut at a word boundary and marked with `…`,
//! never mid-word unless a single word is wider than the cell, measured in
//! terminal columns (a CJK character takes two). Every screen cuts its
//! text here; the whole text is always shown elsewhere (the detail pane,
//! a run step's detail), so a cut value only has to say what it is.

use std::borrow::Cow;

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const ELLIPSIS: char = '…';

/// `text` in at most `width` columns: whole when it fits, else the words
/// that fit followed by `…`. A first word wider than the cell is cut where
/// the cell ends, since no boundary would leave anything to read.
pub fn fit(text: &str, width: usize) -> Cow<'_, str> {
    if text.width() <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let budget = width - 1;
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > budget {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    let prefix = &text[..end];
    let next_starts_a_word = text[end..]
        .chars()
        .next()
        .is_some_and(|c| !c.is_whitespace());
    let kept = if next_starts_a_word {
        match prefix.rfind(char::is_whitespace) {
            Some(space) if !trimmed(&prefix[..space]).is_empty() => &prefix[..space],
            _ => prefix,
        }
    } else {
        prefix
    };
    let kept = match trimmed(kept) {
        "" => prefix,
        t => t,
    };
    Cow::Owned(format!("{kept}{ELLIPSIS}"))
}

/// [`fit`], then padded with spaces to exactly `width` columns: for
/// columns laid out in one line of text rather than a table.
pub fn fit_padded(text: &str, width: usize) -> String {
    let shown = fit(text, width);
    let pad = width.saturating_sub(shown.width());
    format!("{shown}{}", " ".repeat(pad))
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
        assert_eq!(fit(note, 40), "waits for DNS to point to…");
        assert_eq!(fit("SECONDARY 300s", 13), "SECONDARY…");
        assert_eq!(fit("we refuse to fail over", 12), "we refuse…");
        // A cut just before a space keeps the whole last word.
        assert_eq!(fit("we refuse to fail over", 10), "we refuse…");
    }

    #[test]
    fn a_word_wider_than_the_cell_is_cut_inside() {
        assert_eq!(fit("orders-secondary-cluster", 10), "orders-se…");
        assert_eq!(fit("orders-secondary-cluster is up", 10), "orders-se…");
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
}
