//! TLS for real: nginx with certificates of a private CA in front of the stand-in (see `common::front`).
//! The tests that need nginx and openssl are `#[ignore]`d and run by `.ci/tls`:
//! `cargo test --test it -- --ignored tls::`.

use crate::common::front::{Front, Leaf, PROXIED_HOST, Pki};
use crate::common::proxy::Proxy;
use crate::common::*;

const NEEDS: &str = "needs nginx and openssl: run by .ci/tls";

/// Follows redirects by hand from `url` to the callback, with `agent`; the callback's status.
fn browse_with(agent: &ureq::Agent, url: &str) -> u16 {
    let mut url = url.to_owned();
    for _ in 0..5 {
        let response = agent.get(&url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
        match response.headers().get("location").and_then(|v| v.to_str().ok()) {
            Some(next) if response.status().is_redirection() => url = next.to_owned(),
            _ => return response.status().as_u16(),
        }
    }
    panic!("more than 5 redirects from {url}");
}

/// `login --no-browser` with `env` and `extra` arguments, the browser trusting the test CA; the finished run.
fn login(pki: &Pki, sandbox: &Sandbox, env: &[(&'static str, String)], extra: &[&str]) -> Finished {
    let mut run = sandbox.spawn(env, &[extra, &["login", "--no-browser"]].concat());
    browse_with(&pki.agent(), &run.authorization_url());
    run.finish()
}

fn trusting(env: Vec<(&'static str, String)>, pki: &Pki) -> Vec<(&'static str, String)> {
    with(env, "SIPGATE_OAUTH_CA_FILE", &pki.ca().display().to_string())
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn an_unknown_ca_is_named_with_the_fix_and_v_shows_the_chain() {
    let pki = Pki::new();
    let front = Front::start(&pki, Leaf::Good);
    let done = login(&pki, &Sandbox::new(), &env_for(&front.server), &["-v"]);
    assert_eq!(done.code(), Some(1), "{NEEDS}: {}", done.stderr);
    let error = done.stderr.lines().find(|line| line.starts_with("error: ")).expect("an error line");
    assert_eq!(
        error,
        "error: the TLS certificate of localhost is issued by an authority this computer does not trust — is your \
         company inspecting TLS? set SIPGATE_OAUTH_CA_FILE to its CA certificate"
    );
    assert!(
        done.stderr
            .contains("*   0 subject: CN=localhost\n*     issuer: O=sipgate-oauth tests, CN=sipgate-oauth test CA"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains("demo-secret") && !done.stderr.contains("UnknownIssuer"), "{}", done.stderr);
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn a_self_signed_certificate_is_called_so() {
    let pki = Pki::new();
    let front = Front::start(&pki, Leaf::SelfSigned);
    let done = login(&pki, &Sandbox::new(), &trusting(env_for(&front.server), &pki), &[]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains(
            "error: the TLS certificate of localhost is self-signed, and nothing this computer trusts vouches for \
             it — is your company inspecting TLS? set SIPGATE_OAUTH_CA_FILE to its CA certificate"
        ),
        "{}",
        done.stderr
    );
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn with_the_ca_file_login_token_and_api_work_over_https_and_v_leaks_nothing() {
    let pki = Pki::new();
    let front = Front::start(&pki, Leaf::Good);
    let sandbox = Sandbox::new();
    let env = trusting(env_for(&front.server), &pki);
    let done = login(&pki, &sandbox, &env, &["-v"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains(&format!("> POST {}", front.url("/auth/realms/third-party"))), "{}", done.stderr);
    let token = sandbox.run(&env, &["token"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    let access_token = token.stdout.trim().to_owned();
    assert!(!access_token.is_empty());
    let api = sandbox.run(&env, &["-v", "api", "GET", "/account"]);
    assert_eq!(api.code(), Some(0), "{}", api.stderr);
    assert!(api.json_documents()[0]["mainProductType"].is_string(), "{}", api.stdout);
    for stderr in [&done.stderr, &api.stderr] {
        assert!(!stderr.contains(&access_token) && !stderr.contains("demo-secret"), "{stderr}");
        assert!(!has_jwt_like(stderr), "{stderr}");
    }
    // The profile keeps the CA file: from another directory, without the variable, it still works.
    let kept = sandbox.run(&[], &["api", "GET", "/account"]);
    assert_eq!(kept.code(), Some(0), "{}", kept.stderr);
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn ssl_cert_file_and_ssl_cert_dir_are_trusted_without_our_variable() {
    let pki = Pki::new();
    let front = Front::start(&pki, Leaf::Good);
    // The system's bundle and the CA, as an administrator would put them together.
    let system = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default();
    let bundle = pki.dir.path().join("bundle.pem");
    std::fs::write(&bundle, system + &std::fs::read_to_string(pki.ca()).unwrap()).unwrap();
    let done =
        login(&pki, &Sandbox::new(), &with(env_for(&front.server), "SSL_CERT_FILE", bundle.to_str().unwrap()), &[]);
    assert_eq!(done.code(), Some(0), "SSL_CERT_FILE: {}", done.stderr);

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(pki.ca(), dir.path().join("test-ca.pem")).unwrap();
    let done =
        login(&pki, &Sandbox::new(), &with(env_for(&front.server), "SSL_CERT_DIR", dir.path().to_str().unwrap()), &[]);
    assert_eq!(done.code(), Some(0), "SSL_CERT_DIR: {}", done.stderr);
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn a_wrong_name_and_an_expired_certificate_are_not_excused_by_the_ca_file() {
    let pki = Pki::new();
    for (leaf, wanted) in [
        (
            Leaf::WrongName,
            "error: the TLS certificate of localhost is for another host (wrong.example) — check the host name in \
             the URL; no CA certificate makes it right for this one",
        ),
        (
            Leaf::Expired,
            "error: the TLS certificate of localhost has expired (valid until 2020-02-01T00:00:00Z) — check this \
             computer's clock (it says ",
        ),
    ] {
        let front = Front::start(&pki, leaf);
        let done = login(&pki, &Sandbox::new(), &trusting(env_for(&front.server), &pki), &[]);
        assert_eq!(done.code(), Some(1), "{leaf:?}: {}", done.stderr);
        assert!(done.stderr.lines().any(|line| line.starts_with(wanted)), "{leaf:?}: {}", done.stderr);
    }
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn a_redirect_from_https_to_http_is_never_followed() {
    let pki = Pki::new();
    let target = Server::start(|_| tiny_http::Response::from_string("{}").boxed());
    let location = format!("location = /downgrade {{ return 302 {}; }}", target.url("/token?code=SHOULD-NOT-SHOW"));
    let front = Front::with_locations(&pki, Leaf::Good, &location);
    let env = with(trusting(env_for(&front.server), &pki), "TOKEN_URL", &front.url("/downgrade"));
    let done = login(&pki, &Sandbox::new(), &env, &[]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("the token exchange was answered with a redirect (HTTP 302 to http://127.0.0.1:"),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains("SHOULD-NOT-SHOW"), "{}", done.stderr);
    assert_eq!(target.hits(), 0, "the redirect to plain http was followed");
}

#[test]
#[ignore = "needs nginx and openssl: run by .ci/tls"]
fn https_proxy_tunnels_tls_with_connect() {
    let pki = Pki::new();
    let front = Front::start(&pki, Leaf::Good);
    let proxy = Proxy::with_alias(Some(PROXIED_HOST));
    // The browser's page stays on localhost (never proxied); the token and API calls name a host that is
    // not loopback, so they go through the proxy, and TLS runs inside the tunnel.
    let proxied = format!("https://{PROXIED_HOST}:{}", front.port);
    let mut env = trusting(env_for(&front.server), &pki);
    env = with(env, "TOKEN_URL", &format!("{proxied}/auth/realms/third-party/protocol/openid-connect/token"));
    env = with(env, "TEST_API_ENDPOINT", &format!("{proxied}/v2/account"));
    env = with(env, "HTTPS_PROXY", &format!("http://{}", proxy.addr));
    let sandbox = Sandbox::new();
    let done = login(&pki, &sandbox, &env, &[]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let account = sandbox.run(&env, &["account"]);
    assert_eq!(account.code(), Some(0), "{}", account.stderr);
    let targets = proxy.targets();
    assert!(!targets.is_empty(), "nothing went through the proxy");
    let connect = format!("CONNECT {PROXIED_HOST}:{} HTTP/1.1", front.port);
    assert!(targets.iter().all(|line| *line == connect), "{targets:?}");
}

#[test]
fn a_ca_file_that_cannot_be_used_is_a_configuration_error_before_any_request() {
    let server = mock();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    for (file, wanted) in [
        (&missing, format!("error: SIPGATE_OAUTH_CA_FILE: cannot read {}: ", missing.display())),
        (
            &empty,
            format!(
                "error: SIPGATE_OAUTH_CA_FILE: {} holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----) \
                 — set it to a PEM file with the certificate of the authority to trust",
                empty.display()
            ),
        ),
    ] {
        let env = with(env_for(&server), "SIPGATE_OAUTH_CA_FILE", file.to_str().unwrap());
        let done = Sandbox::new().run(&env, &["login", "--no-browser"]);
        assert_eq!(done.code(), Some(2), "{}", done.stderr);
        assert!(done.stderr.lines().any(|line| line.starts_with(&wanted)), "{wanted}\n{}", done.stderr);
    }
    assert_eq!(server.requests(), 0);
}
