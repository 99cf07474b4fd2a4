//! Hostile files of every kind drconsole reads (environment, config, theme,
//! runbook), and things that are not files at all: none may panic, hang or
//! exhaust memory, and each error names the file and, for content, the line
//! and column.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use drconsole::runbook::format;
use drconsole::tui::theme;

const DEMO: &str = include_str!("../environments/demo.toml");

/// Runs the binary with a private home, killing it if it outlives `limit`
/// (reading a FIFO used to block forever).
fn drconsole(args: &[&str], home: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drconsole"))
        .args(args)
        .env("DRCONSOLE_HOME", home)
        .env_remove("AWS_PROFILE")
        .env_remove("DRCONSOLE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("drconsole starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("drconsole {args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `text` holds `path:LINE:COLUMN: ` with a non-zero line and column.
fn has_position(text: &str, path: &Path) -> bool {
    let prefix = format!("{}:", path.display());
    text.match_indices(&prefix).any(|(at, _)| {
        let rest = &text[at + prefix.len()..];
        let mut parts = rest.splitn(3, ':');
        let number = |p: Option<&str>| {
            p.and_then(|p| p.parse::<usize>().ok())
                .is_some_and(|n| n > 0)
        };
        number(parts.next())
            && number(parts.next())
            && parts.next().is_some_and(|r| r.starts_with(' '))
    })
}

/// Asserts `status` refuses the file with exit 2, no output, no panic, and
/// an error naming the file (with a position unless `whole_file`).
fn assert_refused(out: &Output, path: &Path, case: &str, whole_file: bool) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: {err}");
    assert!(
        out.stdout.is_empty(),
        "{case}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!err.contains("panicked"), "{case}: {err}");
    if whole_file {
        assert!(err.contains(&path.display().to_string()), "{case}: {err}");
    } else {
        assert!(has_position(&err, path), "{case}: {err}");
    }
}

/// Hostile variants of a valid file, as (case, bytes).
fn common_hostile_bytes() -> Vec<(&'static str, Vec<u8>)> {
    let mut cases: Vec<(&'static str, Vec<u8>)> = vec![
        ("invalid UTF-8", b"name = \"\xff\xfe\"\n".to_vec()),
        ("truncated UTF-8", b"name = \"caf\xc3".to_vec()),
        ("NUL bytes", b"name\0 = \"x\"\n".to_vec()),
        (
            "raw control character in a string",
            b"name = \"a\x07b\"\n".to_vec(),
        ),
        ("BOM then garbage", "\u{feff}[[[\n".as_bytes().to_vec()),
        ("unclosed table header", b"[sim\n".to_vec()),
        ("duplicate key", b"name = \"a\"\nname = \"b\"\n".to_vec()),
        ("duplicate table", b"[sim]\n[sim]\n".to_vec()),
        (
            "deeply nested arrays",
            format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "deeply nested inline tables",
            format!("x = {}1{}\n", "{a = ".repeat(50_000), "}".repeat(50_000)).into_bytes(),
        ),
        ("unterminated string", b"name = \"abc\n".to_vec()),
        (
            "integer overflow",
            b"seed = 99999999999999999999\n".to_vec(),
        ),
        (
            "10 MB of comments",
            b"# padding padding padding padding\n".repeat(300_000),
        ),
    ];
    let mut binary = Vec::with_capacity(65_536);
    let mut x: u32 = 0x2545_f491;
    for _ in 0..65_536 {
        // xorshift: reproducible noise without a dependency.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        binary.push(x as u8);
    }
    cases.push(("binary noise", binary));
    cases
}

/// Variants of the demo environment that parse as TOML but must be refused.
fn environment_variants() -> Vec<(&'static str, String)> {
    let replace = |from: &str, to: &str| {
        assert!(DEMO.contains(from), "{from}");
        DEMO.replacen(from, to, 1)
    };
    vec![
        ("name not a string", replace("name = \"demo\"", "name = 5")),
        (
            "regions not a list",
            replace(
                "regions = [\"us-east-1\", \"us-west-2\"]",
                "regions = \"us-east-1\"",
            ),
        ),
        (
            "no regions",
            replace("regions = [\"us-east-1\", \"us-west-2\"]", "regions = []"),
        ),
        (
            "region twice",
            replace(
                "regions = [\"us-east-1\", \"us-west-2\"]",
                "regions = [\"us-east-1\", \"us-west-2\", \"us-east-1\"]",
            ),
        ),
        ("region mars-1", replace("\"us-west-2\"]", "\"mars-1\"]")),
        (
            "region with a path",
            replace("\"us-west-2\"]", "\"evil.com/x?\"]"),
        ),
        ("empty region", replace("\"us-west-2\"]", "\"\"]")),
        ("rto a number", replace("rto = \"15m\"", "rto = 15")),
        ("rto negative", replace("rto = \"15m\"", "rto = \"-5m\"")),
        ("rto huge", replace("rto = \"15m\"", "rto = \"999999999d\"")),
        (
            "rto overflowing",
            replace("rto = \"15m\"", "rto = \"99999999999999999999999s\""),
        ),
        ("rpo empty", replace("rpo = \"5m\"", "rpo = \"\"")),
        (
            "tier a list",
            replace("tier = \"warm-standby\"", "tier = [\"warm-standby\"]"),
        ),
        (
            "unknown tier",
            replace("tier = \"warm-standby\"", "tier = \"lukewarm\""),
        ),
        (
            "unknown field in a service",
            replace(
                "tier = \"warm-standby\"",
                "colour = \"red\"\ntier = \"warm-standby\"",
            ),
        ),
        (
            "unknown replication kind",
            replace("kind = \"aurora-global\"", "kind = \"carrier-pigeon\""),
        ),
        (
            "replication field wrong type",
            replace("global_cluster = \"orders-global\"", "global_cluster = 7"),
        ),
        (
            "time_scale nan",
            replace("time_scale = 1.0", "time_scale = nan"),
        ),
        (
            "time_scale inf",
            replace("time_scale = 1.0", "time_scale = inf"),
        ),
        (
            "time_scale -inf",
            replace("time_scale = 1.0", "time_scale = -inf"),
        ),
        (
            "time_scale 1e300",
            replace("time_scale = 1.0", "time_scale = 1e300"),
        ),
        (
            "time_scale zero",
            replace("time_scale = 1.0", "time_scale = 0.0"),
        ),
        (
            "time_scale a string",
            replace("time_scale = 1.0", "time_scale = \"fast\""),
        ),
        ("seed negative", replace("seed = 42", "seed = -1")),
        ("seed a float", replace("seed = 42", "seed = 1.5")),
        (
            "service id 65,536 characters",
            replace(
                "id = \"orders\"",
                &format!("id = \"{}\"", "o".repeat(65_536)),
            ),
        ),
        (
            "service id a path",
            replace("id = \"orders\"", "id = \"../../etc/passwd\""),
        ),
        ("service id empty", replace("id = \"orders\"", "id = \"\"")),
        (
            "service id twice",
            replace("id = \"billing\"", "id = \"orders\""),
        ),
        (
            "service name with an escape sequence",
            replace("name = \"Orders API\"", "name = \"Orders\\u001b[2J API\""),
        ),
        (
            "service name with a NUL",
            replace("name = \"Orders API\"", "name = \"Orders\\u0000\""),
        ),
        (
            "service name empty",
            replace("name = \"Orders API\"", "name = \"\""),
        ),
        (
            "environment name 10,000 characters",
            replace(
                "name = \"demo\"",
                &format!("name = \"{}\"", "d".repeat(10_000)),
            ),
        ),
        (
            "cluster id 64 characters",
            replace("\"orders-global\"", &format!("\"{}\"", "g".repeat(64))),
        ),
        (
            "cluster id with spaces",
            replace("\"orders-global\"", "\"orders global\""),
        ),
        (
            "bucket name too short",
            replace("\"example-assets-us-east-1\"", "\"ab\""),
        ),
        (
            "bucket name uppercase",
            replace("\"example-assets-us-east-1\"", "\"Example-Assets\""),
        ),
        (
            "health check id 65 characters",
            replace(
                "id = \"hc-orders-use1\"",
                &format!("id = \"{}\"", "h".repeat(65)),
            ),
        ),
        (
            "health check threshold 0",
            replace("failure_threshold = 3", "failure_threshold = 0"),
        ),
        (
            "health check threshold negative",
            replace("failure_threshold = 3", "failure_threshold = -3"),
        ),
        (
            "health check threshold huge",
            replace("failure_threshold = 3", "failure_threshold = 4294967296"),
        ),
        (
            "fqdn with a space",
            replace(
                "fqdn = \"api.us-east-1.example.com\"",
                "fqdn = \"api example\"",
            ),
        ),
        (
            "fqdn 256 characters",
            replace(
                "fqdn = \"api.us-east-1.example.com\"",
                &format!("fqdn = \"{}\"", "a".repeat(256)),
            ),
        ),
        (
            "zone id empty",
            replace("zone_id = \"Z0DEMO00000001\"", "zone_id = \"\""),
        ),
        (
            "record empty",
            replace("record = \"api.example.com.\"", "record = \"\""),
        ),
        ("ttl zero", replace("ttl = 60", "ttl = 0")),
        ("ttl a string", replace("ttl = 60", "ttl = \"60\"")),
        ("ttl huge", replace("ttl = 60", "ttl = 99999999999")),
        (
            "dr region equals primary",
            replace("dr_region = \"us-west-2\"", "dr_region = \"us-east-1\""),
        ),
        (
            "dr region not listed",
            replace("dr_region = \"us-west-2\"", "dr_region = \"eu-west-1\""),
        ),
        (
            "sim table a string",
            replace(
                "[sim]\nseed = 42\n# Simulated seconds per real second.\ntime_scale = 1.0\n",
                "sim = \"fast\"\n",
            ),
        ),
        (
            "a hundred regions",
            replace(
                "regions = [\"us-east-1\", \"us-west-2\"]",
                &format!(
                    "regions = [\"us-east-1\", \"us-west-2\", {}]",
                    (0..98)
                        .map(|n| format!("\"eu-west-{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        ),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn hostile_environment_files_are_refused_with_a_position() {
    let home = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = common_hostile_bytes();
    cases.extend(
        environment_variants()
            .into_iter()
            .map(|(c, t)| (c, t.into_bytes())),
    );
    for (n, (case, bytes)) in cases.iter().enumerate() {
        let path = write(home.path(), &format!("env-{n}.toml"), bytes);
        let out = drconsole(&["status", "--env", path.to_str().unwrap()], home.path());
        assert_refused(&out, &path, case, false);
    }
}

#[test]
fn a_byte_order_mark_before_a_valid_file_is_accepted() {
    let home = tempfile::tempdir().unwrap();
    let path = write(
        home.path(),
        "env.toml",
        format!("\u{feff}{DEMO}").as_bytes(),
    );
    let out = drconsole(&["status", "--env", path.to_str().unwrap()], home.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn hostile_config_files_are_refused_with_a_position() {
    let home = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = common_hostile_bytes();
    let variants: [(&str, &str); 14] = [
        ("AWS poll of zero", "aws_poll_interval = \"0s\"\n"),
        ("AWS poll below the floor", "aws_poll_interval = \"1s\"\n"),
        (
            "AWS poll above the ceiling",
            "aws_poll_interval = \"30days\"\n",
        ),
        (
            "demo poll below the floor",
            "demo_poll_interval = \"1ms\"\n",
        ),
        ("poll negative", "demo_poll_interval = \"-1s\"\n"),
        ("poll a number", "demo_poll_interval = 5\n"),
        (
            "poll overflowing",
            "demo_poll_interval = \"99999999999999999999999s\"\n",
        ),
        ("theme a number", "theme = 5\n"),
        (
            "theme with an escape",
            "theme = \"dark\\u001b]2;pwned\\u0007\"\n",
        ),
        ("environment a table", "environment = { path = \"x\" }\n"),
        ("unknown key", "theme = \"dark\"\ncolour = \"red\"\n"),
        ("region mars", "[aws]\nregion = \"mars-1\"\n"),
        ("profile empty", "[aws]\nprofile = \"\"\n"),
        ("aws a string", "aws = \"yes\"\n"),
    ];
    cases.extend(variants.iter().map(|(c, t)| (*c, t.as_bytes().to_vec())));
    for (n, (case, bytes)) in cases.iter().enumerate() {
        let path = write(home.path(), &format!("config-{n}.toml"), bytes);
        let out = drconsole(&["--config", path.to_str().unwrap(), "status"], home.path());
        assert_refused(&out, &path, case, false);
    }
}

#[test]
fn hostile_theme_files_are_refused_with_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = common_hostile_bytes();
    let variants: [(&str, &str); 10] = [
        ("index 256", "[ok]\nfg = 256\n"),
        ("index negative", "[ok]\nfg = -1\n"),
        ("index huge", "[ok]\nfg = 99999999999999999999\n"),
        ("colour a float", "[ok]\nfg = 1.5\n"),
        ("colour nan", "[ok]\nfg = nan\n"),
        ("colour empty", "[ok]\nfg = \"\"\n"),
        ("colour with an escape", "[ok]\nfg = \"\\u001b[31m\"\n"),
        ("unknown role", "[okay]\nfg = \"red\"\n"),
        ("unknown modifier", "[ok]\nmodifiers = [\"blink\"]\n"),
        ("role not a table", "ok = \"red\"\n"),
    ];
    cases.extend(variants.iter().map(|(c, t)| (*c, t.as_bytes().to_vec())));
    for (n, (case, bytes)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("theme-{n}.toml"), bytes);
        let err = theme::load(path.to_str().unwrap(), None)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(has_position(&err, &path), "{case}: {err}");
    }
}

#[test]
fn a_region_on_the_command_line_must_be_an_aws_region_name() {
    let home = tempfile::tempdir().unwrap();
    for region in ["evil.com/x?", "mars-1", "us-east-1\n", ""] {
        let out = drconsole(&["--aws", "--region", region, "status"], home.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{region:?}: {err}");
        assert!(err.contains("not an AWS region name"), "{region:?}: {err}");
    }
}

#[test]
fn a_partial_theme_with_an_ansi_index_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mine.toml", b"[ok]\nfg = 5\n");
    let mine = theme::load(path.to_str().unwrap(), None).unwrap();
    let dark = theme::Theme::default();
    assert_eq!(mine.style.ok.fg, Some(ratatui::style::Color::Indexed(5)));
    assert_eq!(mine.style.breach, dark.style.breach);
}

#[test]
fn runbook_files_go_through_the_same_reader() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>); 3] = [
        ("invalid UTF-8", b"name: \"\xff\"\n".to_vec()),
        ("binary", vec![0xc0; 4096]),
        ("10 MB", b"# padding padding padding\n".repeat(400_000)),
    ];
    for (n, (case, bytes)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("rb-{n}.yaml"), bytes);
        let shown = match format::load(&path) {
            Ok(_) => panic!("{case}: loaded"),
            Err(diagnostics) => diagnostics[0].to_string(),
        };
        assert!(has_position(&shown, &path), "{case}: {shown}");
    }
    let shown = match format::load(Path::new("/dev/zero")) {
        Ok(_) => panic!("/dev/zero loaded"),
        Err(diagnostics) => diagnostics[0].to_string(),
    };
    assert!(
        shown.contains("a character device is not a regular file"),
        "{shown}"
    );
}

#[cfg(unix)]
mod not_files {
    use std::ffi::CString;
    use std::sync::mpsc;

    use drconsole::runbook::library;

    use super::*;

    fn mkfifo(path: &Path) {
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn a_fifo_as_config_or_environment_is_refused_at_once() {
        let home = tempfile::tempdir().unwrap();
        let fifo = home.path().join("pipe.toml");
        mkfifo(&fifo);
        let fifo_arg = fifo.to_str().unwrap();
        for args in [
            vec!["--config", fifo_arg, "status"],
            vec!["status", "--env", fifo_arg],
        ] {
            let out = drconsole(&args, home.path());
            assert_refused(&out, &fifo, "fifo", true);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("a named pipe (FIFO) is not a regular file"),
                "{err}"
            );
        }
    }

    #[test]
    fn links_devices_and_directories_are_named_for_what_they_are() {
        let home = tempfile::tempdir().unwrap();
        let (a, b) = (home.path().join("a.toml"), home.path().join("b.toml"));
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let dangling = home.path().join("dangling.toml");
        std::os::unix::fs::symlink(home.path().join("gone.toml"), &dangling).unwrap();
        let cases = [
            (a.clone(), "symbolic link loop"),
            (dangling.clone(), "dangling symbolic link"),
            (
                PathBuf::from("/dev/zero"),
                "a character device is not a regular file",
            ),
            (
                home.path().to_path_buf(),
                "a directory is not a regular file",
            ),
            (home.path().join("none.toml"), "cannot read: no such file"),
        ];
        for (path, expected) in cases {
            let arg = path.to_str().unwrap();
            for args in [
                vec!["--config", arg, "status"],
                vec!["status", "--env", arg],
            ] {
                let out = drconsole(&args, home.path());
                assert_refused(&out, &path, expected, true);
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains(expected), "{args:?}: {err}");
            }
        }
    }

    #[test]
    fn a_fifo_among_runbooks_is_reported_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        mkfifo(&dir.path().join("stuck.yaml"));
        let path = dir.path().to_path_buf();
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || done.send(library::load_dir(&path)).unwrap());
        let (runbooks, problems) = result
            .recv_timeout(Duration::from_secs(10))
            .expect("loading a directory holding a FIFO returns");
        assert!(runbooks.is_empty());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("stuck.yaml:1:1: error: cannot read: a named pipe (FIFO)"),
            "{problems:?}"
        );
    }

    #[test]
    fn logs_and_their_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let out = drconsole(&["status"], home.path());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let state = home.path().join("state");
        let log_dir = state.join("log");
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&log_dir), 0o700);
        let logs: Vec<PathBuf> = std::fs::read_dir(&log_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!logs.is_empty());
        for log in logs {
            assert_eq!(mode(&log), 0o600, "{}", log.display());
        }
    }
}
