//! Shared by tests/peer.rs and tests/browser.rs (included with `#[path]`): temp dirs, child
//! processes that are killed on drop, servers that announce readiness with `.env` lines on
//! stdout, `$BROWSER` wrapper scripts, and running the built CLI under a watchdog.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The CLI under test: the crate's binary (SIPGATE_OAUTH_CLI overrides it, for trying the tests out).
pub fn cli_path() -> String {
    std::env::var("SIPGATE_OAUTH_CLI").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sipgate-oauth").to_string())
}

/// tests/peer, where the Node side lives.
pub fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("peer")
}

/// Fails the test early, with the fix, when .ci/peer-setup has not been run.
pub fn require_setup(need_chromium: bool) {
    let modules = peer_dir().join("node_modules");
    assert!(
        modules.join("oidc-provider").is_dir() && modules.join("playwright-core").is_dir(),
        "tests/peer/node_modules is missing: run .ci/peer-setup first"
    );
    if need_chromium {
        assert!(Path::new("/usr/bin/chromium").exists(), "/usr/bin/chromium is missing: run .ci/peer-setup first");
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        TempDir(tempfile::Builder::new().prefix(&format!("sipgate-oauth-{tag}-")).tempdir().unwrap())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// A child process that is killed (and reaped) when dropped, also when a test panics.
pub struct Guard {
    pub child: Child,
    pub name: &'static str,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server that printed its `.env` lines on stdout: the process, those lines, and its stderr log.
pub struct Announced {
    pub guard: Guard,
    /// Every stdout line up to and including the ready line.
    pub lines: Vec<String>,
    /// KEY=VALUE pairs among them (surrounding double quotes removed).
    pub vars: BTreeMap<String, String>,
    pub stderr_log: PathBuf,
}

impl Announced {
    pub fn var(&self, key: &str) -> &str {
        self.vars.get(key).unwrap_or_else(|| panic!("{} printed no {key}=: {:?}", self.guard.name, self.lines))
    }

    pub fn log(&self) -> String {
        fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }
}

pub fn parse_env_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
        return None;
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    Some((key.to_string(), value.to_string()))
}

/// Starts `cmd` with stdout piped and stderr into `stderr_log`, and waits (no sleeps; at most
/// `within`) until `ready` accepts the stdout lines seen so far. Stdout keeps being drained afterwards.
/// Starts `tests/peer/server.js` on a free port with `env` (PEER_* settings), its issued tokens logged to
/// `tokens.log` in `dir`, and waits for its ready line.
pub fn start_oidc_provider(dir: &TempDir, env: &[(&str, &str)]) -> Announced {
    let mut cmd = Command::new("node");
    cmd.envs(env.iter().copied())
        .arg(peer_dir().join("server.js"))
        .arg("0")
        .current_dir(peer_dir())
        .env("PEER_TOKEN_LOG", dir.path("tokens.log"));
    start_announcing("oidc-provider peer", cmd, dir.path("peer.log"), Duration::from_secs(30), |lines| {
        lines.last().is_some_and(|l| l.starts_with("# peer ready"))
    })
}

pub fn start_announcing(
    name: &'static str,
    mut cmd: Command,
    stderr_log: PathBuf,
    within: Duration,
    ready: impl Fn(&[String]) -> bool,
) -> Announced {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(fs::File::create(&stderr_log).unwrap());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let guard = Guard { child, name };
    let (tx, rx) = mpsc::channel::<String>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) => {
                    if tx.send(line).is_err() {
                        // Receiver gone: keep draining so the child never blocks on a full pipe.
                    }
                }
                Err(_) => break,
            }
        }
    });
    let deadline = Instant::now() + within;
    let mut lines = Vec::new();
    loop {
        if ready(&lines) {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => panic!(
                "{name} did not get ready within {within:?}; stdout so far: {lines:?}; stderr: {}",
                fs::read_to_string(&stderr_log).unwrap_or_default()
            ),
        }
    }
    let vars = lines.iter().filter_map(|l| parse_env_line(l)).collect();
    Announced { guard, lines, vars, stderr_log }
}

/// Writes an executable `$BROWSER` wrapper: runs `command_line "$1"`, logs into `<name>.log`,
/// and writes the exit status into `<name>.status` (the CLI does not wait for its browser).
pub fn browser_wrapper(dir: &TempDir, name: &str, command_line: &str) -> PathBuf {
    let script = dir.path(&format!("{name}.sh"));
    let log = dir.path(&format!("{name}.log"));
    let status = dir.path(&format!("{name}.status"));
    let body = format!(
        "#!/bin/sh\n# $BROWSER for sipgate-oauth's tests: the URL is the only argument.\n\
         {command_line} \"$1\" >>'{log}' 2>&1\necho $? >'{status}.tmp' && mv '{status}.tmp' '{status}'\n",
        log = log.display(),
        status = status.display()
    );
    fs::write(&script, body).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

/// The wrapper's exit status, waiting for it at most `within`; None if it never finished.
pub fn browser_status(dir: &TempDir, name: &str, within: Duration) -> Option<i32> {
    let status = dir.path(&format!("{name}.status"));
    let deadline = Instant::now() + within;
    loop {
        if let Ok(s) = fs::read_to_string(&status) {
            return s.trim().parse().ok();
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50)); // polling a file, not waiting for readiness blindly
    }
}

pub fn browser_log(dir: &TempDir, name: &str) -> String {
    fs::read_to_string(dir.path(&format!("{name}.log"))).unwrap_or_default()
}

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code(),
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// The config keys the CLI reads from its environment: removed so that only the env file counts.
pub const CONFIG_KEYS: [&str; 14] = [
    "AUTH_URL",
    "TOKEN_URL",
    "TEST_API_ENDPOINT",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "OAUTH_SCOPE",
    "REDIRECT_URI",
    "PORT",
    "API_BASE_URL",
    "REVOKE_URL",
    "LOGOUT_URL",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
];

/// The CLI command with a clean config environment, `BROWSER` set, and the token store in `store`.
pub fn cli(args: &[&str], browser: &Path, store: &Path) -> Command {
    let mut cmd = Command::new(cli_path());
    cmd.args(args).env("BROWSER", browser).env("SIPGATE_OAUTH_STORE", store).stdin(Stdio::null());
    for key in CONFIG_KEYS {
        cmd.env_remove(key);
    }
    cmd
}

/// Runs the command to completion, killing it after `limit` (a hung CLI fails the test, not CI).
pub fn run(cmd: Command, limit: Duration) -> Run {
    run_watching(cmd, limit, || None)
}

/// Like [`run`], but gives up early when the `$BROWSER` wrapper `name` in `dir` failed: the CLI would
/// only wait for its --timeout. Panics with the browser's log then.
pub fn run_with_browser(cmd: Command, limit: Duration, dir: &TempDir, name: &str) -> Run {
    let failed_at = std::cell::Cell::new(None::<Instant>);
    run_watching(cmd, limit, || {
        let code = fs::read_to_string(dir.path(&format!("{name}.status"))).ok()?.trim().parse::<i32>().ok()?;
        if code == 0 {
            return None;
        }
        let since = failed_at.get().unwrap_or_else(Instant::now);
        failed_at.set(Some(since));
        // A grace period: the CLI may still be answering what the browser got.
        (since.elapsed() > Duration::from_secs(5))
            .then(|| format!("the browser ({name}) exited {code}:\n{}", browser_log(dir, name)))
    })
}

fn run_watching(mut cmd: Command, limit: Duration, give_up: impl Fn() -> Option<String>) -> Run {
    let started = Instant::now();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run the CLI");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let (o, e) = (out_t.join().unwrap(), err_t.join().unwrap());
            panic!("the CLI did not finish within {limit:?}: {status}\n--- stdout ---\n{o}\n--- stderr ---\n{e}");
        }
        if let Some(reason) = give_up() {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let (o, e) = (out_t.join().unwrap(), err_t.join().unwrap());
            panic!("{reason}\n--- the CLI, killed: {status} ---\n--- stdout ---\n{o}\n--- stderr ---\n{e}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run { status, stdout: out_t.join().unwrap(), stderr: err_t.join().unwrap(), elapsed: started.elapsed() }
}

/// All JSON documents on stdout, in order (panics, with the output, on anything else).
pub fn json_documents(stdout: &str) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<serde_json::Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not a sequence of JSON documents ({e}):\n{stdout}"))
}

/// Writes KEY=VALUE lines (values double-quoted) into `path`.
pub fn write_env_file(path: &Path, vars: &[(&str, &str)]) {
    let text: String = vars.iter().map(|(k, v)| format!("{k}=\"{v}\"\n")).collect();
    fs::write(path, text).unwrap();
}

/// The first stderr line that is an http(s) URL starting with `prefix`.
pub fn url_line<'a>(stderr: &'a str, prefix: &str) -> Option<&'a str> {
    stderr.lines().map(str::trim).find(|l| l.starts_with(prefix))
}

/// Decodes one query parameter of a URL (enough for checking what the CLI sent).
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then(|| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    })
}
