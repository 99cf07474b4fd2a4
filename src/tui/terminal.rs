//! Owning the terminal: raw mode, the alternate screen and mouse capture on
//! the way in; all of it undone on every way out (return, error, panic).

use std::io::{self, Stdout, stdout};
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal};

pub struct Tui {
    terminal: Terminal<CrosstermBackend<Stdout>>,
    restored: bool,
}

impl Tui {
    /// Takes over the terminal. On failure whatever was switched on is
    /// switched off again before the error returns.
    pub fn enter() -> io::Result<Tui> {
        install_panic_hook();
        let result = (|| {
            enable_raw_mode()?;
            execute!(stdout(), EnterAlternateScreen, EnableMouseCapture)?;
            let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
            terminal.hide_cursor()?;
            terminal.clear()?;
            Ok(terminal)
        })();
        match result {
            Ok(terminal) => Ok(Tui {
                terminal,
                restored: false,
            }),
            Err(e) => {
                let _ = restore();
                Err(e)
            }
        }
    }

    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> io::Result<()> {
        self.terminal.draw(render).map(|_| ())
    }

    /// The whole terminal, as the last frame was drawn.
    pub fn area(&self) -> io::Result<Rect> {
        self.terminal.size().map(Rect::from)
    }

    /// Gives the terminal back, reporting any error (drop does it silently).
    pub fn exit(mut self) -> io::Result<()> {
        self.restored = true;
        restore()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if !self.restored {
            let _ = restore();
        }
    }
}

/// Undoes [`Tui::enter`]. Safe to call more than once.
pub fn restore() -> io::Result<()> {
    let raw = disable_raw_mode();
    let screen = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    raw.and(screen)
}

/// Restores the terminal before the panic message prints, so the message
/// lands on the normal screen and the shell is usable afterwards.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}
