//! Shared by the integration tests: run the real binary with a clean environment, watch its stderr
//! line by line, play the browser.
#![allow(dead_code)] // each test file uses a different part

pub mod front;
pub mod proxy;
pub mod stand;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use sipgate_oauth::mock::{MockClient, MockConfig, MockServer};

/// Longest a test waits for a line or an exit before it fails (never a sleep: it waits on a channel).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A temp directory as the working directory (so no stray `.env` is read) and the token store.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().expect("a temp dir") }
    }

    pub fn store(&self) -> std::path::PathBuf {
        self.dir.path().join("store")
    }

    /// The binary with only the given configuration in its environment.
    pub fn command(&self, env: &[(&str, String)], args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sipgate-oauth"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SIPGATE_OAUTH_STORE", self.store())
            .current_dir(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Windows processes always have these; the store's "only this user" check reads USERPROFILE.
        #[cfg(windows)]
        for key in ["SystemRoot", "USERPROFILE", "TEMP", "TMP"] {
            if let Some(value) = std::env::var_os(key) {
                command.env(key, value);
            }
        }
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// Runs to the end.
    pub fn run(&self, env: &[(&str, String)], args: &[&str]) -> Finished {
        let mut command = self.command(env, args);
        let output = starting(|| command.output()).expect("the binary runs");
        Finished {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts it; stderr is read line by line.
    pub fn spawn(&self, env: &[(&str, String)], args: &[&str]) -> Running {
        self.start(self.command(env, args))
    }

    /// Starts it with stdin piped (`Running::child.stdin`), as a user typing or a script piping.
    pub fn spawn_with_stdin(&self, env: &[(&str, String)], args: &[&str]) -> Running {
        let mut command = self.command(env, args);
        command.stdin(Stdio::piped());
        self.start(command)
    }

    /// Starts `command` (one of [`Sandbox::command`], changed as a test needs); stderr is read line by line.
    pub fn start(&self, mut command: Command) -> Running {
        let mut child = starting(|| command.spawn()).expect("the binary starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running { child, lines, seen: Vec::new() }
    }
}

/// Starts a process, again if Wine (the Windows run of .ci/platforms) failed its `CreateProcess` with
/// ERROR_INTERNAL_ERROR (1359), which it now and then does when tests start processes in parallel; up to
/// three tries. Nothing else is tried again: any other error, and whatever the process does, stands.
pub fn starting<T>(mut start: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    const WINE_INTERNAL_ERROR: i32 = 1359;
    let mut tries = 1;
    loop {
        match start() {
            Err(error) if cfg!(windows) && error.raw_os_error() == Some(WINE_INTERNAL_ERROR) && tries < 3 => {
                tries += 1;
            }
            result => return result,
        }
    }
}

/// A finished run.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The JSON documents on stdout.
    pub fn json_documents(&self) -> Vec<serde_json::Value> {
        serde_json::Deserializer::from_str(&self.stdout)
            .into_iter::<serde_json::Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("stdout is JSON documents ({e}): {}", self.stdout))
    }
}

/// A running binary.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    /// Waits for a stderr line that satisfies `wanted` and returns it.
    pub fn line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("the wanted line never came; stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// The authorization URL it printed.
    pub fn authorization_url(&mut self) -> String {
        self.line(|line| line.starts_with("http://") || line.starts_with("https://"))
    }

    /// Waits for the exit; collects the rest of stderr and all of stdout.
    pub fn finish(mut self) -> Finished {
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            out.read_to_string(&mut stdout).expect("stdout is readable");
        }
        let status = self.child.wait().expect("the binary exits");
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.seen.push(line);
        }
        Finished { status, stdout, stderr: self.seen.join("\n") }
    }
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    sipgate_oauth::internals::query::decode(query).expect("a well-formed query").into_iter().collect()
}

/// An HTTP client that does not follow redirects and reads error bodies.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().new_agent()
}

/// GETs `url` and returns status, headers of interest and body.
pub fn get(url: &str) -> (u16, String, ureq::http::HeaderMap) {
    let mut response = agent().get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), body, response.headers().clone())
}

/// Plays the browser: follows the authorization URL through the stand-in's redirect to the callback and
/// returns the callback page's status and body.
pub fn browse(url: &str) -> (u16, String) {
    let (status, body, _) = get(&approve(url));
    (status, body)
}

/// The first half of [`browse`]: opens the authorization URL at an auto-approving stand-in and returns
/// the callback URL it redirects to (with `code` and `state`), without following it.
pub fn approve(url: &str) -> String {
    let (status, _, headers) = get(url);
    assert_eq!(status, 302, "the stand-in redirects at once with --auto-approve");
    headers.get("location").and_then(|v| v.to_str().ok()).expect("a Location header").to_owned()
}

/// A stand-in with the demo client, approving at once.
pub fn mock() -> MockServer {
    mock_with(|_| {})
}

/// A stand-in with changes to its configuration.
pub fn mock_with(change: impl FnOnce(&mut MockConfig)) -> MockServer {
    let mut config = MockConfig { auto_approve: true, ..MockConfig::default() };
    change(&mut config);
    MockServer::start(config, "127.0.0.1:0".parse().expect("an address")).expect("the stand-in starts")
}

/// Whether `text` has something JWT-like (`eyJ`, the start of base64url JSON) outside the authorization
/// URL's `code_challenge`, whose random base64url may hold any three letters.
pub fn has_jwt_like(text: &str) -> bool {
    let mut rest = text;
    let mut outside = String::new();
    while let Some(at) = rest.find("code_challenge=") {
        outside.push_str(&rest[..at]);
        let value = &rest[at + "code_challenge=".len()..];
        rest =
            &value[value.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(value.len())..];
    }
    outside.push_str(rest);
    outside.contains("eyJ")
}

/// Makes the kept access token of profile `default` in the token store `store` look expired, as if its
/// time had passed: the next use refreshes it.
pub fn expire_kept_access_token(store: &std::path::Path) {
    let file = store.join("profiles").join("default.json");
    let text = std::fs::read_to_string(&file).expect("a kept profile");
    let mut kept: serde_json::Value = serde_json::from_str(&text).expect("a profile file is JSON");
    kept["access_expires_at"] = 0.into();
    std::fs::write(&file, kept.to_string()).expect("the profile file is writable");
}

/// The `.env` of the Python example pointing at `server`, redirect on an ephemeral loopback port.
pub fn env_for(server: &MockServer) -> Vec<(&'static str, String)> {
    let mut env = server.env("third-party", &MockClient::demo());
    for (key, value) in env.iter_mut() {
        if *key == "REDIRECT_URI" {
            *value = "http://127.0.0.1:0/oauth".into();
        }
    }
    env
}

/// `env` with `key` set to `value`.
pub fn with(mut env: Vec<(&'static str, String)>, key: &'static str, value: &str) -> Vec<(&'static str, String)> {
    env.retain(|(k, _)| *k != key);
    env.push((key, value.to_owned()));
    env
}

/// A tiny_http server in the test, answering every request with `answer` (which is told the how-manieth
/// request it answers, from 0); counts the requests. A crafted authorization server or API.
pub struct Server {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
}

impl Server {
    pub fn start(answer: impl Fn(usize) -> tiny_http::ResponseBox + Send + 'static) -> Server {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a test server"));
        let addr = server.server_addr().to_ip().expect("an IP address");
        let hits = Arc::new(AtomicUsize::new(0));
        let (for_thread, counted) = (Arc::clone(&server), Arc::clone(&hits));
        std::thread::spawn(move || {
            for request in for_thread.incoming_requests() {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                let _ = request.respond(answer(n));
            }
        });
        Server { addr, hits, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

#[test]
fn has_jwt_like_ignores_the_challenge_and_nothing_else() {
    assert!(!has_jwt_like("http://h/auth?code_challenge=abeyJx-_9&state=1"));
    assert!(has_jwt_like("http://h/auth?code_challenge=ab&x=eyJ"));
    assert!(has_jwt_like("Bearer eyJhbGciOi"));
}
