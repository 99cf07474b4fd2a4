//! Drawing into a test backend and reading the screen back, for the
//! screens' tests.

use chrono::{DateTime, Utc};
use ratatui::backend::TestBackend;
use ratatui::{Frame, Terminal};

use crate::tui::state::App;

/// A `width`×`height` terminal after one frame drawn by `render`.
pub fn draw(width: u16, height: u16, render: impl FnOnce(&mut Frame)) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(render).unwrap();
    terminal
}

/// The whole console's screen for `app`.
pub fn draw_app(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    draw(width, height, |frame| super::app::render(frame, app))
}

/// The screen's text, a line per row.
pub fn lines(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    buffer
        .content()
        .chunks(usize::from(buffer.area.width))
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect()
}

/// A console on the demo's environment in `mode`, polling every
/// `interval`, with nothing observed yet.
pub fn demo_app(mode: &str, interval: std::time::Duration, now: DateTime<Utc>) -> App {
    App::new(
        crate::config::environment_file::demo_environment(),
        crate::tui::theme::Theme::default(),
        mode,
        crate::monitor::MonitorState::new(interval),
        now,
    )
}
