//! Dashboard costs on an estate of about 1,000 monitored resources (250
//! services on the simulator, two minutes of history): drawing one frame,
//! recomputing the rows (once a second and on each poll), and one monitor
//! refresh (a simulator poll applied to the state).
//!
//! `cargo bench --bench dashboard`

use std::hint::black_box;
use std::time::Duration;

use chrono::DateTime;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use drconsole::config::environment_file::synthetic_environment;
use drconsole::monitor::MonitorState;
use drconsole::provider::sim::SimWorld;
use drconsole::tui::render;
use drconsole::tui::state::App;
use drconsole::tui::theme::Theme;

const SERVICES: usize = 250;
const HISTORY_POLLS: usize = 120;

fn estate() -> (SimWorld, App) {
    let env = synthetic_environment(SERVICES);
    let start = DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_default();
    let world = SimWorld::new(&env, start);
    let mut monitor = MonitorState::new(Duration::from_secs(1));
    for _ in 0..HISTORY_POLLS {
        world.advance(Duration::from_secs(1));
        monitor.apply(world.observe());
    }
    let app = App::new(env, Theme::default(), "demo", monitor, world.now());
    (world, app)
}

fn render_frame(c: &mut Criterion) {
    let (_world, mut app) = estate();
    println!(
        "estate: {} services, {} monitored resources",
        app.rows.len(),
        app.monitor.merged().resource_count()
    );
    for (width, height) in [(160, 45), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        app.detail_open = false;
        c.bench_function(&format!("render dashboard {width}x{height}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| render::app::render(frame, black_box(&app)))
                    .map(|_| ())
                    .unwrap()
            })
        });
        app.detail_open = true;
        c.bench_function(&format!("render dashboard+detail {width}x{height}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| render::app::render(frame, black_box(&app)))
                    .map(|_| ())
                    .unwrap()
            })
        });
    }
}

fn refresh_rows(c: &mut Criterion) {
    let (_world, mut app) = estate();
    c.bench_function("refresh rows (tick)", |b| b.iter(|| app.refresh()));
}

fn monitor_refresh(c: &mut Criterion) {
    let (world, app) = estate();
    let mut monitor = app.monitor;
    let readings = world.observe();
    c.bench_function("monitor apply one poll", |b| {
        b.iter_batched(
            || readings.clone(),
            |r| monitor.apply(black_box(r)),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("simulator poll + monitor apply", |b| {
        b.iter(|| {
            world.advance(Duration::from_secs(1));
            monitor.apply(world.observe());
        })
    });
}

criterion_group!(benches, render_frame, refresh_rows, monitor_refresh);
criterion_main!(benches);
