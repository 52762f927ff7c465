//! `LiveSession`, the sign-in shared by the threads of a long-running server (`proxy`, `mcp`), against the
//! stand-in: one refresh for many threads, one refresh and a replay after a 401, a dead sign-in answered.

use std::sync::Barrier;
use std::time::Duration;

use crate::common::*;
use sipgate_oauth::mock::MockServer;
use sipgate_oauth::{Config, Error, Http, LiveSession};

/// Signs in with `login`, the test playing the browser.
pub fn login(sandbox: &Sandbox, server: &MockServer) {
    let mut run = sandbox.spawn(&env_for(server), &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

/// The configuration `login` used, with the sandbox's store.
fn config(sandbox: &Sandbox, server: &MockServer) -> Config {
    let env = with(env_for(server), "SIPGATE_OAUTH_STORE", &sandbox.store().display().to_string());
    Config::from_lookup(|var| env.iter().find(|(k, _)| *k == var).map(|(_, v)| v.clone())).expect("a configuration")
}

#[test]
fn twenty_threads_after_expiry_share_one_refresh() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    expire_kept_access_token(&sandbox.store());
    let live = LiveSession::new(Http::new(Duration::from_secs(30)), config(&sandbox, &server)).unwrap();
    let before = server.requests();
    let barrier = Barrier::new(20);
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..20)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    live.tokens().expect("a fresh token").access_token.secret().to_owned()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(server.requests() - before, 1, "one refresh, nothing else");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "all 20 got the same fresh token");
}

#[test]
fn a_rejected_token_is_refreshed_once_and_the_request_sent_again() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let live = LiveSession::new(Http::new(Duration::from_secs(30)), config(&sandbox, &server)).unwrap();
    let first = live.tokens().unwrap();
    let mut sent = Vec::new();
    let status = live
        .send(
            true,
            |token| {
                sent.push(token.secret().to_owned());
                Ok(if sent.len() == 1 { 401 } else { 200 })
            },
            |status| *status == 401,
        )
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(sent.len(), 2, "sent once more after the refresh");
    assert_eq!(sent[0], first.access_token.secret());
    assert_ne!(sent[1], sent[0], "the replay carries the refreshed token");
    assert_eq!(live.tokens().unwrap().access_token.secret(), sent[1], "and it is kept");
}

#[test]
fn a_dead_sign_in_is_an_error_that_asks_to_sign_in_again() {
    let server = mock_with(|config| config.faults.refresh_invalid_grant = true);
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    expire_kept_access_token(&sandbox.store());
    let live = LiveSession::new(Http::new(Duration::from_secs(30)), config(&sandbox, &server)).unwrap();
    for _ in 0..2 {
        let error = live.tokens().unwrap_err();
        assert!(error.needs_sign_in(), "{error:?}");
        assert!(matches!(error, Error::SessionExpired(_)), "{error:?}");
    }
    let said = live.session().sign_in_again(&live.tokens().unwrap_err()).expect("a dead sign-in");
    assert!(said.ends_with("sign in again: `sipgate-oauth login --profile default`"), "{said}");
}
