//! Store races from outside, with a token and revocation endpoint that answer only when the test says so:
//! a sign-in during a slow sign-out or a slow refresh waits for the store's lock and then stays.
//! Linux only: the test sees a process wait for the lock in `/proc/locks`.
#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;

/// A token endpoint (`/token`), revocation endpoint (`/revoke`) and API (`/v2/account`) on one port,
/// each request on its own thread. A sign-in gets `AT-n`/`RT-n` (n counting from 1) at once; a refresh
/// of `RT-x` gets `AT-x-refreshed`, and a revocation is answered, only once the test sends a release —
/// the endpoint reports each one's arrival first.
struct SlowServer {
    url: String,
    arrived: Receiver<&'static str>,
    release: Sender<()>,
    server: Arc<tiny_http::Server>,
}

impl SlowServer {
    fn start() -> SlowServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let (arrive, arrived) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(Mutex::new(released));
        let signed_in = Arc::new(AtomicUsize::new(0));
        let incoming = Arc::clone(&server);
        std::thread::spawn(move || {
            for mut request in incoming.incoming_requests() {
                let (arrive, released, signed_in) = (arrive.clone(), Arc::clone(&released), Arc::clone(&signed_in));
                std::thread::spawn(move || {
                    let mut body = String::new();
                    let _ = request.as_reader().read_to_string(&mut body);
                    let form: std::collections::HashMap<String, String> =
                        sipgate_oauth::internals::query::decode(&body).unwrap_or_default().into_iter().collect();
                    let wait = |what| {
                        let _ = arrive.send(what);
                        let _ = released.lock().unwrap().recv_timeout(PATIENCE);
                    };
                    let answer = match (request.url(), form.get("grant_type").map(String::as_str)) {
                        ("/token", Some("refresh_token")) => {
                            wait("refresh");
                            let old = form["refresh_token"].trim_start_matches("RT-").to_owned();
                            format!(
                                r#"{{"access_token":"AT-{old}-refreshed","token_type":"bearer","refresh_token":"RT-{old}-refreshed","expires_in":300}}"#
                            )
                        }
                        ("/token", _) => {
                            let n = signed_in.fetch_add(1, Ordering::SeqCst) + 1;
                            format!(
                                r#"{{"access_token":"AT-{n}","token_type":"bearer","refresh_token":"RT-{n}","expires_in":300}}"#
                            )
                        }
                        ("/revoke", _) => {
                            wait("revoke");
                            String::new()
                        }
                        _ => "{}".to_owned(),
                    };
                    let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
                    let _ = request.respond(tiny_http::Response::from_string(answer).with_header(json));
                });
            }
        });
        SlowServer { url, arrived, release, server }
    }

    /// The `.env` of `mock`'s sign-in with this server's token endpoint and API.
    fn env(&self, mock: &sipgate_oauth::mock::MockServer) -> Vec<(&'static str, String)> {
        let env = with(env_for(mock), "TOKEN_URL", &format!("{}/token", self.url));
        with(env, "TEST_API_ENDPOINT", &format!("{}/v2/account", self.url))
    }

    fn wait_for(&self, what: &str) {
        assert_eq!(self.arrived.recv_timeout(PATIENCE).expect("the request arrives"), what);
    }
}

impl Drop for SlowServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// Waits until `running` has exited, or is waiting for a file lock (a `->` line of its pid in
/// `/proc/locks`); true if it is waiting.
fn exited_or_waiting_for_the_lock(running: &mut Running) -> bool {
    let pid = running.child.id().to_string();
    let started = Instant::now();
    loop {
        if running.child.try_wait().unwrap().is_some() {
            return false;
        }
        let locks = std::fs::read_to_string("/proc/locks").unwrap();
        if locks.lines().any(|line| line.contains("->") && line.split_whitespace().any(|field| field == pid)) {
            return true;
        }
        assert!(started.elapsed() < PATIENCE, "neither exited nor waited for the lock");
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

fn kept_access_token(sandbox: &Sandbox) -> Option<String> {
    let text = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).ok()?;
    let kept: serde_json::Value = serde_json::from_str(&text).unwrap();
    kept["access_token"].as_str().map(str::to_owned)
}

fn sign_in(sandbox: &Sandbox, env: &[(&'static str, String)]) -> Running {
    let mut run = sandbox.spawn(env, &["login", "--no-browser"]);
    assert_eq!(browse(&run.authorization_url()).0, 200);
    run
}

#[test]
fn a_sign_in_during_a_slow_sign_out_is_kept() {
    let mock = mock();
    let slow = SlowServer::start();
    let env = slow.env(&mock);
    let sandbox = Sandbox::new();
    let first = sign_in(&sandbox, &env).finish();
    assert_eq!(first.code(), Some(0), "{}", first.stderr);

    let logout = sandbox.spawn(&env, &["logout"]);
    slow.wait_for("revoke");
    let mut login = sign_in(&sandbox, &env);
    let waited = exited_or_waiting_for_the_lock(&mut login);
    slow.release.send(()).unwrap();
    let (logout, login) = (logout.finish(), login.finish());
    assert_eq!(logout.code(), Some(0), "{}", logout.stderr);
    assert_eq!(login.code(), Some(0), "{}", login.stderr);
    assert_eq!(kept_access_token(&sandbox).as_deref(), Some("AT-2"), "the new sign-in was deleted unrevoked");
    assert!(waited, "the sign-in waited for the sign-out's lock");
}

#[test]
fn a_sign_in_during_a_slow_refresh_is_kept() {
    let mock = mock();
    let slow = SlowServer::start();
    let env = slow.env(&mock);
    let sandbox = Sandbox::new();
    let first = sign_in(&sandbox, &env).finish();
    assert_eq!(first.code(), Some(0), "{}", first.stderr);
    expire_kept_access_token(&sandbox.store());

    let token = sandbox.spawn(&env, &["token"]);
    slow.wait_for("refresh");
    let mut login = sign_in(&sandbox, &env);
    let waited = exited_or_waiting_for_the_lock(&mut login);
    slow.release.send(()).unwrap();
    let (token, login) = (token.finish(), login.finish());
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    assert_eq!(token.stdout.trim(), "AT-1-refreshed", "the refresh's own tokens serve its own call");
    assert_eq!(login.code(), Some(0), "{}", login.stderr);
    assert_eq!(kept_access_token(&sandbox).as_deref(), Some("AT-2"), "the old session's refresh overwrote it");
    assert!(waited, "the sign-in waited for the refresh's lock");
}

#[test]
fn a_first_version_file_that_logout_all_is_signing_out_is_not_carried_over_meanwhile() {
    use crate::logout_all::{files_left, write_first_version_file};
    let mock = mock();
    let slow = SlowServer::start();
    let env = slow.env(&mock);
    let sandbox = Sandbox::new();
    // A sign-in that the first version kept (AT-1/RT-1): its file, and no profile.
    let first = sign_in(&sandbox, &env).finish();
    assert_eq!(first.code(), Some(0), "{}", first.stderr);
    let profile = sandbox.store().join("profiles/default.json");
    let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    std::fs::remove_file(&profile).unwrap();
    let client_id = env.iter().find(|(key, _)| *key == "CLIENT_ID").map(|(_, id)| id.clone()).unwrap();
    write_first_version_file(&sandbox, &format!("{}/token", slow.url), &client_id, &kept);

    // `logout --all` revokes it (slowly); a `token` meanwhile would carry it over into the profile.
    let logout = sandbox.spawn(&env, &["logout", "--all"]);
    slow.wait_for("revoke");
    let mut token = sandbox.spawn(&env, &["token"]);
    let waited = exited_or_waiting_for_the_lock(&mut token);
    slow.release.send(()).unwrap();
    let (logout, token) = (logout.finish(), token.finish());
    assert_eq!(logout.code(), Some(0), "{}", logout.stderr);
    assert!(waited, "the token waited for the sign-out's lock of the file");
    assert_eq!(token.code(), Some(4), "signed out, nothing to carry over: {}", token.stderr);
    assert!(!token.stdout.contains("AT-1"), "the revoked token was handed out: {}", token.stdout);
    // Nothing is kept; the profile's own lock file, which `token` took, is all that may stay.
    let left: Vec<String> = files_left(&sandbox).into_iter().filter(|name| name != "default.json.lock").collect();
    assert_eq!(left, Vec::<String>::new(), "the sign-in was carried over after all");
}
