//! The device sign-in (`--device`, RFC 8628), end to end: the real binary against the in-repo stand-in on
//! 127.0.0.1:0, the test playing the user on the other device (the verification page, or the link
//! with the code in it at an auto-approving stand-in).

use std::time::Duration;

use crate::common::*;
use sipgate_oauth::mock::{Faults, MockConfig, MockServer};

/// A stand-in that asks for a poll every second (the binary really waits that long between polls).
fn device_mock(change: impl FnOnce(&mut MockConfig)) -> MockServer {
    mock_with(|config| {
        config.device_interval = Duration::from_secs(1);
        change(config);
    })
}

/// What the binary's prompt on stderr told the user.
struct Prompt {
    verification_uri: String,
    user_code: String,
    complete: String,
}

/// Reads the framed prompt off the binary's stderr.
fn prompt(run: &mut Running) -> Prompt {
    run.line(|line| line.contains("Sign in on another device"));
    let verification_uri = run.line(|line| line.trim().starts_with("http")).trim().to_owned();
    run.line(|line| line.contains("enter the code"));
    let user_code = run.line(|line| !line.trim().is_empty()).trim().to_owned();
    let complete = run.line(|line| line.trim().starts_with("http")).trim().to_owned();
    run.line(|line| line.contains("Waiting for the sign-in"));
    Prompt { verification_uri, user_code, complete }
}

/// The user on the other device: types the code on the verification page, then clicks `decision`.
fn decide_on_the_verification_page(prompt: &Prompt, decision: &str) -> String {
    let (status, form, headers) = get(&prompt.verification_uri);
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("name=\"user_code\""), "{form}");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let typed = prompt.user_code.to_ascii_lowercase();
    let (status, consent, _) = get(&format!("{}?user_code={typed}", prompt.verification_uri));
    assert_eq!(status, 200, "{consent}");
    assert!(consent.contains("Allow") && consent.contains("Deny") && consent.contains("account:read"), "{consent}");
    let mut answer = agent()
        .post(&prompt.verification_uri)
        .send_form([("user_code", prompt.user_code.as_str()), ("decision", decision)])
        .expect("the verification page answers");
    assert_eq!(answer.status(), 200);
    answer.body_mut().read_to_string().unwrap_or_default()
}

fn assert_no_token(done: &Finished) {
    for stream in [&done.stdout, &done.stderr] {
        assert!(!has_jwt_like(stream), "a token leaked:\n{stream}");
        assert!(!stream.contains("demo-secret"), "the client secret leaked:\n{stream}");
    }
}

#[test]
fn login_device_signs_in_on_the_verification_page_and_keeps_the_tokens() {
    let server = device_mock(|config| config.auto_approve = false);
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["login", "--device"]);
    let prompt = prompt(&mut run);
    assert_eq!(prompt.verification_uri, format!("{}/auth/realms/third-party/device", server.base_url()));
    assert_eq!(prompt.complete, format!("{}?user_code={}", prompt.verification_uri, prompt.user_code));
    assert_eq!(prompt.user_code.len(), 9, "ABCD-EFGH: {}", prompt.user_code);

    let done_page = decide_on_the_verification_page(&prompt, "allow");
    assert!(done_page.contains("Device signed in"), "{done_page}");

    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stdout.is_empty(), "login prints nothing on stdout: {}", done.stdout);
    assert!(done.stderr.contains("Signed in (BASIC account). Tokens kept in"), "{}", done.stderr);
    assert_no_token(&done);

    // Kept exactly as after a browser sign-in: the other commands use them.
    let account = sandbox.run(&env_for(&server), &["account"]);
    assert_eq!(account.code(), Some(0), "{}", account.stderr);
    assert_eq!(account.json_documents()[0]["mainProductType"], "BASIC");
}

#[test]
fn the_plain_flow_with_device_prints_the_account_twice() {
    let server = device_mock(|_| {});
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--device"]);
    let prompt = prompt(&mut run);
    let (status, page, _) = get(&prompt.complete);
    assert_eq!(status, 200);
    assert!(page.contains("Device signed in"), "auto-approve approves on the link: {page}");

    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert_eq!(done.json_documents().len(), 2, "{}", done.stdout);
    assert!(done.stderr.contains("Refreshing the tokens"), "{}", done.stderr);
    assert_no_token(&done);
}

#[test]
fn demo_device_runs_offline() {
    let done = Sandbox::new().run(&[], &["demo", "--device"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert_eq!(done.json_documents().len(), 2, "{}", done.stdout);
    assert!(done.stderr.contains("and enter the code"), "{}", done.stderr);
    assert_no_token(&done);
}

#[test]
fn deny_on_the_verification_page_is_access_denied() {
    let server = device_mock(|config| config.auto_approve = false);
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["login", "--device"]);
    let prompt = prompt(&mut run);
    let done_page = decide_on_the_verification_page(&prompt, "deny");
    assert!(done_page.contains("Access denied"), "{done_page}");

    let done = run.finish();
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("error: the sign-in on the other device was denied (access_denied: "),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("run again with --device"), "{}", done.stderr);
    assert!(done.stdout.is_empty());
    let status = sandbox.run(&env_for(&server), &["status", "--json"]);
    assert_eq!(status.json_documents()[0]["signed_in"], false, "nothing was kept");
}

#[test]
fn an_expired_code_says_to_start_again() {
    let server = mock_with(|config| {
        config.device_interval = Duration::ZERO;
        config.device_ttl = Duration::ZERO;
    });
    let done = Sandbox::new().run(&env_for(&server), &["login", "--device"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(done.stderr.contains("The code is valid for 0 s"), "{}", done.stderr);
    assert!(
        done.stderr.contains("error: the code was not entered in time: it expired after 0 s — run again with --device"),
        "{}",
        done.stderr
    );
}

#[test]
fn slow_down_makes_the_polls_five_seconds_slower() {
    let server = mock_with(|config| {
        config.device_interval = Duration::ZERO;
        config.faults = Faults { device_slow_down: 1, ..Faults::default() };
    });
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["login", "--device"]);
    let prompt = prompt(&mut run);
    // An interval of 0 is taken as 1 s (a poll without a pause is no interval), and slow_down adds 5.
    run.line(|line| line.contains("The server asked to poll less often; asking every 6 s now."));
    assert_eq!(get(&prompt.complete).0, 200);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

#[test]
fn a_client_without_the_device_grant_is_told_whom_to_ask() {
    let server = mock_with(|config| config.clients[0].device_grant = false);
    let done = Sandbox::new().run(&env_for(&server), &["login", "--device"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains(
            "error: the authorization server does not allow the device sign-in for this client (unauthorized_client: \
             Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.)"
        ),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("ask the client's owner") && done.stderr.contains("without --device"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains("enter the code"), "no prompt without a code: {}", done.stderr);
}

#[test]
fn a_token_endpoint_that_refuses_the_grant_is_told_apart_too() {
    // The device endpoint (DEVICE_AUTH_URL) hands out codes; the token endpoint's server has the grant off.
    let codes = device_mock(|_| {});
    let tokens = mock_with(|config| config.clients[0].device_grant = false);
    let device_url = format!("{}/auth/realms/third-party/protocol/openid-connect/auth/device", codes.base_url());
    let env = with(env_for(&tokens), "DEVICE_AUTH_URL", &device_url);
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env, &["login", "--device"]);
    prompt(&mut run);
    let done = run.finish();
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("(unauthorized_client: Client not allowed OAuth 2.0 Device Authorization Grant)"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("ask the client's owner to switch on"), "{}", done.stderr);
}

#[test]
fn discovery_finds_the_device_endpoint_unless_device_auth_url_names_it() {
    let server = device_mock(|_| {});
    let discovery = format!("> GET {}/auth/realms/third-party/.well-known/openid-configuration", server.base_url());
    let device_url = format!("{}/auth/realms/third-party/protocol/openid-connect/auth/device", server.base_url());
    let sandbox = Sandbox::new();
    for (env, looks_it_up) in
        [(env_for(&server), true), (with(env_for(&server), "DEVICE_AUTH_URL", &device_url), false)]
    {
        let mut run = sandbox.spawn(&env, &["login", "--device", "-v"]);
        let prompt = prompt(&mut run);
        assert_eq!(get(&prompt.complete).0, 200);
        let done = run.finish();
        assert_eq!(done.code(), Some(0), "{}", done.stderr);
        assert_eq!(done.stderr.contains(&discovery), looks_it_up, "{}", done.stderr);
        assert!(done.stderr.contains(&format!("> POST {device_url}")), "{}", done.stderr);
        assert!(done.stderr.contains("device_code=[redacted]"), "the trace hides the device code: {}", done.stderr);
        assert_no_token(&done);
    }
}

#[test]
fn without_a_device_endpoint_it_says_to_set_device_auth_url() {
    let server = device_mock(|_| {});
    let env = with(env_for(&server), "TOKEN_URL", &format!("{}/elsewhere/token", server.base_url()));
    let done = Sandbox::new().run(&env, &["login", "--device"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains(&format!(
            "error: no device authorization endpoint is known: the discovery document {}/elsewhere/.well-known/\
             openid-configuration answered HTTP 404 — set DEVICE_AUTH_URL, or sign in without --device",
            server.base_url()
        )),
        "{}",
        done.stderr
    );

    let bad = with(env_for(&server), "DEVICE_AUTH_URL", "http://login.example/device");
    let done = Sandbox::new().run(&bad, &["login", "--device"]);
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("DEVICE_AUTH_URL: must use https://"), "{}", done.stderr);
}

#[test]
fn device_goes_only_with_the_sign_in_commands() {
    let done = Sandbox::new().run(&[], &["token", "--device"]);
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("--device goes with `login`, `demo` or no command"), "{}", done.stderr);
}
