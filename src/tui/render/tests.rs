//! Render snapshot tests: each meaningful state of the screen, drawn into a
//! `TestBackend` from hand-built readings. Review `.snap` changes by eye.

use crate::tui::popups::declare::{DeclareDialog, Field};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use crate::domain::environment::{DnsSpec, Environment, HealthCheckSpec, Replication, ServiceSpec};
use crate::domain::objectives::{DrTier, Objectives};
use crate::domain::snapshot::{
    BackupObs, ClusterRole, DbClusterObs, DbInstanceObs, DnsRecordObs, ErrorKind, FailoverRole,
    GlobalClusterObs, GlobalMember, Health, HealthCheckObs, LagKind, LagObs, Snapshot, SourceError,
    SourceReading,
};
use crate::monitor::{MonitorEvent, MonitorState};
use crate::provider::fault::{Fault, FaultControl};
use crate::tui::state::{App, Focus, Update};
use crate::tui::theme::Theme;

const T0: i64 = 1_795_000_000;

fn at(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(T0 + t, 0).unwrap()
}

fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

fn check_spec(id: &str, region: &str) -> HealthCheckSpec {
    HealthCheckSpec {
        id: id.into(),
        region: region.into(),
        fqdn: format!("{id}.example.com"),
        failure_threshold: 3,
    }
}

fn environment() -> Environment {
    let service = |id: &str, name: &str, tier, rto, rpo, replication, dns| ServiceSpec {
        id: String::from(id),
        name: String::from(name),
        tier,
        objectives: Objectives { rto, rpo },
        primary_region: "us-east-1".into(),
        dr_region: "us-west-2".into(),
        replication,
        health_checks: vec![
            check_spec(&format!("{id}-use1"), "us-east-1"),
            check_spec(&format!("{id}-usw2"), "us-west-2"),
        ],
        dns,
    };
    let dns = |name: &str| {
        Some(DnsSpec {
            zone_id: "Z1".into(),
            record: format!("{name}.example.com."),
            primary_target: format!("{name}.us-east-1.example.com"),
            secondary_target: format!("{name}.us-west-2.example.com"),
            ttl: 60,
        })
    };
    Environment {
        name: "demo-shop".into(),
        home_region: "us-east-1".into(),
        regions: vec!["us-east-1".into(), "us-west-2".into()],
        services: vec![
            service(
                "orders",
                "Orders API",
                DrTier::WarmStandby,
                mins(15),
                mins(5),
                Replication::AuroraGlobal {
                    global_cluster: "orders-global".into(),
                    primary_cluster: "orders-use1".into(),
                    secondary_cluster: "orders-usw2".into(),
                },
                dns("orders"),
            ),
            service(
                "billing",
                "Billing",
                DrTier::PilotLight,
                mins(240),
                mins(15),
                Replication::RdsReplica {
                    source_instance: "billing-use1".into(),
                    replica_instance: "billing-usw2".into(),
                },
                dns("billing"),
            ),
            service(
                "assets",
                "Static assets",
                DrTier::WarmStandby,
                mins(30),
                mins(15),
                Replication::S3 {
                    source_bucket: "assets-use1".into(),
                    destination_bucket: "assets-usw2".into(),
                },
                None,
            ),
        ],
        sim: Default::default(),
    }
}

/// How the world looks at one poll.
#[derive(Clone, Copy)]
struct World {
    orders_lag: f64,
    billing_lag: f64,
    assets_lag: f64,
    east_down: bool,
    /// us-east-1's databases unreachable (a regional outage, not only checks).
    east_rds_down: bool,
    /// Orders failed over to us-west-2 with data loss; us-east-1's old
    /// primary waits to resync.
    orders_failed_over: bool,
    s3_metrics_fail: bool,
}

impl World {
    const CALM: World = World {
        orders_lag: 0.4,
        billing_lag: 2.0,
        assets_lag: 40.0,
        east_down: false,
        east_rds_down: false,
        orders_failed_over: false,
        s3_metrics_fail: false,
    };
}

fn health(id: &str, region: &str, healthy: u32) -> HealthCheckObs {
    HealthCheckObs {
        id: id.into(),
        region: region.into(),
        fqdn: format!("{id}.example.com"),
        status: if healthy >= 8 {
            Health::Healthy
        } else {
            Health::Unhealthy
        },
        checkers_healthy: healthy,
        checkers_total: 16,
        failure_threshold: 3,
        disabled: false,
        inverted: false,
    }
}

/// Backups of an instance (replicated to us-west-2) or, without the copy,
/// of an Aurora cluster.
fn backup(t: i64, cross_region_copy: bool) -> BackupObs {
    BackupObs {
        latest_restorable: Some(at(t - 185)),
        retention_days: 7,
        newest_snapshot: Some(at(t - 7800)),
        cross_region_copy,
    }
}

fn lag(resource: &str, kind: LagKind, seconds: f64) -> LagObs {
    LagObs {
        resource_id: resource.into(),
        region: "us-west-2".into(),
        kind,
        lag: Some(Duration::from_secs_f64(seconds)),
        rpo_lag: None,
        pending_operations: (kind == LagKind::S3).then_some(12),
    }
}

fn cluster(id: &str, region: &str, role: ClusterRole, t: i64) -> DbClusterObs {
    DbClusterObs {
        id: id.into(),
        arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
        region: region.into(),
        engine: "aurora-postgresql".into(),
        engine_version: "15.4".into(),
        status: "available".into(),
        role,
        global_cluster_id: Some("orders-global".into()),
        endpoint: None,
        backup: backup(t, false),
    }
}

fn instance(id: &str, region: &str, source: Option<&str>, t: i64) -> DbInstanceObs {
    DbInstanceObs {
        id: id.into(),
        arn: format!("arn:aws:rds:{region}:123456789012:db:{id}"),
        region: region.into(),
        engine: "postgres".into(),
        status: "available".into(),
        replica_source: source.map(String::from),
        replicas: Vec::new(),
        endpoint: None,
        backup: backup(t, true),
    }
}

fn record(name: &str, role: FailoverRole) -> DnsRecordObs {
    let (region, suffix) = match role {
        FailoverRole::Primary => ("us-east-1", "use1"),
        FailoverRole::Secondary => ("us-west-2", "usw2"),
    };
    DnsRecordObs {
        zone_id: "Z1".into(),
        name: format!("{name}.example.com."),
        record_type: "CNAME".into(),
        set_identifier: Some(suffix.into()),
        failover: Some(role),
        target: format!("{name}.{region}.example.com"),
        ttl: Some(60),
        health_check_id: (role == FailoverRole::Primary).then(|| format!("{name}-use1")),
    }
}

fn readings(t: i64, w: World) -> Vec<SourceReading> {
    let east = if w.east_down { 3 } else { 16 };
    let good = |source: &str, snapshot: Snapshot| SourceReading {
        source: source.into(),
        taken_at: at(t),
        result: Ok(snapshot),
    };
    let mut route53 = Snapshot::default();
    for service in ["orders", "billing", "assets"] {
        route53
            .health_checks
            .push(health(&format!("{service}-use1"), "us-east-1", east));
        route53
            .health_checks
            .push(health(&format!("{service}-usw2"), "us-west-2", 16));
    }
    for service in ["orders", "billing"] {
        route53.dns_records.extend([
            record(service, FailoverRole::Primary),
            record(service, FailoverRole::Secondary),
        ]);
    }
    let (east_role, west_role) = if w.orders_failed_over {
        (ClusterRole::Secondary, ClusterRole::Primary)
    } else {
        (ClusterRole::Primary, ClusterRole::Secondary)
    };
    let mut east_rds = Snapshot {
        db_clusters: vec![cluster("orders-use1", "us-east-1", east_role, t)],
        db_instances: vec![instance("billing-use1", "us-east-1", None, t)],
        ..Snapshot::default()
    };
    if w.east_rds_down {
        east_rds.db_clusters[0].status = "inaccessible".into();
        east_rds.db_instances[0].status = "inaccessible".into();
    }
    east_rds.global_clusters.push(GlobalClusterObs {
        id: "orders-global".into(),
        engine: "aurora-postgresql".into(),
        status: "available".into(),
        members: vec![
            GlobalMember {
                cluster_id: "orders-use1".into(),
                cluster_arn: "arn:aws:rds:us-east-1:123456789012:cluster:orders-use1".into(),
                region: "us-east-1".into(),
                is_writer: !w.orders_failed_over,
                synchronization_status: w.orders_failed_over.then(|| "pending-resync".to_string()),
            },
            GlobalMember {
                cluster_id: "orders-usw2".into(),
                cluster_arn: "arn:aws:rds:us-west-2:123456789012:cluster:orders-usw2".into(),
                region: "us-west-2".into(),
                is_writer: w.orders_failed_over,
                synchronization_status: (!w.orders_failed_over).then(|| "connected".to_string()),
            },
        ],
    });
    let west_rds = Snapshot {
        db_clusters: vec![cluster("orders-usw2", "us-west-2", west_role, t)],
        db_instances: vec![instance(
            "billing-usw2",
            "us-west-2",
            Some("billing-use1"),
            t,
        )],
        ..Snapshot::default()
    };
    let orders_lag = if w.orders_failed_over {
        // The resyncing old primary publishes no lag.
        LagObs {
            region: "us-east-1".into(),
            lag: None,
            ..lag("orders-use1", LagKind::AuroraGlobal, 0.0)
        }
    } else {
        lag("orders-usw2", LagKind::AuroraGlobal, w.orders_lag)
    };
    let west_metrics = Snapshot {
        lags: vec![
            orders_lag,
            lag("billing-usw2", LagKind::RdsReplica, w.billing_lag),
        ],
        ..Snapshot::default()
    };
    let s3_metrics = if w.s3_metrics_fail {
        SourceReading {
            source: "cloudwatch:us-east-1".into(),
            taken_at: at(t),
            result: Err(SourceError::new(
                ErrorKind::Timeout,
                "GetMetricData timed out after 5s",
            )),
        }
    } else {
        good(
            "cloudwatch:us-east-1",
            Snapshot {
                lags: vec![lag("assets-usw2", LagKind::S3, w.assets_lag)],
                ..Snapshot::default()
            },
        )
    };
    vec![
        good("route53", route53),
        good("rds:us-east-1", east_rds),
        good("rds:us-west-2", west_rds),
        good("cloudwatch:us-west-2", west_metrics),
        s3_metrics,
    ]
}

/// A console after `polls` one-second polls of `world(t)`, each taken in
/// as the event loop does, so availability history and incidents build up.
fn app_after(polls: i64, world: impl Fn(i64) -> World) -> App {
    let mut app = App::new(
        environment(),
        Theme::default(),
        "demo · read-only",
        MonitorState::new(Duration::from_secs(1)),
        at(0),
    );
    for t in 0..polls {
        let event = MonitorEvent {
            readings: readings(t, world(t)),
            took: Duration::from_millis(120),
        };
        app.on_monitor(event, at(t));
    }
    app.on_tick(at(polls));
    app
}

/// Small wobble so sparklines have shape.
fn wobble(t: i64) -> f64 {
    [0.2, 0.5, 0.3, 0.9, 0.4, 0.6, 1.8, 0.3][(t % 8) as usize]
}

fn healthy() -> App {
    app_after(30, |t| World {
        orders_lag: wobble(t),
        billing_lag: 1.0 + wobble(t + 3) * 4.0,
        assets_lag: 30.0 + wobble(t) * 20.0,
        ..World::CALM
    })
}

/// us-east-1 failing its checks, Billing's replica far behind, and the S3
/// metrics source timing out for the last 20 polls.
fn troubled() -> App {
    app_after(40, |t| World {
        orders_lag: wobble(t) + if t > 30 { 150.0 } else { 0.0 },
        billing_lag: if t > 25 { 1200.0 + t as f64 } else { 3.0 },
        assets_lag: 35.0,
        east_down: t > 30,
        s3_metrics_fail: t >= 20,
        ..World::CALM
    })
}

use super::testing::draw_app as draw;

fn press(app: &mut App, code: KeyCode) -> Update {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn dashboard_healthy_wide() {
    insta::assert_snapshot!(draw(&healthy(), 160, 45).backend());
}

#[test]
fn dashboard_healthy_narrow() {
    insta::assert_snapshot!(draw(&healthy(), 80, 24).backend());
}

#[test]
fn at_each_width_names_stay_whole_and_columns_come_by_priority() {
    let app = healthy();
    let table_row = |width: u16| {
        let shown = draw(&app, width, 30);
        let buffer = shown.backend().buffer();
        let (_, y) = find(buffer, "Availability").expect("the heading");
        (0..width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect::<String>()
    };
    for width in [80, 100, 120, 140, 160, 220] {
        let shown = draw(&app, width, 30);
        let buffer = shown.backend().buffer();
        assert!(find(buffer, "Static assets").is_some(), "{width}");
    }
    assert!(!table_row(80).contains("DNS"));
    assert!(table_row(100).contains("DNS serving"), "{}", table_row(100));
    assert!(table_row(120).contains("us-west-2"));
    assert!(table_row(160).contains("Tier"));
}

#[test]
fn dashboard_troubled_wide() {
    insta::assert_snapshot!(draw(&troubled(), 160, 45).backend());
}

#[test]
fn dashboard_troubled_narrow() {
    insta::assert_snapshot!(draw(&troubled(), 80, 24).backend());
}

#[test]
fn detail_of_a_stale_service() {
    let mut app = troubled();
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(draw(&app, 160, 45).backend());
}

#[test]
fn detail_of_a_failing_over_service_narrow() {
    let mut app = troubled();
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

/// A regional outage of us-east-1: checks fail and its databases are
/// unreachable from poll 10 on.
fn outage() -> App {
    app_after(40, |t| World {
        orders_lag: wobble(t) + if t >= 10 { t as f64 } else { 0.0 },
        east_down: t >= 10,
        east_rds_down: t >= 10,
        ..World::CALM
    })
}

/// Orders failed over to us-west-2 at poll 20 while us-east-1 is down.
fn failed_over() -> App {
    app_after(40, |t| World {
        east_down: t >= 10,
        east_rds_down: t >= 10,
        orders_failed_over: t >= 20,
        ..World::CALM
    })
}

#[test]
fn dashboard_in_an_outage_shows_down_and_for_how_long() {
    let app = outage();
    let orders = &app.rows[0].posture;
    assert_ne!(orders.overall, crate::domain::posture::Verdict::Ok);
    insta::assert_snapshot!(draw(&app, 160, 45).backend());
}

#[test]
fn a_declared_start_moves_the_rto_clock_back_and_bad_ones_change_nothing() {
    let mut app = outage();
    let clock = |app: &App| app.rows[0].posture.rto_side.exposure;
    assert_eq!(clock(&app), Some(Duration::from_secs(30)));
    let err = app.declare_incident("orders", at(100), "alice@laptop", "pages from customers");
    assert!(err.is_err(), "a start in the future is refused");
    assert_eq!(clock(&app), Some(Duration::from_secs(30)));
    let incident = app
        .declare_incident("orders", at(-200), "alice@laptop", "pages from customers")
        .unwrap();
    assert_eq!(incident.start, at(-200));
    assert_eq!(clock(&app), Some(Duration::from_secs(240)));
}

#[test]
fn dashboard_in_an_outage_narrow() {
    insta::assert_snapshot!(draw(&outage(), 80, 24).backend());
}

#[test]
fn detail_of_a_down_service() {
    let mut app = outage();
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(draw(&app, 160, 45).backend());
}

#[test]
fn detail_after_failover_follows_the_observed_roles() {
    let mut app = failed_over();
    press(&mut app, KeyCode::Enter);
    let shown = draw(&app, 160, 45);
    let buffer = shown.backend().buffer();
    assert!(find(buffer, "orders-usw2 (writer, us-west-2)").is_some());
    assert!(find(buffer, "orders-use1 (resyncing, us-east-1)").is_some());
    insta::assert_snapshot!(shown.backend());
}

#[test]
fn help_overlay() {
    let mut app = healthy();
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&app, 160, 45).backend());
}

#[test]
fn help_overlay_narrow() {
    let mut app = healthy();
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn before_the_first_poll() {
    let app = App::new(
        environment(),
        Theme::default(),
        "aws",
        MonitorState::new(Duration::from_secs(30)),
        at(0),
    );
    insta::assert_snapshot!(draw(&app, 100, 14).backend());
}

#[test]
fn too_small() {
    insta::assert_snapshot!(draw(&healthy(), 20, 5).backend());
}

#[test]
fn tiny_and_empty_terminals_do_not_panic() {
    let app = troubled();
    for (w, h) in [(0, 0), (1, 1), (59, 40), (200, 11), (60, 12), (3, 100)] {
        draw(&app, w, h);
    }
    let mut app = troubled();
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('?'));
    for (w, h) in [(60, 12), (61, 13), (300, 100)] {
        draw(&app, w, h);
    }
}

#[test]
fn filter_narrows_the_rows() {
    let mut app = healthy();
    press(&mut app, KeyCode::Char('/'));
    for c in "bill".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_eq!(app.visible.len(), 1);
    let shown = draw(&app, 80, 24);
    insta::assert_snapshot!(shown.backend());
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.visible.len(), 3);
}

#[test]
fn stale_values_are_not_coloured_as_current() {
    let app = troubled();
    let terminal = draw(&app, 160, 45);
    let buffer = terminal.backend().buffer();
    let (x, y) = find(buffer, "STALE 21s").unwrap();
    assert_eq!(buffer[(x, y)].fg, app.theme.style.stale.fg.unwrap());
    let (_, assets_row) = find(buffer, "Static assets").unwrap();
    assert_eq!(assets_row, y, "the stale service is Static assets");
    let (lag_x, _) = find(buffer, "    35s").unwrap();
    assert_eq!(
        buffer[(lag_x + 5, y)].fg,
        app.theme.style.stale.fg.unwrap(),
        "its lag keeps its value but not its verdict colour"
    );
}

#[test]
fn keys_move_the_selection_and_quit() {
    let mut app = healthy();
    assert_eq!(press(&mut app, KeyCode::Char('j')), Update::Redraw);
    assert_eq!(app.selected, 1);
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.selected, 2);
    assert_eq!(press(&mut app, KeyCode::Down), Update::Nothing);
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.selected, 0);
    press(&mut app, KeyCode::Enter);
    assert!(app.detail_open);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Focus::Detail);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!((app.selected, app.detail_scroll), (0, 1), "detail scrolls");
    press(&mut app, KeyCode::Esc);
    assert!(!app.detail_open);
    assert_eq!(press(&mut app, KeyCode::Char('q')), Update::Quit);
    assert_eq!(
        app.on_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Update::Quit
    );
}

#[test]
fn a_click_selects_the_row_under_it() {
    let mut app = healthy();
    let screen = Rect::new(0, 0, 160, 45);
    let terminal = draw(&app, 160, 45);
    let (_, billing_row) = find(terminal.backend().buffer(), "Billing").unwrap();
    let click = |row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row,
        modifiers: KeyModifiers::NONE,
    };
    assert_eq!(app.on_mouse(click(billing_row), screen), Update::Redraw);
    assert_eq!(app.selected, 1);
    assert_eq!(app.on_mouse(click(44), screen), Update::Nothing);
    assert_eq!(app.selected, 1);

    press(&mut app, KeyCode::Enter);
    assert_eq!(app.on_mouse(click(40), screen), Update::Redraw);
    assert_eq!(
        app.focus,
        Focus::Detail,
        "a click in the detail pane focuses it"
    );
    assert_eq!(app.on_mouse(click(billing_row), screen), Update::Redraw);
    assert_eq!((app.focus, app.selected), (Focus::Table, 1));
}

#[test]
fn a_long_list_scrolls_by_pages_and_clicks_follow() {
    use super::dashboard::first_shown;
    assert_eq!(first_shown(0, 10), 0);
    assert_eq!(first_shown(9, 10), 0);
    assert_eq!(first_shown(10, 10), 10);
    assert_eq!(first_shown(25, 10), 20);
    assert_eq!(first_shown(3, 0), 3, "no room: no division by zero");

    let mut env = environment();
    let template = env.services[0].clone();
    env.services = (0..40)
        .map(|n| ServiceSpec {
            id: format!("svc-{n:02}"),
            name: format!("Service {n:02}"),
            ..template.clone()
        })
        .collect();
    let mut app = App::new(
        env,
        Theme::default(),
        "demo",
        MonitorState::new(Duration::from_secs(1)),
        at(0),
    );
    for _ in 0..25 {
        press(&mut app, KeyCode::Down);
    }
    let terminal = draw(&app, 80, 24);
    let buffer = terminal.backend().buffer();
    let (_, y) = find(buffer, "▶ Service 25").expect("the selection is in view");
    assert!(
        find(buffer, "Service 00").is_none(),
        "the first page scrolled away"
    );
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 4,
        row: y + 1,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(click, Rect::new(0, 0, 80, 24));
    assert_eq!(app.selected_row().unwrap().posture.service_id, "svc-26");
}

#[test]
fn the_filter_keeps_the_selected_service() {
    let mut app = healthy();
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::Char('s'));
    assert_eq!(app.selected_row().unwrap().posture.service_id, "assets");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.selected_row().unwrap().posture.service_id, "assets");
}

#[test]
fn no_color_draws_without_any_colour() {
    let mut app = troubled();
    app.theme = Theme::default().without_colors();
    press(&mut app, KeyCode::Enter);
    let terminal = draw(&app, 160, 45);
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, ratatui::style::Color::Reset, "{cell:?}");
    }
}

#[test]
fn every_built_in_theme_draws_breach_in_its_breach_style() {
    for (name, _) in crate::tui::theme::BUILT_IN {
        let mut app = troubled();
        app.theme = crate::tui::theme::load(name, None).unwrap();
        let terminal = draw(&app, 160, 45);
        let buffer = terminal.backend().buffer();
        let (x, y) = find(buffer, "BREACH").unwrap();
        assert_eq!(
            buffer[(x, y)].fg,
            app.theme.style.breach.fg.unwrap_or_default(),
            "{name}"
        );
    }
}

/// Column and row of the first cell of `text` on screen.
fn find(buffer: &ratatui::buffer::Buffer, text: &str) -> Option<(u16, u16)> {
    (0..buffer.area.height).find_map(|y| {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        let at = line.find(text)?;
        Some((u16::try_from(line[..at].chars().count()).ok()?, y))
    })
}

/// Faults kept in memory: what the console sees of any world that can fail.
#[derive(Default)]
struct Faults(Mutex<Vec<Fault>>);

impl FaultControl for Faults {
    fn active_faults(&self) -> Vec<Fault> {
        self.0.lock().unwrap().clone()
    }

    fn inject(&self, fault: Fault) -> Result<(), SourceError> {
        self.0.lock().unwrap().push(fault);
        Ok(())
    }

    fn clear(&self, fault: &Fault) -> Result<(), SourceError> {
        self.0.lock().unwrap().retain(|f| f != fault);
        Ok(())
    }
}

#[test]
fn o_toggles_an_outage_of_the_selected_services_primary_region() {
    let mut app = healthy();
    let faults = Arc::new(Faults::default());
    app.set_fault_control(Some(faults.clone()));
    assert_eq!(press(&mut app, KeyCode::Char('O')), Update::Redraw);
    assert_eq!(app.simulated_faults, vec!["us-east-1 outage".to_string()]);
    let terminal = draw(&app, 160, 45);
    assert!(find(terminal.backend().buffer(), "SIMULATED us-east-1 outage").is_some());
    press(&mut app, KeyCode::Char('O'));
    assert!(faults.active_faults().is_empty());
    assert!(app.simulated_faults.is_empty());
}

#[test]
fn faults_already_in_force_show_from_the_start() {
    let mut app = healthy();
    let faults = Faults::default();
    faults
        .inject(Fault::RegionOutage {
            region: "us-west-2".into(),
        })
        .unwrap();
    app.set_fault_control(Some(Arc::new(faults)));
    assert_eq!(app.simulated_faults, vec!["us-west-2 outage".to_string()]);
}

#[test]
fn o_in_a_read_only_session_says_why_it_does_nothing_until_the_next_key() {
    let mut app = healthy();
    app.read_only = true;
    assert_eq!(press(&mut app, KeyCode::Char('O')), Update::Redraw);
    let terminal = draw(&app, 160, 45);
    assert!(find(terminal.backend().buffer(), "this session is read-only").is_some());
    assert!(app.simulated_faults.is_empty());
    // Any key dismisses it, even one that does nothing else.
    assert_eq!(press(&mut app, KeyCode::Char('x')), Update::Redraw);
    let terminal = draw(&app, 160, 45);
    assert!(find(terminal.backend().buffer(), "this session is read-only").is_none());
}

#[test]
fn declare_dialog_shows_why_a_declaration_was_refused() {
    let mut app = healthy();
    app.declaring = Some(DeclareDialog {
        service: "orders".into(),
        when: "2999-01-01T00:00:00Z".into(),
        why: "customers report errors".into(),
        field: Field::Why,
        error: Some(
            "the incident start 2999-01-01 00:00:00 UTC is in the future (now 2026-11-25 11:07:10 UTC)"
                .into(),
        ),
    });
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

/// The orders failover, twelve steps, in its fourth: waiting for the DR
/// cluster to accept writes, 30 seconds into the outage of [`outage`].
fn failover_run() -> crate::tui::runbooks::StartedRun {
    use crate::runbook::engine::{RunView, StepRun, StepView};
    use crate::runbook::journal::StepState;
    let titles = [
        ("check", "Confirm the primary region is unhealthy"),
        ("notify", "Tell stakeholders the failover is starting"),
        ("action", "Fail the global database over to the DR region"),
        (
            "wait",
            "Wait until the DR cluster is available and accepts writes",
        ),
        ("action", "Point the service's record at the DR region"),
        (
            "wait",
            "Wait for the DNS change to reach every Route 53 server",
        ),
        ("http", "Smoke test: application health"),
        ("http", "Smoke test: database connectivity"),
        ("http", "Smoke test: authentication"),
        ("http", "Smoke test: read"),
        ("http", "Smoke test: write"),
        ("notify", "Announce recovery and the actual RTO"),
    ];
    let steps = titles
        .iter()
        .enumerate()
        .map(|(i, (kind, title))| {
            let from = 12 + 4 * i as i64;
            let (state, finished_at) = match i {
                0..3 => (StepState::Done, Some(at(from + 4))),
                3 => (StepState::Waiting, None),
                _ => (StepState::Pending, None),
            };
            StepView {
                id: format!("step-{}", i + 1),
                title: (*title).into(),
                description: (i == 3).then(|| {
                    "Aurora promotes the secondary; the global writer endpoint follows.".into()
                }),
                kind,
                budget: Some(Duration::from_secs(60)),
                timeout: None,
                run: StepRun {
                    started_at: (i <= 3).then(|| at(from)),
                    finished_at,
                    observed: (i == 0).then(|| "us-east-1 unhealthy (3/16 checkers)".into()),
                    attempts: u32::from(i <= 3),
                    state,
                },
            }
        })
        .collect();
    let view = RunView {
        runbook: "Orders — unplanned regional failover".into(),
        service: "orders".into(),
        started_at: at(12),
        incident: None,
        rto_objective: mins(15),
        steps,
        current: Some(3),
        prompt: None,
        waiting_for: Some("cluster orders-usw2 is writer (times out at 11:12:20Z)".into()),
        outcome: None,
        read_only: false,
    };
    let (inputs, _) = tokio::sync::mpsc::channel(1);
    crate::tui::runbooks::StartedRun {
        inputs,
        status: crate::runbook::runner::RunStatus {
            run_id: "r-orders".into(),
            operator: "ann".into(),
            view,
            journal: "orders-r-orders.jsonl".into(),
            notice: None,
            now: at(40),
            handled: 0,
        },
        resumed: None,
        discarded: None,
        warnings: Vec::new(),
    }
}

/// [`outage`] with the failover of [`failover_run`] on the Runbooks screen.
async fn running_failover() -> App {
    let mut app = outage();
    app.runbooks = crate::tui::runbooks::tests::app().await.runbooks.take();
    crate::tui::runbooks::tests::start(&mut app, failover_run());
    app.screen = crate::tui::state::Screen::Runbooks;
    app
}

/// The most lines in a row that show nothing but borders.
fn largest_blank_band(terminal: &Terminal<TestBackend>) -> usize {
    let buffer = terminal.backend().buffer();
    let blank =
        |y: u16| (0..buffer.area.width).all(|x| matches!(buffer[(x, y)].symbol(), " " | "│"));
    (0..buffer.area.height)
        .fold((0, 0), |(run, most), y| {
            let run = if blank(y) { run + 1 } else { 0 };
            (run, most.max(run))
        })
        .1
}

const SIZES: [(u16, u16); 4] = [(80, 24), (120, 40), (160, 45), (220, 60)];
/// Blank lines tolerated in a row: the lag chart stops growing at its
/// cap, so a very tall pane may end in a line or two.
const BAND_MAX: usize = 3;

#[tokio::test]
async fn a_short_runbook_leaves_its_room_to_the_services_live_posture() {
    let app = running_failover().await;
    for (width, height) in SIZES {
        let shown = draw(&app, width, height);
        let band = largest_blank_band(&shown);
        assert!(band <= BAND_MAX, "{width}x{height}: {}", shown.backend());
    }
    let shown = draw(&app, 160, 45);
    let buffer = shown.backend().buffer();
    let (_, now) = find(buffer, "┌ Now ").expect("the Now pane");
    let (_, last_step) = find(buffer, "Announce recovery").expect("the last step");
    assert_eq!(now, last_step + 2, "the steps table is sized to its rows");
    assert!(find(buffer, "Orders API as observed now").is_some());
    assert!(find(buffer, "DNS         orders.example.com.").is_some());
}

#[tokio::test]
async fn run_screen_wide() {
    insta::assert_snapshot!(draw(&running_failover().await, 160, 45).backend());
}

#[tokio::test]
async fn run_screen_narrow() {
    insta::assert_snapshot!(draw(&running_failover().await, 80, 24).backend());
}

#[tokio::test]
async fn the_runs_screen_and_the_runbook_list_leave_no_empty_band() {
    let mut app = running_failover().await;
    press(&mut app, KeyCode::Char('3'));
    for (width, height) in SIZES {
        let shown = draw(&app, width, height);
        let band = largest_blank_band(&shown);
        assert!(
            band <= BAND_MAX,
            "Runs at {width}x{height}: {}",
            shown.backend()
        );
    }
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Esc);
    let shown = draw(&app, 160, 45);
    assert!(
        find(shown.backend().buffer(), "Runbook ").is_some(),
        "the list"
    );
    for (width, height) in SIZES {
        let shown = draw(&app, width, height);
        let band = largest_blank_band(&shown);
        assert!(
            band <= BAND_MAX,
            "the list at {width}x{height}: {}",
            shown.backend()
        );
    }
}
