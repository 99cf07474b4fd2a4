//! The saved world on disk: opening it when a demo session starts, and the
//! background task that keeps it current.
//!
//! Each environment's world has its own file, named after it; the file
//! holds the environment's fingerprint too, so an edited environment is not
//! handed a world built from its old self. A demo session resumes the world
//! saved for its environment (`--fresh-demo` starts over), so a console killed mid-run comes back to
//! the world its journal describes. With no saved world the world is new
//! and calm, as a newcomer's first start shows it. A file that cannot be
//! used is moved aside, named in a notice, and a fresh world takes its place.
//! The simulated clock continues from the moment of the last save: the
//! world pauses while no console runs it, so a resumed wait finds the
//! operation it waits for exactly as far along as it was.
//!
//! Saves happen on a background task, never on the UI loop: at once after
//! an action or fault changes the world, and every few seconds for the
//! clock. Each save is atomic (temporary file, fsync, rename) and private
//! to the user (mode 0600), so a `kill -9` at any moment leaves either the
//! previous save or the new one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::world::SimWorld;
use crate::domain::environment::Environment;

/// How often a small world is saved when nothing but its clock changes.
const SAVE_EVERY: Duration = Duration::from_secs(2);
/// A periodic save waits at least this many times as long as the last one
/// took, so that saving a large world costs at most a fifth of a per cent
/// of a core: a world of 5,000 services takes about 100 ms to write, and
/// saving it every 2 s was a third of an idle console's work. A crash then
/// loses the last seconds of simulated drift (under a minute at 5,000
/// services), never an action or a fault: those are saved as they happen.
const SAVE_COST_RATIO: u32 = 500;

/// Where the world of `env` is saved in `dir`: a file named after the
/// environment, so demo sessions on other environments leave it alone.
pub fn saved_world_file(dir: &Path, env: &Environment) -> PathBuf {
    let name: String = env
        .name
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = if name.is_empty() {
        "unnamed".into()
    } else {
        name
    };
    dir.join(format!("{name}.json"))
}

/// Opens the demo's world for `env`: the one saved at `path` unless
/// `fresh`, else a new one. The notice, when there is one, tells the
/// operator which it is and why. A `read_only` session leaves an unusable
/// file where it is, as it writes nothing.
pub fn open_world(
    env: &Environment,
    path: &Path,
    fresh: bool,
    read_only: bool,
) -> (SimWorld, Option<String>) {
    if fresh {
        return (SimWorld::live(env), None);
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (SimWorld::live(env), None),
        Err(e) => {
            let notice = format!(
                "{}: cannot read the saved simulated world ({e}); started a fresh one",
                path.display()
            );
            tracing::warn!("{notice}");
            return (SimWorld::live(env), Some(notice));
        }
    };
    match SimWorld::resume_live(env, &text) {
        Ok(world) => {
            let notice = format!(
                "resumed the simulated world saved {}; --fresh-demo starts anew",
                saved_when(&text, Utc::now())
            );
            (world, Some(notice))
        }
        Err(e) => {
            let kept = if read_only {
                "left in place".to_string()
            } else {
                match set_aside(path) {
                    Ok(p) => format!("kept as {}", p.display()),
                    Err(err) => format!("could not move it aside: {err}"),
                }
            };
            let notice = format!(
                "{}: {e}; started a fresh simulated world ({kept})",
                path.display()
            );
            tracing::warn!("{notice}");
            (SimWorld::live(env), Some(notice))
        }
    }
}

/// "at 14:02:11 UTC", with the date when that was not today, from the
/// file's own record: short enough for an 80-column bottom line.
fn saved_when(text: &str, now: DateTime<Utc>) -> String {
    #[derive(serde::Deserialize)]
    struct When {
        saved_at: DateTime<Utc>,
    }
    let Ok(When { saved_at }) = serde_json::from_str::<When>(text) else {
        return "earlier".to_string();
    };
    let format = if saved_at.date_naive() == now.date_naive() {
        "at %H:%M:%S UTC"
    } else {
        "on %Y-%m-%d at %H:%M UTC"
    };
    saved_at.format(format).to_string()
}

/// Renames an unusable file to `<name>.unusable` so the next save does not
/// destroy what someone may want to look at.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".unusable");
    let aside = path.with_file_name(name);
    std::fs::rename(path, &aside)?;
    Ok(aside)
}

/// The task saving a world to its file; [`WorldSaver::finish`] saves one
/// last time and stops it.
pub struct WorldSaver {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl WorldSaver {
    /// Starts saving `world` to `path`: now, after every change, and every
    /// [`SAVE_EVERY`]. Must be called within a tokio runtime.
    pub fn spawn(world: Arc<SimWorld>, path: PathBuf) -> Self {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut last_error = None;
            loop {
                let started = std::time::Instant::now();
                save(&world, &path, &mut last_error).await;
                tokio::select! {
                    _ = world.changed() => {}
                    _ = tokio::time::sleep(next_periodic_save(started.elapsed())) => {}
                    _ = &mut stopped => break,
                }
            }
            save(&world, &path, &mut last_error).await;
        });
        Self { stop, task }
    }

    /// Saves the world as it is now and stops saving.
    pub async fn finish(self) {
        // A send error means the task is gone already; there is nothing to stop.
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!("the simulated world's saver stopped abnormally: {e}");
        }
    }
}

/// How long after a save that took `took` the clock alone calls for the
/// next one.
fn next_periodic_save(took: Duration) -> Duration {
    SAVE_EVERY.max(took.saturating_mul(SAVE_COST_RATIO))
}

/// The right to simulate, and save, the world in one file: held by the one
/// session that acts on it, for as long as it runs. A second acting session
/// on the same file would simulate a copy of its own and overwrite the
/// first's saves (an action journaled by one would vanish from the other),
/// so it is refused instead. The kernel releases the lock when the holder
/// exits, however it exits.
#[derive(Debug)]
pub struct WorldClaim {
    _file: std::fs::File,
}

impl WorldClaim {
    /// Claims the world saved at `path`; `None` while another process holds
    /// it.
    pub fn take(path: &Path) -> std::io::Result<Option<WorldClaim>> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::io::AsRawFd;

        if let Some(dir) = path.parent() {
            crate::config::paths::create_private_dir(dir)?;
        }
        let mut name = path.as_os_str().to_owned();
        name.push(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(PathBuf::from(name))?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked == 0 {
            return Ok(Some(WorldClaim { _file: file }));
        }
        match std::io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            e => Err(e),
        }
    }
}

/// One save, written on a blocking thread. A failure is logged once until
/// saving works again, not every few seconds.
async fn save(world: &Arc<SimWorld>, path: &Path, last_error: &mut Option<String>) {
    let outcome = match world.to_saved() {
        Ok(text) => {
            let target = path.to_path_buf();
            tokio::task::spawn_blocking(move || write_atomically(&target, text.as_bytes()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
        }
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(()) => *last_error = None,
        Err(e) => {
            if last_error.as_ref() != Some(&e) {
                tracing::warn!("{}: cannot save the simulated world: {e}", path.display());
            }
            *last_error = Some(e);
        }
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one, never a torn mix: a private temporary file beside it, flushed to
/// disk, renamed over it, the directory flushed too.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        // Best effort: the temporary file is ours and useless now.
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_session_at_a_time_may_simulate_a_saved_world() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-worlds").join("demo.json");
        let first = WorldClaim::take(&path).unwrap();
        assert!(first.is_some());
        assert!(
            WorldClaim::take(&path).unwrap().is_none(),
            "a second claim is refused while the first is held"
        );
        drop(first);
        assert!(
            WorldClaim::take(&path).unwrap().is_some(),
            "released with its holder"
        );
    }
    use crate::config::environment_file::demo_environment;
    use crate::provider::fault::Fault;

    fn outage() -> Fault {
        Fault::RegionOutage {
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn a_save_replaces_the_file_whole_and_keeps_it_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("demo-world.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("demo-world.json")]);
    }

    #[test]
    fn each_environment_has_its_own_file_whatever_its_name() {
        let dir = Path::new("/data/demo-worlds");
        let mut env = demo_environment();
        assert_eq!(saved_world_file(dir, &env), dir.join("demo.json"));
        env.name = "../../etc/passwd".into();
        assert_eq!(
            saved_world_file(dir, &env),
            dir.join("______etc_passwd.json")
        );
        env.name = String::new();
        assert_eq!(saved_world_file(dir, &env), dir.join("unnamed.json"));
    }

    #[test]
    fn the_notice_gives_the_date_only_for_an_older_save() {
        let text = r#"{"saved_at":"2026-03-02T14:02:11Z"}"#;
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(
            saved_when(text, at("2026-03-02T18:00:00Z")),
            "at 14:02:11 UTC"
        );
        assert_eq!(
            saved_when(text, at("2026-03-05T09:00:00Z")),
            "on 2026-03-02 at 14:02 UTC"
        );
    }

    #[test]
    fn with_no_saved_world_the_demo_starts_calm_and_says_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (world, notice) = open_world(
            &demo_environment(),
            &dir.path().join("w.json"),
            false,
            false,
        );
        assert_eq!(notice, None);
        assert!(world.active_faults().is_empty());
    }

    #[test]
    fn a_saved_world_is_resumed_unless_a_fresh_one_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let env = demo_environment();
        let before = SimWorld::live(&env);
        before.inject(outage()).unwrap();
        write_atomically(&path, before.to_saved().unwrap().as_bytes()).unwrap();

        let (world, notice) = open_world(&env, &path, false, false);
        assert_eq!(world.active_faults(), vec![outage()]);
        let notice = notice.unwrap();
        assert!(
            notice.contains("resumed") && notice.contains("--fresh-demo"),
            "{notice}"
        );

        let (world, notice) = open_world(&env, &path, true, false);
        assert!(world.active_faults().is_empty());
        assert_eq!(notice, None);
    }

    #[test]
    fn an_unusable_saved_world_is_set_aside_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        std::fs::write(&path, "{ not json").unwrap();

        let (world, notice) = open_world(&demo_environment(), &path, false, true);
        assert!(world.active_faults().is_empty());
        let notice = notice.unwrap();
        assert!(
            notice.contains("w.json") && notice.contains("left in place"),
            "{notice}"
        );
        assert!(path.exists(), "a read-only session moves nothing");

        let (_, notice) = open_world(&demo_environment(), &path, false, false);
        let notice = notice.unwrap();
        assert!(notice.contains("line 1 column"), "{notice}");
        assert!(notice.contains("w.json.unusable"), "{notice}");
        assert!(!path.exists());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("w.json.unusable")).unwrap(),
            "{ not json"
        );
    }

    #[test]
    fn a_world_that_is_slow_to_save_is_saved_less_often_by_the_clock() {
        assert_eq!(next_periodic_save(Duration::from_millis(1)), SAVE_EVERY);
        assert_eq!(
            next_periodic_save(Duration::from_millis(100)),
            Duration::from_secs(50)
        );
    }

    #[tokio::test]
    async fn the_saver_writes_a_change_at_once_and_the_last_state_on_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let env = demo_environment();
        let world = Arc::new(SimWorld::live(&env));
        let saver = WorldSaver::spawn(Arc::clone(&world), path.clone());

        world.inject(outage()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        loop {
            let saved = std::fs::read_to_string(&path).unwrap_or_default();
            if let Ok(copy) = SimWorld::resume(&env, &saved)
                && copy.active_faults() == vec![outage()]
            {
                break;
            }
            // Well under the periodic save: only the change can explain it.
            assert!(
                std::time::Instant::now() < deadline,
                "the change was not saved"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        world.clear(&outage()).unwrap();
        saver.finish().await;
        let copy = SimWorld::resume(&env, &std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(copy.active_faults().is_empty());
    }
}
