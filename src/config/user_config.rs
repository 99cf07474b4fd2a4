//! The optional user configuration file (`config.toml`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::source_file::{FileError, load_toml};

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
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    pub profile: Option<String>,
    pub region: Option<String>,
}

pub const DEFAULT_DEMO_POLL: Duration = Duration::from_secs(2);
pub const DEFAULT_AWS_POLL: Duration = Duration::from_secs(30);

impl UserConfig {
    /// Reads the file if it exists; a missing file is the empty config.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        load_toml(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn an_unknown_key_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "theme = \"dark\"\ncolour = \"red\"\n").unwrap();
        let err = UserConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml:2:1"), "{err}");
        assert!(err.contains("unknown field `colour`"), "{err}");
    }
}
