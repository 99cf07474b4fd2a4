//! Logs go to a daily rolling file, never to the terminal the TUI owns.
//! The directory and files are the operator's alone, and no level of
//! logging lets credential material through (see [`credential_guard`]).

use std::path::Path;

use tracing::{Level, Metadata};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt, FilterFn, Filtered};
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::paths::create_private_dir;

/// Filter directives, e.g. `DRCONSOLE_LOG=drconsole=debug`.
pub const LOG_ENV: &str = "DRCONSOLE_LOG";

const FILE_PREFIX: &str = "drconsole";

/// Crates that see credentials or signed requests. `aws-config` logs the
/// credentials it loaded (access key id included) at INFO, the SDK's
/// orchestrator the resolved identity at TRACE, and the HTTP stack request
/// headers (the `Authorization` header names the access key) at DEBUG and
/// below; none of them has anything an operator needs below WARN.
const CREDENTIAL_TARGETS: [&str; 6] = ["aws_", "hyper", "h2", "reqwest", "rustls", "tower"];

/// Keep the guard alive for the whole process: dropping it flushes the log.
pub fn init(log_dir: &Path) -> anyhow::Result<WorkerGuard> {
    create_private_dir(log_dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(14)
        .build(log_dir)?;
    make_logs_private(log_dir)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    tracing_subscriber::registry()
        .with(filtered(layer, std::env::var(LOG_ENV).ok().as_deref()))
        .try_init()
        .map_err(|e| anyhow::anyhow!("logging already initialised: {e}"))?;
    Ok(guard)
}

/// `layer` behind the user's directives (INFO when none or unparsable),
/// and behind [`credential_guard`] whatever they say.
fn filtered<L, S>(
    layer: L,
    directives: Option<&str>,
) -> Filtered<L, impl tracing_subscriber::layer::Filter<S> + use<L, S>, S>
where
    L: Layer<S>,
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let user = directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    layer.with_filter(user.and(credential_guard()))
}

/// Lets SDK and HTTP events through at WARN and ERROR only: a more
/// specific user directive (`aws_config::profile=trace`) cannot undo it.
fn credential_guard() -> FilterFn<impl Fn(&Metadata<'_>) -> bool> {
    FilterFn::new(|meta: &Metadata<'_>| {
        *meta.level() <= Level::WARN
            || !CREDENTIAL_TARGETS
                .iter()
                .any(|prefix| meta.target().starts_with(prefix))
    })
}

/// Narrows log files an older drconsole (or a lax umask) left readable by
/// others; new files are created private by the process umask.
fn make_logs_private(log_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    for entry in std::fs::read_dir(log_dir)?.flatten() {
        use std::os::unix::fs::PermissionsExt;
        let is_log = entry.file_name().to_string_lossy().starts_with(FILE_PREFIX);
        if is_log && entry.file_type()?.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What reaches the log with `directives` when the SDK and drconsole
    /// both log at every level.
    fn logged(directives: &str) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || sink.clone())
            .with_ansi(false);
        let subscriber = tracing_subscriber::registry().with(filtered(layer, Some(directives)));
        tracing::subscriber::with_default(subscriber, || {
            for level in ["trace", "debug", "info", "warn"] {
                macro_rules! at_every_level {
                    ($target:literal) => {
                        match level {
                            "trace" => tracing::trace!(target: $target, "{} {level} AKIAEXAMPLE", $target),
                            "debug" => tracing::debug!(target: $target, "{} {level} AKIAEXAMPLE", $target),
                            "info" => tracing::info!(target: $target, "{} {level} AKIAEXAMPLE", $target),
                            _ => tracing::warn!(target: $target, "{} {level}", $target),
                        }
                    };
                }
                at_every_level!("aws_config::profile::credentials");
                at_every_level!("aws_smithy_runtime::client::orchestrator::auth");
                at_every_level!("aws_sigv4::http_request::sign");
                at_every_level!("hyper::proto::h1");
                at_every_level!("drconsole::monitor");
            }
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn no_directive_lets_sdk_events_below_warn_through() {
        for directives in [
            "trace",
            "debug",
            "info,aws_config=trace,aws_config::profile::credentials=trace",
            "warn,aws_smithy_runtime=debug,aws_sigv4=trace,hyper=trace",
        ] {
            let log = logged(directives);
            let leaked = log
                .lines()
                .filter(|l| l.contains("AKIAEXAMPLE") && !l.contains("drconsole::monitor"));
            assert_eq!(leaked.count(), 0, "{directives}:\n{log}");
            // Warnings still reach the log.
            assert!(
                log.contains("aws_sigv4::http_request::sign warn"),
                "{directives}:\n{log}"
            );
        }
    }

    #[test]
    fn drconsole_events_follow_the_users_directives() {
        let log = logged("drconsole=debug");
        assert!(log.contains("drconsole::monitor debug"), "{log}");
        assert!(!log.contains("drconsole::monitor trace"), "{log}");
        let default = logged("not a directive ===");
        assert!(default.contains("drconsole::monitor info"), "{default}");
        assert!(!default.contains("drconsole::monitor debug"), "{default}");
    }
}
