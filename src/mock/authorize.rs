//! The authorization endpoint (RFC 6749 §4.1.1): checks the request the way Keycloak does, shows the
//! sign-in page, and redirects back with a code or an error.
//!
//! Until `client_id` and `redirect_uri` are known to be good, errors are an HTML page and never a
//! redirect (RFC 6749 §4.1.2.1); after that, every error goes back to the client as
//! `error`/`error_description`/`state`.

use super::config::MockClient;
use super::pages;
use super::params::{Incoming, form, is_known_scope, is_pkce_string, param};
use super::reply::Reply;
use super::shared::Shared;
use super::state::{Challenge, ChallengeMethod, Grant};
use crate::query;

/// The parameters the sign-in page carries through to its form post.
const CARRIED: [&str; 8] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// Handles `GET` (the authorization request) and `POST` (the same as a form, or the sign-in page's
/// decision) on `/auth`.
pub(super) fn authorize(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    let pairs = match request.method {
        "POST" => form(request).ok(),
        _ => query::decode(request.query).ok(),
    };
    let Some(pairs) = pairs else {
        return error_page("Invalid Request");
    };
    let client = match param(&pairs, "client_id") {
        Err(_) => return error_page("Invalid Request"),
        Ok(None) => return error_page("Missing parameter: client_id"),
        Ok(Some(id)) => match shared.client(id) {
            Some(client) => client,
            None => return error_page("Client not found."),
        },
    };
    let redirect_uri = match param(&pairs, "redirect_uri") {
        Ok(Some(uri)) if is_registered(client, uri) => uri,
        _ => return error_page("Invalid parameter: redirect_uri"),
    };
    // From here on, errors go back to the client.
    let state = param(&pairs, "state");
    let back = Callback { redirect_uri, state: state.as_ref().ok().copied().flatten(), iss: shared.issuer(realm) };
    match check(&pairs, state.is_err()) {
        Err((error, description)) => back.error(error, &description),
        Ok(checked) => {
            let decision = if request.method == "POST" { param(&pairs, "decision").ok().flatten() } else { None };
            match decision {
                Some("allow") => back.code(shared, realm, client, checked),
                Some("deny") => back.error("access_denied", "The user denied the request"),
                Some(_) => back.error("invalid_request", "Invalid parameter: decision"),
                None if shared.config.auto_approve => back.code(shared, realm, client, checked),
                None => sign_in_page(realm, client, &checked, &pairs),
            }
        }
    }
}

/// What a valid authorization request asks for, besides client and redirect URI.
struct Checked {
    scopes: Vec<String>,
    challenge: Option<Challenge>,
    nonce: Option<String>,
}

/// Checks everything but client and redirect URI, in Keycloak's order.
fn check(pairs: &[(String, String)], duplicated_state: bool) -> Result<Checked, (&'static str, String)> {
    let get = |key: &str| param(pairs, key).map_err(|_| ("invalid_request", format!("duplicated parameter: {key}")));
    if duplicated_state {
        return Err(("invalid_request", "duplicated parameter: state".to_owned()));
    }
    match get("response_type")? {
        None => return Err(("invalid_request", "Missing parameter: response_type".to_owned())),
        Some("code") => {}
        Some(_) => return Err(("unsupported_response_type", "Unsupported response_type".to_owned())),
    }
    let requested = get("scope")?.unwrap_or_default();
    let mut scopes: Vec<String> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !is_known_scope(scope) {
            return Err(("invalid_scope", format!("Invalid scopes: {requested}")));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    let challenge = match (get("code_challenge")?, get("code_challenge_method")?) {
        (None, None) => None,
        (None, Some(_)) => return Err(("invalid_request", "Missing parameter: code_challenge".to_owned())),
        (Some(value), method) => {
            let method = match method {
                None | Some("plain") => ChallengeMethod::Plain,
                Some("S256") => ChallengeMethod::S256,
                Some(_) => return Err(("invalid_request", "Invalid parameter: code_challenge_method".to_owned())),
            };
            if !is_pkce_string(value) {
                return Err(("invalid_request", "Invalid parameter: code_challenge".to_owned()));
            }
            Some(Challenge { method, value: value.to_owned() })
        }
    };
    Ok(Checked { scopes, challenge, nonce: get("nonce")?.map(str::to_owned) })
}

/// Whether `uri` is one of the client's redirect URIs: the same string, or for a loopback IP literal
/// the same URI on any port (RFC 8252 §7.3).
pub(super) fn is_registered(client: &MockClient, uri: &str) -> bool {
    client.redirect_uris.iter().any(|registered| {
        registered == uri
            || matches!((without_loopback_port(registered), without_loopback_port(uri)), (Some(a), Some(b)) if a == b)
    })
}

/// `http://127.0.0.1[:port]/…` or `http://[::1][:port]/…` without the port; `None` for any other URI.
fn without_loopback_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let host = ["127.0.0.1", "[::1]"].into_iter().find(|host| rest.starts_with(host))?;
    let mut after = rest.get(host.len()..)?;
    if let Some(port) = after.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        port.get(..digits)?.parse::<u16>().ok()?;
        after = port.get(digits..)?;
    }
    if !(after.is_empty() || after.starts_with(['/', '?'])) {
        return None;
    }
    Some(format!("http://{host}{after}"))
}

/// Keycloak's HTML error page, status 400: shown in the browser, no redirect.
fn error_page(message: &str) -> Reply {
    Reply::html(400, pages::error(message))
}

/// Where and how to answer once the redirect URI is known to be good.
struct Callback<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    iss: String,
}

impl Callback<'_> {
    /// Redirects back with `params`, then `state` and `iss` (RFC 9207).
    fn redirect(&self, params: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(&str, &str)> = params.to_vec();
        if let Some(state) = self.state {
            all.push(("state", state));
        }
        all.push(("iss", &self.iss));
        let separator = if self.redirect_uri.contains('?') { '&' } else { '?' };
        Reply::redirect(format!("{}{separator}{}", self.redirect_uri, query::encode(all)))
    }

    /// The error response of RFC 6749 §4.1.2.1.
    fn error(&self, error: &str, description: &str) -> Reply {
        self.redirect(&[("error", error), ("error_description", description)])
    }

    /// Issues a code and redirects with it (RFC 6749 §4.1.2), plus Keycloak's `session_state`.
    fn code(&self, shared: &Shared, realm: &str, client: &MockClient, checked: Checked) -> Reply {
        let grant = Grant {
            realm: realm.to_owned(),
            client_id: client.id.clone(),
            redirect_uri: self.redirect_uri.to_owned(),
            scope: checked.scopes.join(" "),
            challenge: checked.challenge,
            nonce: checked.nonce,
        };
        let (code, session) = shared.state().new_code(grant, shared.config.code_ttl);
        self.redirect(&[("code", &code), ("session_state", &session)])
    }
}

/// The sign-in page; its form posts the original parameters back with the user's decision.
fn sign_in_page(realm: &str, client: &MockClient, checked: &Checked, pairs: &[(String, String)]) -> Reply {
    let hidden: Vec<(&str, &str)> =
        CARRIED.iter().filter_map(|key| param(pairs, key).ok().flatten().map(|value| (*key, value))).collect();
    let scopes: Vec<&str> = checked.scopes.iter().map(String::as_str).collect();
    let action = format!("/auth/realms/{realm}/protocol/openid-connect/auth");
    let redirect_uri = param(pairs, "redirect_uri").ok().flatten().unwrap_or_default();
    Reply::html(200, pages::sign_in(&client.id, &scopes, pages::After::Redirect(redirect_uri), &action, &hidden))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> MockClient {
        MockClient {
            id: "c".into(),
            secret: "s".into(),
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            device_grant: true,
        }
    }

    #[test]
    fn loopback_ip_literals_match_on_any_port() {
        let c = client(&["http://127.0.0.1/oauth", "http://[::1]:9/cb?x=1"]);
        assert!(is_registered(&c, "http://127.0.0.1/oauth"));
        assert!(is_registered(&c, "http://127.0.0.1:54321/oauth"));
        assert!(is_registered(&c, "http://[::1]/cb?x=1"));
        assert!(is_registered(&c, "http://[::1]:1234/cb?x=1"));
        assert!(!is_registered(&c, "http://127.0.0.1:54321/oauth/"));
        assert!(!is_registered(&c, "http://127.0.0.1.evil.example/oauth"));
        assert!(!is_registered(&c, "http://127.0.0.1:99999/oauth"));
        assert!(!is_registered(&c, "http://127.0.0.1:/oauth"));
        assert!(!is_registered(&c, "https://127.0.0.1:443/oauth"));
    }

    #[test]
    fn other_hosts_match_exactly() {
        let c = client(&["http://localhost:8080/oauth"]);
        assert!(is_registered(&c, "http://localhost:8080/oauth"));
        assert!(!is_registered(&c, "http://localhost:8081/oauth"));
        assert!(!is_registered(&c, "http://LOCALHOST:8080/oauth"));
    }

    #[test]
    fn pkce_strings_are_43_to_128_unreserved_characters() {
        assert!(is_pkce_string(&"a".repeat(43)));
        assert!(is_pkce_string(&"-._~".repeat(32)));
        assert!(!is_pkce_string(&"a".repeat(42)));
        assert!(!is_pkce_string(&"a".repeat(129)));
        assert!(!is_pkce_string(&format!("{}+", "a".repeat(43))));
    }
}
