//! The bearer-token gate of the stand-in's sipgate REST API (RFC 6750), the two fast paths
//! `GET /v2/account` and `GET /v2/authorization/userinfo`, and the OpenID Connect userinfo endpoint.
//! Every other operation of the API is answered by `rest`, behind the same gate.
//!
//! A missing, unknown, expired or revoked token gets 401 with `WWW-Authenticate`; a token without the
//! needed scope gets 403. These are the hot paths of a benchmark: one short lock, no allocation of
//! note.

use std::time::Instant;

use serde_json::json;

use super::params::Incoming;
use super::reply::Reply;
use super::shared::Shared;
use super::state::{Kind, SUBJECT, has_scope};

/// What a valid access token carries that the API needs.
pub(super) struct Bearer {
    /// The realm it was issued in.
    pub realm: String,
    /// Its scope, space-separated.
    pub scope: String,
}

/// `GET /v2/account`: needs scope `account:read` or `all`. The scope is checked under the lock, without
/// a copy, and the answer was built at start.
pub(super) fn account(shared: &Shared, request: &Incoming<'_>) -> Reply {
    match authorized(shared, request, |scope| has_scope(scope, "account:read") || has_scope(scope, "all")) {
        Err(reply) => reply,
        Ok(true) => shared.account.clone(),
        Ok(false) => forbidden("account:read"),
    }
}

/// `GET /v2/authorization/userinfo`: who the token belongs to; any scope.
pub(super) fn userinfo(shared: &Shared, request: &Incoming<'_>) -> Reply {
    match bearer(shared, request) {
        Err(reply) => reply,
        Ok(_) => Reply::json(
            200,
            &json!({"sub": SUBJECT, "domain": "sipgate.de", "masterSipId": "1234567", "locale": "de_DE"}),
        ),
    }
}

/// OpenID Connect userinfo of a realm: needs a token of that realm with scope `openid`.
pub(super) fn oidc_userinfo(shared: &Shared, realm: &str, request: &Incoming<'_>) -> Reply {
    match bearer(shared, request) {
        Err(reply) => reply,
        Ok(token) if token.realm != realm => unauthorized(Some("Token issued by another realm")),
        Ok(token) if has_scope(&token.scope, "openid") => {
            Reply::json(200, &json!({"sub": SUBJECT, "preferred_username": SUBJECT}))
        }
        Ok(_) => forbidden("openid"),
    }
}

/// The live access token of the `Authorization: Bearer` header, or the 401 answer.
fn bearer(shared: &Shared, request: &Incoming<'_>) -> Result<Bearer, Reply> {
    with_token(shared, request, |realm, scope| Bearer { realm: realm.to_owned(), scope: scope.to_owned() })
}

/// What `allows` says of the live access token's scope, or the 401 answer.
pub(super) fn authorized(
    shared: &Shared,
    request: &Incoming<'_>,
    allows: impl FnOnce(&str) -> bool,
) -> Result<bool, Reply> {
    with_token(shared, request, |_, scope| allows(scope))
}

/// `read(realm, scope)` of the live access token of the `Authorization: Bearer` header, under the lock; or
/// the 401 answer.
fn with_token<R>(shared: &Shared, request: &Incoming<'_>, read: impl FnOnce(&str, &str) -> R) -> Result<R, Reply> {
    let header = request.authorization.ok_or_else(|| unauthorized(None))?;
    let (scheme, token) = header.trim().split_once(' ').ok_or_else(|| unauthorized(None))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorized(None));
    }
    let state = shared.state();
    let found = state
        .token(token.trim())
        .filter(|t| t.kind == Kind::Access && Instant::now() < t.expires_at && state.session_alive(&t.session))
        .ok_or_else(|| unauthorized(Some("The access token is invalid, expired or revoked")))?;
    Ok(read(&found.realm, &found.scope))
}

/// 401 (RFC 6750 §3): without a description when no token came at all (§3.1 asks for no error code then).
fn unauthorized(description: Option<&str>) -> Reply {
    let challenge = match description {
        None => "Bearer realm=\"sipgate\"".to_owned(),
        Some(description) => {
            format!("Bearer realm=\"sipgate\", error=\"invalid_token\", error_description=\"{description}\"")
        }
    };
    Reply::text(401, "Unauthorized").with_header("WWW-Authenticate", challenge)
}

/// 403 for a token without the scope (RFC 6750 §3.1 `insufficient_scope`).
pub(super) fn forbidden(scope: &str) -> Reply {
    Reply::text(403, "Forbidden").with_header(
        "WWW-Authenticate",
        format!("Bearer realm=\"sipgate\", error=\"insufficient_scope\", scope=\"{scope}\""),
    )
}
