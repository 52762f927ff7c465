//! Reading a request the way Keycloak does: the request as the handlers see it, form bodies, parameters
//! that may appear once, the scopes the stand-in knows and the shape of PKCE strings.

use super::reply::Reply;
use crate::query;

/// A request, as the handlers see it: everything is borrowed from the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Incoming<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The raw query, without `?`; empty if none.
    pub query: &'a str,
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The body (at most the size limit of the server).
    pub body: &'a [u8],
}

/// The OpenID Connect scopes the stand-in accepts besides sipgate's own.
const OIDC_SCOPES: [&str; 4] = ["openid", "offline_access", "profile", "email"];

/// Whether the stand-in knows `scope`: one of sipgate's (every scope of its published API description) or
/// an OpenID Connect one. A request for any other scope is refused with `invalid_scope`, as Keycloak does.
pub(super) fn is_known_scope(scope: &str) -> bool {
    crate::operations::is_known_scope(scope) || OIDC_SCOPES.contains(&scope)
}

/// Every scope the stand-in knows, for its discovery document.
pub(super) fn known_scopes() -> Vec<&'static str> {
    crate::operations::scopes().map(|(name, _)| name).chain(OIDC_SCOPES).collect()
}

/// Whether `value` has the form of a PKCE verifier or challenge: 43 to 128 unreserved characters
/// (RFC 7636 §4.1).
pub(super) fn is_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The pairs of a form body (`application/x-www-form-urlencoded`); a Keycloak-style 400 if it is not one.
pub(super) fn form(request: &Incoming<'_>) -> Result<Vec<(String, String)>, Reply> {
    let essence = request.content_type.map(|value| value.split(';').next().unwrap_or_default().trim());
    if let Some(essence) = essence
        && !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(Reply::invalid_request("Content-Type must be application/x-www-form-urlencoded"));
    }
    query::decode_bytes(request.body).map_err(|error| Reply::invalid_request(&format!("Invalid form body: {error}")))
}

/// The value of a parameter that may appear at most once; empty counts as absent (as in Keycloak).
pub(super) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Result<Option<&'a str>, Reply> {
    match query::single(pairs, key) {
        Ok(value) => Ok(value.filter(|value| !value.is_empty())),
        Err(_) => Err(Reply::invalid_request(&format!("duplicated parameter: {key}"))),
    }
}

/// The value of a required parameter; `Missing parameter: …` if absent.
pub(super) fn required<'a>(pairs: &'a [(String, String)], key: &str) -> Result<&'a str, Reply> {
    param(pairs, key)?.ok_or_else(|| Reply::missing(key))
}
