//! The optional user configuration file (`config.toml`).

use std::io::ErrorKind;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::collections::BTreeMap;

use serde::Deserialize;

use super::source_file::{FileError, Refusal, Step, parse_toml, read_text};
use crate::domain::environment::{check_label, is_region_name};
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
    /// `[keys]`: an action's keys instead of its defaults, as
    /// `quit = "q"` or `confirm = ["c", "Ctrl-y"]`.
    #[serde(default)]
    pub keys: BTreeMap<Action, KeyList>,
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
        ] {
            if let Some(value) = value
                && !bounds.contains(&value)
            {
                return Err(Refusal::new(
                    path,
                    format!(
                        "{key} must be from {} to {}, not {}",
                        humantime::format_duration(*bounds.start()),
                        humantime::format_duration(*bounds.end()),
                        humantime::format_duration(value)
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
        Ok(())
    }
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
                "config.toml:2:26: safety.repeat_failover_period must be from 0s to 7days, not 8days",
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
}
