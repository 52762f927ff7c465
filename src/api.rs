//! Calls to the sipgate REST API with a bearer token (RFC 6750).
//!
//! The token travels in the `Authorization` header only, never in a URL. A 401 is answered by one
//! refresh and one retry; a 403 means the token lacks a scope, and the error names the scopes the
//! operation accepts (from the operation table).

use crate::error::Error;
use crate::http::{FullResponse, Http, Response};
use crate::oauth::TokenSet;
use crate::operations::{self, Lookup};

/// One API call as a user spells it (`sipgate-oauth api`): for [`Session::send`](crate::Session::send).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiRequest {
    /// The HTTP method, e.g. `GET`.
    pub method: String,
    /// A path below `API_BASE_URL` (`/account`), or a full URL below it.
    pub path: String,
    /// Extra headers; one named like a default (`Accept`, `Content-Type`) replaces it.
    pub headers: Vec<(String, String)>,
    /// The body, sent as `application/json` unless a `Content-Type` header says otherwise.
    pub body: Option<Vec<u8>>,
}

/// The API's answer to [`Session::send`](crate::Session::send), whatever its status.
#[derive(Debug)]
pub struct ApiResponse {
    /// Status and body.
    pub response: Response,
    /// E.g. `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// Every header, in the order received.
    pub headers: Vec<(String, String)>,
    /// For an answer that is not 2xx: the error [`Session::call`](crate::Session::call) returns for it (a
    /// 403 names the scopes the operation accepts).
    pub error: Option<Error>,
}

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
    refresh: impl FnMut(&TokenSet) -> Result<TokenSet, Error>,
) -> Result<Response, Error> {
    let request = ApiRequest {
        method: method.to_owned(),
        path: url.to_owned(),
        headers: Vec::new(),
        body: json.map(|json| json.as_bytes().to_vec()),
    };
    let answer = send(http, base, &request, url, tokens, refresh)?;
    match answer.error {
        Some(error) => Err(error),
        None => Ok(answer.response),
    }
}

/// Sends `request` to `url` (its path resolved) with the access token of `tokens`, refreshing once on
/// 401 as [`call`] does, and returns the answer whatever its status, with the error it stands for.
pub(crate) fn send(
    http: &Http,
    base: &str,
    request: &ApiRequest,
    url: &str,
    tokens: &mut TokenSet,
    mut refresh: impl FnMut(&TokenSet) -> Result<TokenSet, Error>,
) -> Result<ApiResponse, Error> {
    let method = request.method.as_str();
    let exchange = |tokens: &TokenSet| {
        http.exchange(method, url, Some(&tokens.access_token), &request.headers, request.body.as_deref())
    };
    let mut full = exchange(tokens)?;
    if full.response.status == 401 {
        *tokens = refresh(tokens)?;
        full = exchange(tokens)?;
    }
    let FullResponse { response, status_line, headers } = full;
    let error = match response.status {
        200..=299 => None,
        401 => Some(Error::Unauthorized { url: url.to_owned() }),
        403 => Some(Error::Forbidden {
            url: url.to_owned(),
            scope: tokens.scope.clone(),
            accepted: accepted_scopes(base, method, url),
        }),
        status => Some(Error::Status { what: format!("{method} {url}"), status, excerpt: response.excerpt() }),
    };
    Ok(ApiResponse { response, status_line, headers, error })
}

/// The scopes that allow `method url` (the narrow ones first, `all` last); empty when the URL is not
/// below `base` or its operation is not in the table.
fn accepted_scopes(base: &str, method: &str, url: &str) -> Vec<String> {
    let Some(path) = operations::relative_path(base, url) else { return Vec::new() };
    match operations::find(method, path) {
        Lookup::Found { op, .. } => op.accepted_scopes().map(str::to_owned).collect(),
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
