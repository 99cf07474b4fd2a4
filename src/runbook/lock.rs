//! One run per service: a lock file in the state directory saying who holds it.
//!
//! The file is created with `create_new`, so two consoles cannot both take a
//! free lock. A lock whose process is gone (same host, dead pid) is stale
//! and is taken over; a lock from another host is never assumed dead.
//!
//! The lock is per service, and it covers everything a run acts on because
//! a run acts only on its own service: `check` and the engine both refuse an
//! action whose targets are not the service's (see [`super::ownership`]).
//! Lock files are mode 0600 in a 0700 directory, like the journal.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub started: DateTime<Utc>,
    /// The journal of the run that holds the lock.
    pub journal: Option<PathBuf>,
}

impl Holder {
    pub fn me(journal: Option<PathBuf>) -> Holder {
        Holder {
            pid: std::process::id(),
            host: hostname(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".into()),
            started: Utc::now(),
            journal,
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{} (pid {}) since {}",
            self.user,
            self.host,
            self.pid,
            self.started.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
        if let Some(journal) = &self.journal {
            write!(f, ", journal {}", journal.display())?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("a runbook is already running on `{service}`: held by {holder}")]
    Held { service: String, holder: Holder },
    #[error("lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held while a run is in progress; released on drop.
#[derive(Debug)]
pub struct ServiceLock {
    path: PathBuf,
    holder: Holder,
}

impl ServiceLock {
    pub fn acquire(dir: &Path, service: &str, me: Holder) -> Result<ServiceLock, LockError> {
        let path = dir.join(format!("{service}.lock"));
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        crate::config::paths::create_private_dir(dir).map_err(io)?;
        // Written in full to a private file first, then linked into place:
        // linking fails if the lock exists, and a lock file is never seen
        // half-written.
        let text = serde_json::to_string(&me).map_err(|e| io(std::io::Error::other(e)))?;
        let draft = dir.join(format!(".{service}.lock.{}", std::process::id()));
        write_synced(&draft, text.as_bytes()).map_err(io)?;
        let linked = (|| {
            // Two rounds: the second follows the removal of a stale lock.
            for _ in 0..2 {
                match std::fs::hard_link(&draft, &path) {
                    Ok(()) => return Ok(true),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        match read_holder(&path) {
                            Some(holder) if !is_stale(&holder, &me.host) => {
                                return Err(LockError::Held {
                                    service: service.to_string(),
                                    holder,
                                });
                            }
                            // Stale, or unreadable: no live writer leaves a torn lock.
                            _ => take_over(&path).map_err(io)?,
                        }
                    }
                    Err(e) => return Err(io(e)),
                }
            }
            Ok(false)
        })();
        let _ = std::fs::remove_file(&draft);
        if linked? {
            return Ok(ServiceLock { path, holder: me });
        }
        match read_holder(&path) {
            Some(holder) => Err(LockError::Held {
                service: service.to_string(),
                holder,
            }),
            None => Err(io(std::io::Error::other("the lock keeps changing hands"))),
        }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ServiceLock {
    fn drop(&mut self) {
        // Only remove the file if it is still ours.
        if read_holder(&self.path)
            .is_some_and(|h| h.pid == self.holder.pid && h.host == self.holder.host)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Who holds the lock on a service, if anyone (stale holders included).
pub fn holder(dir: &Path, service: &str) -> Option<Holder> {
    read_holder(&dir.join(format!("{service}.lock")))
}

fn read_holder(path: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Moves the stale file aside before removing it, so that of two consoles
/// taking over at once, only one removes it and neither removes a fresh lock.
fn take_over(path: &Path) -> std::io::Result<()> {
    let aside = path.with_extension(format!("stale-{}", std::process::id()));
    match std::fs::rename(path, &aside) {
        Ok(()) => std::fs::remove_file(&aside),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

fn is_stale(holder: &Holder, my_host: &str) -> bool {
    holder.host == my_host && !process_alive(holder.pid)
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Without a way to probe, never steal a lock.
    true
}

#[cfg(unix)]
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // when the name fits, and we stop at the first NUL either way.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    if !ok {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(not(unix))]
fn hostname() -> String {
    std::env::var("COMPUTERNAME").unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder_with_pid(pid: u32) -> Holder {
        Holder {
            pid,
            ..Holder::me(None)
        }
    }

    #[test]
    fn a_second_run_is_told_who_holds_the_service() {
        let dir = tempfile::tempdir().unwrap();
        let first = ServiceLock::acquire(dir.path(), "orders", Holder::me(None)).unwrap();
        let err = ServiceLock::acquire(dir.path(), "orders", Holder::me(None)).unwrap_err();
        let LockError::Held { holder, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(holder.pid, std::process::id());
        let shown = err.to_string();
        assert!(
            shown.starts_with("a runbook is already running on `orders`: held by "),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("(pid {})", std::process::id())),
            "{shown}"
        );
        // Other services are independent.
        let other = ServiceLock::acquire(dir.path(), "billing", Holder::me(None));
        assert!(other.is_ok());
        drop(first);
        assert!(ServiceLock::acquire(dir.path(), "orders", Holder::me(None)).is_ok());
    }

    #[test]
    fn a_lock_of_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = ServiceLock::acquire(dir.path(), "orders", holder_with_pid(dead)).unwrap();
        // Leave the file behind as a crash would.
        std::mem::forget(stale);
        let lock = ServiceLock::acquire(dir.path(), "orders", Holder::me(None)).unwrap();
        assert_eq!(lock.holder().pid, std::process::id());
        assert_eq!(
            holder(dir.path(), "orders").unwrap().pid,
            std::process::id()
        );
    }

    #[test]
    fn a_lock_from_another_host_is_never_assumed_dead() {
        let dir = tempfile::tempdir().unwrap();
        let remote = Holder {
            host: "other-host".into(),
            pid: u32::MAX,
            ..Holder::me(None)
        };
        std::mem::forget(ServiceLock::acquire(dir.path(), "orders", remote).unwrap());
        assert!(matches!(
            ServiceLock::acquire(dir.path(), "orders", Holder::me(None)),
            Err(LockError::Held { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn the_lock_and_its_directory_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let fresh = root.path().join("state/locks");
        let lock = ServiceLock::acquire(&fresh, "orders", Holder::me(None)).unwrap();
        assert_eq!(mode(lock.path()), 0o600);
        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(mode(&root.path().join("state")), 0o700);
        // A directory an earlier version left world-readable is narrowed.
        let old = root.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
        let lock = ServiceLock::acquire(&old, "orders", Holder::me(None)).unwrap();
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(lock.path()), 0o600);
    }

    #[test]
    fn a_torn_lock_file_counts_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orders.lock"), "{\"pid\": 12").unwrap();
        assert!(ServiceLock::acquire(dir.path(), "orders", Holder::me(None)).is_ok());
    }
}
