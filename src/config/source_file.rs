//! Reading user-written files (environments, themes, config, runbooks) with
//! errors that name the file, line and column and say what was expected.
//!
//! Every user-supplied file goes through [`read_text`]: only regular files
//! (after following symbolic links), at most [`MAX_INPUT_BYTES`], valid
//! UTF-8. A FIFO would block the open forever and `/dev/zero` would be read
//! until memory runs out, so neither is ever read.

use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Larger than any real environment, theme, config or runbook by far.
pub const MAX_INPUT_BYTES: u64 = 4 * 1024 * 1024;

const BOM: char = '\u{feff}';

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The file could not be read at all; no position applies.
    #[error("{path}: cannot read: {message}")]
    Io { path: PathBuf, message: String },
    /// The content is wrong at a place: a syntax error, a wrong type, a
    /// value the checks after parsing refused, or where the file grows past
    /// the size limit.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl FileError {
    /// Where the error is, `(1, 1)` when it is about the whole file.
    pub fn line_column(&self) -> (usize, usize) {
        match self {
            FileError::Io { .. } => (1, 1),
            FileError::Syntax { line, column, .. } => (*line, *column),
        }
    }

    /// What is wrong, without the file name and position.
    pub fn reason(&self) -> String {
        match self {
            FileError::Io { message, .. } => format!("cannot read: {message}"),
            FileError::Syntax { message, .. } => message.clone(),
        }
    }
}

/// Reads a user-supplied text file, refusing anything but a regular file of
/// at most [`MAX_INPUT_BYTES`] of UTF-8. A leading byte-order mark is dropped.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    let io = |message: String| FileError::Io {
        path: path.to_path_buf(),
        message,
    };
    // Checked before opening: opening a FIFO for reading blocks until a
    // writer appears.
    let meta = std::fs::metadata(path).map_err(|e| io(describe_open_error(path, &e)))?;
    check_regular(&meta).map_err(io)?;
    let file = open_without_blocking(path).map_err(|e| io(describe_open_error(path, &e)))?;
    // The path may have been swapped for something else since the check.
    let meta = file.metadata().map_err(|e| io(e.to_string()))?;
    check_regular(&meta).map_err(io)?;
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_INPUT_BYTES) as usize);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io(e.to_string()))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        // Pointing at where the limit is crossed shows what made it so big.
        let within = String::from_utf8_lossy(&bytes[..MAX_INPUT_BYTES as usize]);
        let (line, column) = line_column(&within, within.len());
        return Err(FileError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: too_large(meta.len().max(bytes.len() as u64)),
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // Everything before the bad byte is valid UTF-8 by definition.
        let before = String::from_utf8_lossy(valid);
        let (line, column) = line_column(&before, before.len());
        FileError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: "not UTF-8 text: expected a text file saved as UTF-8".into(),
        }
    })?;
    Ok(match text.strip_prefix(BOM) {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

fn too_large(len: u64) -> String {
    format!(
        "the file goes on past here: it is {:.1} MiB, and input files are limited to {} MiB",
        len as f64 / (1024.0 * 1024.0),
        MAX_INPUT_BYTES / (1024 * 1024)
    )
}

fn check_regular(meta: &Metadata) -> Result<(), String> {
    if meta.is_file() {
        return Ok(());
    }
    Err(format!(
        "{} is not a regular file; expected a text file",
        file_kind(meta)
    ))
}

fn file_kind(meta: &Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    "this"
}

/// Says why a path cannot be opened, telling a dangling link and a link
/// loop apart from a file that is simply not there.
fn describe_open_error(path: &Path, err: &std::io::Error) -> String {
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::ELOOP) {
        return "symbolic link loop (too many levels of symbolic links)".into();
    }
    if err.kind() == ErrorKind::NotFound {
        if let Ok(target) = std::fs::read_link(path) {
            return format!(
                "dangling symbolic link: its target {} does not exist",
                target.display()
            );
        }
        return "no such file".into();
    }
    err.to_string()
}

fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // No effect on regular files; makes opening a FIFO return at once.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

pub fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = read_text(path)?;
    parse_toml(path, &text)
}

pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    toml::from_str(text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|span| line_column(text, span.start))
            .unwrap_or((1, 1));
        FileError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

/// One step of the way to a value in a TOML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Key(&'static str),
    Index(usize),
}

/// A value the checks after parsing refused, and where it sits in the
/// document, so the error can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: Vec<Step>,
    pub message: String,
}

impl Refusal {
    pub fn new(at: Vec<Step>, message: impl Into<String>) -> Self {
        Self {
            at,
            message: message.into(),
        }
    }

    /// The error for `path`, positioned at the refused value in `text`.
    pub fn in_file(self, path: &Path, text: &str) -> FileError {
        let (line, column) = locate(text, &self.at);
        FileError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: self.message,
        }
    }
}

/// Line and column of the value at `at` in a TOML document; of the deepest
/// part of the way that exists when the value itself is not written (a
/// default), and 1:1 if the text does not parse.
pub fn locate(text: &str, at: &[Step]) -> (usize, usize) {
    let Ok(document) = toml::de::DeTable::parse(text) else {
        return (1, 1);
    };
    let root = document.get_ref();
    let mut span = None;
    let mut here: Option<&toml::de::DeValue<'_>> = None;
    for step in at {
        let next = match (step, here) {
            (Step::Key(key), None) => root.get(*key),
            (Step::Key(key), Some(value)) => value.get(*key),
            (Step::Index(i), Some(value)) => value.get(*i),
            (Step::Index(_), None) => None,
        };
        let Some(next) = next else { break };
        span = Some(next.span());
        here = Some(next.get_ref());
    }
    span.map_or((1, 1), |s| line_column(text, s.start))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
    }

    #[test]
    fn a_wrong_type_names_line_and_column() {
        let text = "name = \"x\"\ncount = \"three\"\n";
        let err = parse_toml::<Sample>(Path::new("env.toml"), text).unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("env.toml:2:9: "), "{shown}");
        assert!(shown.contains("expected u32"), "{shown}");
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        assert_eq!(line_column("é\nab", 4), (2, 2));
        assert_eq!(line_column("abc", 0), (1, 1));
    }

    #[test]
    fn locate_finds_values_in_arrays_of_tables() {
        let text = "a = 1\n[[s]]\nx = 1\n[[s]]\nx = 1\ny = [\"p\", \"q\"]\n";
        let at = |steps: &[Step]| locate(text, steps);
        assert_eq!(at(&[Step::Key("a")]), (1, 5));
        assert_eq!(
            at(&[
                Step::Key("s"),
                Step::Index(1),
                Step::Key("y"),
                Step::Index(1)
            ]),
            (6, 11)
        );
        assert_eq!(
            at(&[Step::Key("s"), Step::Index(1), Step::Key("x")]),
            (5, 5)
        );
        // A default that is not written points at its table.
        let (line, _) = at(&[Step::Key("s"), Step::Index(1), Step::Key("z")]);
        assert!((4..=5).contains(&line), "{line}");
        assert_eq!(at(&[Step::Key("missing")]), (1, 1));
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn io_message(path: &Path) -> String {
        match read_text(path).unwrap_err() {
            FileError::Io { message, path: p } => {
                assert_eq!(p, path);
                message
            }
            other => panic!("expected an I/O error, got {other}"),
        }
    }

    #[test]
    fn a_regular_file_is_read_without_its_byte_order_mark() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.toml", "\u{feff}a = 1\n".as_bytes());
        assert_eq!(read_text(&path).unwrap(), "a = 1\n");
    }

    #[test]
    fn invalid_utf8_names_line_and_column_of_the_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.toml", b"a = 1\nb = \"\xff\"\n");
        let shown = read_text(&path).unwrap_err().to_string();
        assert!(
            shown.ends_with("a.toml:2:6: not UTF-8 text: expected a text file saved as UTF-8"),
            "{shown}"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "big.toml",
            &b"# x\n".repeat(10 * 1024 * 1024 / 4),
        );
        let shown = read_text(&path).unwrap_err().to_string();
        assert!(
            shown.ends_with("big.toml:1048577:1: the file goes on past here: it is 10.0 MiB, and input files are limited to 4 MiB"),
            "{shown}"
        );
        let at_limit = write(dir.path(), "ok.toml", &vec![b'#'; MAX_INPUT_BYTES as usize]);
        assert_eq!(read_text(&at_limit).unwrap().len() as u64, MAX_INPUT_BYTES);
    }

    #[test]
    fn a_directory_and_a_device_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(io_message(dir.path()).contains("a directory is not a regular file"));
        #[cfg(unix)]
        assert!(io_message(Path::new("/dev/zero")).contains("a character device"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe.toml");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        assert!(io_message(&path).contains("named pipe (FIFO)"));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_loops_and_dangling_links_named() {
        let dir = tempfile::tempdir().unwrap();
        let target = write(dir.path(), "real.toml", b"a = 1\n");
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_text(&link).unwrap(), "a = 1\n");

        let dangling = dir.path().join("dangling.toml");
        std::os::unix::fs::symlink(dir.path().join("gone.toml"), &dangling).unwrap();
        assert!(io_message(&dangling).starts_with("dangling symbolic link"));

        let (a, b) = (dir.path().join("a.toml"), dir.path().join("b.toml"));
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        assert!(io_message(&a).contains("symbolic link loop"));

        assert_eq!(io_message(&dir.path().join("none.toml")), "no such file");
    }
}
