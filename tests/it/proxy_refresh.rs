//! The proxy's tokens under load, against the stand-in: an expired token is refreshed once for 20
//! clients at once, and a token the server rejects (401) is refreshed once and every request is sent
//! again, its body included. Refreshes are counted in the stand-in's own request log.

use std::sync::Barrier;
use std::sync::mpsc::Receiver;

use crate::common::*;
use crate::proxy::{login_with, start_proxy_with};
use sipgate_oauth::mock::{MockClient, MockConfig, MockEvent, MockServer};

/// How many clients ask at once.
const CLIENTS: usize = 20;

/// A stand-in that approves at once and reports its request log.
fn logging_stand_in() -> (MockServer, Receiver<MockEvent>) {
    let (sink, events) = std::sync::mpsc::channel();
    let config = MockConfig { auto_approve: true, log: true, ..MockConfig::default() };
    let server = MockServer::start_with_events(config, "127.0.0.1:0".parse().unwrap(), sink).expect("it starts");
    (server, events)
}

/// The stand-in's request log since last asked (each line is sent before its request is answered).
fn logged(events: &Receiver<MockEvent>) -> Vec<String> {
    let lines = events.try_iter().filter_map(|event| match event {
        MockEvent::Request(line) => Some(line),
        _ => None,
    });
    lines.collect()
}

/// The lines of `log` that start with `start`.
fn matching<'l>(log: &'l [String], start: &str) -> Vec<&'l String> {
    log.iter().filter(|line| line.starts_with(start)).collect()
}

/// Token requests in a log line: the only ones a running proxy makes are refreshes.
const TOKEN: &str = "POST /auth/realms/third-party/protocol/openid-connect/token ";

/// The access token profile `default` keeps.
fn kept_access_token(sandbox: &Sandbox) -> String {
    let text = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).expect("a kept profile");
    let kept: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    kept["access_token"].as_str().expect("an access token").to_owned()
}

/// `CLIENTS` clients, each on a connection of its own, send `request` at the same moment; their statuses
/// and bodies.
fn all_at_once(request: impl Fn(&ureq::Agent) -> (u16, String) + Sync) -> Vec<(u16, String)> {
    let barrier = Barrier::new(CLIENTS);
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                scope.spawn(|| {
                    let agent = agent();
                    barrier.wait();
                    request(&agent)
                })
            })
            .collect();
        clients.into_iter().map(|client| client.join().expect("a client")).collect()
    })
}

/// A GET of the account through the proxy at `base`.
fn account(agent: &ureq::Agent, base: &str) -> (u16, String) {
    let mut answer = agent.get(&format!("{base}/account")).call().expect("the proxy answers");
    (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap_or_default())
}

#[test]
fn a_token_that_expires_while_the_proxy_runs_is_refreshed_once_for_twenty_clients() {
    let (server, events) = logging_stand_in();
    let sandbox = Sandbox::new();
    let env = env_for(&server);
    login_with(&sandbox, &env);
    let (mut proxy, base) = start_proxy_with(&sandbox, &env);
    let (mut second, second_base) = start_proxy_with(&sandbox, &env);
    assert_eq!(account(&agent(), &base).0, 200, "the first proxy holds a token now, the second none yet");
    logged(&events);

    // Time passes: the kept token is past its expiry now, for the proxies as for every other process.
    expire_kept_access_token(&sandbox.store());
    let before = kept_access_token(&sandbox);
    let ok =
        |answers: &[(u16, String)]| answers.iter().all(|(status, body)| *status == 200 && body.contains("verified"));

    // The second proxy reads the expired token: its 20 clients share one refresh.
    let answers = all_at_once(|agent| account(agent, &second_base));
    assert!(ok(&answers), "{answers:?}");
    let log = logged(&events);
    let refreshes = matching(&log, TOKEN);
    assert_eq!(refreshes.len(), 1, "one refresh for all: {log:?}");
    assert!(refreshes[0].contains(" 200 "), "{refreshes:?}");
    assert_ne!(kept_access_token(&sandbox), before, "the new tokens are kept for every other process");

    // The refresh ended the first proxy's token at the server (sipgate's rule): its 20 clients are
    // rejected once, and it takes the second proxy's new token from the store instead of refreshing again.
    let answers = all_at_once(|agent| account(agent, &base));
    assert!(ok(&answers), "{answers:?}");
    let log = logged(&events);
    // (Clients that come after the first rejection are sent with the new token at once.)
    assert!(!matching(&log, "GET /v2/account 401 ").is_empty(), "{log:?}");
    assert_eq!(matching(&log, "GET /v2/account 200 ").len(), CLIENTS, "each answered once: {log:?}");
    assert_eq!(matching(&log, TOKEN), Vec::<&String>::new(), "one refresh served both proxies");

    for running in [&mut proxy, &mut second] {
        let _ = running.child.kill();
    }
    let token = kept_access_token(&sandbox);
    for done in [proxy.finish(), second.finish()] {
        assert!(!done.stderr.contains(&token) && !done.stderr.contains(&before), "no token in the proxy's output");
        assert!(!done.stdout.contains(&token) && !done.stdout.contains(&before));
    }
}

/// Kills `access_token` at the stand-in, as sipgate does when it ends a token early (RFC 7009 revocation).
fn revoke_access_token(server: &MockServer, access_token: &str) {
    let client = MockClient::demo();
    let form = sipgate_oauth::internals::query::encode([
        ("token", access_token),
        ("token_type_hint", "access_token"),
        ("client_id", client.id.as_str()),
        ("client_secret", client.secret.as_str()),
    ]);
    let url = format!("{}/auth/realms/third-party/protocol/openid-connect/revoke", server.base_url());
    let answer = agent().post(&url).header("Content-Type", "application/x-www-form-urlencoded").send(form);
    assert_eq!(answer.expect("the stand-in answers").status(), 200);
}

#[test]
fn a_401_from_upstream_means_one_refresh_and_every_request_sent_again_with_its_body() {
    let (server, events) = logging_stand_in();
    let sandbox = Sandbox::new();
    let env = with(env_for(&server), "OAUTH_SCOPE", "account:read sessions:sms:write");
    login_with(&sandbox, &env);
    let (mut proxy, base) = start_proxy_with(&sandbox, &env);
    assert_eq!(account(&agent(), &base).0, 200);
    let first = kept_access_token(&sandbox);
    revoke_access_token(&server, &first);
    logged(&events);

    let answers = all_at_once(|agent| account(agent, &base));
    assert!(answers.iter().all(|(status, body)| *status == 200 && body.contains("verified")), "{answers:?}");
    let log = logged(&events);
    // Clients that come after the first rejection are sent with the new token at once.
    assert!(!matching(&log, "GET /v2/account 401 ").is_empty(), "{log:?}");
    assert_eq!(matching(&log, "GET /v2/account 200 ").len(), CLIENTS, "each answered once: {log:?}");
    assert_eq!(matching(&log, TOKEN).len(), 1, "one refresh for 20 rejected requests: {log:?}");
    let second = kept_access_token(&sandbox);
    assert_ne!(second, first);

    // A request with a body is sent again with the same body: the stand-in checks every field.
    revoke_access_token(&server, &second);
    let sms = r#"{"smsId":"s0","recipient":"+4915790000000","message":"Hello"}"#;
    let answers = all_at_once(|agent| {
        let request = agent.post(&format!("{base}/sessions/sms")).header("Content-Type", "application/json");
        let mut answer = request.send(sms).expect("the proxy answers");
        (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap_or_default())
    });
    assert!(answers.iter().all(|(status, _)| *status == 204), "{answers:?}");
    let log = logged(&events);
    assert!(!matching(&log, "POST /v2/sessions/sms 401 ").is_empty(), "{log:?}");
    assert_eq!(matching(&log, "POST /v2/sessions/sms 204 ").len(), CLIENTS, "every body arrived again: {log:?}");
    assert_eq!(matching(&log, TOKEN).len(), 1, "again one refresh: {log:?}");

    // The log line follows the answer: wait for the 20 lines, then look for more.
    for _ in 0..CLIENTS {
        proxy.line(|line| line.starts_with("POST /v2/sessions/sms 204 "));
    }
    let _ = proxy.child.kill();
    let done = proxy.finish();
    let replayed = done.stderr.lines().filter(|line| line.starts_with("POST /v2/sessions/sms 204 ")).count();
    assert_eq!(replayed, CLIENTS, "one log line per client request, replays not counted twice:\n{}", done.stderr);
    let third = kept_access_token(&sandbox);
    for token in [&first, &second, &third] {
        assert!(!done.stderr.contains(token.as_str()) && !done.stdout.contains(token.as_str()));
    }
}

#[test]
fn a_body_up_to_the_replay_limit_is_sent_again_after_a_401_and_a_larger_one_is_not() {
    let (server, _events) = logging_stand_in();
    // An API that rejects every token: each 401 the proxy replays reaches it twice.
    let upstream = Server::start(|_| {
        let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
        tiny_http::Response::from_string(r#"{"rejected":"by upstream"}"#)
            .with_status_code(401)
            .with_header(json)
            .boxed()
    });
    let env = with(env_for(&server), "API_BASE_URL", &upstream.url("/v2"));
    let sandbox = Sandbox::new();
    login_with(&sandbox, &env);
    let (mut proxy, base) = start_proxy_with(&sandbox, &env);
    let post = |size: usize| {
        let body = vec![b'x'; size];
        let request = agent().post(&format!("{base}/sessions/sms")).header("Content-Type", "application/json");
        let mut answer = request.send(&body[..]).expect("the proxy answers");
        (answer.status().as_u16(), answer.body_mut().read_to_string().unwrap_or_default())
    };

    let fits = post(sipgate_oauth::proxy::REPLAY_LIMIT);
    assert_eq!(fits, (401, r#"{"rejected":"by upstream"}"#.to_owned()), "upstream's own answer, passed back");
    assert_eq!(upstream.hits(), 2, "a body of the limit is kept and sent again once after the refresh");
    let larger = post(sipgate_oauth::proxy::REPLAY_LIMIT + 1);
    assert_eq!(larger, (401, r#"{"rejected":"by upstream"}"#.to_owned()));
    assert_eq!(upstream.hits(), 3, "a larger body is streamed, once: its 401 is passed back as it is");
    let _ = proxy.child.kill();
}
