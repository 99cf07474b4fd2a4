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

/// Creates `dir` and its missing parents readable by the owner only, and
/// narrows `dir` itself to 0700 if it exists wider: journals, logs and
/// locks record what was done to an estate, and by whom.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = std::fs::metadata(dir)?;
        // A shared directory someone else owns (a --journal /tmp) is theirs
        // to keep as it is.
        // SAFETY: geteuid has no preconditions and cannot fail.
        let mine = meta.uid() == unsafe { libc::geteuid() };
        if mine && meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Makes every file and directory the process creates from now on private
/// to its owner, whatever the inherited umask: libraries that create files
/// for us (the log appender) take no mode.
pub fn keep_new_files_private() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_dirs_and_their_new_parents_are_0700() {
        let root = tempfile::tempdir().unwrap();
        let paths = Paths::under(root.path());
        create_private_dir(&paths.journal_dir()).unwrap();
        assert_eq!(mode(&paths.data_dir), 0o700);
        assert_eq!(mode(&paths.journal_dir()), 0o700);
    }

    #[test]
    fn an_existing_wider_dir_is_narrowed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("log");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }
}
