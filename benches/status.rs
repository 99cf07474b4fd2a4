//! Wall-clock time of the real `drconsole status` on generated realistic
//! estates (every service behind two health checks and a failover record
//! pair) of 100, 1,000 and 5,000 services, on the simulator: process start,
//! reading the environment file, building the simulated world, one poll
//! and the report. Prints the median of several runs and the ratio of each
//! size to the one before.
//!
//! `cargo bench --bench status` (optionally `-- 100 1000 5000 RUNS`);
//! `DRCONSOLE_BIN=path` times another build of the binary, e.g. an older
//! commit's, on the same files; `ESTATES_DIR=dir` writes the generated
//! files there and keeps them (for timing the console by hand).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use drconsole::config::environment_file::realistic_environment;

const SIZES: [usize; 3] = [100, 1_000, 5_000];
const RUNS: usize = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; numbers are estate sizes, the last
    // of several the number of runs.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (sizes, runs) = match numbers.as_slice() {
        [] => (SIZES.to_vec(), RUNS),
        [sizes @ .., runs] if !sizes.is_empty() => (sizes.to_vec(), *runs),
        sizes => (sizes.to_vec(), RUNS),
    };
    let temp = tempfile::tempdir()?;
    let kept = std::env::var_os("ESTATES_DIR").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temp.path());
    let binary =
        std::env::var("DRCONSOLE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_drconsole").into());
    let mut previous: Option<(usize, Duration)> = None;
    println!("{binary} status, median of {runs} runs");
    for services in sizes {
        let file = dir.join(format!("estate-{services}.toml"));
        std::fs::write(&file, toml::to_string(&realistic_environment(services))?)?;
        let home = temp.path().join(format!("home-{services}"));
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let status = Command::new(&binary)
                .args(["status", "--format", "json", "--env"])
                .arg(&file)
                .env("DRCONSOLE_HOME", &home)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()?;
            times.push(started.elapsed());
            // Exit 1 is a posture outside objectives, not a failure.
            if !matches!(status.code(), Some(0 | 1)) {
                return Err(format!("status on {services} services exited {status}").into());
            }
        }
        times.sort();
        let median = times[times.len() / 2];
        let ratio = previous
            .map(|(n, t)| {
                format!(
                    "  ({:.1}x the time of {n} for {:.0}x the services)",
                    median.as_secs_f64() / t.as_secs_f64(),
                    services as f64 / n as f64
                )
            })
            .unwrap_or_default();
        println!(
            "{services:>6} services: {:>8.1} ms{ratio}",
            median.as_secs_f64() * 1000.0
        );
        previous = Some((services, median));
    }
    Ok(())
}
