//! The token endpoint (RFC 6749 §3.2), revocation (RFC 7009) and Keycloak's logout, with client
//! authentication by form fields or HTTP Basic (RFC 6749 §2.3.1). The device-code grant (RFC 8628
//! §3.4) is answered in `device`.
//!
//! Errors are Keycloak's JSON bodies and statuses (RFC 6749 §5.2), as listed in `docs/sipgate.md` ("Error
//! bodies the code matches on"). The mutex is taken once per request, after the form is read and the
//! client is authenticated.

use std::time::Instant;

use super::config::MockClient;
use super::device;
use super::grant::{authenticate, token_response};
use super::params::{Incoming, form, is_pkce_string, param, required};
use super::reply::Reply;
use super::shared::Shared;
use super::state::{Grant, Kind, has_scope};

/// The 502 page a proxy in front of the login server would show.
const BAD_GATEWAY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// `POST …/token`: the authorization-code, refresh-token and device-code grants.
pub(super) fn token(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    if let Some(fault) = injected_fault(shared) {
        return fault;
    }
    let result = form(request).and_then(|pairs| {
        let grant_type = required(&pairs, "grant_type")?;
        let client = authenticate(shared, realm, request, &pairs)?;
        match grant_type {
            "authorization_code" => code_grant(shared, realm, client, &pairs),
            "refresh_token" => refresh_grant(shared, realm, client, &pairs),
            device::GRANT_TYPE => device::token_grant(shared, realm, client, &pairs),
            _ => Err(Reply::oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")),
        }
    });
    result.unwrap_or_else(|reply| reply)
}

/// A 503 or 502 while the fault counters last.
fn injected_fault(shared: &Shared) -> Option<Reply> {
    let mut state = shared.state();
    if state.token_503_left > 0 {
        state.token_503_left -= 1;
        return Some(Reply::text(503, "Service Unavailable").with_header("Retry-After", "1".to_owned()));
    }
    if state.token_502_left > 0 {
        state.token_502_left -= 1;
        return Some(Reply::html(502, BAD_GATEWAY_PAGE.to_owned()));
    }
    None
}

/// RFC 6749 §4.1.3: exchanges a code for tokens.
fn code_grant(shared: &Shared, realm: &str, client: &MockClient, pairs: &[(String, String)]) -> Result<Reply, Reply> {
    let code = required(pairs, "code")?;
    let redirect_uri = param(pairs, "redirect_uri")?;
    let verifier = param(pairs, "code_verifier")?;
    let issuer = shared.issuer(realm);
    let mut state = shared.state();
    let entry = state
        .code_mut(code)
        .filter(|entry| entry.grant.realm == realm && entry.grant.client_id == client.id)
        .ok_or_else(|| Reply::invalid_grant("Code not valid"))?;
    let session = entry.session.clone();
    if entry.redeemed {
        // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
        state.kill_session(&session);
        return Err(Reply::invalid_grant("Code not valid"));
    }
    entry.redeemed = true;
    if Instant::now() >= entry.expires_at {
        return Err(Reply::invalid_grant("Code is expired"));
    }
    let grant = entry.grant.clone();
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(Reply::invalid_grant("Incorrect redirect_uri"));
    }
    match (&grant.challenge, verifier) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(Reply::invalid_grant(
                "PKCE code verifier specified but challenge not present in authorization",
            ));
        }
        (Some(_), None) => return Err(Reply::invalid_grant("PKCE code verifier not specified")),
        (Some(_), Some(verifier)) if !is_pkce_string(verifier) => {
            return Err(Reply::invalid_grant("PKCE invalid code verifier"));
        }
        (Some(challenge), Some(verifier)) if !challenge.verify(verifier) => {
            return Err(Reply::invalid_grant("PKCE verification failed"));
        }
        (Some(_), Some(_)) => {}
    }
    let issued = state.issue(&grant, &session, &issuer, &shared.lifetimes());
    drop(state);
    Ok(token_response(shared, &issued))
}

/// RFC 6749 §6: exchanges a refresh token for a new pair; the used one becomes stale (rotation).
fn refresh_grant(
    shared: &Shared,
    realm: &str,
    client: &MockClient,
    pairs: &[(String, String)],
) -> Result<Reply, Reply> {
    let refresh = required(pairs, "refresh_token")?;
    let scope = param(pairs, "scope")?;
    if shared.config.faults.refresh_invalid_grant {
        return Err(Reply::invalid_grant("Token is not active"));
    }
    let issuer = shared.issuer(realm);
    let mut state = shared.state();
    let token = state
        .token(refresh)
        .filter(|token| token.kind == Kind::Refresh)
        .ok_or_else(|| Reply::invalid_grant("Invalid refresh token"))?;
    if token.realm != realm {
        return Err(Reply::invalid_grant(&format!("Invalid token issuer. Expected '{issuer}'")));
    }
    if token.client_id != client.id {
        return Err(Reply::invalid_grant("Invalid refresh token. Token client and authorized client don't match"));
    }
    if token.used {
        return Err(Reply::invalid_grant("Stale token"));
    }
    if Instant::now() >= token.expires_at {
        return Err(Reply::invalid_grant("Token is not active"));
    }
    if !state.session_alive(&token.session) {
        return Err(Reply::invalid_grant("Session not active"));
    }
    let granted = match scope {
        None => token.scope.clone(),
        Some(asked) if asked.split(' ').filter(|s| !s.is_empty()).all(|s| has_scope(&token.scope, s)) => {
            asked.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
        }
        Some(asked) => return Err(Reply::oauth_error(400, "invalid_scope", &format!("Invalid scopes: {asked}"))),
    };
    let grant = Grant {
        realm: realm.to_owned(),
        client_id: client.id.clone(),
        redirect_uri: String::new(),
        scope: granted,
        challenge: None,
        nonce: None,
    };
    let session = token.session.clone();
    state.retire_refresh(refresh);
    let issued = state.issue(&grant, &session, &issuer, &shared.lifetimes());
    drop(state);
    Ok(token_response(shared, &issued))
}

/// `POST …/revoke` (RFC 7009): 200 for any token of an authenticated client; a refresh token takes
/// its whole session with it.
pub(super) fn revoke(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    let result = form(request).and_then(|pairs| {
        let client = authenticate(shared, realm, request, &pairs)?;
        let token = required(&pairs, "token")?;
        if let Some(hint) = param(&pairs, "token_type_hint")?
            && hint != "access_token"
            && hint != "refresh_token"
        {
            return Err(Reply::oauth_error(400, "unsupported_token_type", "Unsupported token_type_hint"));
        }
        let mut state = shared.state();
        if let Some(found) = state.token(token).filter(|t| t.client_id == client.id && t.realm == realm) {
            match found.kind {
                Kind::Access => state.kill_token(token),
                Kind::Refresh => {
                    let session = found.session.clone();
                    state.kill_session(&session);
                    state.kill_token(token);
                }
            }
        }
        Ok(Reply::empty(200))
    });
    result.unwrap_or_else(|reply| reply)
}

/// `POST …/logout` (Keycloak): ends the session of a refresh token; 204.
pub(super) fn logout(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    let result = form(request).and_then(|pairs| {
        let client = authenticate(shared, realm, request, &pairs)?;
        let refresh = required(&pairs, "refresh_token")?;
        let mut state = shared.state();
        let session = state
            .token(refresh)
            .filter(|t| t.kind == Kind::Refresh && t.client_id == client.id && t.realm == realm)
            .map(|t| t.session.clone())
            .ok_or_else(|| Reply::invalid_grant("Invalid refresh token"))?;
        state.kill_session(&session);
        Ok(Reply::empty(204))
    });
    result.unwrap_or_else(|reply| reply)
}
