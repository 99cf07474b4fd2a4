//! A headless full-outage drill end to end at `--time-scale 600`: world,
//! demo application, timeline, the unplanned failover runbook answered by
//! script, scoring and the report files. Most of the time is simulated time
//! passing at 600x; the figure is the wall time a CI job waits per drill.
//!
//! `cargo bench --bench drill`

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use drconsole::drill::headless::{self, Options};
use drconsole::drill::{scenario, validate};
use drconsole::runbook::safety::SafetySettings;

fn full_outage(c: &mut Criterion) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/drills/full-outage.yaml");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut group = c.benchmark_group("drill");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("full_outage_headless_600x", |b| {
        b.iter(|| {
            let s = scenario::load(&file).expect("the shipped scenario");
            let checked = validate::check(s, chrono::Utc::now().date_naive())
                .expect("the shipped scenario checks");
            let options = Options {
                time_scale: 600.0,
                seed: Some(7),
                decision_delay: Duration::from_secs(20),
                operator: "bench@drill".into(),
                safety: SafetySettings::default(),
            };
            let outcome = runtime
                .block_on(headless::run(checked, options, dir.path()))
                .expect("the drill runs");
            assert!(outcome.report.passed);
        });
    });
    group.finish();
}

criterion_group!(benches, full_outage);
criterion_main!(benches);
