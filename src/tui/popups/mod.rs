//! Dialogs drawn over a screen, each with its own key handling.

pub mod confirm;
pub mod declare;
pub mod reason;
pub mod review;

use ratatui::layout::Rect;

/// A box of at most `width` × `height` in the middle of `screen`.
pub fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(screen.width);
    let h = height.min(screen.height);
    Rect {
        x: screen.x + (screen.width - w) / 2,
        y: screen.y + (screen.height - h) / 2,
        width: w,
        height: h,
    }
}
