//! The checks behind the fuzz targets, shared by the libFuzzer targets (`fuzz_targets/`) and the stable
//! driver (`src/bin/drive.rs`). Each one takes arbitrary bytes, must never panic, and asserts what the
//! code promises for every input.

use std::sync::OnceLock;
use std::time::SystemTime;

use sipgate_oauth::internals::redact::is_secret_name;
use sipgate_oauth::internals::{answer_status, is_loopback_host, query};
use sipgate_oauth::mock::{MockConfig, MockServer};
use sipgate_oauth::{Config, Grant, OAuthError, Response, TokenSet};

/// The callback's parsing: the query decoder (strict; round-trips through the encoder) and the whole
/// request head as the callback server reads it (never the genuine callback without the right state).
pub fn callback_query(data: &[u8]) {
    if let Ok(pairs) = query::decode_bytes(data) {
        for (key, _) in &pairs {
            let _ = query::single(&pairs, key);
        }
        let encoded = query::encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(query::decode(&encoded).as_ref(), Ok(&pairs), "decode(encode(pairs)) == pairs");
    }
    const STATE: &str = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4";
    let verdict = answer_status(data, "/oauth", STATE);
    if verdict.is_none() {
        let text = String::from_utf8_lossy(data);
        assert!(text.contains(STATE), "a callback without the state was accepted: {text:?}");
    }
}

/// Values of secret fields in a body (JSON at any depth, or `name=value` pairs), at least 8 characters
/// long so that they cannot appear in a message by chance.
fn secrets_in(body: &str) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match inner {
                        serde_json::Value::String(s) if is_secret_name(key) => out.push(s.clone()),
                        _ => walk(inner, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        walk(&value, &mut out);
    }
    if let Ok(pairs) = query::decode(body) {
        out.extend(pairs.into_iter().filter(|(k, _)| is_secret_name(k)).map(|(_, v)| v));
    }
    // A value that also occurs elsewhere in the body (outside its secret field) may be shown there.
    out.retain(|s| {
        s.chars().count() >= 8 && s.chars().all(|c| c.is_ascii_alphanumeric()) && body.matches(s.as_str()).count() == 1
    });
    out
}

/// The token endpoint's answer: never a panic, and no secret of the body in the error message.
pub fn token_response(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]) % 600, rest),
        _ => (200, data),
    };
    let body = String::from_utf8_lossy(body).into_owned();
    let response = Response { status, www_authenticate: None, content_type: None, body };
    for grant in [Grant::AuthorizationCode, Grant::Refresh] {
        if let Err(error) = TokenSet::from_response(grant, &response, SystemTime::UNIX_EPOCH, &mut |_| {}) {
            let message = error.to_string();
            let debug = format!("{error:?}");
            for secret in secrets_in(&response.body) {
                assert!(!message.contains(&secret), "{secret:?} leaked into {message:?}");
                assert!(!debug.contains(&secret), "{secret:?} leaked into {debug:?}");
            }
        }
    }
}

/// An RFC 6749 §5.2 error body: never a panic; what is read is what the body said.
pub fn error_body(data: &[u8]) {
    let body = String::from_utf8_lossy(data);
    if let Some(error) = OAuthError::from_json(&body) {
        let shown = error.to_string();
        assert!(shown.starts_with(&error.error));
    }
}

/// Configuration from arbitrary URL strings: never a panic; what is accepted keeps the transport rules.
pub fn config_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = |fallback: &str| fields.next().map_or_else(|| fallback.to_owned(), str::to_owned);
    let vars = [
        ("AUTH_URL", next("https://login.example/auth")),
        ("TOKEN_URL", next("https://login.example/token")),
        ("TEST_API_ENDPOINT", next("https://api.example/v2/account")),
        ("REDIRECT_URI", next("http://localhost:8080/oauth")),
        ("PORT", next("")),
        ("REVOKE_URL", next("")),
        ("API_BASE_URL", next("")),
        ("CLIENT_ID", "id".to_owned()),
        ("CLIENT_SECRET", "FUZZ-SECRET-VALUE".to_owned()),
        ("OAUTH_SCOPE", "account:read".to_owned()),
    ];
    match Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())) {
        Ok(config) => {
            for url in [&config.auth_url, &config.token_url, &config.api_endpoint, &config.revoke_url] {
                // Schemes are case-insensitive (RFC 3986 §3.1): `HTTPS://` is https.
                let url = url.to_ascii_lowercase();
                let secure = url.starts_with("https://");
                let loopback = url.strip_prefix("http://").is_some_and(|rest| {
                    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                    let host = if host.starts_with('[') {
                        host.split_inclusive(']').next().unwrap_or(host)
                    } else {
                        host.split(':').next().unwrap_or(host)
                    };
                    is_loopback_host(host)
                });
                assert!(secure || loopback, "accepted a plain http:// endpoint off loopback: {url}");
            }
            assert!(is_loopback_host(&config.redirect.host), "{:?}", config.redirect);
            assert!(!format!("{config:?}").contains("FUZZ-SECRET-VALUE"));
        }
        Err(error) => assert!(!error.to_string().contains("FUZZ-SECRET-VALUE")),
    }
}

fn stand_in() -> &'static MockServer {
    static SERVER: OnceLock<MockServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let config = MockConfig { auto_approve: true, ..MockConfig::default() };
        MockServer::start(config, "127.0.0.1:0".parse().expect("an address")).expect("the stand-in starts")
    })
}

/// The stand-in's request parsing (forms, queries, Basic credentials): never a panic, never a 5xx.
pub fn mock_form(data: &[u8]) {
    let [endpoint, content_type, rest @ ..] = data else { return };
    let (authorization, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(at) => (Some(String::from_utf8_lossy(&rest[..at]).into_owned()), &rest[at + 1..]),
        None => (None, rest),
    };
    let realm = "/auth/realms/third-party/protocol/openid-connect";
    let (method, path) = match endpoint % 8 {
        0 => ("POST", format!("{realm}/token")),
        1 => ("POST", format!("{realm}/revoke")),
        2 => ("POST", format!("{realm}/logout")),
        3 => ("POST", format!("{realm}/auth")),
        4 => ("GET", format!("{realm}/auth?{}", String::from_utf8_lossy(body))),
        5 => ("GET", "/v2/account".to_owned()),
        6 => ("GET", format!("{realm}/userinfo")),
        _ => ("GET", String::from_utf8_lossy(body).into_owned()),
    };
    let content_type = match content_type % 4 {
        0 => None,
        1 => Some("application/x-www-form-urlencoded"),
        2 => Some("application/x-www-form-urlencoded; charset=utf-8"),
        _ => Some("application/json"),
    };
    let (status, _) = stand_in().answer(method, &path, authorization.as_deref(), content_type, body);
    assert!((200..500).contains(&status), "{method} {path:?} got {status}");
}

/// Every target by name, for the stable driver.
pub const TARGETS: [(&str, fn(&[u8])); 5] = [
    ("callback_query", callback_query),
    ("token_response", token_response),
    ("error_body", error_body),
    ("config_url", config_url),
    ("mock_form", mock_form),
];
