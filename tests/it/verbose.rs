//! `-v` shows every HTTP exchange, and no secret: every command runs with `-v` against the stand-in, and
//! stdout and stderr are searched for every secret value the test can know — the client secret, the
//! authorization code (taken from the `Location` header while playing the browser), every token the
//! stand-in issued (recorded by a relay between the binary and the stand-in, and read from the token
//! file). The only hit allowed is the access token on stdout of `token` and `token --json`.
//!
//! `state` is printed once, on purpose: it is part of the authorization URL the user must open. It must
//! appear nowhere else (the trace shows it as `[redacted]`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::common::*;
use sipgate_oauth::mock::MockServer;

/// A TCP relay in front of the stand-in that records everything the stand-in sends back.
struct Relay {
    addr: SocketAddr,
    answers: Arc<Mutex<Vec<u8>>>,
}

impl Relay {
    fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a relay port");
        let addr = listener.local_addr().expect("the relay's address");
        let answers = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&answers);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(upstream) = TcpStream::connect(target) else { continue };
                let (mut client_in, mut upstream_out) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut client_in, &mut upstream_out);
                    let _ = upstream_out.shutdown(std::net::Shutdown::Write);
                });
                let (mut upstream_in, mut client_out, recorded) = (upstream, client, Arc::clone(&recorded));
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 8192];
                    while let Ok(n @ 1..) = upstream_in.read(&mut buffer) {
                        recorded.lock().unwrap().extend_from_slice(&buffer[..n]);
                        if client_out.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = client_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Relay { addr, answers }
    }

    /// Every value of a secret JSON field the stand-in has sent so far.
    fn secrets(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.answers.lock().unwrap()).into_owned();
        let mut found = Vec::new();
        for key in ["access_token", "refresh_token", "id_token", "session_state"] {
            let needle = format!("\"{key}\":\"");
            for (at, _) in text.match_indices(&needle) {
                let value: String = text[at + needle.len()..].chars().take_while(|&c| c != '"').collect();
                found.push(value);
            }
        }
        found
    }
}

/// The stand-in's environment with every URL pointing at the relay; the issuer stays the stand-in's own.
fn env_via(server: &MockServer, relay: &Relay) -> Vec<(&'static str, String)> {
    let (direct, relayed) = (server.base_url(), format!("http://{}", relay.addr));
    let mut env: Vec<_> =
        env_for(server).into_iter().map(|(key, value)| (key, value.replace(&direct, &relayed))).collect();
    env.push(("ISSUER", format!("{direct}/auth/realms/third-party")));
    env
}

/// The secrets of one scan: what must never show, with the one allowed exception.
#[derive(Default)]
struct Secrets {
    values: Vec<(String, String)>,
}

impl Secrets {
    fn add(&mut self, what: &str, value: &str) {
        assert!(value.len() >= 8, "{what} is long enough not to appear by chance: {value:?}");
        if !self.values.iter().any(|(_, known)| known == value) {
            self.values.push((what.to_owned(), value.to_owned()));
        }
    }

    fn add_store(&mut self, sandbox: &Sandbox) {
        for file in std::fs::read_dir(sandbox.store()).into_iter().flatten().map_while(Result::ok) {
            if file.path().extension().is_some_and(|e| e == "json") {
                let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
                for key in ["access_token", "refresh_token"] {
                    if let Some(value) = stored[key].as_str() {
                        self.add(&format!("stored {key}"), value);
                    }
                }
            }
        }
    }

    fn add_relay(&mut self, relay: &Relay) {
        for value in relay.secrets() {
            self.add("a secret the stand-in sent", &value);
        }
    }

    /// Asserts that no secret is in `done`'s output; `allowed_on_stdout` may be on stdout.
    fn assert_absent(&self, command: &str, done: &Finished, allowed_on_stdout: Option<&str>) {
        for (what, value) in &self.values {
            assert!(!done.stderr.contains(value.as_str()), "`{command}`: {what} on stderr:\n{}", done.stderr);
            if Some(value.as_str()) != allowed_on_stdout {
                assert!(!done.stdout.contains(value.as_str()), "`{command}`: {what} on stdout:\n{}", done.stdout);
            }
        }
    }
}

/// The access token in the token file.
fn stored_access_token(sandbox: &Sandbox) -> String {
    let file = std::fs::read_dir(sandbox.store().join("profiles"))
        .unwrap()
        .map_while(Result::ok)
        .find(|f| f.path().extension().is_some_and(|e| e == "json"))
        .expect("a token file");
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(file.path()).unwrap()).unwrap();
    stored["access_token"].as_str().expect("an access token").to_owned()
}

/// `state` appears once: in the authorization URL printed for the user.
fn assert_state_only_in_the_url(command: &str, done: &Finished, state: &str) {
    let lines: Vec<&str> = done.stderr.lines().filter(|line| line.contains(state)).collect();
    assert_eq!(lines.len(), 1, "`{command}`: state outside the authorization URL:\n{}", done.stderr);
    assert!(lines[0].starts_with("http://") && lines[0].contains("response_type=code"), "{}", lines[0]);
    assert!(!done.stdout.contains(state));
}

/// Plays the browser for a run that prints the authorization URL; returns the code and the state.
fn sign_in(run: &mut Running) -> (String, String) {
    let url = run.authorization_url();
    let state = query_of(&url)["state"].clone();
    let callback = approve(&url);
    let code = query_of(&callback)["code"].clone();
    let (status, page, _) = get(&callback);
    assert_eq!(status, 200, "{page}");
    (code, state)
}

#[test]
fn verbose_mode_shows_the_exchanges_and_no_secret() {
    let server = mock();
    let relay = Relay::start(server.addr());
    let env = env_via(&server, &relay);
    let sandbox = Sandbox::new();
    let mut secrets = Secrets::default();
    secrets.add("the client secret", "demo-secret");

    // The example's flow: sign-in, account, refresh, account.
    let mut run = sandbox.spawn(&env, &["-v", "--no-browser"]);
    let (code, state) = sign_in(&mut run);
    secrets.add("the authorization code", &code);
    let flow = run.finish();
    assert_eq!(flow.code(), Some(0), "{}", flow.stderr);
    assert!(flow.stderr.contains("> POST ") && flow.stderr.contains("< 200"), "it traces:\n{}", flow.stderr);
    assert!(flow.stderr.contains("code=[redacted]"), "{}", flow.stderr);
    assert!(flow.stderr.contains("Bearer [redacted]"), "{}", flow.stderr);
    secrets.add_relay(&relay);
    secrets.add_store(&sandbox);
    assert!(secrets.values.len() >= 6, "tokens of the exchange and the refresh are known: {}", secrets.values.len());
    secrets.assert_absent("(flow)", &flow, None);
    assert_state_only_in_the_url("(flow)", &flow, &state);

    // login, then every command that uses the kept tokens.
    let mut run = sandbox.spawn(&env, &["login", "-v", "--no-browser"]);
    let (code, state) = sign_in(&mut run);
    secrets.add("the login's authorization code", &code);
    let login = run.finish();
    assert_eq!(login.code(), Some(0), "{}", login.stderr);
    secrets.add_relay(&relay);
    secrets.add_store(&sandbox);
    secrets.assert_absent("login", &login, None);
    assert_state_only_in_the_url("login", &login, &state);

    for args in [&["token", "-v"][..], &["token", "--json", "-v"], &["account", "-v"]] {
        let done = sandbox.run(&env, args);
        assert_eq!(done.code(), Some(0), "{args:?}: {}", done.stderr);
        secrets.add_relay(&relay);
        secrets.add_store(&sandbox);
        let current = stored_access_token(&sandbox);
        let allowed = (args[0] == "token").then_some(current.as_str());
        if let Some(token) = allowed {
            assert!(done.stdout.contains(token), "`token` prints the access token");
        }
        secrets.assert_absent(&args.join(" "), &done, allowed);
    }
    for args in [&["api", "-v", "/authorization/userinfo"][..], &["status", "-v"], &["status", "--json", "-v"]] {
        let done = sandbox.run(&env, args);
        assert_eq!(done.code(), Some(0), "{args:?}: {}", done.stderr);
        secrets.add_relay(&relay);
        secrets.assert_absent(&args.join(" "), &done, None);
    }
    let logout = sandbox.run(&env, &["logout", "-v"]);
    assert_eq!(logout.code(), Some(0), "{}", logout.stderr);
    assert!(logout.stderr.contains("/revoke"), "the revocation is traced:\n{}", logout.stderr);
    secrets.add_relay(&relay);
    secrets.assert_absent("logout", &logout, None);
    eprintln!("verbose scan: {} secret values checked", secrets.values.len());
}

#[test]
fn verbose_demo_shows_no_secret() {
    let done = Sandbox::new().run(&[], &["demo", "-v"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("> POST "), "it traces:\n{}", done.stderr);
    for stream in [&done.stdout, &done.stderr] {
        assert!(!has_jwt_like(stream), "a token leaked:\n{stream}");
        assert!(!stream.contains("demo-secret"), "the client secret leaked:\n{stream}");
    }
    let state = done
        .stderr
        .lines()
        .find_map(|line| line.starts_with("http://").then(|| query_of(line).get("state").cloned()).flatten());
    let state = state.expect("the authorization URL is printed");
    assert_state_only_in_the_url("demo", &done, &state);
}
