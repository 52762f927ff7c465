//! The stand-in, driven over HTTP: one test per behaviour of `docs/sipgate.md` it reproduces.
//!
//! Every test starts its own `MockServer` on 127.0.0.1:0 and talks to it with a ureq agent that
//! neither follows redirects nor turns 4xx/5xx into errors. Nothing here reaches the internet or
//! sleeps to wait for something.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sipgate_oauth::internals::query;
use sipgate_oauth::mock::{Faults, MockClient, MockConfig, MockServer};

use crate::common::PATIENCE;
use crate::common::stand::*;

fn pkce_pair() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(b"0123456789abcdef0123456789abcdef-pkce-verifier");
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    (verifier, challenge)
}

// ---------------------------------------------------------------- discovery, routing

#[test]
fn discovery_lists_this_servers_endpoints_for_both_realms() {
    let stand = start(MockConfig::default());
    for realm in ["third-party", "sipgate-apps"] {
        let base = stand.server.base_url();
        let answer = stand.get(&format!("{base}/auth/realms/{realm}/.well-known/openid-configuration"));
        assert_eq!(answer.status, 200);
        let doc = answer.json();
        let issuer = format!("{base}/auth/realms/{realm}");
        assert_eq!(doc["issuer"], issuer.as_str());
        assert_eq!(doc["authorization_endpoint"], format!("{issuer}/protocol/openid-connect/auth"));
        assert_eq!(doc["token_endpoint"], format!("{issuer}/protocol/openid-connect/token"));
        assert_eq!(doc["revocation_endpoint"], format!("{issuer}/protocol/openid-connect/revoke"));
        assert_eq!(doc["end_session_endpoint"], format!("{issuer}/protocol/openid-connect/logout"));
        assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["plain", "S256"]));
        assert_eq!(doc["grant_types_supported"], serde_json::json!(["authorization_code", "refresh_token"]));
    }
}

#[test]
fn unknown_path_and_unknown_realm_are_404_json() {
    let stand = start(MockConfig::default());
    let base = stand.server.base_url();
    let answer = stand.get(&format!("{base}/v2/nothing"));
    assert_eq!(answer.status, 404);
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.oauth_error().0, "not_found");
    let answer = stand.get(&format!("{base}/auth/realms/master/protocol/openid-connect/auth"));
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["error"], "Realm does not exist");
}

#[test]
fn wrong_method_is_405() {
    let stand = start(MockConfig::default());
    let answer = stand.get(&stand.oidc("token"));
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), "POST");
}

#[test]
fn env_lists_the_dotenv_lines_in_order() {
    let stand = start(MockConfig::default());
    let base = stand.server.base_url();
    assert_eq!(base, format!("http://127.0.0.1:{}", stand.server.addr().port()));
    let env = stand.server.env("sipgate-apps", &demo());
    let names: Vec<&str> = env.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        ["AUTH_URL", "TOKEN_URL", "TEST_API_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET", "OAUTH_SCOPE", "REDIRECT_URI"]
    );
    assert_eq!(env[0].1, format!("{base}/auth/realms/sipgate-apps/protocol/openid-connect/auth"));
    assert_eq!(env[1].1, format!("{base}/auth/realms/sipgate-apps/protocol/openid-connect/token"));
    assert_eq!(env[2].1, format!("{base}/v2/account"));
    assert_eq!((env[3].1.as_str(), env[4].1.as_str()), ("sipgate-oauth-demo", "demo-secret"));
    assert_eq!((env[5].1.as_str(), env[6].1.as_str()), ("account:read", "http://127.0.0.1/oauth"));
}

// ---------------------------------------------------------------- authorization endpoint

#[test]
fn auth_unknown_client_shows_an_html_error_page_and_no_redirect() {
    let stand = start(auto());
    let answer = stand.authorize(&[("client_id", "nobody")]);
    assert_eq!(answer.status, 400);
    assert!(answer.header("content-type").starts_with("text/html"));
    assert!(answer.body.contains("Client not found."), "{}", answer.body);
    assert!(answer.headers.get("location").is_none());
}

#[test]
fn auth_unregistered_redirect_uri_shows_invalid_parameter_page_and_no_redirect() {
    let stand = start(auto());
    for uri in ["http://localhost:9999/oauth", "http://127.0.0.1:54321/other", "https://evil.example/cb", ""] {
        let answer = stand.authorize(&[("redirect_uri", uri)]);
        assert_eq!(answer.status, 400, "{uri}");
        assert!(answer.body.contains("Invalid parameter: redirect_uri"), "{}", answer.body);
        assert!(answer.headers.get("location").is_none());
    }
}

#[test]
fn auth_loopback_redirect_uri_matches_on_any_port() {
    let stand = start(auto());
    for uri in ["http://127.0.0.1/oauth", "http://127.0.0.1:1/oauth", "http://127.0.0.1:65535/oauth"] {
        let answer = stand.authorize(&[("redirect_uri", uri)]);
        assert_eq!(answer.status, 302, "{uri}");
        assert!(answer.header("location").starts_with(&format!("{uri}?")), "{}", answer.header("location"));
    }
    // localhost is not an IP literal: exact match only.
    assert_eq!(stand.authorize(&[("redirect_uri", "http://localhost:8080/oauth")]).status, 302);
    assert_eq!(stand.authorize(&[("redirect_uri", "http://localhost:8081/oauth")]).status, 400);
}

#[test]
fn auth_auto_approve_redirects_with_code_state_session_state_and_iss() {
    let stand = start(auto());
    let answer = stand.authorize(&[]);
    assert_eq!(answer.status, 302);
    assert!(answer.header("location").starts_with("http://127.0.0.1:54321/oauth?"));
    let params = answer.location_params();
    assert!(param(&params, "code").is_some_and(|code| code.len() >= 32));
    assert_eq!(param(&params, "state").as_deref(), Some("st-1"));
    assert!(param(&params, "session_state").is_some());
    assert_eq!(param(&params, "iss"), Some(format!("{}/auth/realms/{REALM}", stand.server.base_url())));
}

#[test]
fn auth_wrong_response_type_redirects_with_unsupported_response_type() {
    let stand = start(auto());
    let params = stand.authorize(&[("response_type", "token")]).location_params();
    assert_eq!(param(&params, "error").as_deref(), Some("unsupported_response_type"));
    assert!(param(&params, "error_description").is_some());
    assert_eq!(param(&params, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&params, "code"), None);
    let params = stand.authorize(&[("response_type", "")]).location_params();
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&params, "error_description").as_deref(), Some("Missing parameter: response_type"));
}

#[test]
fn auth_unknown_scope_redirects_with_invalid_scope() {
    let stand = start(auto());
    let params = stand.authorize(&[("scope", "account:read telepathy:write")]).location_params();
    assert_eq!(param(&params, "error").as_deref(), Some("invalid_scope"));
    assert_eq!(param(&params, "error_description").as_deref(), Some("Invalid scopes: account:read telepathy:write"));
    assert_eq!(param(&params, "state").as_deref(), Some("st-1"));
}

#[test]
fn auth_bad_pkce_parameters_redirect_with_invalid_request() {
    let stand = start(auto());
    let (_, challenge) = pkce_pair();
    let cases = [
        (vec![("code_challenge_method", "S256")], "Missing parameter: code_challenge"),
        (
            vec![("code_challenge", challenge.as_str()), ("code_challenge_method", "S512")],
            "Invalid parameter: code_challenge_method",
        ),
        (vec![("code_challenge", "short"), ("code_challenge_method", "S256")], "Invalid parameter: code_challenge"),
    ];
    for (extra, description) in cases {
        let params = stand.authorize(&extra).location_params();
        assert_eq!(param(&params, "error").as_deref(), Some("invalid_request"));
        assert_eq!(param(&params, "error_description").as_deref(), Some(description));
    }
}

#[test]
fn auth_sign_in_page_shows_client_and_scopes_escaped_and_not_cached() {
    let stand = start(MockConfig::default());
    let answer = stand.authorize(&[("scope", "account:read openid"), ("state", "\"><script>alert(1)</script>")]);
    assert_eq!(answer.status, 200);
    assert!(answer.header("content-type").starts_with("text/html"));
    assert_eq!(answer.header("cache-control"), "no-store");
    assert!(answer.header("content-security-policy").starts_with("default-src 'none'"));
    let page = &answer.body;
    assert!(page.contains("sipgate-oauth-demo") && page.contains("account:read") && page.contains("openid"));
    assert!(!page.contains("<script>"), "unescaped: {page}");
    assert!(page.contains("&quot;&gt;&lt;script&gt;"));
    assert!(page.contains("name=\"decision\" value=\"allow\"") && page.contains("name=\"decision\" value=\"deny\""));
    assert!(page.contains(&format!("action=\"/auth/realms/{REALM}/protocol/openid-connect/auth\"")));
    assert!(!page.contains("src=") && !page.contains("href="), "no external resources");
}

/// The form fields of the sign-in page plus a decision, as the browser would post them.
fn post_decision(stand: &Stand, decision: &str) -> Answer {
    let page = stand.authorize(&[]).body;
    let mut form: Vec<(String, String)> = Vec::new();
    for input in page.split("<input type=\"hidden\" ").skip(1) {
        let attribute = |name: &str| {
            let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            let end = start + input[start..].find('"').unwrap();
            input[start..end].replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'")
        };
        form.push((attribute("name"), attribute("value")));
    }
    form.push(("decision".into(), decision.into()));
    read(stand.agent.post(stand.oidc("auth")).send_form(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

#[test]
fn auth_allow_on_the_sign_in_page_redirects_with_a_code() {
    let stand = start(MockConfig::default());
    let params = post_decision(&stand, "allow").location_params();
    let code = param(&params, "code").unwrap();
    assert_eq!(param(&params, "state").as_deref(), Some("st-1"));
    assert_eq!(stand.exchange(&code, &[]).status, 200);
}

#[test]
fn auth_deny_on_the_sign_in_page_redirects_with_access_denied() {
    let stand = start(MockConfig::default());
    let params = post_decision(&stand, "deny").location_params();
    assert_eq!(param(&params, "error").as_deref(), Some("access_denied"));
    assert!(param(&params, "error_description").is_some());
    assert_eq!(param(&params, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&params, "code"), None);
}

// ---------------------------------------------------------------- token endpoint: code grant

#[test]
fn token_code_exchange_answers_keycloaks_token_shape() {
    let stand = start(auto());
    let code = stand.code(&[]);
    let answer = stand.exchange(&code, &[]);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), "no-store");
    assert_eq!(answer.header("content-type"), "application/json");
    let tokens = answer.json();
    for jwt in [token_field(&tokens, "access_token"), token_field(&tokens, "refresh_token")] {
        assert!(jwt.starts_with("eyJ") && jwt.split('.').count() == 3, "{jwt}");
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
        assert_eq!(claims["azp"], "sipgate-oauth-demo");
        assert_eq!(claims["scope"], "account:read");
        assert!(
            claims["exp"].is_u64() && claims["iat"].is_u64() && claims["jti"].is_string() && claims["typ"].is_string()
        );
    }
    assert_eq!(tokens["expires_in"], 300);
    assert_eq!(tokens["refresh_expires_in"], 2_592_000);
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["not-before-policy"], 0);
    assert!(tokens["session_state"].is_string());
    assert_eq!(tokens["scope"], "account:read");
    assert!(tokens.get("id_token").is_none(), "no id_token without openid");
}

#[test]
fn token_id_token_only_with_openid_scope() {
    let stand = start(auto());
    let tokens = stand.tokens("openid account:read");
    assert!(token_field(&tokens, "id_token").starts_with("eyJ"));
    assert!(stand.tokens("account:read").get("id_token").is_none());
}

#[test]
fn token_session_state_matches_the_callback() {
    let stand = start(auto());
    let params = stand.authorize(&[]).location_params();
    let tokens = stand.exchange(&param(&params, "code").unwrap(), &[]).json();
    assert_eq!(tokens["session_state"].as_str(), param(&params, "session_state").as_deref());
}

#[test]
fn token_code_reused_is_invalid_grant_and_kills_its_tokens() {
    let stand = start(auto());
    let code = stand.code(&[]);
    let tokens = stand.exchange(&code, &[]).json();
    let access = token_field(&tokens, "access_token");
    assert_eq!(stand.get_bearer("/v2/account", &access).status, 200);
    let again = stand.exchange(&code, &[]);
    assert_eq!(again.status, 400);
    assert_eq!(again.oauth_error(), ("invalid_grant".into(), "Code not valid".into()));
    // RFC 6749 §4.1.2: the tokens issued from a reused code are revoked.
    assert_eq!(stand.get_bearer("/v2/account", &access).status, 401);
    let refresh = stand.refresh(&token_field(&tokens, "refresh_token"), &demo());
    assert_eq!(refresh.oauth_error().0, "invalid_grant");
}

#[test]
fn token_unknown_code_is_code_not_valid() {
    let stand = start(auto());
    let answer = stand.exchange("not-a-code", &[]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Code not valid".into()));
}

#[test]
fn token_expired_code_is_code_is_expired() {
    let stand = start(MockConfig { code_ttl: Duration::ZERO, ..auto() });
    let answer = stand.exchange(&stand.code(&[]), &[]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Code is expired".into()));
}

#[test]
fn token_redirect_uri_differing_from_the_authorization_is_incorrect_redirect_uri() {
    let stand = start(auto());
    // Also registered, but not the one the code was issued for.
    let answer = stand.exchange(&stand.code(&[]), &[("redirect_uri", "http://127.0.0.1:54322/oauth")]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Incorrect redirect_uri".into()));
    let answer = stand.exchange(&stand.code(&[]), &[("redirect_uri", "")]);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Incorrect redirect_uri".into()));
}

#[test]
fn token_code_of_another_realm_is_code_not_valid() {
    let stand = start(auto());
    let code = stand.code(&[]);
    let url = format!("{}/auth/realms/sipgate-apps/protocol/openid-connect/token", stand.server.base_url());
    let answer = stand.post(
        &url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "sipgate-oauth-demo"),
            ("client_secret", "demo-secret"),
        ],
    );
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Code not valid".into()));
    assert_eq!(stand.exchange(&code, &[]).status, 200, "the code is still good in its own realm");
}

#[test]
fn token_pkce_s256_with_the_right_verifier_succeeds() {
    let stand = start(auto());
    let (verifier, challenge) = pkce_pair();
    let code = stand.code(&[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    assert_eq!(stand.exchange(&code, &[("code_verifier", &verifier)]).status, 200);
}

#[test]
fn token_pkce_plain_with_the_right_verifier_succeeds() {
    let stand = start(auto());
    let (verifier, _) = pkce_pair();
    let code = stand.code(&[("code_challenge", &verifier)]);
    assert_eq!(stand.exchange(&code, &[("code_verifier", &verifier)]).status, 200);
}

#[test]
fn token_pkce_wrong_verifier_is_pkce_verification_failed() {
    let stand = start(auto());
    let (_, challenge) = pkce_pair();
    let code = stand.code(&[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let wrong = "x".repeat(43);
    let answer = stand.exchange(&code, &[("code_verifier", &wrong)]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "PKCE verification failed".into()));
}

#[test]
fn token_pkce_missing_verifier_is_invalid_grant() {
    let stand = start(auto());
    let (_, challenge) = pkce_pair();
    let code = stand.code(&[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let answer = stand.exchange(&code, &[]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "PKCE code verifier not specified".into()));
}

#[test]
fn token_pkce_verifier_without_challenge_is_invalid_grant() {
    let stand = start(auto());
    let (verifier, _) = pkce_pair();
    let answer = stand.exchange(&stand.code(&[]), &[("code_verifier", &verifier)]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error().0, "invalid_grant");
}

#[test]
fn token_wrong_client_secret_is_401_unauthorized_client() {
    let stand = start(auto());
    let answer = stand.exchange(&stand.code(&[]), &[("client_secret", "wrong")]);
    assert_eq!(answer.status, 401);
    assert_eq!(answer.oauth_error(), ("unauthorized_client".into(), "Invalid client secret".into()));
}

#[test]
fn token_unknown_client_is_401_invalid_client_credentials() {
    let stand = start(auto());
    let answer = stand.exchange(&stand.code(&[]), &[("client_id", "nobody")]);
    assert_eq!(answer.status, 401);
    assert_eq!(answer.oauth_error(), ("unauthorized_client".into(), "Invalid client credentials".into()));
}

#[test]
fn token_client_may_authenticate_with_http_basic() {
    let stand = start(auto());
    let code = stand.code(&[]);
    let basic = format!("Basic {}", STANDARD.encode("sipgate-oauth-demo:demo-secret"));
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let answer = read(stand.agent.post(stand.oidc("token")).header("Authorization", basic).send_form(form));
    assert_eq!(answer.status, 200, "{answer:?}");
    let code = stand.code(&[]);
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT)];
    let wrong = format!("Basic {}", STANDARD.encode("sipgate-oauth-demo:nope"));
    let answer = read(stand.agent.post(stand.oidc("token")).header("Authorization", wrong).send_form(form));
    assert_eq!(answer.status, 401);
    assert_eq!(answer.oauth_error().1, "Invalid client secret");
}

#[test]
fn token_missing_parameter_is_invalid_request() {
    let stand = start(auto());
    let cases = [("code", "Missing parameter: code"), ("grant_type", "Missing parameter: grant_type")];
    for (missing, description) in cases {
        let answer = stand.exchange("some-code", &[(missing, "")]);
        assert_eq!(answer.status, 400);
        assert_eq!(answer.oauth_error(), ("invalid_request".into(), description.into()));
    }
    let answer = stand.post(
        &stand.oidc("token"),
        &[("grant_type", "refresh_token"), ("client_id", "sipgate-oauth-demo"), ("client_secret", "demo-secret")],
    );
    assert_eq!(answer.oauth_error(), ("invalid_request".into(), "Missing parameter: refresh_token".into()));
}

#[test]
fn token_duplicated_parameter_is_invalid_request() {
    let stand = start(auto());
    let body = b"grant_type=authorization_code&code=a&code=b&client_id=sipgate-oauth-demo&client_secret=demo-secret";
    let answer = stand.post_raw(&stand.oidc("token"), "application/x-www-form-urlencoded", body);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error().0, "invalid_request");
}

#[test]
fn token_unsupported_grant_type() {
    let stand = start(auto());
    let answer = stand.exchange("x", &[("grant_type", "password")]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("unsupported_grant_type".into(), "Unsupported grant_type".into()));
}

// ---------------------------------------------------------------- refresh

#[test]
fn refresh_rotates_and_the_used_refresh_token_is_stale() {
    let stand = start(auto());
    let first = stand.tokens("account:read");
    let answer = stand.refresh(&token_field(&first, "refresh_token"), &demo());
    assert_eq!(answer.status, 200);
    let second = answer.json();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["session_state"], first["session_state"]);
    assert_eq!(second["scope"], "account:read");
    let stale = stand.refresh(&token_field(&first, "refresh_token"), &demo());
    assert_eq!(stale.status, 400);
    assert_eq!(stale.oauth_error(), ("invalid_grant".into(), "Stale token".into()));
    // The old access token died with its refresh token; the new pair works.
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&first, "access_token")).status, 401);
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&second, "access_token")).status, 200);
    assert_eq!(stand.refresh(&token_field(&second, "refresh_token"), &demo()).status, 200);
}

#[test]
fn refresh_expired_token_is_token_is_not_active() {
    let stand = start(MockConfig { refresh_ttl: Duration::ZERO, ..auto() });
    let tokens = stand.tokens("account:read");
    assert_eq!(tokens["refresh_expires_in"], 0);
    let answer = stand.refresh(&token_field(&tokens, "refresh_token"), &demo());
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Token is not active".into()));
}

#[test]
fn refresh_token_of_another_client_is_invalid_grant() {
    let other = MockClient {
        id: "other".into(),
        secret: "other-secret".into(),
        redirect_uris: vec![REDIRECT.into()],
        device_grant: true,
    };
    let stand = start(MockConfig { clients: vec![demo(), other.clone()], ..auto() });
    let tokens = stand.tokens("account:read");
    let answer = stand.refresh(&token_field(&tokens, "refresh_token"), &other);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error().0, "invalid_grant");
    assert_eq!(stand.refresh(&token_field(&tokens, "refresh_token"), &demo()).status, 200, "still good for its client");
}

#[test]
fn refresh_unknown_or_forged_token_is_invalid_refresh_token() {
    let stand = start(auto());
    let tokens = stand.tokens("account:read");
    let real = token_field(&tokens, "refresh_token");
    // Same header and claims, another signature: the table decides, not the JWT.
    let forged = format!("{}.{}", real.rsplit_once('.').unwrap().0, URL_SAFE_NO_PAD.encode([7u8; 32]));
    for token in ["garbage", forged.as_str(), &token_field(&tokens, "access_token")] {
        let answer = stand.refresh(token, &demo());
        assert_eq!(answer.status, 400);
        assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Invalid refresh token".into()));
    }
}

#[test]
fn refresh_may_narrow_but_not_widen_the_scope() {
    let stand = start(auto());
    let tokens = stand.tokens("account:read balance:read");
    let mut form =
        vec![("grant_type", "refresh_token"), ("client_id", "sipgate-oauth-demo"), ("client_secret", "demo-secret")];
    let refresh = token_field(&tokens, "refresh_token");
    form.push(("refresh_token", &refresh));
    let mut wider = form.clone();
    wider.push(("scope", "account:read all"));
    let answer = stand.post(&stand.oidc("token"), &wider);
    assert_eq!(answer.oauth_error().0, "invalid_scope");
    form.push(("scope", "balance:read"));
    let answer = stand.post(&stand.oidc("token"), &form);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["scope"], "balance:read");
}

// ---------------------------------------------------------------- revoke, logout

fn revoke(stand: &Stand, token: &str, hint: Option<&str>) -> Answer {
    let mut form = vec![("token", token), ("client_id", "sipgate-oauth-demo"), ("client_secret", "demo-secret")];
    if let Some(hint) = hint {
        form.push(("token_type_hint", hint));
    }
    stand.post(&stand.oidc("revoke"), &form)
}

#[test]
fn revoke_refresh_token_kills_its_whole_family() {
    let stand = start(auto());
    let first = stand.tokens("account:read");
    let second = stand.refresh(&token_field(&first, "refresh_token"), &demo()).json();
    let answer = revoke(&stand, &token_field(&second, "refresh_token"), Some("refresh_token"));
    assert_eq!(answer.status, 200);
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&second, "access_token")).status, 401);
    let refresh = stand.refresh(&token_field(&second, "refresh_token"), &demo());
    assert_eq!(refresh.oauth_error().0, "invalid_grant");
}

#[test]
fn revoke_access_token_kills_only_it() {
    let stand = start(auto());
    let tokens = stand.tokens("account:read");
    assert_eq!(revoke(&stand, &token_field(&tokens, "access_token"), None).status, 200);
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).status, 401);
    assert_eq!(stand.refresh(&token_field(&tokens, "refresh_token"), &demo()).status, 200);
}

#[test]
fn revoke_unknown_token_is_200_but_needs_a_valid_client() {
    let stand = start(auto());
    assert_eq!(revoke(&stand, "never-issued", None).status, 200);
    let answer = stand
        .post(&stand.oidc("revoke"), &[("token", "x"), ("client_id", "sipgate-oauth-demo"), ("client_secret", "bad")]);
    assert_eq!(answer.status, 401);
    assert_eq!(answer.oauth_error().0, "unauthorized_client");
    assert_eq!(revoke(&stand, "x", Some("id_token")).oauth_error().0, "unsupported_token_type");
}

#[test]
fn logout_ends_the_session_with_204() {
    let stand = start(auto());
    let tokens = stand.tokens("account:read");
    let refresh = token_field(&tokens, "refresh_token");
    let form =
        [("client_id", "sipgate-oauth-demo"), ("client_secret", "demo-secret"), ("refresh_token", refresh.as_str())];
    let answer = stand.post(&stand.oidc("logout"), &form);
    assert_eq!(answer.status, 204);
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).status, 401);
    assert_eq!(stand.refresh(&refresh, &demo()).oauth_error().0, "invalid_grant");
    let unknown = [("client_id", "sipgate-oauth-demo"), ("client_secret", "demo-secret"), ("refresh_token", "nope")];
    assert_eq!(stand.post(&stand.oidc("logout"), &unknown).oauth_error().0, "invalid_grant");
}

// ---------------------------------------------------------------- REST API

#[test]
fn account_with_a_valid_token_answers_the_account_json() {
    let account = serde_json::json!({"company": "ACME", "mainProductType": "TEAM", "logoUrl": "", "verified": false});
    let stand = start(MockConfig { account: account.clone(), ..auto() });
    let tokens = stand.tokens("account:read");
    let answer = stand.get_bearer("/v2/account", &token_field(&tokens, "access_token"));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/json");
    assert_eq!(answer.json(), account);
    // `all` is enough too.
    let all = stand.tokens("all");
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&all, "access_token")).status, 200);
}

#[test]
fn account_default_body_is_sipgates_example() {
    let stand = start(auto());
    let tokens = stand.tokens("account:read");
    let body = stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).json();
    assert_eq!(body, serde_json::json!({"company":"","mainProductType":"BASIC","logoUrl":"","verified":true}));
}

#[test]
fn account_without_token_is_401_with_www_authenticate() {
    let stand = start(auto());
    let answer = stand.get(&format!("{}/v2/account", stand.server.base_url()));
    assert_eq!(answer.status, 401);
    assert!(answer.header("www-authenticate").starts_with("Bearer"));
}

#[test]
fn account_unknown_token_is_401_invalid_token() {
    let stand = start(auto());
    let answer = stand.get_bearer("/v2/account", "eyJnot.a.token");
    assert_eq!(answer.status, 401);
    assert!(answer.header("www-authenticate").contains("error=\"invalid_token\""), "{answer:?}");
}

#[test]
fn account_expired_token_is_401() {
    let stand = start(MockConfig { access_ttl: Duration::ZERO, ..auto() });
    let tokens = stand.tokens("account:read");
    assert_eq!(tokens["expires_in"], 0);
    let answer = stand.get_bearer("/v2/account", &token_field(&tokens, "access_token"));
    assert_eq!(answer.status, 401);
    assert!(answer.header("www-authenticate").contains("invalid_token"));
}

#[test]
fn account_token_without_the_scope_is_403() {
    let stand = start(auto());
    let tokens = stand.tokens("balance:read");
    let answer = stand.get_bearer("/v2/account", &token_field(&tokens, "access_token"));
    assert_eq!(answer.status, 403);
    assert!(answer.header("www-authenticate").contains("insufficient_scope"));
}

#[test]
fn refresh_token_is_not_an_access_token() {
    let stand = start(auto());
    let tokens = stand.tokens("account:read");
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "refresh_token")).status, 401);
}

#[test]
fn userinfo_answers_the_signed_in_user() {
    let stand = start(auto());
    let tokens = stand.tokens("openid");
    let access = token_field(&tokens, "access_token");
    let answer = stand.get_bearer("/v2/authorization/userinfo", &access);
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.json(),
        serde_json::json!({"sub":"w0","domain":"sipgate.de","masterSipId":"1234567","locale":"de_DE"})
    );
    let oidc = stand.get_bearer(&format!("/auth/realms/{REALM}/protocol/openid-connect/userinfo"), &access);
    assert_eq!(oidc.status, 200);
    assert_eq!(oidc.json()["sub"], "w0");
    assert_eq!(stand.get_bearer("/v2/authorization/userinfo", "nope").status, 401);
}

// ---------------------------------------------------------------- faults

#[test]
fn fault_token_503_then_502_then_normal_answers() {
    let faults = Faults { token_503: 2, token_502: 1, ..Faults::default() };
    let stand = start(MockConfig { faults, ..auto() });
    let code = stand.code(&[]);
    for _ in 0..2 {
        let answer = stand.exchange(&code, &[]);
        assert_eq!(answer.status, 503);
        assert!(serde_json::from_str::<Value>(&answer.body).is_err(), "503 body must not be JSON");
    }
    let answer = stand.exchange(&code, &[]);
    assert_eq!(answer.status, 502);
    assert!(answer.header("content-type").starts_with("text/html"));
    assert!(answer.body.contains("502 Bad Gateway"));
    assert_eq!(stand.exchange(&code, &[]).status, 200, "the faults did not consume the code");
}

#[test]
fn fault_expire_access_tokens_makes_the_api_answer_401() {
    let faults = Faults { expire_access_tokens: true, ..Faults::default() };
    let stand = start(MockConfig { faults, ..auto() });
    let tokens = stand.tokens("account:read");
    assert_eq!(tokens["expires_in"], 300, "the client is told the usual lifetime");
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).status, 401);
    let refreshed = stand.refresh(&token_field(&tokens, "refresh_token"), &demo()).json();
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&refreshed, "access_token")).status, 401);
}

#[test]
fn fault_refresh_invalid_grant_refuses_every_refresh() {
    let faults = Faults { refresh_invalid_grant: true, ..Faults::default() };
    let stand = start(MockConfig { faults, ..auto() });
    let tokens = stand.tokens("account:read");
    let answer = stand.refresh(&token_field(&tokens, "refresh_token"), &demo());
    assert_eq!(answer.status, 400);
    assert_eq!(answer.oauth_error().0, "invalid_grant");
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).status, 200);
}

#[test]
fn fault_latency_delays_every_answer() {
    let faults = Faults { latency: Duration::from_millis(150), ..Faults::default() };
    let stand = start(MockConfig { faults, ..auto() });
    let started = Instant::now();
    assert_eq!(stand.get(&format!("{}/v2/account", stand.server.base_url())).status, 401);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

// ---------------------------------------------------------------- robustness

#[test]
fn junk_forms_are_keycloak_style_400_invalid_request() {
    let stand = start(auto());
    let form = "application/x-www-form-urlencoded";
    for body in [&b"grant_type=%zz"[..], b"grant_type=%ff%fe", b"\xff\xfe\x00", b"code=%E2%82"] {
        let answer = stand.post_raw(&stand.oidc("token"), form, body);
        assert_eq!(answer.status, 400, "{body:?}");
        assert_eq!(answer.oauth_error().0, "invalid_request");
    }
    let answer = stand.post_raw(&stand.oidc("token"), "application/json", b"{\"grant_type\":\"refresh_token\"}");
    assert_eq!(answer.oauth_error().0, "invalid_request");
    let answer = stand.get(&format!("{}?client_id=%zz", stand.oidc("auth")));
    assert_eq!(answer.status, 400);
}

#[test]
fn oversized_body_is_413() {
    let stand = start(auto());
    let body = vec![b'a'; 65 * 1024];
    let answer = stand.post_raw(&stand.oidc("token"), "application/x-www-form-urlencoded", &body);
    assert_eq!(answer.status, 413);
}

/// Sends raw bytes on a fresh connection and returns what came back (until close or timeout).
fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn garbage_on_the_wire_never_takes_the_server_down() {
    let stand = start(auto());
    let addr = stand.server.addr();
    let junk: [&[u8]; 7] = [
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /v2/account HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
        b"POST /auth/realms/third-party/protocol/openid-connect/token HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /auth/realms/third-party/protocol/openid-connect/token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /auth/realms/third-party/protocol/openid-connect/auth?%%%%&&&==&client_id HTTP/1.1\r\n\r\n",
        b"GET /auth/realms/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    for bytes in junk {
        raw_exchange(addr, bytes);
    }
    let long_path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    raw_exchange(addr, long_path.as_bytes());
    // Still serving.
    let answer =
        stand.get(&format!("{}/auth/realms/{REALM}/.well-known/openid-configuration", stand.server.base_url()));
    assert_eq!(answer.status, 200);
    assert_eq!(stand.tokens("account:read")["token_type"], "bearer");
}

#[test]
fn a_slow_client_does_not_stall_other_requests() {
    let stand = start(auto());
    // Promises a body it never sends: ties up one worker until it gives up.
    let mut slow = TcpStream::connect(stand.server.addr()).unwrap();
    slow.write_all(
        b"POST /auth/realms/third-party/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=",
    )
    .unwrap();
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(stand.get(&format!("{}/v2/account", stand.server.base_url())).status, 401);
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(slow);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let stand = start(auto());
    let access = token_field(&stand.tokens("account:read"), "access_token");
    for _ in 0..50 {
        assert_eq!(stand.get_bearer("/v2/account", &access).status, 200);
    }
    assert_eq!(stand.server.connections(), 1, "ureq reused its connection");
    assert_eq!(stand.server.requests(), 52);
}

#[test]
fn shutdown_closes_the_port() {
    // An address no other test listens on: its freed port cannot be taken by another test's stand-in.
    let stand = start_on(auto(), [127, 0, 0, 42]);
    let addr = stand.server.addr();
    assert_eq!(stand.get(&format!("{}/v2/account", stand.server.base_url())).status, 401);
    stand.server.shutdown();
    // tiny_http's accept thread closes the listener just after `shutdown` returns and accepts nothing
    // more: a connection that still gets in waits in the backlog and is reset when the listener closes.
    if let Ok(mut late) = TcpStream::connect(addr) {
        late.set_read_timeout(Some(PATIENCE)).unwrap();
        match late.read(&mut [0u8; 1]) {
            Ok(0) => {}
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("port {addr} still open {PATIENCE:?} after shutdown: {other:?}"),
        }
    }
    let refused = TcpStream::connect(addr).expect_err("the port is closed");
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused, "port {addr}");
}

#[test]
fn concurrent_sign_ins_do_not_interfere() {
    let stand = start(auto());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..10 {
                    let tokens = stand.tokens("account:read");
                    let next = stand.refresh(&token_field(&tokens, "refresh_token"), &demo()).json();
                    assert_eq!(stand.get_bearer("/v2/account", &token_field(&next, "access_token")).status, 200);
                }
            });
        }
    });
}

#[test]
fn shutdown_does_not_hang_on_a_client_that_never_sends_its_body() {
    let stand = start(auto());
    let mut stuck = TcpStream::connect(stand.server.addr()).unwrap();
    stuck
        .write_all(
            b"POST /auth/realms/third-party/protocol/openid-connect/token HTTP/1.1\r\nContent-Length: 100\r\n\r\n",
        )
        .unwrap();
    // Make sure a worker has taken the stuck request before shutting down.
    assert_eq!(stand.get(&format!("{}/v2/account", stand.server.base_url())).status, 401);
    let started = Instant::now();
    stand.server.shutdown();
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(stuck);
}

#[test]
fn start_refuses_addresses_that_are_not_loopback() {
    let error = MockServer::start(MockConfig::default(), SocketAddr::from(([0, 0, 0, 0], 0))).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn auth_without_scope_grants_no_scope_and_the_api_answers_403() {
    let stand = start(auto());
    let code = stand.code(&[("scope", "")]);
    let tokens = stand.exchange(&code, &[]).json();
    assert_eq!(tokens["scope"], "");
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).status, 403);
}

#[test]
fn realm_sipgate_apps_serves_the_same_flow() {
    let stand = start(auto());
    let oidc = format!("{}/auth/realms/sipgate-apps/protocol/openid-connect", stand.server.base_url());
    let auth = query::encode([
        ("client_id", "sipgate-oauth-demo"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "account:read"),
    ]);
    let params = stand.get(&format!("{oidc}/auth?{auth}")).location_params();
    assert_eq!(param(&params, "iss"), Some(format!("{}/auth/realms/sipgate-apps", stand.server.base_url())));
    let code = param(&params, "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", "sipgate-oauth-demo"),
        ("client_secret", "demo-secret"),
    ];
    let tokens = stand.post(&format!("{oidc}/token"), &form).json();
    assert_eq!(stand.get_bearer("/v2/account", &token_field(&tokens, "access_token")).status, 200);
    // A refresh token is bound to its realm.
    let refresh = stand.refresh(&token_field(&tokens, "refresh_token"), &demo());
    assert_eq!(refresh.status, 400);
    assert!(refresh.oauth_error().1.starts_with("Invalid token issuer"), "{refresh:?}");
}

#[test]
fn an_absurd_content_length_does_not_take_the_server_down() {
    let stand = start(auto());
    // A claim far beyond any buffer: answered 413, drained through a fixed buffer while the liar stays.
    let mut liar = TcpStream::connect(stand.server.addr()).unwrap();
    liar.write_all(
        b"POST /auth/realms/third-party/protocol/openid-connect/token HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\nabc",
    )
    .unwrap();
    let mut moderate = TcpStream::connect(stand.server.addr()).unwrap();
    moderate
        .write_all(b"POST /auth/realms/third-party/protocol/openid-connect/token HTTP/1.1\r\nContent-Length: 1000000\r\n\r\nabc")
        .unwrap();
    let mut status_line = [0u8; 12];
    moderate.read_exact(&mut status_line).unwrap();
    assert_eq!(&status_line, b"HTTP/1.1 413");
    drop(moderate);
    for _ in 0..3 {
        assert_eq!(stand.tokens("account:read")["token_type"], "bearer");
    }
    drop(liar);
}

#[test]
fn token_failed_exchange_still_consumes_the_code() {
    let stand = start(auto());
    let (verifier, challenge) = pkce_pair();
    let code = stand.code(&[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    assert_eq!(stand.exchange(&code, &[("code_verifier", &"x".repeat(43))]).status, 400);
    // As in Keycloak, the first attempt used the code up, even though it failed.
    let answer = stand.exchange(&code, &[("code_verifier", &verifier)]);
    assert_eq!(answer.oauth_error(), ("invalid_grant".into(), "Code not valid".into()));
}
