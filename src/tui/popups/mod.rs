//! Dialogs drawn over a screen, each with its own key handling.

pub mod confirm;
pub mod declare;
pub mod reason;
pub mod review;

use ratatui::layout::Rect;

/// A box of at most `width` × `height` in the middle of `screen`, clear of
/// its first and last rows (the header and the footer, which say where the
/// console is and which keys work) when the screen has room to spare them.
pub fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let screen = if screen.height > 8 {
        Rect {
            y: screen.y + 1,
            height: screen.height - 2,
            ..screen
        }
    } else {
        screen
    };
    let w = width.min(screen.width);
    let h = height.min(screen.height);
    Rect {
        x: screen.x + (screen.width - w) / 2,
        y: screen.y + (screen.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_leaves_the_header_and_footer_alone_when_it_can() {
        let screen = Rect::new(0, 0, 80, 24);
        let tall = centered(screen, 84, 40);
        assert_eq!((tall.y, tall.height, tall.width), (1, 22, 80));
        let small = centered(screen, 40, 6);
        assert!(small.y >= 1 && small.bottom() <= 23, "{small:?}");
        // A tiny terminal gives the dialog all it has.
        assert_eq!(centered(Rect::new(0, 0, 40, 6), 84, 40).height, 6);
    }
}
