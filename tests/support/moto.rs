//! A moto server for the AWS integration tests.
//!
//! With `MOTO_ENDPOINT` set, tests use that server. Otherwise the first test
//! that asks installs moto through `.ci/moto.sh` (a venv under the target
//! directory) and starts `moto_server` on 127.0.0.1 on a free port, with
//! request recording on. The server runs under a small shell that kills it
//! when this test binary's end of a pipe closes, i.e. when the binary exits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::config::Credentials;
use base64::Engine;
use drconsole::provider::aws::sdk_config;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const START_ATTEMPTS: usize = 3;

pub struct Moto {
    pub endpoint: String,
    /// Kept open for the life of the process; its closing stops the server.
    _lifeline: Option<Mutex<ChildStdin>>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The shared server, started on first use.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| match std::env::var("MOTO_ENDPOINT") {
        Ok(endpoint) => Moto {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            _lifeline: None,
        },
        Err(_) => start_local(),
    })
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn install() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join("moto-venv"))
        .unwrap_or_else(|| repo_root().join("target/moto-venv"));
    let out = Command::new("bash")
        .arg(repo_root().join(".ci/moto.sh"))
        .env("MOTO_VENV", &venv)
        .stderr(Stdio::inherit())
        .output()
        .expect("run .ci/moto.sh");
    assert!(out.status.success(), ".ci/moto.sh failed: {:?}", out.status);
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port on 127.0.0.1")
}

// The server's shell outlives every test by design and ends with the process.
#[allow(clippy::zombie_processes)]
fn start_local() -> Moto {
    let server = install();
    let recording = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("moto-recording-{}.jsonl", std::process::id()));
    for _ in 0..START_ATTEMPTS {
        let port = free_port();
        // `cat` returns when our end of its stdin closes (this process
        // exited, however it ended); then the server is killed.
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(r#""$0" -H 127.0.0.1 -p "$1" </dev/null >/dev/null 2>&1 & srv=$!; cat >/dev/null; kill "$srv""#)
            .arg(&server)
            .arg(port.to_string())
            .env("MOTO_ENABLE_RECORDING", "true")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let lifeline = child.stdin.take().expect("piped stdin");
        let endpoint = format!("http://127.0.0.1:{port}");
        if wait_until_answering(port) {
            return Moto {
                endpoint,
                _lifeline: Some(Mutex::new(lifeline)),
            };
        }
        drop(lifeline);
        let _ = child.wait();
    }
    panic!("moto_server did not answer on 127.0.0.1 after {START_ATTEMPTS} attempts");
}

fn wait_until_answering(port: u16) -> bool {
    let deadline = Instant::now() + START_TIMEOUT;
    while Instant::now() < deadline {
        if http_get(port, "/moto-api/data.json").is_some_and(|r| r.starts_with("HTTP/1")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// One request moto recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub access_key: Option<String>,
    pub body: String,
}

impl Recorded {
    /// `Action=...` of query-protocol calls (RDS), else `METHOD path`.
    pub fn operation(&self) -> String {
        self.body
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(str::to_string)
            .unwrap_or_else(|| format!("{} {}", self.method, self.url))
    }

    /// Reads only: RDS `Describe*`/`List*`, Route 53 and CloudWatch GETs and gets.
    pub fn is_read(&self) -> bool {
        let op = self.operation();
        if self.body.contains("Action=") {
            return op.starts_with("Describe") || op.starts_with("List");
        }
        self.method == "GET" || self.url.contains("GetMetricData")
    }
}

/// An HTTP client for the local server: no system proxy in the way.
fn local_http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("HTTP client")
}

impl Moto {
    /// SDK configuration pointing at this server, signed with `access_key`
    /// so the recording can tell this test's requests apart.
    pub async fn sdk_config(&self, access_key: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(access_key, "secret", None, None, "moto"))
            .region(Region::new("us-east-1"))
            .retry_config(sdk_config::retry_config())
            .timeout_config(sdk_config::timeout_config())
            .load()
            .await
    }

    pub async fn start_recording(&self) {
        local_http()
            .post(format!(
                "{}/moto-api/recorder/start-recording",
                self.endpoint
            ))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("start moto recording");
    }

    /// Every recorded request signed with `access_key`.
    pub async fn recorded(&self, access_key: &str) -> Vec<Recorded> {
        let text = local_http()
            .get(format!(
                "{}/moto-api/recorder/download-recording",
                self.endpoint
            ))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .expect("download moto recording")
            .text()
            .await
            .expect("recording body");
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .map(|entry| {
                let auth = entry["headers"]["Authorization"].as_str().unwrap_or("");
                let body = entry["body"].as_str().unwrap_or("");
                let body = match entry["body_encoded"].as_bool() {
                    Some(true) => base64::engine::general_purpose::STANDARD
                        .decode(body)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default(),
                    _ => body.to_string(),
                };
                Recorded {
                    method: entry["method"].as_str().unwrap_or("").to_string(),
                    url: entry["url"].as_str().unwrap_or("").to_string(),
                    access_key: auth
                        .split("Credential=")
                        .nth(1)
                        .and_then(|c| c.split('/').next())
                        .map(str::to_string),
                    body,
                }
            })
            .filter(|r| r.access_key.as_deref() == Some(access_key))
            .collect()
    }
}
