//! The token endpoint: exchanging the code, refreshing, revoking (RFC 6749 §4.1.3, §5, §6; RFC 7009).
//!
//! Success bodies hold tokens, so they are parsed here and never copied into an error or a log; error
//! bodies are RFC 6749 §5.2 JSON, or anything else a proxy may send, shown as status and excerpt.

use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::error::{Error, Grant, OAuthError};
use crate::http::{Http, Response};
use crate::secret::{AccessToken, AuthorizationCode, CodeVerifier, IdToken, RefreshToken};

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type`: `bearer` in any case (RFC 6749 §7.1, RFC 6750).
    pub token_type: String,
    /// When the access token expires, from `expires_in`.
    pub expires_at: Option<SystemTime>,
    /// `refresh_token`.
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token expires, from Keycloak's `refresh_expires_in` (0 or absent: unknown).
    pub refresh_expires_at: Option<SystemTime>,
    /// `scope`: what was granted (absent means what was asked, RFC 6749 §5.1).
    pub scope: Option<String>,
    /// `id_token` (OpenID Connect), when `openid` was in the scope.
    pub id_token: Option<IdToken>,
}

impl TokenSet {
    /// Reads the token endpoint's answer for `grant`, received at `now`.
    pub fn from_response(grant: Grant, response: &Response, now: SystemTime) -> Result<TokenSet, Error> {
        if !response.is_success() {
            return Err(match OAuthError::from_json(&response.body) {
                Some(error) => Error::OAuth { grant, error },
                None => Error::Status { what: grant.to_string(), status: response.status, excerpt: response.excerpt() },
            });
        }
        let bad = |reason: &str| Error::BadTokenResponse { reason: reason.to_owned() };
        let json: serde_json::Value = serde_json::from_str(&response.body).map_err(|_| bad("the body is not JSON"))?;
        let text = |name: &str| json.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
        let seconds = |name: &str| {
            let value = json.get(name)?;
            value.as_u64().or_else(|| value.as_str()?.trim().parse().ok())
        };
        let access_token = text("access_token").ok_or_else(|| bad("access_token is missing"))?;
        let token_type = text("token_type").ok_or_else(|| bad("token_type is missing"))?;
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(bad(&format!("token_type {token_type:?} is not supported (only bearer)")));
        }
        let after = |secs: u64| now + Duration::from_secs(secs);
        Ok(TokenSet {
            access_token: AccessToken::new(access_token),
            token_type: token_type.to_owned(),
            expires_at: seconds("expires_in").map(after),
            refresh_token: text("refresh_token").map(RefreshToken::new),
            // Keycloak says 0 for refresh tokens that do not expire (offline tokens).
            refresh_expires_at: seconds("refresh_expires_in").filter(|&s| s > 0).map(after),
            scope: text("scope").map(str::to_owned),
            id_token: text("id_token").map(IdToken::new),
        })
    }
}

/// A client of the authorization server's token, revocation and logout endpoints.
#[derive(Debug, Clone, Copy)]
pub struct OAuthClient<'a> {
    http: &'a Http,
    config: &'a Config,
}

impl<'a> OAuthClient<'a> {
    /// A client for `config`'s endpoints and credentials.
    pub fn new(http: &'a Http, config: &'a Config) -> OAuthClient<'a> {
        OAuthClient { http, config }
    }

    /// Exchanges an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5). `redirect_uri` is the one sent
    /// in the authorization request.
    pub fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &CodeVerifier,
        redirect_uri: &str,
    ) -> Result<TokenSet, Error> {
        self.token_request(
            Grant::AuthorizationCode,
            &[
                ("grant_type", "authorization_code"),
                ("code", code.secret()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier.secret()),
            ],
        )
    }

    /// Refreshes the tokens (RFC 6749 §6). The answer replaces the old set: sipgate kills the used
    /// refresh token. If the server sends no new refresh token, the old one is kept.
    pub fn refresh(&self, refresh_token: &RefreshToken) -> Result<TokenSet, Error> {
        let mut tokens = self.token_request(
            Grant::Refresh,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token.secret())],
        )?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        Ok(tokens)
    }

    /// Ends the sign-in at the server: RFC 7009 revocation of the refresh token, or, where the server
    /// has no revocation endpoint (404/405), Keycloak's logout endpoint.
    pub fn revoke(&self, refresh_token: &RefreshToken) -> Result<(), Error> {
        let revoke = self.post(
            Grant::Revoke,
            &self.config.revoke_url,
            &[("token", refresh_token.secret()), ("token_type_hint", "refresh_token")],
        )?;
        let response = match revoke.status {
            404 | 405 => {
                self.post(Grant::Revoke, &self.config.logout_url, &[("refresh_token", refresh_token.secret())])?
            }
            _ => revoke,
        };
        if response.is_success() {
            return Ok(());
        }
        Err(match OAuthError::from_json(&response.body) {
            Some(error) => Error::OAuth { grant: Grant::Revoke, error },
            None => {
                Error::Status { what: Grant::Revoke.to_string(), status: response.status, excerpt: response.excerpt() }
            }
        })
    }

    fn token_request(&self, grant: Grant, fields: &[(&str, &str)]) -> Result<TokenSet, Error> {
        let response = self.post(grant, &self.config.token_url, fields)?;
        TokenSet::from_response(grant, &response, SystemTime::now())
    }

    /// POSTs `fields` with the client's credentials in the body, as sipgate's example does
    /// (`client_secret_post`). A server that refuses them there as `invalid_client` gets them once more by
    /// HTTP Basic (`client_secret_basic`), which RFC 6749 §2.3.1 requires every server to support: some
    /// accept nothing else. Client authentication comes before the grant, so the retry finds the code
    /// unused. The device flow (`device`) sends its requests through here too.
    pub(crate) fn post(&self, grant: Grant, url: &str, fields: &[(&str, &str)]) -> Result<Response, Error> {
        let (id, secret) = (self.config.client_id.as_str(), &self.config.client_secret);
        let mut form = vec![("client_id", id), ("client_secret", secret.secret())];
        form.extend_from_slice(fields);
        let response = self.http.post_form(&grant.to_string(), url, &form, None)?;
        let refused_client = matches!(response.status, 400 | 401)
            && OAuthError::from_json(&response.body).is_some_and(|e| e.error == "invalid_client");
        if !refused_client {
            return Ok(response);
        }
        self.http.post_form(&grant.to_string(), url, fields, Some((id, secret)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response { status, www_authenticate: None, content_type: None, body: body.to_owned() }
    }

    fn parse(status: u16, body: &str) -> Result<TokenSet, Error> {
        TokenSet::from_response(Grant::AuthorizationCode, &response(status, body), SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn reads_sipgates_token_json() {
        let body = r#"{"session_state":"32c5","token_type":"bearer","id_token":"eyJi","refresh_token":"eyJr",
            "access_token":"eyJa","not-before-policy":0,"expires_in":300,"refresh_expires_in":2592000}"#;
        let tokens = parse(200, body).unwrap();
        assert_eq!(tokens.access_token.secret(), "eyJa");
        assert_eq!(tokens.refresh_token.unwrap().secret(), "eyJr");
        assert_eq!(tokens.expires_at, Some(SystemTime::UNIX_EPOCH + Duration::from_secs(300)));
        assert_eq!(tokens.refresh_expires_at, Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2592000)));
        assert_eq!(tokens.scope, None);
    }

    #[test]
    fn tolerates_string_expiry_any_case_bearer_and_missing_optionals() {
        let tokens = parse(200, r#"{"access_token":"a","token_type":"Bearer","expires_in":"60","x":1}"#).unwrap();
        assert_eq!(tokens.expires_at, Some(SystemTime::UNIX_EPOCH + Duration::from_secs(60)));
        assert!(tokens.refresh_token.is_none() && tokens.id_token.is_none());
    }

    #[test]
    fn rejects_incomplete_answers_without_echoing_them() {
        let error = parse(200, r#"{"token_type":"bearer","refresh_token":"SECRET"}"#).unwrap_err().to_string();
        assert!(error.contains("access_token is missing") && !error.contains("SECRET"), "{error}");
        let error = parse(200, r#"{"access_token":"SECRET","token_type":"mac"}"#).unwrap_err().to_string();
        assert!(error.contains("\"mac\" is not supported") && !error.contains("SECRET"), "{error}");
        let error = parse(200, "access_token=SECRET").unwrap_err().to_string();
        assert!(error.contains("not JSON") && !error.contains("SECRET"), "{error}");
    }

    #[test]
    fn error_bodies_become_oauth_errors_or_status_excerpts() {
        let error = parse(400, r#"{"error":"invalid_grant","error_description":"Code not valid"}"#).unwrap_err();
        assert!(matches!(&error, Error::OAuth { error, .. } if error.error == "invalid_grant"));
        assert!(error.to_string().contains("invalid_grant: Code not valid — the code expired"), "{error}");
        let error = parse(502, "<html><body>502 Bad Gateway</body></html>\n<p>more</p>").unwrap_err().to_string();
        assert_eq!(error, "the token exchange failed with HTTP 502: <html><body>502 Bad Gateway</body></html>");
    }
}
