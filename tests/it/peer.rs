//! sipgate-oauth against a real, independent authorization server: panva's oidc-provider
//! (tests/peer/server.js), signed in through by a scripted browser (tests/peer/browser-login.js).
//!
//! Ignored by plain `cargo test`; run `.ci/peer-setup` once, then
//! `cargo test --test peer -- --ignored` (add `--nocapture` for timings).
//!
//! The peer suggests OAUTH_SCOPE="openid offline_access account:read"; it issues opaque access
//! and refresh tokens and an id_token (a JWT), logs every issued token value to a file of the
//! test's, and serves a sipgate-like GET /v2/account answering company "Peer". Its refresh
//! tokens rotate on every use (a reused one revokes the grant), and it revokes at /revoke.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;

fn start_peer(dir: &TempDir) -> Announced {
    start_peer_with(dir, &[])
}

fn start_peer_with(dir: &TempDir, env: &[(&str, &str)]) -> Announced {
    require_setup(false);
    start_oidc_provider(dir, env)
}

/// The peer's .env lines as an env file for the CLI, with `overrides` replacing values.
fn env_file(dir: &TempDir, peer: &Announced, overrides: &[(&str, &str)]) -> std::path::PathBuf {
    let path = dir.path("sipgate.env");
    let mut vars: Vec<(&str, &str)> =
        ["AUTH_URL", "TOKEN_URL", "TEST_API_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET", "OAUTH_SCOPE", "REDIRECT_URI"]
            .iter()
            .map(|k| (*k, peer.var(k)))
            .collect();
    for (k, v) in overrides {
        match vars.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = v,
            None => vars.push((k, v)),
        }
    }
    write_env_file(&path, &vars);
    path
}

fn login_browser(dir: &TempDir) -> std::path::PathBuf {
    let script = peer_dir().join("browser-login.js");
    browser_wrapper(dir, "browser-login", &format!("node '{}'", script.display()))
}

/// Every token value the peer issued (access, refresh, id tokens), every authorization code it
/// issued and every PKCE code_verifier it was sent.
/// The plain flow with `env` (and `options`), `$BROWSER` signing in by HTTP.
fn flow_with_login_browser(dir: &TempDir, env: &std::path::Path, options: &[&str]) -> Run {
    let mut args = vec!["--env-file", env.to_str().unwrap(), "--timeout", "60"];
    args.extend_from_slice(options);
    run_with_browser(
        cli(&args, &login_browser(dir), &dir.path("store")),
        Duration::from_secs(120),
        dir,
        "browser-login",
    )
}

fn issued_tokens(dir: &TempDir) -> Vec<String> {
    std::fs::read_to_string(dir.path("tokens.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn assert_no_leaks(run: &Run, secret: &str, tokens: &[String]) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains(secret), "the client secret appears on {stream}:\n{}", run.describe());
        for token in tokens {
            assert!(!text.contains(token.as_str()), "an issued token appears on {stream}:\n{}", run.describe());
        }
        assert!(!crate::common::has_jwt_like(text), "something JWT-like appears on {stream}:\n{}", run.describe());
    }
}

fn assert_two_peer_documents(run: &Run) {
    let docs = json_documents(&run.stdout);
    assert_eq!(docs.len(), 2, "two API responses on stdout:\n{}", run.describe());
    for doc in &docs {
        assert_eq!(doc["company"], "Peer", "{}", run.describe());
        assert_eq!(doc["mainProductType"], "BASIC");
        assert_eq!(doc["verified"], true);
    }
}

/// What the peer saw: a code exchange, a refresh, two good API calls.
fn assert_peer_saw_full_flow(peer: &Announced) {
    let log = peer.log();
    assert!(log.contains("grant.success authorization_code"), "no code exchange at the peer:\n{log}");
    assert!(log.contains("grant.success refresh_token"), "no refresh at the peer:\n{log}");
    assert_eq!(log.matches("GET /v2/account -> 200").count(), 2, "two API calls at the peer:\n{log}");
}

#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn full_flow_against_oidc_provider() {
    let started = Instant::now();
    let dir = TempDir::new("peer-flow");
    let peer = start_peer(&dir);
    let env = env_file(&dir, &peer, &[]);
    let browser = login_browser(&dir);
    let run = run_with_browser(
        cli(&["--env-file", env.to_str().unwrap(), "--timeout", "60"], &browser, &dir.path("store")),
        Duration::from_secs(120),
        &dir,
        "browser-login",
    );
    let browser_exit = browser_status(&dir, "browser-login", Duration::from_secs(30));
    assert_eq!(
        run.code(),
        Some(0),
        "{}\n--- browser ---\n{}\n--- peer ---\n{}",
        run.describe(),
        browser_log(&dir, "browser-login"),
        peer.log()
    );
    assert_two_peer_documents(&run);
    assert_eq!(browser_exit, Some(0), "browser-login.js:\n{}", browser_log(&dir, "browser-login"));
    assert!(
        browser_log(&dir, "browser-login").to_lowercase().contains("sign"),
        "the callback page says the sign-in completed:\n{}",
        browser_log(&dir, "browser-login")
    );

    // The authorization URL on stderr, on a line of its own, is a proper PKCE request to the peer.
    let auth = url_line(&run.stderr, peer.var("AUTH_URL"))
        .unwrap_or_else(|| panic!("no authorization URL line:\n{}", run.describe()));
    assert_eq!(query_param(auth, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query_param(auth, "response_type").as_deref(), Some("code"));
    assert_eq!(query_param(auth, "client_id").as_deref(), Some(peer.var("CLIENT_ID")));
    let redirect = query_param(auth, "redirect_uri").expect("redirect_uri");
    assert!(
        redirect.starts_with("http://127.0.0.1:") && !redirect.starts_with("http://127.0.0.1:0/"),
        "a real port: {redirect}"
    );

    assert_peer_saw_full_flow(&peer);
    let tokens = issued_tokens(&dir);
    assert!(tokens.len() >= 6, "the peer logged the issued tokens: {} values", tokens.len());
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &tokens);
    eprintln!("peer full flow: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

/// `-v` traces every HTTP exchange; against a real server none of the secrets may show.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn verbose_trace_shows_no_secrets() {
    let started = Instant::now();
    let dir = TempDir::new("peer-verbose");
    let peer = start_peer(&dir);
    let env = env_file(&dir, &peer, &[]);
    let run = flow_with_login_browser(&dir, &env, &["-v"]);
    assert_eq!(run.code(), Some(0), "{}\n--- peer ---\n{}", run.describe(), peer.log());
    assert_two_peer_documents(&run);
    assert!(run.stderr.contains("/token"), "-v traces the token requests:\n{}", run.describe());
    let secrets = issued_tokens(&dir);
    assert!(secrets.len() >= 7, "tokens, code and verifier logged: {} values", secrets.len());
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &secrets);
    eprintln!("peer -v: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn fixed_loopback_port_against_oidc_provider() {
    let started = Instant::now();
    let dir = TempDir::new("peer-port");
    let peer = start_peer(&dir);
    // A port that was free a moment ago; the peer accepts any loopback port for this native client.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let redirect = format!("http://127.0.0.1:{port}/oauth");
    let env = env_file(&dir, &peer, &[("REDIRECT_URI", &redirect), ("PORT", &port)]);
    let run = flow_with_login_browser(&dir, &env, &[]);
    assert_eq!(
        run.code(),
        Some(0),
        "{}\n--- browser ---\n{}\n--- peer ---\n{}",
        run.describe(),
        browser_log(&dir, "browser-login"),
        peer.log()
    );
    assert_two_peer_documents(&run);
    let auth = url_line(&run.stderr, peer.var("AUTH_URL")).expect("authorization URL line");
    assert_eq!(query_param(auth, "redirect_uri").as_deref(), Some(redirect.as_str()));
    assert_peer_saw_full_flow(&peer);
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &issued_tokens(&dir));
    eprintln!("peer fixed port: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn wrong_client_secret_is_invalid_client() {
    let started = Instant::now();
    let dir = TempDir::new("peer-secret");
    let peer = start_peer(&dir);
    let wrong = "not-the-peer-secret-0a1b2c3d";
    let env = env_file(&dir, &peer, &[("CLIENT_SECRET", wrong)]);
    let run = flow_with_login_browser(&dir, &env, &[]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("invalid_client") || run.stderr.contains("CLIENT_SECRET"),
        "stderr names the cause:\n{}",
        run.describe()
    );
    assert!(json_documents(&run.stdout).is_empty(), "no API response on stdout:\n{}", run.describe());
    assert!(peer.log().contains("grant.error invalid_client"), "the peer refused the client:\n{}", peer.log());
    assert_no_leaks(&run, wrong, &issued_tokens(&dir));
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &[]);
    eprintln!("peer wrong secret: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

/// A server that takes client credentials only by HTTP Basic (oidc-provider's default): the body's
/// credentials are refused as `invalid_client`, and the exchange, refresh and revocation go through with
/// Basic.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn basic_only_client_authentication_works() {
    let dir = TempDir::new("peer-basic");
    let peer = start_peer_with(&dir, &[("PEER_AUTH_METHOD", "client_secret_basic")]);
    let env = env_file(&dir, &peer, &[]);
    let run = flow_with_login_browser(&dir, &env, &[]);
    assert_eq!(run.code(), Some(0), "{}\n--- peer ---\n{}", run.describe(), peer.log());
    assert_two_peer_documents(&run);
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &issued_tokens(&dir));
}

/// A server that issues no refresh token: the flow says so, skips the refresh and still calls the API twice.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn no_refresh_token_skips_the_refresh_with_a_warning() {
    let dir = TempDir::new("peer-norefresh");
    let peer = start_peer_with(&dir, &[("PEER_NO_REFRESH_TOKEN", "1")]);
    let env = env_file(&dir, &peer, &[]);
    let run = flow_with_login_browser(&dir, &env, &[]);
    assert_eq!(run.code(), Some(0), "{}\n--- peer ---\n{}", run.describe(), peer.log());
    assert_two_peer_documents(&run);
    assert!(run.stderr.contains("the server issued no refresh token"), "{}", run.describe());
}

/// `--no-browser`: the URL printed on stderr, opened by "someone else", completes the flow.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn no_browser_printed_url_completes_the_flow() {
    let started = Instant::now();
    let dir = TempDir::new("peer-nobrowser");
    let peer = start_peer(&dir);
    let env = env_file(&dir, &peer, &[]);
    // A $BROWSER that must not be run.
    let trap = browser_wrapper(&dir, "trap", "true");
    let mut cmd =
        cli(&["--env-file", env.to_str().unwrap(), "--timeout", "60", "--no-browser"], &trap, &dir.path("store"));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let guard_pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_t = thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let (tx, rx) = mpsc::channel::<String>();
    let err_t = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let auth_prefix = peer.var("AUTH_URL").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.trim().starts_with(&auth_prefix) => break line.trim().to_string(),
            Ok(_) => continue,
            Err(_) => {
                let _ = child.kill();
                panic!("no authorization URL on stderr within 30 s (pid {guard_pid})");
            }
        }
    };
    let login = Command::new("node").arg(peer_dir().join("browser-login.js")).arg(&url).output().unwrap();
    // The CLI's own --timeout bounds the wait.
    let status = child.wait().unwrap();
    let run = Run { status, stdout: out_t.join().unwrap(), stderr: err_t.join().unwrap(), elapsed: started.elapsed() };
    assert!(login.status.success(), "browser-login.js: {}", String::from_utf8_lossy(&login.stderr));
    assert_eq!(run.code(), Some(0), "{}\n--- peer ---\n{}", run.describe(), peer.log());
    assert_two_peer_documents(&run);
    assert!(!dir.path("trap.status").exists(), "--no-browser still ran $BROWSER");
    assert_peer_saw_full_flow(&peer);
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &issued_tokens(&dir));
    eprintln!("peer --no-browser: test {:?}", started.elapsed());
}

/// The person cancels at the peer's sign-in page: the CLI gets `error=access_denied` (plus the
/// RFC 9207 `iss`) at its callback and fails with exit 1, naming access_denied.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn cancel_at_sign_in_is_access_denied() {
    let started = Instant::now();
    let dir = TempDir::new("peer-cancel");
    let peer = start_peer(&dir);
    let env = env_file(&dir, &peer, &[]);
    let script = peer_dir().join("browser-login.js");
    let browser = browser_wrapper(&dir, "cancel", &format!("node '{}' --cancel", script.display()));
    let run = run_with_browser(
        cli(&["--env-file", env.to_str().unwrap(), "--timeout", "60"], &browser, &dir.path("store")),
        Duration::from_secs(120),
        &dir,
        "cancel",
    );
    assert_eq!(run.code(), Some(1), "{}\n--- browser ---\n{}", run.describe(), browser_log(&dir, "cancel"));
    assert!(run.stderr.contains("access_denied"), "stderr names access_denied:\n{}", run.describe());
    assert!(json_documents(&run.stdout).is_empty(), "no API response on stdout:\n{}", run.describe());
    assert_eq!(browser_status(&dir, "cancel", Duration::from_secs(30)), Some(0), "{}", browser_log(&dir, "cancel"));
    assert!(!peer.log().contains("grant.success"), "no token was issued:\n{}", peer.log());
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &issued_tokens(&dir));
    eprintln!("peer cancel: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

/// GET the peer's /v2/account with `token`: the HTTP status.
fn account_status(peer: &Announced, token: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    agent
        .get(peer.var("TEST_API_ENDPOINT"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("GET /v2/account")
        .status()
        .as_u16()
}

/// The kept sign-in against the real server: login, status, account, api, token (refreshing a
/// short-lived access token with rotating refresh tokens, twice), logout with RFC 7009 revocation.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn kept_sign_in_lifecycle_against_oidc_provider() {
    let started = Instant::now();
    let dir = TempDir::new("peer-kept");
    // Access tokens live 20 s: less than the CLI's 30 s refresh margin, so every `token` refreshes.
    let peer = start_peer_with(&dir, &[("PEER_ACCESS_TTL", "20")]);
    let env = env_file(&dir, &peer, &[]);
    let env = env.to_str().unwrap();
    let browser = login_browser(&dir);
    let store = dir.path("store");
    let limit = Duration::from_secs(120);
    let secret = peer.var("CLIENT_SECRET").to_string();

    let login = run_with_browser(
        cli(&["login", "--env-file", env, "--timeout", "60"], &browser, &store),
        limit,
        &dir,
        "browser-login",
    );
    assert_eq!(login.code(), Some(0), "login: {}\n--- peer ---\n{}", login.describe(), peer.log());
    assert_no_leaks(&login, &secret, &issued_tokens(&dir));

    let status = run(cli(&["status", "--json", "--env-file", env], &browser, &store), limit);
    assert_eq!(status.code(), Some(0), "status: {}", status.describe());
    let shown = json_documents(&status.stdout);
    assert_eq!(shown.len(), 1, "{}", status.describe());
    assert_eq!(shown[0]["signed_in"], true, "{}", status.describe());
    assert_eq!(shown[0]["has_refresh_token"], true, "{}", status.describe());
    assert_no_leaks(&status, &secret, &issued_tokens(&dir));

    let account = run(cli(&["account", "--env-file", env], &browser, &store), limit);
    assert_eq!(account.code(), Some(0), "account: {}\n--- peer ---\n{}", account.describe(), peer.log());
    let docs = json_documents(&account.stdout);
    assert_eq!(docs.len(), 1, "{}", account.describe());
    assert_eq!(docs[0]["company"], "Peer");
    assert_no_leaks(&account, &secret, &issued_tokens(&dir));

    let api = run(cli(&["api", "/account", "--env-file", env], &browser, &store), limit);
    assert_eq!(api.code(), Some(0), "api /account: {}\n--- peer ---\n{}", api.describe(), peer.log());
    let docs = json_documents(&api.stdout);
    assert_eq!(docs.len(), 1, "{}", api.describe());
    assert_eq!(docs[0]["company"], "Peer");
    assert_no_leaks(&api, &secret, &issued_tokens(&dir));

    // `token` prints a fresh access token (the only place a token may show), refreshed each time
    // here (the kept one is made to look expired first); with rotation, the second refresh works only if
    // the first rotated token was kept.
    let mut printed = Vec::new();
    for round in 0..2 {
        crate::common::expire_kept_access_token(&store);
        let token = run(cli(&["token", "--env-file", env], &browser, &store), limit);
        assert_eq!(token.code(), Some(0), "token #{round}: {}\n--- peer ---\n{}", token.describe(), peer.log());
        let value = token.stdout.trim().to_string();
        assert!(
            issued_tokens(&dir).contains(&value),
            "`token` printed an access token the peer issued:\n{}",
            token.describe()
        );
        assert!(!token.stderr.contains(&value), "the token is on stdout only");
        assert_eq!(account_status(&peer, &value), 200, "the printed token works at the resource");
        assert_no_leaks(&Run { stdout: String::new(), ..token }, &secret, &issued_tokens(&dir));
        printed.push(value);
    }
    assert_ne!(printed[0], printed[1], "each `token` refreshed the expired access token");
    let again = run(cli(&["token", "--env-file", env], &browser, &store), limit);
    assert_eq!(again.stdout.trim(), printed[1], "a token with most of its 20 s left is handed out as it is");
    let log = peer.log();
    assert!(log.matches("grant.success refresh_token").count() >= 2, "refreshes at the peer:\n{log}");
    assert!(!log.contains("grant.revoked"), "no refresh token was reused:\n{log}");

    let logout = run(cli(&["logout", "--env-file", env], &browser, &store), limit);
    assert_eq!(logout.code(), Some(0), "logout: {}\n--- peer ---\n{}", logout.describe(), peer.log());
    let log = peer.log();
    assert!(log.contains("POST /revoke -> 200") && log.contains("grant.revoked"), "the peer revoked:\n{log}");
    assert!(logout.stderr.contains("revoked"), "{}", logout.describe());
    assert_eq!(account_status(&peer, &printed[1]), 401, "revoking the refresh token revoked the grant");
    assert_no_leaks(&logout, &secret, &issued_tokens(&dir));

    let status = run(cli(&["status", "--json", "--env-file", env], &browser, &store), limit);
    assert_eq!(json_documents(&status.stdout)[0]["signed_in"], false, "{}", status.describe());
    eprintln!("peer kept sign-in lifecycle: test {:?}", started.elapsed());
}

/// RFC 6749 §5.1: token_type is case-insensitive; a peer answering "bearer" works the same.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn lowercase_token_type_is_accepted() {
    let started = Instant::now();
    let dir = TempDir::new("peer-bearer");
    let peer = start_peer_with(&dir, &[("PEER_TOKEN_TYPE", "bearer")]);
    let env = env_file(&dir, &peer, &[]);
    let run = flow_with_login_browser(&dir, &env, &[]);
    assert_eq!(run.code(), Some(0), "{}\n--- peer ---\n{}", run.describe(), peer.log());
    assert_two_peer_documents(&run);
    assert_peer_saw_full_flow(&peer);
    eprintln!("peer token_type bearer: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

/// Runs the CLI with `args` (after `--env-file`), reads its stderr until the device prompt's link with
/// the code in it, hands that link to the scripted person on the other device
/// (`browser-login.js --device` plus `person_flags`), and waits for the CLI. `$BROWSER` must not run.
fn device_sign_in(dir: &TempDir, env: &std::path::Path, args: &[&str], person_flags: &[&str]) -> (Run, String) {
    let started = Instant::now();
    let trap = browser_wrapper(dir, "trap", "true");
    let mut all_args = vec!["--env-file", env.to_str().unwrap()];
    all_args.extend_from_slice(args);
    let mut cmd = cli(&all_args, &trap, &dir.path("store"));
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_t = thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let (tx, rx) = mpsc::channel::<String>();
    let err_t = thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let link = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.trim().starts_with("http") && line.contains("user_code=") => {
                break line.trim().to_string();
            }
            Ok(_) => continue,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no device prompt on stderr within 30 s:\n{}", err_t.join().unwrap_or_default());
            }
        }
    };
    let person = Command::new("node")
        .arg(peer_dir().join("browser-login.js"))
        .arg("--device")
        .args(person_flags)
        .arg(&link)
        .output()
        .unwrap();
    // The code's expires_in (oidc-provider: 600 s) bounds the wait; the person has decided by now, so
    // the next poll ends it.
    let status = child.wait().unwrap();
    let run = Run { status, stdout: out_t.join().unwrap(), stderr: err_t.join().unwrap(), elapsed: started.elapsed() };
    assert!(person.status.success(), "browser-login.js --device: {}", String::from_utf8_lossy(&person.stderr));
    assert!(!dir.path("trap.status").exists(), "--device ran $BROWSER");
    (run, String::from_utf8_lossy(&person.stderr).into_owned())
}

/// The device flow (RFC 8628) against oidc-provider with its deviceFlow feature on: the endpoint found
/// by discovery next to TOKEN_URL, the person confirming the code and signing in on "another device",
/// then the example's flow with the tokens.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn device_flow_against_oidc_provider() {
    let dir = TempDir::new("peer-device");
    let peer = start_peer(&dir);
    let env = env_file(&dir, &peer, &[]);
    let (run, person) = device_sign_in(&dir, &env, &["--device", "-v"], &[]);
    assert_eq!(run.code(), Some(0), "{}\n--- person ---\n{person}\n--- peer ---\n{}", run.describe(), peer.log());
    assert!(person.contains("the device sign-in succeeded"), "{person}");
    let issuer = peer.var("AUTH_URL").trim_end_matches("/auth");
    assert!(run.stderr.contains(&format!("> GET {issuer}/.well-known/openid-configuration")), "{}", run.describe());
    assert!(run.stderr.contains(&format!("> POST {issuer}/device/auth")), "{}", run.describe());
    assert!(run.stderr.contains(&format!("\n      {issuer}/device\n")), "the prompt names the page:\n{}", run.stderr);
    assert_two_peer_documents(&run);
    let log = peer.log();
    assert!(log.contains("grant.success urn:ietf:params:oauth:grant-type:device_code"), "no device grant:\n{log}");
    assert!(log.contains("grant.success refresh_token"), "no refresh at the peer:\n{log}");
    assert_no_leaks(&run, peer.var("CLIENT_SECRET"), &issued_tokens(&dir));
    eprintln!("peer device flow: {:?}", run.elapsed);
}

/// The person aborts at oidc-provider's code confirmation: `access_denied`, exit 1, nothing kept.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn device_flow_abort_is_access_denied() {
    let dir = TempDir::new("peer-device-abort");
    let peer = start_peer(&dir);
    let env = env_file(&dir, &peer, &[]);
    let (run, person) = device_sign_in(&dir, &env, &["login", "--device"], &["--cancel"]);
    assert_eq!(run.code(), Some(1), "{}\n--- person ---\n{person}", run.describe());
    assert!(
        run.stderr.contains("error: the sign-in on the other device was denied (access_denied: "),
        "{}",
        run.describe()
    );
    assert!(!peer.log().contains("grant.success"), "no token was issued:\n{}", peer.log());
    assert!(run.stdout.is_empty(), "{}", run.describe());
}

/// A client without the device grant at oidc-provider: its own words (`invalid_request` "… is not
/// allowed for this client") still get the "flow disabled" message.
#[test]
#[ignore = "needs the oidc-provider peer: run .ci/peer-setup first"]
fn device_flow_not_allowed_for_the_client_says_whom_to_ask() {
    let dir = TempDir::new("peer-device-off");
    let peer = start_peer_with(&dir, &[("PEER_NO_DEVICE_GRANT", "1")]);
    let env = env_file(&dir, &peer, &[]);
    let trap = browser_wrapper(&dir, "trap", "true");
    let run = run(
        cli(&["--env-file", env.to_str().unwrap(), "login", "--device"], &trap, &dir.path("store")),
        Duration::from_secs(60),
    );
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    assert!(
        run.stderr.contains("does not allow the device sign-in for this client (invalid_request: "),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("ask the client's owner"), "{}", run.describe());
}
