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

/// Paste mode's lines: the input (the rest of it repeated as the first byte says, to reach the bounds)
/// read through a small buffer. No panic; no line longer than `MAX_LINE`; reading ends, after at most
/// `MAX_TOTAL` bytes; every text line is what the input held between two line endings.
pub fn paste_lines(data: &[u8]) {
    use sipgate_oauth::internals::paste::{Line, Lines, MAX_LINE, MAX_TOTAL};
    let [times, capacity, rest @ ..] = data else { return };
    let input = rest.repeat(match times % 4 {
        0 | 1 => 1,
        2 => 9,
        _ => 300,
    });
    let reader = std::io::BufReader::with_capacity(usize::from(*capacity).max(1), input.as_slice());
    let lines: Vec<Line> = Lines::new(reader).take(input.len() + 2).collect();
    assert!(lines.len() <= input.len() + 1, "more lines than the input has bytes");
    let read: Vec<&[u8]> = input[..input.len().min(MAX_TOTAL as usize)].split(|&b| b == b'\n').collect();
    for (n, line) in lines.iter().enumerate() {
        match line {
            Line::Text(text) => {
                assert!(text.len() <= MAX_LINE && !text.contains('\n'), "line {n}: {} bytes", text.len());
                let raw = read.get(n).copied().unwrap_or_default();
                assert_eq!(text.as_bytes(), raw.strip_suffix(b"\r").unwrap_or(raw), "line {n}");
            }
            Line::TooMuch => assert_eq!(n + 1, lines.len(), "TooMuch is the last item"),
            Line::NotText | Line::TooLong => assert!(line.problem().is_some()),
        }
    }
    if input.len() as u64 <= MAX_TOTAL {
        assert!(!lines.contains(&Line::TooMuch), "TooMuch before MAX_TOTAL bytes");
    }
}

/// The device grant's answers (RFC 8628): the device authorization and one poll, status and body from the
/// input. No panic; an accepted prompt holds no control character and polls at least every 1 s; an
/// accepted poll's tokens are tokens; no wait of the polling loop goes past the code's life.
pub fn device_answers(data: &[u8]) {
    use std::time::Duration;

    use sipgate_oauth::internals::device::{read_authorization, read_poll, waits};
    let [a, b, slow, rest @ ..] = data else { return };
    let raw = String::from_utf8_lossy(rest);
    // Half the inputs are raw bodies; the other half answers of the right shape with fields from the input
    // (`\0` between them) and numbers from its first bytes, so that the checks past the shape are reached.
    let (status, body) = if slow & 1 == 0 {
        (u16::from_be_bytes([*a, *b]) % 600, raw.into_owned())
    } else {
        let mut fields = raw.split('\u{0}');
        let mut next = || fields.next().unwrap_or("x").to_owned();
        let number = |byte: u8| serde_json::Value::from(u64::from(byte) << (byte % 61));
        let body = serde_json::json!({
            "device_code": "device-code", "user_code": next(), "verification_uri": next(),
            "verification_uri_complete": next(), "expires_in": number(*a), "interval": number(*b),
            "access_token": next(), "refresh_token": next(), "token_type": "bearer",
        });
        (200, body.to_string())
    };
    let response = Response { status, www_authenticate: None, content_type: None, body };
    if let Ok(authorization) = read_authorization(&response) {
        let prompt = &authorization.prompt;
        for shown in [&prompt.user_code, &prompt.verification_uri].into_iter().chain(&prompt.verification_uri_complete)
        {
            assert!(!shown.chars().any(char::is_control), "a control character in the prompt: {shown:?}");
        }
        let (interval, expires_in) = (authorization.interval, prompt.expires_in);
        assert!(interval >= Duration::from_secs(1), "{interval:?}");
        // Bounded runs only: a loop of 10^18 one-second polls is correct, but not for a fuzzer to wait on.
        if expires_in.as_secs() / interval.as_secs().max(1) <= 1_000 {
            let slow: Vec<bool> = (0..8).map(|bit| slow & (1 << bit) != 0).collect();
            let waited = waits(interval, expires_in, &slow);
            assert!(waited.iter().sum::<Duration>() <= expires_in, "{waited:?} outlast {expires_in:?}");
        }
    }
    let expires_in = Duration::from_secs(u64::from(*slow));
    if let Ok(Some(tokens)) = read_poll(&response, expires_in, SystemTime::UNIX_EPOCH) {
        assert!(is_b64token(tokens.access_token.secret()), "an access token that is no b64token");
    }
}

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`, written
/// here again from the grammar (not the crate's check).
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.chars().all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
}

/// The token characters: an answer whose `access_token` and `refresh_token` are the input's two halves is
/// accepted exactly when the access token is a `b64token` and the refresh token printable ASCII (RFC 6749
/// A.17), and a refused one's message quotes neither (unless it is the message a one-character token of
/// the same kind gets: a token may be a word of that message by chance).
pub fn token_chars(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (access, refresh) = text.split_once('\u{0}').unwrap_or((&text, "refresh"));
    let parse = |access: &str, refresh: &str| {
        let body = serde_json::json!({
            "access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 300,
        })
        .to_string();
        let response = Response { status: 200, www_authenticate: None, content_type: None, body };
        TokenSet::from_response(Grant::AuthorizationCode, &response, SystemTime::UNIX_EPOCH, &mut |_| {})
    };
    let valid_refresh = refresh.is_empty() || refresh.bytes().all(|b| (0x20..=0x7e).contains(&b));
    match parse(access, refresh) {
        Ok(tokens) => {
            assert!(is_b64token(access) && valid_refresh, "accepted {access:?} / {refresh:?}");
            assert_eq!(tokens.access_token.secret(), access);
        }
        Err(error) => {
            assert!(!(is_b64token(access) && valid_refresh), "refused {access:?} / {refresh:?}: {error}");
            let message = error.to_string();
            let (a, r) = if is_b64token(access) { ("a", "\u{1}") } else { ("\u{1}", "r") };
            let template = parse(a, r).err().map(|e| e.to_string()).unwrap_or_default();
            for token in [access, refresh].into_iter().filter(|t| t.len() >= 8 && message != template) {
                assert!(!message.contains(token), "{message:?} quotes a token");
            }
        }
    }
}

/// `--paginate`'s page decisions on a hostile server: pages made from the input and served in a cycle
/// (so they repeat), with a `totalCount` that may never be reached. Following them always ends, within
/// `MAX_PAGES` pages; the offset never goes back; a list is done only on an empty page or at its total.
pub fn paging(data: &[u8]) {
    use sipgate_oauth::paging::{MAX_PAGES, Pages, Step};
    let [total, size, rest @ ..] = data else { return };
    let total = if total & 0x80 != 0 { u64::MAX } else { u64::from(*total) };
    let chunk = usize::from(size % 16);
    let pages: Vec<Vec<serde_json::Value>> = if chunk == 0 {
        vec![Vec::new()]
    } else {
        rest.chunks(chunk).map(|items| items.iter().map(|&b| serde_json::Value::from(b % 64)).collect()).collect()
    };
    let pages = if pages.is_empty() { vec![Vec::new()] } else { pages };
    let bytes = usize::from(*size) << 16;
    let mut seen = Pages::new(0);
    for n in 0.. {
        assert!(n <= MAX_PAGES, "more than {MAX_PAGES} pages followed");
        let page = &pages[n % pages.len()];
        let before = seen.offset();
        let step = seen.add(bytes, page, total);
        assert!(seen.offset() >= before, "the offset went back");
        match step {
            Step::Next => assert!(seen.offset() < total && !page.is_empty()),
            Step::Done => {
                assert!(page.is_empty() || seen.offset() >= total, "done at {} of {total}", seen.offset());
                break;
            }
            Step::Stop(why) | Step::Drop(why) => {
                assert!(!why.is_empty());
                break;
            }
        }
    }
}

/// A target: its name and its check.
pub type Target = (&'static str, fn(&[u8]));

/// Every target by name, for the stable driver.
pub const TARGETS: [Target; 9] = [
    ("callback_query", callback_query),
    ("token_response", token_response),
    ("error_body", error_body),
    ("config_url", config_url),
    ("mock_form", mock_form),
    ("paste_lines", paste_lines),
    ("device_answers", device_answers),
    ("token_chars", token_chars),
    ("paging", paging),
];
