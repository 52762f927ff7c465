//! Calls to the sipgate REST API with a bearer token (RFC 6750).
//!
//! The token travels in the `Authorization` header only, never in a URL. A 401 is answered by one
//! refresh and one retry; a 403 means the token lacks a scope.

use crate::config::Config;
use crate::error::Error;
use crate::http::{Http, Response};
use crate::oauth::TokenSet;

/// Resolves `path` against the API base: `/account` or `account` → `{API_BASE_URL}/account`. A full
/// URL is accepted only below the API base, so the token is never sent elsewhere.
pub fn api_url(config: &Config, path: &str) -> Result<String, Error> {
    if path.contains("://") {
        let below_base =
            path.strip_prefix(&config.api_base).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
        return match below_base {
            true => Ok(path.to_owned()),
            false => Err(Error::Usage(format!(
                "{path} is not below the API base {} — pass a path like /account (or set API_BASE_URL)",
                config.api_base
            ))),
        };
    }
    Ok(format!("{}/{}", config.api_base, path.trim_start_matches('/')))
}

/// Calls `method url` with the access token of `tokens`. On 401 it calls `refresh` once, which must
/// return (and keep) the new tokens, and retries once. Non-2xx answers become errors.
pub fn call(
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

/// A response body for stdout: JSON pretty-printed, anything else as it came.
pub fn pretty(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned()),
        Err(_) => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::example_config(&[]).unwrap()
    }

    #[test]
    fn paths_resolve_below_the_api_base_only() {
        let config = config();
        assert_eq!(api_url(&config, "/account").unwrap(), "https://api.sipgate.com/v2/account");
        assert_eq!(api_url(&config, "history?limit=5").unwrap(), "https://api.sipgate.com/v2/history?limit=5");
        assert_eq!(
            api_url(&config, "https://api.sipgate.com/v2/devices").unwrap(),
            "https://api.sipgate.com/v2/devices"
        );
        assert!(api_url(&config, "https://evil.example/v2").is_err());
        assert!(api_url(&config, "https://api.sipgate.com/v2evil").is_err());
    }

    #[test]
    fn json_is_pretty_printed_and_other_text_kept() {
        assert_eq!(pretty(r#"{"verified":true}"#), "{\n  \"verified\": true\n}");
        assert_eq!(pretty("plain"), "plain");
    }
}
