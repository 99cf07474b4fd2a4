//! The dashboard's rows between polls: a poll recomputes every row; a tick
//! recomputes the rows that may be on screen and those whose verdict or
//! staleness the clock changed, and the rest still say what a full
//! recompute would, but for the ages nobody can see.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::environment_file::realistic_environment;
use crate::monitor::{MonitorEvent, MonitorState};
use crate::provider::sim::{Fault, SimWorld};
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::view::{ServiceRow, refresh_rows, service_rows};

const SERVICES: usize = 60;
const SCREEN_ROWS: usize = 8;

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap()
}

fn console(interval: Duration) -> (SimWorld, App) {
    let env = realistic_environment(SERVICES);
    let world = SimWorld::new(&env, start());
    let monitor = MonitorState::new(interval);
    let mut app = App::new(env, Theme::default(), "demo", monitor, world.now());
    app.screen_rows = SCREEN_ROWS;
    poll(&world, &mut app);
    (world, app)
}

fn poll(world: &SimWorld, app: &mut App) {
    let event = MonitorEvent {
        readings: world.observe(),
        took: Duration::ZERO,
    };
    app.on_monitor(event, world.now());
}

/// Advances the clock and ticks; the rows the tick recomputed.
fn tick(world: &SimWorld, app: &mut App, by: Duration) -> BTreeSet<usize> {
    world.advance(by);
    let before: Vec<_> = app.rows.iter().map(|r| r.clock.computed_at).collect();
    app.on_tick(world.now());
    before
        .iter()
        .enumerate()
        .filter(|(i, at)| app.rows[*i].clock.computed_at != **at)
        .map(|(i, _)| i)
        .collect()
}

/// Every row recomputed with its cells.
fn full(app: &App) -> Vec<ServiceRow> {
    let mut rows = service_rows(&app.environment, &app.monitor, &app.tracker, app.now);
    let all: Vec<usize> = (0..rows.len()).collect();
    refresh_rows(
        &mut rows,
        &all,
        true,
        &app.environment,
        &app.monitor,
        &app.tracker,
        app.now,
    );
    rows
}

/// The rows of the selection's page or either neighbouring one.
fn near_selection(app: &App) -> BTreeSet<usize> {
    let first = app.selected.saturating_sub(SCREEN_ROWS);
    (first..=app.selected + SCREEN_ROWS)
        .filter_map(|p| app.visible.get(p).copied())
        .collect()
}

#[test]
fn a_poll_recomputes_every_row() {
    let (world, mut app) = console(Duration::from_secs(1));
    tick(&world, &mut app, Duration::from_secs(1));
    world.advance(Duration::from_secs(1));
    poll(&world, &mut app);
    assert!(app.rows.iter().all(|r| r.clock.computed_at == world.now()));
    let rows = full(&app);
    let near = near_selection(&app);
    for (i, (shown, expected)) in app.rows.iter().zip(&rows).enumerate() {
        if near.contains(&i) {
            assert_eq!(shown, expected, "row {i}");
        } else {
            // Off screen: the posture and freshness, not the cells.
            assert!(!shown.detailed && shown.regions.is_empty() && shown.dns.is_none());
            assert_eq!(shown.posture, expected.posture, "row {i}");
            assert_eq!(shown.freshness, expected.freshness, "row {i}");
        }
    }
}

#[test]
fn rows_coming_near_the_screen_get_their_cells_before_a_draw() {
    let (_world, mut app) = console(Duration::from_secs(30));
    assert!(!app.rows[40].detailed);
    app.selected = 40;
    app.refresh_due();
    let rows = full(&app);
    for i in near_selection(&app) {
        assert_eq!(app.rows[i], rows[i], "row {i}");
    }
}

#[test]
fn a_tick_with_nothing_due_recomputes_only_the_rows_near_the_selection() {
    let (world, mut app) = console(Duration::from_secs(30));
    app.selected = 20;
    let recomputed = tick(&world, &mut app, Duration::from_secs(1));
    assert_eq!(recomputed, near_selection(&app));
    let rows = full(&app);
    for i in recomputed {
        assert_eq!(app.rows[i], rows[i], "row {i}");
    }
}

#[test]
fn a_tick_that_does_not_move_the_clock_recomputes_nothing() {
    let (_world, mut app) = console(Duration::from_secs(1));
    let now = app.now;
    let before = app.rows.clone();
    app.on_tick(now);
    assert_eq!(app.refresh_due(), 0);
    assert_eq!(app.rows, before);
}

#[test]
fn data_turning_stale_recomputes_every_row_without_a_poll() {
    let (world, mut app) = console(Duration::from_secs(1));
    assert!(app.rows.iter().all(|r| !r.freshness.stale));
    let stale_after = app.monitor.stale_after();
    let recomputed = tick(&world, &mut app, stale_after + Duration::from_secs(1));
    assert_eq!(recomputed.len(), SERVICES);
    assert!(app.rows.iter().all(|r| r.freshness.stale));
}

/// Through an outage, its incidents and their clocks crossing the RTO,
/// stalled backups and polls that stop: after every tick each row gives
/// the verdicts and staleness a full recompute gives, and the rows near
/// the selection are exactly what it gives.
#[test]
fn between_polls_every_row_says_what_a_full_recompute_says() {
    let (world, mut app) = console(Duration::from_secs(30));
    app.selected = 30;
    let mut partial = 0;
    for t in 0..240 {
        if t == 10 {
            world
                .inject(Fault::RegionOutage {
                    region: "us-east-1".into(),
                })
                .unwrap();
        }
        // Polls every 30 s, and none for the last twenty minutes.
        if t % 3 == 0 && t < 120 {
            poll(&world, &mut app);
        }
        let recomputed = tick(&world, &mut app, Duration::from_secs(10));
        if recomputed.len() < SERVICES {
            partial += 1;
        }
        let rows = full(&app);
        for (i, (shown, expected)) in app.rows.iter().zip(&rows).enumerate() {
            let (a, b) = (&shown.posture, &expected.posture);
            let at = format!("tick {t}, {}", a.service_id);
            assert_eq!(shown.freshness.stale, expected.freshness.stale, "{at}");
            assert_eq!(a.overall, b.overall, "{at}");
            assert_eq!(a.rto_side.verdict, b.rto_side.verdict, "{at}");
            assert_eq!(a.rpo, b.rpo, "{at}");
            assert_eq!(a.rpo_side.pitr_verdict, b.rpo_side.pitr_verdict, "{at}");
            if near_selection(&app).contains(&i) {
                assert_eq!(shown, expected, "{at}");
            }
        }
    }
    assert!(partial > 100, "ticks recomputed everything: {partial}");
    assert!(
        app.rows
            .iter()
            .any(|r| r.posture.rto_side.incident.is_some()),
        "the outage opened incidents"
    );
}

/// Polls that queued while the loop was busy count one by one in the
/// history, as if each had been applied on arrival, and the rows are
/// recomputed once.
#[test]
fn queued_polls_applied_together_count_as_each_alone() {
    let (world, mut one_by_one) = console(Duration::from_secs(1));
    let (_, mut together) = console(Duration::from_secs(1));
    world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    let mut queued = Vec::new();
    for _ in 0..4 {
        world.advance(Duration::from_secs(1));
        let readings = world.observe();
        queued.push(MonitorEvent {
            readings: readings.clone(),
            took: Duration::ZERO,
        });
        one_by_one.on_monitor(
            MonitorEvent {
                readings,
                took: Duration::ZERO,
            },
            world.now(),
        );
    }
    together.on_polls(queued, world.now());
    assert_eq!(together.rows, one_by_one.rows);
    let orders = &together.environment.services[0].id;
    assert_eq!(
        together.tracker.history(orders),
        one_by_one.tracker.history(orders)
    );
}
