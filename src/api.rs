//! Calls to the sipgate REST API with a bearer token (RFC 6750).
//!
//! The token travels in the `Authorization` header only, never in a URL. A 401 is answered by one
//! refresh and one retry; a 403 means the token lacks a scope.

use crate::error::Error;
use crate::http::{Http, Response};
use crate::oauth::TokenSet;

/// Calls `method url` with the access token of `tokens`. On 401 it calls `refresh` once, which must
/// return (and keep) the new tokens, and retries once. Non-2xx answers become errors.
pub(crate) fn call(
    http: &Http,
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
        403 => Err(Error::Forbidden { url: url.to_owned(), scope: tokens.scope.clone() }),
        status => Err(Error::Status { what: format!("{method} {url}"), status, excerpt: response.excerpt() }),
    }
}
