//! Transport rules, through the real binary: redirects from the token endpoint or the API are not
//! followed, response bodies are capped, plain `http://` is refused off loopback, and proxies come from
//! the environment (`HTTPS_PROXY`, `NO_PROXY`).

use crate::common::proxy::Proxy;
use crate::common::*;

/// A server counting hits, and one that redirects everything to it.
fn redirect_pair() -> (Server, Server) {
    let target = Server::start(|_| tiny_http::Response::from_string("{}").boxed());
    let location = target.url("/elsewhere?code=SHOULD-NOT-SHOW");
    let redirector = Server::start(move |_| {
        let header = tiny_http::Header::from_bytes("Location", location.as_str()).unwrap();
        tiny_http::Response::empty(302).with_header(header).boxed()
    });
    (target, redirector)
}

/// Signs in with `login` against `server`.
fn login(sandbox: &Sandbox, env: &[(&'static str, String)]) {
    let mut run = sandbox.spawn(env, &["login", "--no-browser"]);
    assert_eq!(browse(&run.authorization_url()).0, 200);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

#[test]
fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let server = mock();
    let (target, redirector) = redirect_pair();
    let env = with(env_for(&server), "TOKEN_URL", &redirector.url("/token"));
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env, &["--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 400, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(
        done.stderr.contains("the token exchange was answered with a redirect (HTTP 302 to http://"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("which is not followed"), "{}", done.stderr);
    assert!(done.stderr.contains("code=[redacted]") && !done.stderr.contains("SHOULD-NOT-SHOW"), "{}", done.stderr);
    assert_eq!(redirector.hits(), 1);
    assert_eq!(target.hits(), 0, "the redirect was followed");
}

#[test]
fn a_redirect_from_the_api_is_not_followed_and_the_token_stays_here() {
    let server = mock();
    let sandbox = Sandbox::new();
    let (target, redirector) = redirect_pair();
    let env = with(env_for(&server), "TEST_API_ENDPOINT", &redirector.url("/v2/account"));
    login(&sandbox, &env);
    let hits_at_login = redirector.hits();
    let done = sandbox.run(&env, &["account"]);
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("/v2/account was answered with a redirect (HTTP 302"), "{}", done.stderr);
    assert_eq!(redirector.hits(), hits_at_login + 1);
    assert_eq!(target.hits(), 0, "the redirect (and with it the bearer token) was followed");
    assert!(done.stdout.is_empty());
}

#[test]
fn a_huge_answer_is_cut_off_with_an_error() {
    let server = mock();
    let huge = Server::start(|_| tiny_http::Response::from_data(vec![b'x'; 5 * 1024 * 1024]).boxed());
    for (var, args) in [("TEST_API_ENDPOINT", &["account"][..]), ("API_BASE_URL", &["api", "/anything"])] {
        let sandbox = Sandbox::new();
        let env = with(env_for(&server), var, &huge.url("/v2/account"));
        login(&sandbox, &env);
        let done = sandbox.run(&env, args);
        assert_eq!(done.code(), Some(1), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains("larger than"), "{args:?}: {}", done.stderr);
        assert!(done.stdout.is_empty(), "nothing of the body is printed");
    }

    let sandbox = Sandbox::new();
    let env = with(env_for(&server), "TOKEN_URL", &huge.url("/token"));
    let mut run = sandbox.spawn(&env, &["--no-browser"]);
    browse(&run.authorization_url());
    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(
        done.stderr.contains("the token exchange failed") && done.stderr.contains("larger than"),
        "{}",
        done.stderr
    );
}

#[test]
fn plain_http_off_loopback_is_refused_before_anything_is_sent() {
    let server = mock();
    for (var, url) in [
        ("TOKEN_URL", "http://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/token"),
        ("AUTH_URL", "http://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth"),
        ("TEST_API_ENDPOINT", "http://api.sipgate.com/v2/account"),
        ("REVOKE_URL", "http://10.0.0.1/revoke"),
    ] {
        let done = Sandbox::new().run(&with(env_for(&server), var, url), &["--no-browser"]);
        assert_eq!(done.code(), Some(2), "{var}: {}", done.stderr);
        assert!(
            done.stderr
                .contains(&format!("{var}: must use https:// (plain http:// is only allowed for loopback hosts)")),
            "{}",
            done.stderr
        );
    }
    assert_eq!(server.requests(), 0);
}

#[test]
fn loopback_never_goes_through_a_proxy_and_other_hosts_do() {
    let server = mock();
    let proxy = Proxy::start();
    let proxy_url = format!("http://{}", proxy.addr);
    let sandbox = Sandbox::new();

    // The stand-in is on loopback: no proxy variable sends secrets through the proxy, NO_PROXY or not.
    for var in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy"] {
        let mut env = env_for(&server);
        env.push((var, proxy_url.clone()));
        let mut run = sandbox.spawn(&env, &["--no-browser"]);
        assert_eq!(browse(&run.authorization_url()).0, 200);
        let done = run.finish();
        assert_eq!(done.code(), Some(0), "{var}: {}", done.stderr);
        assert_eq!(proxy.targets(), Vec::<String>::new(), "{var}: loopback traffic went to the proxy");
    }

    // Any other host goes through the proxy of the environment (which refuses to tunnel off this machine).
    let mut env = with(env_for(&server), "TOKEN_URL", "https://login.sipgate.invalid/token");
    env.push(("HTTPS_PROXY", proxy_url.clone()));
    let mut run = sandbox.spawn(&env, &["--no-browser", "login"]);
    browse(&run.authorization_url());
    let done = run.finish();
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert_eq!(proxy.targets(), vec!["CONNECT login.sipgate.invalid:443 HTTP/1.1".to_owned()]);
}
