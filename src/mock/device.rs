//! The device authorization grant (RFC 8628) as Keycloak serves it: the device authorization
//! endpoint, the verification pages where the user types the code and allows or denies, and the
//! device-code grant at the token endpoint.
//!
//! Answers and error bodies are Keycloak's, as listed in `docs/sipgate.md` ("The device grant as Keycloak
//! does it"): a client without the grant gets "the flow is disabled for the client" at both endpoints; a
//! poll gets `authorization_pending`, `slow_down` (sooner than `interval` after the last one),
//! `expired_token`, `access_denied` or `invalid_grant` "Device code not valid"; a device code yields
//! tokens once.

use std::time::Instant;

use serde_json::json;

use super::config::MockClient;
use super::grant::{authenticate, token_response};
use super::pages;
use super::params::{Incoming, form, is_known_scope, param, required};
use super::reply::Reply;
use super::shared::Shared;
use super::state::{Decision, Grant};
use crate::query;

/// The `grant_type` of a device-code poll (RFC 8628 §3.4).
pub(super) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Keycloak's answer at the device endpoint to a client without the grant.
const DISABLED_AT_DEVICE_ENDPOINT: &str =
    "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.";

/// Keycloak's answer at the token endpoint to a device-code poll of a client without the grant.
const DISABLED_AT_TOKEN_ENDPOINT: &str = "Client not allowed OAuth 2.0 Device Authorization Grant";

/// `POST …/protocol/openid-connect/auth/device` (RFC 8628 §3.1–3.2): the client, authenticated as at
/// the token endpoint, gets a device code, a user code and where the user enters it.
pub(super) fn authorize(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    let result = form(request).and_then(|pairs| {
        let client = authenticate(shared, realm, request, &pairs)?;
        if !client.device_grant {
            return Err(Reply::oauth_error(400, "unauthorized_client", DISABLED_AT_DEVICE_ENDPOINT));
        }
        let requested = param(&pairs, "scope")?.unwrap_or_default();
        let mut scopes: Vec<&str> = Vec::new();
        for scope in requested.split(' ').filter(|s| !s.is_empty()) {
            if !is_known_scope(scope) {
                return Err(Reply::oauth_error(400, "invalid_scope", &format!("Invalid scopes: {requested}")));
            }
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let grant = Grant {
            realm: realm.to_owned(),
            client_id: client.id.clone(),
            redirect_uri: String::new(),
            scope: scopes.join(" "),
            challenge: None,
            nonce: None,
        };
        let (ttl, interval) = (shared.config.device_ttl, shared.config.device_interval);
        let (device_code, user_code) = shared.state().new_device(grant, ttl, interval);
        let verification_uri = format!("{}/device", shared.issuer(realm));
        let complete = format!("{verification_uri}?{}", query::encode([("user_code", user_code.as_str())]));
        Ok(Reply::json(
            200,
            &json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": verification_uri,
                "verification_uri_complete": complete,
                "expires_in": ttl.as_secs(),
                "interval": interval.as_secs(),
            }),
        )
        .with_header("Pragma", "no-cache".to_owned()))
    });
    result.unwrap_or_else(|reply| reply)
}

/// `GET` / `POST …/device` (RFC 8628 §3.3): without a code, the form to type it; with a code, the
/// Allow / Deny page (or, with `auto_approve`, approval at once); with a decision, the result.
pub(super) fn verification(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    let action = format!("/auth/realms/{realm}/device");
    let pairs = match request.method {
        "POST" => form(request).ok(),
        _ => query::decode(request.query).ok(),
    };
    let Some(pairs) = pairs else {
        return Reply::html(400, pages::device_form(&action, Some("Invalid request.")));
    };
    let (Ok(typed), Ok(decision)) = (param(&pairs, "user_code"), param(&pairs, "decision")) else {
        return Reply::html(400, pages::device_form(&action, Some("Invalid request.")));
    };
    let Some(typed) = typed else {
        return Reply::html(200, pages::device_form(&action, None));
    };
    let decision = match (request.method, decision) {
        ("POST", Some("allow")) => Some(Decision::Approved),
        ("POST", Some("deny")) => Some(Decision::Denied),
        (_, Some(_)) => return Reply::html(400, pages::device_form(&action, Some("Invalid request."))),
        (_, None) if shared.config.auto_approve => Some(Decision::Approved),
        (_, None) => None,
    };
    let mut state = shared.state();
    let device = state
        .device_by_user_code(typed)
        .filter(|device| device.grant.realm == realm && device.decision == Decision::Pending)
        .filter(|device| Instant::now() < device.expires_at);
    let Some(device) = device else {
        drop(state);
        return Reply::html(400, pages::device_form(&action, Some("Invalid code, please try again.")));
    };
    match decision {
        Some(decision) => {
            device.decision = decision;
            drop(state);
            Reply::html(200, pages::device_done(decision == Decision::Approved))
        }
        None => {
            let (client_id, scope, user_code) =
                (device.grant.client_id.clone(), device.grant.scope.clone(), device.user_code.clone());
            drop(state);
            let scopes: Vec<&str> = scope.split(' ').filter(|s| !s.is_empty()).collect();
            let after = pages::After::Device(&user_code);
            Reply::html(200, pages::sign_in(&client_id, &scopes, after, &action, &[("user_code", &user_code)]))
        }
    }
}

/// The device-code grant at the token endpoint (RFC 8628 §3.4–3.5), for an authenticated client.
pub(super) fn token_grant(
    shared: &Shared,
    realm: &str,
    client: &MockClient,
    pairs: &[(String, String)],
) -> Result<Reply, Reply> {
    if !client.device_grant {
        return Err(Reply::oauth_error(400, "unauthorized_client", DISABLED_AT_TOKEN_ENDPOINT));
    }
    let device_code = required(pairs, "device_code")?;
    let issuer = shared.issuer(realm);
    let now = Instant::now();
    let mut state = shared.state();
    let slow_down_fault = state.device_slow_down_left > 0;
    let device = state
        .device_mut(device_code)
        .filter(|device| device.grant.realm == realm && device.grant.client_id == client.id)
        .ok_or_else(|| Reply::invalid_grant("Device code not valid"))?;
    if now >= device.expires_at {
        return Err(Reply::oauth_error(400, "expired_token", "Device code is expired"));
    }
    let too_soon = device.last_poll.is_some_and(|last| now < last + device.interval);
    device.last_poll = Some(now);
    if too_soon || slow_down_fault {
        state.device_slow_down_left = state.device_slow_down_left.saturating_sub(1);
        return Err(Reply::oauth_error(400, "slow_down", "Slow down"));
    }
    match device.decision {
        Decision::Pending => {
            Err(Reply::oauth_error(400, "authorization_pending", "The authorization request is still pending"))
        }
        Decision::Denied => {
            Err(Reply::oauth_error(400, "access_denied", "The end user denied the authorization request"))
        }
        Decision::Approved => {
            let grant = device.grant.clone();
            state.remove_device(device_code);
            let session = uuid::Uuid::new_v4().to_string();
            let issued = state.issue(&grant, &session, &issuer, &shared.lifetimes());
            drop(state);
            Ok(token_response(shared, &issued))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::mock::{Faults, MockConfig, MockServer};

    const DEMO_BASIC: &str = "Basic c2lwZ2F0ZS1vYXV0aC1kZW1vOmRlbW8tc2VjcmV0";
    const FORM: &str = "application/x-www-form-urlencoded";

    fn server(change: impl FnOnce(&mut MockConfig)) -> MockServer {
        let mut config = MockConfig { device_interval: Duration::ZERO, ..MockConfig::default() };
        change(&mut config);
        MockServer::start(config, "127.0.0.1:0".parse().unwrap()).unwrap()
    }

    fn json(answer: (u16, Vec<u8>)) -> (u16, serde_json::Value) {
        (answer.0, serde_json::from_slice(&answer.1).unwrap())
    }

    fn start(server: &MockServer) -> serde_json::Value {
        let answer = server.answer(
            "POST",
            "/auth/realms/third-party/protocol/openid-connect/auth/device",
            Some(DEMO_BASIC),
            Some(FORM),
            b"scope=account%3Aread",
        );
        let (status, body) = json(answer);
        assert_eq!(status, 200, "{body}");
        body
    }

    fn poll(server: &MockServer, device_code: &str) -> (u16, serde_json::Value) {
        let body = query::encode([("grant_type", GRANT_TYPE), ("device_code", device_code)]);
        json(server.answer(
            "POST",
            "/auth/realms/third-party/protocol/openid-connect/token",
            Some(DEMO_BASIC),
            Some(FORM),
            body.as_bytes(),
        ))
    }

    fn error_of(answer: &(u16, serde_json::Value)) -> (u16, &str, &str) {
        (answer.0, answer.1["error"].as_str().unwrap_or(""), answer.1["error_description"].as_str().unwrap_or(""))
    }

    fn page(server: &MockServer, method: &str, target: &str, body: &str) -> (u16, String) {
        let (status, body) = server.answer(method, target, None, Some(FORM), body.as_bytes());
        (status, String::from_utf8(body).unwrap())
    }

    #[test]
    fn device_authorization_answers_as_keycloak_does() {
        let server = server(|_| {});
        let body = start(&server);
        let base = format!("{}/auth/realms/third-party/device", server.base_url());
        let user_code = body["user_code"].as_str().unwrap();
        assert_eq!(body["verification_uri"], base.as_str());
        assert_eq!(body["verification_uri_complete"], format!("{base}?user_code={user_code}").as_str());
        assert_eq!((body["expires_in"].as_u64(), body["interval"].as_u64()), (Some(600), Some(0)));
        assert_eq!(body["device_code"].as_str().unwrap().len(), 43);
    }

    #[test]
    fn pending_then_allowed_gives_tokens_once() {
        let server = server(|_| {});
        let body = start(&server);
        let device_code = body["device_code"].as_str().unwrap();
        let user_code = body["user_code"].as_str().unwrap();
        assert_eq!(error_of(&poll(&server, device_code)).1, "authorization_pending");

        let (status, form) = page(&server, "GET", "/auth/realms/third-party/device", "");
        assert_eq!(status, 200);
        assert!(form.contains("name=\"user_code\""), "{form}");
        let typed = user_code.to_ascii_lowercase();
        let (status, consent) = page(&server, "GET", &format!("/auth/realms/third-party/device?user_code={typed}"), "");
        assert_eq!(status, 200);
        assert!(consent.contains("Allow") && consent.contains("account:read"), "{consent}");
        let decision = format!("user_code={user_code}&decision=allow");
        let (status, done) = page(&server, "POST", "/auth/realms/third-party/device", &decision);
        assert_eq!(status, 200);
        assert!(done.contains("Device signed in"), "{done}");

        let (status, tokens) = poll(&server, device_code);
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "bearer");
        assert_eq!(tokens["scope"], "account:read");
        let again = poll(&server, device_code);
        assert_eq!(error_of(&again), (400, "invalid_grant", "Device code not valid"));
        let (status, _) = page(&server, "POST", "/auth/realms/third-party/device", &decision);
        assert_eq!(status, 400, "a used user code is no longer accepted");
    }

    #[test]
    fn denied_is_access_denied() {
        let server = server(|_| {});
        let body = start(&server);
        let decision = format!("user_code={}&decision=deny", body["user_code"].as_str().unwrap());
        let (status, done) = page(&server, "POST", "/auth/realms/third-party/device", &decision);
        assert_eq!(status, 200);
        assert!(done.contains("Access denied"), "{done}");
        let answer = poll(&server, body["device_code"].as_str().unwrap());
        assert_eq!(error_of(&answer), (400, "access_denied", "The end user denied the authorization request"));
    }

    #[test]
    fn auto_approve_approves_on_visiting_the_complete_uri() {
        let server = server(|config| config.auto_approve = true);
        let body = start(&server);
        let complete = body["verification_uri_complete"].as_str().unwrap();
        let target = complete.strip_prefix(&server.base_url()).unwrap();
        let (status, done) = page(&server, "GET", target, "");
        assert_eq!(status, 200);
        assert!(done.contains("Device signed in"), "{done}");
        assert_eq!(poll(&server, body["device_code"].as_str().unwrap()).0, 200);
    }

    #[test]
    fn polling_sooner_than_the_interval_is_slow_down() {
        let server = server(|config| config.device_interval = Duration::from_secs(60));
        let device_code = start(&server)["device_code"].as_str().unwrap().to_owned();
        assert_eq!(error_of(&poll(&server, &device_code)).1, "authorization_pending");
        assert_eq!(error_of(&poll(&server, &device_code)), (400, "slow_down", "Slow down"));
    }

    #[test]
    fn the_slow_down_fault_answers_slow_down_that_often() {
        let server = server(|config| config.faults = Faults { device_slow_down: 2, ..Faults::default() });
        let device_code = start(&server)["device_code"].as_str().unwrap().to_owned();
        assert_eq!(error_of(&poll(&server, &device_code)).1, "slow_down");
        assert_eq!(error_of(&poll(&server, &device_code)).1, "slow_down");
        assert_eq!(error_of(&poll(&server, &device_code)).1, "authorization_pending");
    }

    #[test]
    fn an_expired_device_code_is_expired_token() {
        let server = server(|config| config.device_ttl = Duration::ZERO);
        let body = start(&server);
        assert_eq!(body["expires_in"], 0);
        let answer = poll(&server, body["device_code"].as_str().unwrap());
        assert_eq!(error_of(&answer), (400, "expired_token", "Device code is expired"));
        let target = format!("/auth/realms/third-party/device?user_code={}", body["user_code"].as_str().unwrap());
        assert!(page(&server, "GET", &target, "").1.contains("Invalid code"));
    }

    #[test]
    fn unknown_and_foreign_device_codes_are_not_valid() {
        let server = server(|_| {});
        assert_eq!(error_of(&poll(&server, "nope")), (400, "invalid_grant", "Device code not valid"));
        let body = start(&server);
        let form = query::encode([
            ("grant_type", GRANT_TYPE),
            ("device_code", body["device_code"].as_str().unwrap()),
            ("client_id", "sipgate-oauth-demo"),
            ("client_secret", "demo-secret"),
        ]);
        let other_realm = json(server.answer(
            "POST",
            "/auth/realms/sipgate-apps/protocol/openid-connect/token",
            None,
            Some(FORM),
            form.as_bytes(),
        ));
        assert_eq!(error_of(&other_realm).2, "Device code not valid");
        assert_eq!(error_of(&poll(&server, &format!("{}x", body["device_code"].as_str().unwrap()))).1, "invalid_grant");
    }

    #[test]
    fn a_client_without_the_grant_is_told_the_flow_is_disabled() {
        let server = server(|config| config.clients[0].device_grant = false);
        let answer = json(server.answer(
            "POST",
            "/auth/realms/third-party/protocol/openid-connect/auth/device",
            Some(DEMO_BASIC),
            Some(FORM),
            b"",
        ));
        assert_eq!(error_of(&answer), (400, "unauthorized_client", DISABLED_AT_DEVICE_ENDPOINT));
        assert_eq!(error_of(&poll(&server, "anything")), (400, "unauthorized_client", DISABLED_AT_TOKEN_ENDPOINT));
    }

    #[test]
    fn the_device_endpoint_authenticates_the_client_and_checks_scopes() {
        let server = server(|_| {});
        let endpoint = "/auth/realms/third-party/protocol/openid-connect/auth/device";
        let wrong = json(server.answer(
            "POST",
            endpoint,
            None,
            Some(FORM),
            b"client_id=sipgate-oauth-demo&client_secret=wrong",
        ));
        assert_eq!(error_of(&wrong), (401, "unauthorized_client", "Invalid client secret"));
        let scope = json(server.answer("POST", endpoint, Some(DEMO_BASIC), Some(FORM), b"scope=nope"));
        assert_eq!(error_of(&scope), (400, "invalid_scope", "Invalid scopes: nope"));
        assert_eq!(server.answer("GET", endpoint, Some(DEMO_BASIC), None, b"").0, 405);
    }

    #[test]
    fn discovery_names_the_device_endpoint() {
        let server = server(|_| {});
        let (status, body) =
            json(server.answer("GET", "/auth/realms/sipgate-apps/.well-known/openid-configuration", None, None, b""));
        assert_eq!(status, 200);
        assert_eq!(
            body["device_authorization_endpoint"],
            format!("{}/auth/realms/sipgate-apps/protocol/openid-connect/auth/device", server.base_url()).as_str()
        );
    }

    #[test]
    fn verification_pages_escape_what_was_typed() {
        let server = server(|_| {});
        let (status, page) = page(&server, "GET", "/auth/realms/third-party/device?user_code=%3Cscript%3E", "");
        assert_eq!(status, 400);
        assert!(page.contains("Invalid code") && !page.contains("<script>"), "{page}");
    }
}
