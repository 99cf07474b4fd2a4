//! Dashboard costs on an estate of about 1,000 monitored resources (250
//! services on the simulator, two minutes of history): drawing one frame,
//! recomputing the rows (once a second and on each poll), and one monitor
//! refresh (a simulator poll applied to the state).
//!
//! Then how the costs grow with the estate: realistic estates (every
//! service behind two health checks and a failover record pair) of 100,
//! 1,000 and 5,000 services: a full recompute of the rows, a tick, one poll
//! applied as the console applies it, the posture `status` computes from
//! one poll, and building the simulated world.
//!
//! `cargo bench --bench dashboard`

use std::hint::black_box;
use std::time::Duration;

use chrono::DateTime;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use drconsole::config::environment_file::{realistic_environment, synthetic_environment};
use drconsole::monitor::MonitorEvent;
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

const ESTATE_SIZES: [usize; 3] = [100, 1_000, 5_000];

fn start() -> DateTime<chrono::Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

/// A console on a realistic estate after a few polls, as the TUI holds it:
/// a 45-line terminal, polls every 2 s (the demo's interval).
fn realistic_console(services: usize) -> (SimWorld, App) {
    let env = realistic_environment(services);
    let world = SimWorld::new(&env, start());
    let mut app = App::new(
        env,
        Theme::default(),
        "demo",
        MonitorState::new(Duration::from_secs(2)),
        world.now(),
    );
    app.screen_rows = 45;
    for _ in 0..3 {
        world.advance(Duration::from_secs(2));
        let event = MonitorEvent {
            readings: world.observe(),
            took: Duration::ZERO,
        };
        app.on_monitor(event, world.now());
    }
    (world, app)
}

fn estate_scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("estate");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for services in ESTATE_SIZES {
        let (world, mut app) = realistic_console(services);
        group.bench_function(format!("rows full refresh/{services}"), |b| {
            b.iter(|| app.refresh())
        });
        // A clock step with no new data: the rows near the selection and
        // those the clock moved across a bound.
        group.bench_function(format!("rows tick/{services}"), |b| {
            b.iter(|| {
                app.now += chrono::Duration::milliseconds(1);
                app.refresh_due()
            })
        });
        let readings = world.observe();
        let now = world.now();
        group.bench_function(format!("apply one poll/{services}"), |b| {
            b.iter_batched(
                || MonitorEvent {
                    readings: readings.clone(),
                    took: Duration::ZERO,
                },
                |event| app.on_monitor(event, now),
                BatchSize::LargeInput,
            )
        });
        let env = app.environment.clone();
        group.bench_function(format!("status posture/{services}"), |b| {
            b.iter_batched(
                || readings.clone(),
                |readings| {
                    let mut state = MonitorState::new(Duration::from_secs(2));
                    state.apply(readings);
                    state.postures(&env, now)
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("simulator setup/{services}"), |b| {
            b.iter(|| SimWorld::new(black_box(&env), start()))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    render_frame,
    refresh_rows,
    monitor_refresh,
    estate_scaling
);
criterion_main!(benches);
