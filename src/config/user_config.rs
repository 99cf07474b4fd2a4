//! The optional user configuration file (`config.toml`).

use std::io::ErrorKind;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::collections::BTreeMap;

use serde::Deserialize;

use super::source_file::{FileError, Refusal, Step, parse_toml, read_text};
use crate::coordination::config::{DEFAULT_LEASE, SharedSettings, check_bucket, normalise_prefix};
use crate::domain::environment::{check_label, is_region_name};
use crate::provider::aws::BudgetSettings;
use crate::runbook::safety::SafetySettings;
use crate::tui::keys::{Action, KeyList, KeyMap};

/// Everything here has a default: the console runs with no file at all.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Theme name: a built-in or a file in the config's `themes/` directory.
    pub theme: Option<String>,
    /// Environment file used when `--env` is not given.
    pub environment: Option<PathBuf>,
    /// How often the simulator is polled.
    #[serde(default, with = "humantime_serde")]
    pub demo_poll_interval: Option<Duration>,
    /// How often AWS is polled. CloudWatch lag metrics have one-minute
    /// resolution, so polling much faster only spends API quota.
    #[serde(default, with = "humantime_serde")]
    pub aws_poll_interval: Option<Duration>,
    #[serde(default)]
    pub aws: AwsConfig,
    #[serde(default)]
    pub safety: SafetyConfig,
    #[serde(default)]
    pub budget: BudgetConfig,
    /// `[shared]`: the S3 store that coordinates consoles on several machines.
    pub shared: Option<SharedConfig>,
    /// `[keys]`: an action's keys instead of its defaults, as
    /// `quit = "q"` or `confirm = ["c", "Ctrl-y"]`.
    #[serde(default)]
    pub keys: BTreeMap<Action, KeyList>,
}

/// `[shared]`: locks and journals in an S3 bucket (see
/// [`crate::coordination`]). The bucket must not be in a region that may
/// fail: the store is needed most when a region is down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedConfig {
    pub bucket: String,
    pub region: String,
    #[serde(default)]
    pub prefix: String,
    /// How long a lease lasts unrenewed (default 60s).
    #[serde(default, with = "humantime_serde")]
    pub lease: Option<Duration>,
}

/// `[budget]`: the client-side AWS API budget the monitor and the runbook
/// runner share (the runner's requests go first).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Route 53 requests a second; the account's quota is five for every
    /// caller together.
    pub route53_per_second: Option<f64>,
    /// CloudWatch requests a second, per region.
    pub cloudwatch_per_second: Option<f64>,
    /// RDS requests a second, per region.
    pub rds_per_second: Option<f64>,
    /// How long a poll's request waits for the budget before that part of
    /// the poll is skipped.
    #[serde(default, with = "humantime_serde")]
    pub monitor_wait: Option<Duration>,
}

impl BudgetConfig {
    /// The budget: the defaults where the file says nothing.
    pub fn settings(&self) -> BudgetSettings {
        let defaults = BudgetSettings::default();
        BudgetSettings {
            route53_per_second: self
                .route53_per_second
                .unwrap_or(defaults.route53_per_second),
            cloudwatch_per_second: self
                .cloudwatch_per_second
                .unwrap_or(defaults.cloudwatch_per_second),
            rds_per_second: self.rds_per_second.unwrap_or(defaults.rds_per_second),
            monitor_wait: self.monitor_wait.unwrap_or(defaults.monitor_wait),
        }
    }
}

/// `[safety]`: settings of the safety rules checked before each action.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyConfig {
    /// A second failover of one global database within this period is
    /// blocked unless overridden (`0s` turns the rule off).
    #[serde(default, with = "humantime_serde")]
    pub repeat_failover_period: Option<Duration>,
}

impl SafetyConfig {
    /// The rules' settings: the defaults where the file says nothing.
    pub fn settings(&self) -> SafetySettings {
        let mut settings = SafetySettings::default();
        if let Some(period) = self.repeat_failover_period {
            settings.repeat_failover_within = period;
        }
        settings
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    pub profile: Option<String>,
    pub region: Option<String>,
}

pub const DEFAULT_DEMO_POLL: Duration = Duration::from_secs(2);
pub const DEFAULT_AWS_POLL: Duration = Duration::from_secs(30);

/// Every poll of AWS costs several API calls per region: faster than this
/// throttles the account, slower than the ceiling is no longer watching.
pub const AWS_POLL: RangeInclusive<Duration> = Duration::from_secs(10)..=Duration::from_secs(3600);
/// The simulator is in-process, but the console redraws on every poll.
pub const DEMO_POLL: RangeInclusive<Duration> =
    Duration::from_millis(250)..=Duration::from_secs(3600);
/// Longer than a week would block failing back after any outage this
/// console can speak to.
/// Requests a second any one API may be given: below a tenth nothing is
/// watched; above a hundred no AWS API's default quota is left.
pub const REQUESTS_PER_SECOND: RangeInclusive<f64> = 0.1..=100.0;
/// Under the SDK's six-second attempt timeout, which the wait counts against.
pub const MONITOR_WAIT: RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(5);
/// A lease shorter than a few S3 round trips lapses while renewed; one
/// longer than an hour strands a dead console's run for that long.
pub const SHARED_LEASE: RangeInclusive<Duration> =
    Duration::from_secs(3)..=Duration::from_secs(3600);
pub const REPEAT_FAILOVER_PERIOD: RangeInclusive<Duration> =
    Duration::ZERO..=Duration::from_secs(7 * 86_400);

impl UserConfig {
    /// Reads the file if there is one; no file at all is the empty config.
    /// Anything else at the path (a dangling link, a directory) is an error.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        match path.symlink_metadata() {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Self::default()),
            _ => Self::load_named(path),
        }
    }

    /// Reads a file the user named: it must exist.
    pub fn load_named(path: &Path) -> Result<Self, FileError> {
        let text = read_text(path)?;
        Self::parse(path, &text)
    }

    /// Parses and checks config text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, FileError> {
        let config: UserConfig = parse_toml(path, text)?;
        config
            .check()
            .map_err(|refusal| refusal.in_file(path, text))?;
        Ok(config)
    }

    /// The keys of each action, with `[keys]` applied.
    pub fn key_map(&self) -> Result<KeyMap, Refusal> {
        KeyMap::with_overrides(&self.keys).map_err(|bad| {
            let mut at = vec![Step::Key("keys"), Step::Key(bad.action)];
            at.extend(bad.index.map(Step::Index));
            Refusal::new(at, bad.message)
        })
    }

    fn check(&self) -> Result<(), Refusal> {
        self.key_map()?;
        for (path, key, value, bounds) in [
            (
                vec![Step::Key("demo_poll_interval")],
                "demo_poll_interval",
                self.demo_poll_interval,
                DEMO_POLL,
            ),
            (
                vec![Step::Key("aws_poll_interval")],
                "aws_poll_interval",
                self.aws_poll_interval,
                AWS_POLL,
            ),
            (
                vec![Step::Key("safety"), Step::Key("repeat_failover_period")],
                "safety.repeat_failover_period",
                self.safety.repeat_failover_period,
                REPEAT_FAILOVER_PERIOD,
            ),
            (
                vec![Step::Key("budget"), Step::Key("monitor_wait")],
                "budget.monitor_wait",
                self.budget.monitor_wait,
                MONITOR_WAIT,
            ),
            (
                vec![Step::Key("shared"), Step::Key("lease")],
                "shared.lease",
                self.shared.as_ref().and_then(|s| s.lease),
                SHARED_LEASE,
            ),
        ] {
            if let Some(value) = value
                && !bounds.contains(&value)
            {
                return Err(Refusal::new(
                    path,
                    format!(
                        "{key} must be from {} to {}, not {}",
                        crate::format::objective(*bounds.start()),
                        crate::format::objective(*bounds.end()),
                        crate::format::objective(value)
                    ),
                ));
            }
        }
        for (key, value) in [
            ("route53_per_second", self.budget.route53_per_second),
            ("cloudwatch_per_second", self.budget.cloudwatch_per_second),
            ("rds_per_second", self.budget.rds_per_second),
        ] {
            if let Some(value) = value
                && !REQUESTS_PER_SECOND.contains(&value)
            {
                return Err(Refusal::new(
                    vec![Step::Key("budget"), Step::Key(key)],
                    format!(
                        "budget.{key} must be from {} to {} requests a second, not {value}",
                        REQUESTS_PER_SECOND.start(),
                        REQUESTS_PER_SECOND.end()
                    ),
                ));
            }
        }
        if let Some(theme) = &self.theme {
            check_label(theme, 255)
                .map_err(|m| Refusal::new(vec![Step::Key("theme")], format!("theme {m}")))?;
        }
        if let Some(profile) = &self.aws.profile {
            check_label(profile, 128).map_err(|m| {
                Refusal::new(
                    vec![Step::Key("aws"), Step::Key("profile")],
                    format!("aws.profile {m}"),
                )
            })?;
        }
        if let Some(region) = &self.aws.region
            && !is_region_name(region)
        {
            return Err(Refusal::new(
                vec![Step::Key("aws"), Step::Key("region")],
                format!(
                    "aws.region: `{}` is not an AWS region name; expected one like `us-east-1`",
                    region.escape_debug()
                ),
            ));
        }
        if let Some(shared) = &self.shared {
            check_shared(shared)?;
        }
        Ok(())
    }

    /// The shared store's settings, if `[shared]` is present.
    pub fn shared_settings(&self) -> Option<SharedSettings> {
        let shared = self.shared.as_ref()?;
        Some(SharedSettings {
            bucket: shared.bucket.clone(),
            region: shared.region.clone(),
            prefix: normalise_prefix(&shared.prefix).ok()?,
            lease: shared.lease.unwrap_or(DEFAULT_LEASE),
        })
    }
}

fn check_shared(shared: &SharedConfig) -> Result<(), Refusal> {
    let at = |key| vec![Step::Key("shared"), Step::Key(key)];
    check_bucket(&shared.bucket)
        .map_err(|m| Refusal::new(at("bucket"), format!("shared.bucket: {m}")))?;
    if !is_region_name(&shared.region) {
        return Err(Refusal::new(
            at("region"),
            format!(
                "shared.region: `{}` is not an AWS region name; expected one like `us-east-1`",
                shared.region.escape_debug()
            ),
        ));
    }
    normalise_prefix(&shared.prefix)
        .map_err(|m| Refusal::new(at("prefix"), format!("shared.prefix: {m}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_name_file_line_and_column() {
        let path = Path::new("/etc/drconsole/config.toml");
        let error = |text: &str| UserConfig::parse(path, text).unwrap_err().to_string();
        let bad_key =
            error("theme = \"dark\"\n[keys]\nquit = \"q\"\nconfirm = [\"c\", \"Entr\"]\n");
        assert!(
            bad_key.starts_with("/etc/drconsole/config.toml:4:17")
                && bad_key.contains("`Entr` is not a key"),
            "{bad_key}"
        );
        let unknown = error("[keys]\nexplode = \"x\"\n");
        assert!(
            unknown.starts_with("/etc/drconsole/config.toml:2:")
                && unknown.contains("`explode` is not an action"),
            "{unknown}"
        );
        let clash = error("[keys]\n\noutage = \"q\"\n");
        assert!(
            clash.starts_with("/etc/drconsole/config.toml:3:10") && clash.contains("bound to both"),
            "{clash}"
        );
        let config = UserConfig::parse(path, "[keys]\nquit = \"x\"\n").unwrap();
        let x = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('x'));
        assert!(config.key_map().unwrap().is(Action::Quit, &x));
    }

    #[test]
    fn missing_file_is_the_default_config() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = UserConfig::load(&dir.path().join("config.toml")).unwrap();
        assert_eq!(cfg, UserConfig::default());
    }

    #[test]
    fn values_and_durations_parse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "theme = \"light\"\naws_poll_interval = \"1m\"\n[aws]\nprofile = \"dr\"\n",
        )
        .unwrap();
        let cfg = UserConfig::load(&path).unwrap();
        assert_eq!(cfg.theme.as_deref(), Some("light"));
        assert_eq!(cfg.aws_poll_interval, Some(Duration::from_secs(60)));
        assert_eq!(cfg.aws.profile.as_deref(), Some("dr"));
    }

    #[test]
    fn poll_intervals_are_bounded_per_provider() {
        let parse = |text: &str| UserConfig::parse(Path::new("config.toml"), text);
        let cases = [
            (
                "theme = \"dark\"\naws_poll_interval = \"0s\"\n",
                "config.toml:2:21: aws_poll_interval must be from 10s to 1h, not 0s",
            ),
            (
                "aws_poll_interval = \"9s\"\n",
                "config.toml:1:21: aws_poll_interval must be from 10s to 1h, not 9s",
            ),
            (
                "aws_poll_interval = \"2h\"\n",
                "config.toml:1:21: aws_poll_interval must be from 10s to 1h, not 2h",
            ),
            (
                "demo_poll_interval = \"100ms\"\n",
                "config.toml:1:22: demo_poll_interval must be from 250ms to 1h, not 100ms",
            ),
            (
                "[aws]\nregion = \"mars-1\"\n",
                "config.toml:2:10: aws.region: `mars-1` is not an AWS region name",
            ),
            (
                "[safety]\nrepeat_failover_period = \"8d\"\n",
                "config.toml:2:26: safety.repeat_failover_period must be from 0s to 7d, not 8d",
            ),
            (
                "[safety]\nrepeat_failover_period = \"soon\"\n",
                "config.toml:2:26:",
            ),
            (
                "theme = \"\\u001b]0;x\"\n",
                "config.toml:1:9: theme must not hold control characters",
            ),
        ];
        for (text, expected) in cases {
            let shown = parse(text).unwrap_err().to_string();
            assert!(shown.starts_with(expected), "{text}: {shown}");
        }
        let ok = parse("aws_poll_interval = \"10s\"\ndemo_poll_interval = \"250ms\"\n").unwrap();
        assert_eq!(ok.aws_poll_interval, Some(Duration::from_secs(10)));
        let ok = parse("[safety]\nrepeat_failover_period = \"30m\"\n").unwrap();
        assert_eq!(
            ok.safety.settings().repeat_failover_within,
            Duration::from_secs(1800)
        );
        assert_eq!(
            UserConfig::default().safety.settings(),
            SafetySettings::default()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_default_config_link_is_an_error_not_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::os::unix::fs::symlink(dir.path().join("gone.toml"), &path).unwrap();
        let err = UserConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("dangling symbolic link"), "{err}");
    }

    #[test]
    fn a_named_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let err = UserConfig::load_named(&dir.path().join("config.toml")).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("config.toml: cannot read: no such file"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_key_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "theme = \"dark\"\ncolour = \"red\"\n").unwrap();
        let err = UserConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml:2:1"), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn the_budget_has_defaults_and_bounded_rates() {
        let parse = |text: &str| UserConfig::parse(Path::new("config.toml"), text);
        let cfg = parse("[budget]\nroute53_per_second = 2.5\nmonitor_wait = \"1s\"\n").unwrap();
        let settings = cfg.budget.settings();
        assert_eq!(settings.route53_per_second, 2.5);
        assert_eq!(settings.monitor_wait, Duration::from_secs(1));
        assert_eq!(
            settings.rds_per_second,
            BudgetSettings::default().rds_per_second
        );
        for (text, expected) in [
            (
                "[budget]\nroute53_per_second = 0.0\n",
                "config.toml:2:22: budget.route53_per_second must be from 0.1 to 100 requests a second, not 0",
            ),
            (
                "[budget]\nrds_per_second = nan\n",
                "config.toml:2:18: budget.rds_per_second must be from 0.1 to 100 requests a second, not NaN",
            ),
            (
                "[budget]\nmonitor_wait = \"10s\"\n",
                "config.toml:2:16: budget.monitor_wait must be from 100ms to 5s, not 10s",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
        }
        assert!(parse("[budget]\nroute53 = 4\n").is_err(), "unknown key");
        let whole = parse("[budget]\nroute53_per_second = 4\n").unwrap();
        assert_eq!(
            whole.budget.settings().route53_per_second,
            4.0,
            "an integer rate"
        );
    }

    #[test]
    fn the_shared_store_is_checked_where_it_is_written() {
        let parse = |text: &str| UserConfig::parse(Path::new("config.toml"), text);
        let cfg = parse("[shared]\nbucket = \"dr-coord\"\nregion = \"eu-west-1\"\nprefix = \"team/\"\nlease = \"10s\"\n").unwrap();
        assert_eq!(
            cfg.shared_settings(),
            Some(SharedSettings {
                bucket: "dr-coord".into(),
                region: "eu-west-1".into(),
                prefix: "team/".into(),
                lease: Duration::from_secs(10),
            })
        );
        for (text, expected) in [
            (
                "[shared]\nbucket = \"Bad_Bucket\"\nregion = \"eu-west-1\"\n",
                "config.toml:2:10: shared.bucket: `Bad_Bucket` is not an S3 bucket name",
            ),
            (
                "[shared]\nbucket = \"dr-coord\"\nregion = \"mars\"\n",
                "config.toml:3:10: shared.region: `mars` is not an AWS region name",
            ),
            (
                "[shared]\nbucket = \"dr-coord\"\nregion = \"eu-west-1\"\nprefix = \"a/../b\"\n",
                "config.toml:4:10: shared.prefix: `a/../b`",
            ),
            (
                "[shared]\nbucket = \"dr-coord\"\nregion = \"eu-west-1\"\nlease = \"1s\"\n",
                "config.toml:4:9: shared.lease must be from 3s to 1h, not 1s",
            ),
            ("[shared]\nregion = \"eu-west-1\"\n", "bucket"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }
}
