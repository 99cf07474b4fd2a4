//! The whole screen.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────────────┐
//! │ header: drconsole │ environment │ mode │ read-only │ clock │ data age │
//! ├─ Services × regions ── 2 ok · 1 breach · 1 stale ────────────────────┤
//! │ Service  Tier  RTO  us-east-1  us-west-2  Lag  Backup  DNS  RPO  Posture│
//! │ ▌selected row                                                        │
//! │  ...                                  (dashboard.rs, scrolls)         │
//! ├─ detail: the selected service (Enter opens, Esc closes; previewed ───┤
//! │   in the room a short table leaves)                                  │
//! │  objectives, regions and checks, replication, backups, DNS, sources  │
//! │                                      (detail.rs, Tab focuses, scrolls)│
//! ├──────────────────────────────────────────────────────────────────────┤
//! │ footer: keys, or the filter being typed                              │
//! └──────────────────────────────────────────────────────────────────────┘
//!   overlay: help (`?`), centred over everything (help.rs), and the
//!   dialog declaring an incident (`I`, popups/declare.rs)
//!   a terminal smaller than MIN_WIDTH × MIN_HEIGHT shows only too_small.rs
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};

use super::{
    dashboard, detail, drill_report, follow, footer, header, help, readiness, runbooks, runs,
    timeline, too_small,
};
use crate::tui::state::{App, Screen};

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 12;
/// Lines left under the table from which the selected service is previewed.
const PREVIEW_MIN: u16 = 10;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub table: Rect,
    pub detail: Option<Rect>,
    pub footer: Rect,
}

/// The table sized to its rows and, in the room it does not need, the
/// selected service's detail: a calm dashboard of a few services would
/// leave most of a tall screen blank. The lag history is drawn taller to
/// fill it, whether or not the detail was opened (Enter opens it to focus
/// and scroll). `None` for the detail when the room is too small.
pub fn with_preview(body: Rect, app: &App) -> (Rect, Option<Rect>) {
    let rows = u16::try_from(app.visible.len()).unwrap_or(u16::MAX);
    let spare = body.height.saturating_sub(rows.saturating_add(3));
    if app.visible.is_empty() || spare < PREVIEW_MIN {
        return (body, None);
    }
    let [table, detail] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(spare)]).areas(body);
    (table, Some(detail))
}

/// Splits the screen; `None` when it is too small to draw on.
pub fn areas(screen: Rect, app: &App) -> Option<Areas> {
    if screen.width < MIN_WIDTH || screen.height < MIN_HEIGHT {
        return None;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(screen);
    let whole_body = Areas {
        header,
        table: body,
        detail: None,
        footer,
    };
    if app.screen != Screen::Dashboard || app.visible.is_empty() {
        return Some(whole_body);
    }
    if let (table, Some(detail)) = with_preview(body, app) {
        return Some(Areas {
            detail: Some(detail),
            table,
            ..whole_body
        });
    }
    if !app.detail_open {
        return Some(whole_body);
    }
    // The detail pane takes what it needs, up to three fifths of the body;
    // the table keeps at least a few rows so the selection stays in view.
    let wanted = detail::line_count(app, body.width.saturating_sub(2)).saturating_add(2);
    let detail_height = wanted.min(body.height * 3 / 5).max(body.height.min(6));
    let [table, detail] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail_height)]).areas(body);
    Some(Areas {
        table,
        detail: Some(detail),
        ..whole_body
    })
}

pub fn render(frame: &mut Frame, app: &App) {
    let screen = frame.area();
    let Some(areas) = areas(screen, app) else {
        too_small::render(frame, app, screen);
        return;
    };
    header::render(frame, app, areas.header);
    match app.screen {
        Screen::Dashboard => {
            dashboard::render(frame, app, areas.table);
            if let Some(area) = areas.detail {
                detail::render(frame, app, area);
            }
        }
        Screen::Runbooks => match &app.runbooks {
            Some(state) => runbooks::render(frame, app, state, areas.table),
            None => runbooks::render_none(frame, &app.theme, areas.table),
        },
        Screen::Timeline => match &app.timeline {
            Some(state) => timeline::render(frame, &app.theme, state, app.now, areas.table),
            None => runbooks::render_none(frame, &app.theme, areas.table),
        },
        Screen::Follow => match &app.follow {
            Some(state) => follow::render(frame, app, state, areas.table),
            None => runbooks::render_none(frame, &app.theme, areas.table),
        },
        Screen::Runs => match &app.runbooks {
            Some(state) => runs::render(frame, app, state, areas.table),
            None => runbooks::render_none(frame, &app.theme, areas.table),
        },
        Screen::Readiness => {
            readiness::render(frame, &app.theme, app.readiness.as_ref(), areas.table)
        }
        Screen::DrillReport => match &app.drill {
            Some(drill) => drill_report::render(frame, &app.theme, drill, areas.table),
            None => runbooks::render_none(frame, &app.theme, areas.table),
        },
    }
    footer::render(frame, app, areas.footer);
    if app.help_open {
        help::render(frame, app, screen);
    }
    if let Some(dialog) = &app.declaring {
        dialog.render(frame, &app.theme, screen);
    }
}

/// The index into `app.visible` of the table row drawn at `at`, if any.
pub fn row_at(screen: Rect, app: &App, at: Position) -> Option<usize> {
    let table = areas(screen, app)?.table;
    let body = dashboard::body_area(table);
    if !body.contains(at) {
        return None;
    }
    let index = dashboard::first_shown(app.selected, body.height) + usize::from(at.y - body.y);
    (index < app.visible.len()).then_some(index)
}
