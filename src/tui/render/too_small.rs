//! Shown instead of the screen when the terminal cannot hold it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{MIN_HEIGHT, MIN_WIDTH};
use crate::tui::state::App;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let text = vec![
        Line::styled("Terminal too small", app.theme.style.breach),
        Line::raw(format!(
            "{}×{}, needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::styled("q quits", app.theme.style.muted),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}
