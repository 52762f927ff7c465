//! A crafted authorization server: token answers with absurd or unusable lifetimes, "almost JSON" that
//! carries tokens, and text meant to rewrite the user's terminal. The tool neither panics, nor leaks a
//! token, nor lets a server's text reach the terminal raw.

use crate::common::*;

/// A token endpoint that answers with `bodies[n]` (the last one from then on), with `status`.
fn token_endpoint(status: u16, bodies: &'static [&'static str]) -> Server {
    Server::start(move |n| {
        let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
        tiny_http::Response::from_string(bodies[n.min(bodies.len() - 1)])
            .with_status_code(status)
            .with_header(json)
            .boxed()
    })
}

/// Signs in at the stand-in with `token` as the token endpoint; returns the finished run.
fn login(sandbox: &Sandbox, env: &[(&'static str, String)], args: &[&str]) -> Finished {
    let mut run = sandbox.spawn(env, args);
    browse(&run.authorization_url());
    run.finish()
}

#[test]
fn absurd_lifetimes_are_capped_without_a_panic() {
    let server = mock();
    let token = token_endpoint(
        200,
        &[r#"{"access_token":"AT-1","token_type":"bearer","expires_in":18446744073709551615,
             "refresh_token":"RT-1","refresh_expires_in":"18446744073709551615"}"#],
    );
    let env = with(env_for(&server), "TOKEN_URL", &token.url("/token"));
    let sandbox = Sandbox::new();
    let done = login(&sandbox, &env, &["login", "--no-browser", "-v"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("expires_in of 18446744073709551615 s is not believable"), "{}", done.stderr);
    let status = sandbox.run(&env, &["status"]);
    assert_eq!(status.code(), Some(0), "{}", status.stderr);
    let printed = sandbox.run(&env, &["token"]);
    assert_eq!(printed.stdout.trim(), "AT-1");
}

#[test]
fn a_negative_lifetime_means_expired_and_the_next_token_is_fetched() {
    let server = mock();
    let token = token_endpoint(
        200,
        &[
            r#"{"access_token":"AT-DEAD","token_type":"bearer","expires_in":-1,"refresh_token":"RT-1"}"#,
            r#"{"access_token":"AT-FRESH","token_type":"bearer","expires_in":300,"refresh_token":"RT-2"}"#,
        ],
    );
    let env = with(env_for(&server), "TOKEN_URL", &token.url("/token"));
    let sandbox = Sandbox::new();
    let done = login(&sandbox, &env, &["login", "--no-browser"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let printed = sandbox.run(&env, &["token"]);
    assert_eq!(printed.stdout.trim(), "AT-FRESH", "{}", printed.stderr);
}

#[test]
fn almost_json_never_puts_a_token_into_the_trace_or_an_error() {
    let server = mock();
    let bom = token_endpoint(
        200,
        &[
            "\u{feff}{\"access_token\":\"AT-SECRET-1\",\"token_type\":\"bearer\",\"refresh_token\":\"RT-SECRET-2\",\"expires_in\":300}",
        ],
    );
    let env = with(env_for(&server), "TOKEN_URL", &bom.url("/token"));
    let sandbox = Sandbox::new();
    let done = login(&sandbox, &env, &["login", "--no-browser", "-v"]);
    assert_eq!(done.code(), Some(0), "a byte-order mark is no reason to fail: {}", done.stderr);
    assert!(!done.stderr.contains("AT-SECRET-1") && !done.stderr.contains("RT-SECRET-2"), "{}", done.stderr);

    let broken = token_endpoint(500, &[r#"{"access_token": "AT-SECRET-1", "refresh_token" : "RT-SECRET-2"}}"#]);
    let env = with(env_for(&server), "TOKEN_URL", &broken.url("/token"));
    let done = login(&Sandbox::new(), &env, &["login", "--no-browser", "-v"]);
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("failed with HTTP 500"), "{}", done.stderr);
    assert!(!done.stderr.contains("AT-SECRET-1") && !done.stderr.contains("RT-SECRET-2"), "{}", done.stderr);
}

#[test]
fn server_text_cannot_rewrite_the_terminal() {
    let server = mock();
    let hostile = token_endpoint(
        400,
        &[r#"{"error":"invalid_grant\u001b[2J","error_description":"\u001b]0;pwned\u0007 look \u001b[31mred"}"#],
    );
    let env = with(env_for(&server), "TOKEN_URL", &hostile.url("/token"));
    let done = login(&Sandbox::new(), &env, &["login", "--no-browser"]);
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("pwned") && done.stderr.contains("look"), "{}", done.stderr);
    assert!(!done.stderr.contains('\u{1b}') && !done.stderr.contains('\u{7}'), "{:?}", done.stderr);
}

/// A stand-in whose `iss` is not the configured ISSUER (say, behind a TLS proxy without `--public-url`):
/// the terminal names the rejection at once, and the timeout says why, not that REDIRECT_URI is wrong.
#[test]
fn a_rejected_callback_is_reported_at_once_and_the_timeout_gives_its_reason() {
    let server = mock();
    let env = with(env_for(&server), "ISSUER", "https://login.example/auth/realms/third-party");
    let mut run = Sandbox::new().spawn(&env, &["--no-browser", "--timeout", "2", "login"]);
    let (status, _) = browse(&run.authorization_url());
    assert_eq!(status, 400);
    let said = run.line(|line| line.starts_with("warning: a callback was rejected: "));
    assert!(said.contains("set ISSUER to its issuer"), "{said}");
    let done = run.finish();
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    let error = done.stderr.lines().find(|line| line.starts_with("error: ")).expect("an error line");
    assert!(error.starts_with("error: no sign-in arrived within 2 s. A callback came but was rejected: The callback names another authorization server"), "{error}");
    assert!(!error.contains("REDIRECT_URI"), "{error}");
}

/// RFC 9207: a callback with the right state but another server's `iss` (a mix-up attack) is turned away;
/// the genuine one still completes.
#[test]
fn a_callback_naming_another_issuer_is_turned_away() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser", "login"]);
    let url = run.authorization_url();
    let genuine = approve(&url);
    let issuer = query_of(&genuine)["iss"].clone();
    assert_eq!(issuer, format!("{}/auth/realms/third-party", server.base_url()));
    let forged = genuine.replace("iss=", "iss=https%3A%2F%2Fattacker.example%2Frealms%2Fx&ignored=");
    let (status, page, _) = get(&forged);
    assert_eq!(status, 400);
    assert!(
        page.contains("another authorization server (iss &quot;https://attacker.example/realms/x&quot;)"),
        "{page}"
    );
    // The terminal says so at once, and the wait goes on.
    let said = run.line(|line| line.starts_with("warning: a callback was rejected: "));
    assert!(
        said.contains(
            "another authorization server (iss \"https://attacker.example/realms/x\") than the one this sign-in went to"
        ),
        "{said}"
    );
    assert!(said.ends_with("Still waiting for a usable one."), "{said}");
    let (status, page, _) = get(&genuine);
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}
