//! Where drconsole keeps its files, per the platform's conventions.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

/// Overrides every directory with one root: for tests, CI and portable use.
pub const HOME_ENV: &str = "DRCONSOLE_HOME";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `config.toml` and user themes (`themes/*.toml`).
    pub config_dir: PathBuf,
    /// Journals (the audit trail, kept) and the demo's saved worlds.
    pub data_dir: PathBuf,
    /// Logs and run locks: disposable.
    pub state_dir: PathBuf,
}

impl Paths {
    pub fn discover() -> anyhow::Result<Self> {
        if let Some(root) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            return Ok(Self::under(Path::new(&root)));
        }
        let dirs = ProjectDirs::from("dev", "drconsole", "drconsole").ok_or_else(|| {
            anyhow::anyhow!("no home directory to keep drconsole's files in; set {HOME_ENV}")
        })?;
        let state_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.cache_dir())
            .to_path_buf();
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
            state_dir,
        })
    }

    pub fn under(root: &Path) -> Self {
        Self {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn user_themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    pub fn journal_dir(&self) -> PathBuf {
        self.data_dir.join("journal")
    }

    /// The demo's simulated worlds, one per environment, saved so that a
    /// restarted console resumes them.
    pub fn demo_worlds_dir(&self) -> PathBuf {
        self.data_dir.join("demo-worlds")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("log")
    }

    pub fn lock_dir(&self) -> PathBuf {
        self.state_dir.join("locks")
    }
}
