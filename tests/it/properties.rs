//! Property tests: the parsers never panic on any input, encoding round-trips, and no secret value gets
//! through the redaction, the error messages or `Debug`. The stand-in's request parsing is driven over
//! real sockets with arbitrary forms and bytes.

use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use sipgate_oauth::internals::{Record, query, redact};
use sipgate_oauth::{Config, Grant, OAuthError, Response, TokenSet};

/// A value that cannot appear in a message by chance.
fn secret_value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{12,40}"
}

const SECRET_KEYS: [&str; 10] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "state",
    "token",
    "session_state",
    "password",
];

/// A JSON document with secrets under secret keys at several depths, among other fields.
fn json_with_secrets() -> impl Strategy<Value = (serde_json::Value, Vec<(String, String)>)> {
    let field = (prop::sample::select(&SECRET_KEYS[..]), secret_value(), 0..3usize, any::<bool>());
    (prop::collection::vec(field, 1..6), prop::collection::vec(("[a-z_]{1,8}", ".{0,20}"), 0..4)).prop_map(
        |(secrets, others)| {
            let mut root = serde_json::Map::new();
            for (name, value) in others {
                root.insert(name, serde_json::Value::String(value));
            }
            let mut values = Vec::new();
            for (key, value, depth, in_array) in secrets {
                let mut inner = serde_json::json!({ key: value });
                for level in 0..depth {
                    inner = if in_array {
                        serde_json::json!([inner])
                    } else {
                        serde_json::json!({ format!("n{level}"): inner })
                    };
                }
                root.insert(format!("f{}", values.len()), inner);
                values.push((key.to_owned(), value));
            }
            (serde_json::Value::Object(root), values)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decode_never_panics(input in ".{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = query::decode(&input);
        let _ = query::decode_bytes(&bytes);
    }

    #[test]
    fn decode_inverts_encode(pairs in prop::collection::vec(("\\PC{0,12}", "\\PC{0,24}"), 0..8)) {
        let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, v)| !(k.is_empty() && v.is_empty())).collect();
        let encoded = query::encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        prop_assert_eq!(query::decode(&encoded), Ok(pairs));
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn token_responses_never_panic(status in 0u16..600, body in ".{0,300}") {
        let response = Response { status, www_authenticate: None, content_type: None, body };
        let _ = TokenSet::from_response(Grant::AuthorizationCode, &response, SystemTime::now(), &mut |_| {});
        let _ = OAuthError::from_json(&response.body);
    }

    #[test]
    fn no_token_of_a_body_reaches_an_error_message(
        status in prop::sample::select(vec![200u16, 201, 400, 401, 403, 500, 502, 503]),
        (json, secrets) in json_with_secrets(),
        token_type in prop::sample::select(vec!["bearer", "mac", "", "Bearer"]),
        as_form in any::<bool>(),
    ) {
        let mut json = json;
        json["token_type"] = token_type.into();
        // A form has no nesting: the secrets are top-level fields there.
        let body = if as_form {
            let mut pairs = secrets.clone();
            pairs.push(("token_type".to_owned(), token_type.to_owned()));
            query::encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        } else {
            json.to_string()
        };
        let response = Response { status, www_authenticate: None, content_type: None, body };
        if let Err(error) = TokenSet::from_response(Grant::Refresh, &response, SystemTime::now(), &mut |_| {}) {
            let (shown, debug) = (error.to_string(), format!("{error:?}"));
            for (_, secret) in &secrets {
                prop_assert!(!shown.contains(secret.as_str()), "{} in {}", secret, shown);
                prop_assert!(!debug.contains(secret.as_str()), "{} in {}", secret, debug);
            }
        }
    }

    #[test]
    fn oauth_error_bodies_never_panic(error in ".{0,30}", description in prop::option::of(".{0,60}"), junk in ".{0,40}") {
        let body = serde_json::json!({"error": error, "error_description": description}).to_string();
        let parsed = OAuthError::from_json(&body).expect("an error body");
        // What reaches the terminal has its control characters replaced; everything else is kept.
        prop_assert_eq!(&parsed.error, &redact::terminal_safe(&error));
        prop_assert_eq!(parsed.description, description.map(|d| redact::terminal_safe(&d)));
        prop_assert!(!parsed.error.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        let _ = OAuthError::from_json(&junk);
        let _ = OAuthError::from_json(&format!("{{\"error\":{junk}}}"));
    }

    #[test]
    fn config_from_arbitrary_urls_never_panics(
        urls in prop::collection::vec(prop_oneof![
            ".{0,40}",
            "(https?|ftp)://[a-z0-9.:@\\[\\]-]{0,20}(/[a-z0-9%?#&=]{0,10}){0,3}",
            Just("http://[::1]:0/cb".to_owned()),
            Just("http://127.0.0.1:65536/cb".to_owned()),
        ], 5),
        port in prop::option::of("[0-9a-z]{0,6}"),
    ) {
        let vars = [
            ("AUTH_URL", urls[0].clone()),
            ("TOKEN_URL", urls[1].clone()),
            ("TEST_API_ENDPOINT", urls[2].clone()),
            ("REDIRECT_URI", urls[3].clone()),
            ("API_BASE_URL", urls[4].clone()),
            ("CLIENT_ID", "id".into()),
            ("CLIENT_SECRET", "PROP-CLIENT-SECRET".into()),
            ("OAUTH_SCOPE", "account:read".into()),
        ];
        let result = Config::from_lookup(|name| {
            if name == "PORT" { return port.clone() }
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        });
        match result {
            Ok(config) => {
                prop_assert!(sipgate_oauth::internals::is_loopback_host(&config.redirect.host));
                let shown = format!("{:?}", config);
                prop_assert!(!shown.contains("PROP-CLIENT-SECRET"));
            }
            Err(error) => prop_assert!(!error.to_string().contains("PROP-CLIENT-SECRET")),
        }
    }

    #[test]
    fn redacted_json_keeps_no_secret((json, secrets) in json_with_secrets()) {
        let shown = redact::body(&json.to_string());
        for (_, secret) in &secrets {
            prop_assert!(!shown.contains(secret.as_str()), "{} in {}", secret, shown);
        }
    }

    #[test]
    fn redacted_urls_keep_no_secret(
        fields in prop::collection::vec((prop::sample::select(&SECRET_KEYS[..]), secret_value()), 1..6),
        others in prop::collection::vec(("[a-z]{1,6}", "\\PC{0,10}"), 0..4),
    ) {
        let mut pairs: Vec<(String, String)> = others;
        pairs.extend(fields.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let url = format!("https://login.example/auth?{}", query::encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        let shown = redact::url(&url);
        for (_, secret) in &fields {
            prop_assert!(!shown.contains(secret.as_str()), "{} in {}", secret, shown);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// The stand-in over HTTP: any form or bytes to the token endpoint and /auth answer within the
    /// timeout, and never with a 5xx (no faults are injected here).
    #[test]
    fn the_stand_in_answers_anything_without_a_5xx(
        endpoint in prop::sample::select(vec!["token", "revoke", "logout", "auth"]),
        form in prop::collection::vec((prop_oneof![
            prop::sample::select(vec!["grant_type", "code", "client_id", "client_secret", "redirect_uri",
                "code_verifier", "refresh_token", "token", "response_type", "scope", "state",
                "code_challenge", "code_challenge_method", "decision"]).prop_map(str::to_owned),
            "\\PC{0,8}",
        ], prop_oneof![
            prop::sample::select(vec!["authorization_code", "refresh_token", "sipgate-oauth-demo", "demo-secret",
                "http://127.0.0.1/oauth", "code", "S256", "allow", "deny", "account:read"]).prop_map(str::to_owned),
            "\\PC{0,50}",
        ]), 0..8),
        raw in prop::option::of(prop::collection::vec(any::<u8>(), 0..300)),
        content_type in prop::sample::select(vec!["application/x-www-form-urlencoded", "text/plain", "application/json", ""]),
        basic in prop::option::of("[ -~]{0,40}"),
        as_query in any::<bool>(),
    ) {
        let server = stand_in();
        let url = format!("{}/auth/realms/third-party/protocol/openid-connect/{endpoint}", server.base_url());
        let body = raw.unwrap_or_else(|| query::encode(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))).into_bytes());
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(10)))
            .proxy(None)
            .build()
            .new_agent();
        let result = if as_query && endpoint == "auth" {
            // As a browser sends it: printable ASCII as it is, every other byte percent-encoded.
            let query: String = body
                .iter()
                .map(|&b| if b.is_ascii_graphic() && b != b'#' { char::from(b).to_string() } else { format!("%{b:02X}") })
                .collect();
            agent.get(&format!("{url}?{query}")).call()
        } else {
            let mut request = agent.post(&url);
            if !content_type.is_empty() {
                request = request.header("Content-Type", content_type);
            }
            if let Some(basic) = &basic {
                request = request.header("Authorization", format!("Basic {}", basic.replace(['\r', '\n'], "")));
            }
            request.send(&body[..])
        };
        match result {
            Ok(response) => prop_assert!(response.status().as_u16() < 500, "{} {}", endpoint, response.status()),
            // A URL or header ureq itself refuses to send is not the stand-in's business.
            Err(ureq::Error::Http(_) | ureq::Error::BadUri(_)) => {}
            Err(error) => prop_assert!(false, "{} failed: {}", endpoint, error),
        }
    }
}

fn stand_in() -> &'static sipgate_oauth::mock::MockServer {
    static SERVER: std::sync::OnceLock<sipgate_oauth::mock::MockServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(crate::common::mock)
}

#[test]
fn debug_of_tokens_stored_tokens_and_config_shows_no_secret() {
    let body = r#"{"access_token":"AT-SECRET-1","token_type":"bearer","refresh_token":"RT-SECRET-2",
        "id_token":"ID-SECRET-3","expires_in":300,"scope":"account:read"}"#;
    let response = Response { status: 200, www_authenticate: None, content_type: None, body: body.into() };
    let tokens = TokenSet::from_response(Grant::AuthorizationCode, &response, SystemTime::now(), &mut |_| {}).unwrap();
    let stored = Record {
        token_url: "https://login.example/token".into(),
        client_id: "c".into(),
        tokens: tokens.clone(),
        user_id: Some("w0".into()),
        config: [("CLIENT_SECRET".to_owned(), "CS-SECRET-4".to_owned())].into(),
    };
    let vars = [
        ("AUTH_URL", "https://login.example/auth"),
        ("TOKEN_URL", "https://login.example/token"),
        ("TEST_API_ENDPOINT", "https://api.example/v2/account"),
        ("CLIENT_ID", "c"),
        ("CLIENT_SECRET", "CS-SECRET-4"),
        ("OAUTH_SCOPE", "account:read"),
        ("REDIRECT_URI", "http://localhost:8080/oauth"),
    ];
    let config = Config::from_lookup(|k| vars.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())).unwrap();
    for shown in [format!("{tokens:?}"), format!("{stored:?}"), format!("{config:?}"), format!("{tokens:#?}")] {
        for secret in ["AT-SECRET-1", "RT-SECRET-2", "ID-SECRET-3", "CS-SECRET-4"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("[redacted]"), "{shown}");
    }
}
