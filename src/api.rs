//! Calls to the sipgate REST API with a bearer token (RFC 6750).
//!
//! The token travels in the `Authorization` header only, never in a URL. A 401 is answered by one
//! refresh and one retry; a 403 means the token lacks a scope, and the error names the scopes the
//! operation accepts (from the operation table).

use crate::error::Error;
use crate::http::{Http, Response};
use crate::oauth::TokenSet;
use crate::operations::{self, Lookup};

/// Calls `method url` with the access token of `tokens`. On 401 it calls `refresh` once, which must
/// return (and keep) the new tokens, and retries once. Non-2xx answers become errors; `base` (the API
/// base URL) places `url` in the operation table for a 403's message.
pub(crate) fn call(
    http: &Http,
    base: &str,
    method: &str,
    url: &str,
    json: Option<&str>,
    tokens: &mut TokenSet,
    mut refresh: impl FnMut(&TokenSet) -> Result<TokenSet, Error>,
) -> Result<Response, Error> {
    let mut response = http.request(method, url, Some(&tokens.access_token), json)?;
    if response.status == 401 {
        *tokens = refresh(tokens)?;
        response = http.request(method, url, Some(&tokens.access_token), json)?;
    }
    match response.status {
        200..=299 => Ok(response),
        401 => Err(Error::Unauthorized { url: url.to_owned() }),
        403 => Err(Error::Forbidden {
            url: url.to_owned(),
            scope: tokens.scope.clone(),
            accepted: accepted_scopes(base, method, url),
        }),
        status => Err(Error::Status { what: format!("{method} {url}"), status, excerpt: response.excerpt() }),
    }
}

/// The scopes that allow `method url` (the narrow ones first, `all` last); empty when the URL is not
/// below `base` or its operation is not in the table.
fn accepted_scopes(base: &str, method: &str, url: &str) -> Vec<String> {
    let Some(path) = url.strip_prefix(base.trim_end_matches('/')) else { return Vec::new() };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = if path.is_empty() { "/" } else { path };
    match operations::find(method, path) {
        Lookup::Found { op, .. } if !op.scopes.is_empty() => {
            op.narrow_scopes().chain(["all"]).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_403_names_the_scopes_of_the_operation() {
        let base = "https://api.sipgate.com/v2";
        assert_eq!(accepted_scopes(base, "GET", "https://api.sipgate.com/v2/history?limit=5"), ["history:read", "all"]);
        assert_eq!(accepted_scopes(base, "GET", "https://api.sipgate.com/v2/w0/sms"), ["sms:read", "all"]);
        assert!(accepted_scopes(base, "GET", "https://api.sipgate.com/v2/no/such/thing").is_empty());
        assert!(accepted_scopes(base, "GET", "https://elsewhere.example/v2/history").is_empty());

        let error = Error::Forbidden {
            url: format!("{base}/history"),
            scope: Some("account:read".into()),
            accepted: accepted_scopes(base, "GET", &format!("{base}/history")),
        };
        assert_eq!(
            error.to_string(),
            "https://api.sipgate.com/v2/history refused the call (HTTP 403): the token lacks the scope it needs \
             (granted: account:read); it needs one of: history:read, all — add it to OAUTH_SCOPE and your \
             client, then sign in again"
        );
    }
}
