//! `proxy` and `exec` against the stand-in: the account through the proxy, the guards, exec's
//! environment and exit code, and no token in their output.

use std::io::{BufRead, BufReader};

use crate::common::*;
use sipgate_oauth::mock::MockServer;

/// Signs in with `login`, the test playing the browser.
pub fn login(sandbox: &Sandbox, server: &MockServer) {
    login_with(sandbox, &env_for(server));
}

/// Signs in with `login` and the configuration `env`, the test playing the browser.
pub fn login_with(sandbox: &Sandbox, env: &[(&'static str, String)]) {
    let mut run = sandbox.spawn(env, &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    assert_eq!(run.finish().code(), Some(0));
}

/// A running `proxy` and the base URL it printed.
pub fn start_proxy(sandbox: &Sandbox, server: &MockServer) -> (Running, String) {
    start_proxy_with(sandbox, &env_for(server))
}

/// A running `proxy` with the configuration `env`, and the base URL it printed.
pub fn start_proxy_with(sandbox: &Sandbox, env: &[(&'static str, String)]) -> (Running, String) {
    let mut running = sandbox.spawn(env, &["proxy", "-v"]);
    let stdout = running.child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("the start line");
    let base = line.trim().strip_prefix("SIPGATE_API_BASE_URL=").unwrap_or_else(|| panic!("{line}")).to_owned();
    (running, base)
}

/// A stand-in, a sign-in at it in a sandbox, and a running `proxy` of it with the base URL it printed.
pub fn signed_in_proxy() -> (MockServer, Sandbox, Running, String) {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let (proxy, base) = start_proxy(&sandbox, &server);
    (server, sandbox, proxy, base)
}

#[test]
fn the_proxy_adds_the_token_and_guards_its_secret_path_and_host() {
    let (server, sandbox, mut proxy, base) = signed_in_proxy();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v2"), "{base}");

    let answer = agent().get(&format!("{base}/account")).header("Authorization", "Bearer not-mine").call().unwrap();
    assert_eq!(answer.status(), 200, "the client's own Authorization is dropped, the kept token sent");
    let body = answer.into_body().read_to_string().unwrap();
    assert!(body.contains("mainProductType"), "{body}");

    let origin = base.rsplitn(3, '/').nth(2).unwrap().to_owned();
    let before = server.requests();
    let (status, body, _) = get(&format!("{origin}/v2/account"));
    assert_eq!(status, 404, "{body}");
    assert_eq!(server.requests(), before, "nothing was forwarded");

    let host = agent().get(&format!("{base}/account")).header("Host", "evil.example").call().unwrap();
    assert_eq!(host.status(), 403);
    let foreign = agent().get(&format!("{base}/account")).header("Origin", "https://evil.example").call().unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(server.requests(), before, "nothing was forwarded");

    let logged = proxy.line(|line| line.starts_with("GET /v2/account 200"));
    assert!(!logged.contains(base.rsplit('/').nth(1).unwrap()), "the secret segment is not logged: {logged}");
    let _ = proxy.child.kill();
    let done = proxy.finish();
    let token = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).unwrap();
    let token: serde_json::Value = serde_json::from_str(&token).unwrap();
    assert!(!done.stderr.contains(token["access_token"].as_str().unwrap()));
}

#[test]
fn a_dead_sign_in_is_a_json_error_and_the_proxy_keeps_running() {
    let server = mock_with(|config| config.faults.refresh_invalid_grant = true);
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    expire_kept_access_token(&sandbox.store());
    let (mut proxy, base) = start_proxy(&sandbox, &server);
    for _ in 0..2 {
        let (status, body, _) = get(&format!("{base}/account"));
        assert_eq!(status, 401, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        let message = json["message"].as_str().unwrap();
        assert!(message.contains("sign in again: `sipgate-oauth login --profile default`"), "{message}");
        assert_eq!(json["error"], "sign_in_required", "{body}");
    }
    // The proxy kept running: after a `login` elsewhere, the next request works, no restart.
    login(&sandbox, &server);
    let (status, body, _) = get(&format!("{base}/account"));
    assert_eq!(status, 200, "{body}");
    let _ = proxy.child.kill();
    let done = proxy.finish();
    let kept = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).unwrap();
    let kept: serde_json::Value = serde_json::from_str(&kept).unwrap();
    assert!(!done.stderr.contains(kept["access_token"].as_str().unwrap()), "no token in the proxy's output");
}

#[test]
fn exec_passes_the_environment_and_the_exit_code_and_prints_no_token() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let script = r#"test -n "$SIPGATE_TOKEN" && test -n "$SIPGATE_TOKEN_EXPIRES_AT" || exit 9
        case "$SIPGATE_API_BASE_URL" in http://127.0.0.1:*/v2) echo "child: proxy at 127.0.0.1" ;; *) exit 8 ;; esac
        exit 7"#;
    let done = sandbox.run(&env_for(&server), &["exec", "--", "sh", "-c", script]);
    assert_eq!(done.code(), Some(7), "{}", done.stderr);
    assert_eq!(done.stdout, "child: proxy at 127.0.0.1\n", "the child's stdout is its own, nothing of ours");
    assert!(!has_jwt_like(&done.stdout) && !has_jwt_like(&done.stderr));

    let no_proxy =
        sandbox.run(&env_for(&server), &["exec", "--no-proxy", "--", "sh", "-c", "test -z \"$SIPGATE_API_BASE_URL\""]);
    assert_eq!(no_proxy.code(), Some(0), "{}", no_proxy.stderr);
    let signal = sandbox.run(&env_for(&server), &["exec", "--", "sh", "-c", "kill -TERM $$"]);
    assert_eq!(signal.code(), Some(128 + 15));
    let missing = sandbox.run(&env_for(&server), &["exec", "--", "no-such-program-here"]);
    assert_eq!(missing.code(), Some(127), "{}", missing.stderr);
}

#[test]
fn exec_without_a_sign_in_exits_4() {
    let server = mock();
    let sandbox = Sandbox::new();
    let done = sandbox.run(&env_for(&server), &["exec", "--", "true"]);
    assert_eq!(done.code(), Some(4), "{}", done.stderr);
}
