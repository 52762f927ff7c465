//! The token endpoint: exchanging the code, refreshing, revoking (RFC 6749 §4.1.3, §5, §6; RFC 7009).
//!
//! Success bodies hold tokens, so they are parsed here and never copied into an error or a log; error
//! bodies are RFC 6749 §5.2 JSON, or anything else a proxy may send, shown as status and excerpt.

use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::error::{Error, Grant, OAuthError};
use crate::http::{Http, Response};
use crate::redact::terminal_safe;
use crate::secret::{AccessToken, AuthorizationCode, CodeVerifier, IdToken, RefreshToken};

/// The longest access-token lifetime believed; a server that says more is taken to mean this.
pub(crate) const MAX_ACCESS_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The longest refresh-token lifetime believed.
pub(crate) const MAX_REFRESH_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// The access-token lifetime assumed when a server does not say (`expires_in` is optional): sipgate's.
pub(crate) const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(300);

/// A set of tokens from the token endpoint (RFC 6749 §5.1): what a sign-in or a refresh returns and what
/// the token store keeps. `Debug` shows no token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type`: `bearer` in any case (RFC 6749 §7.1, RFC 6750).
    pub token_type: String,
    /// When the answer arrived: the start of the access token's lifetime.
    pub received_at: SystemTime,
    /// When the access token expires, from `expires_in`: 300 s (sipgate's lifetime) after `received_at`
    /// when absent, `received_at` itself (already expired) when unusable (negative, not a number), at
    /// most a year after it.
    pub expires_at: SystemTime,
    /// `refresh_token`.
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token expires, from Keycloak's `refresh_expires_in` (0 or absent: unknown).
    pub refresh_expires_at: Option<SystemTime>,
    /// `scope`: what was granted (absent means what was asked, RFC 6749 §5.1).
    pub scope: Option<String>,
    /// `id_token` (OpenID Connect), when `openid` was in the scope.
    pub id_token: Option<IdToken>,
}

/// What a token answer said about a lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lifetime {
    /// No such field.
    Absent,
    /// Negative, fractional, or not a number.
    Unusable,
    /// Whole seconds.
    Seconds(u64),
}

impl TokenSet {
    /// Reads the token endpoint's answer for `grant`, received at `now`. Lifetimes longer than believable
    /// are cut to the maximum and reported through `note`.
    pub fn from_response(
        grant: Grant,
        response: &Response,
        now: SystemTime,
        note: &mut dyn FnMut(&str),
    ) -> Result<TokenSet, Error> {
        if !response.is_success() {
            return Err(match OAuthError::from_json(&response.body) {
                Some(error) => Error::OAuth { grant, error },
                None => Error::Status { what: grant.to_string(), status: response.status, excerpt: response.excerpt() },
            });
        }
        let bad = |reason: &str| Error::BadTokenResponse { reason: reason.to_owned() };
        let json: serde_json::Value =
            serde_json::from_str(crate::redact::strip_bom(&response.body)).map_err(|_| bad("the body is not JSON"))?;
        let text = |name: &str| json.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
        let lifetime = |name: &str| match json.get(name) {
            None | Some(serde_json::Value::Null) => Lifetime::Absent,
            Some(value) => value
                .as_u64()
                .or_else(|| value.as_str()?.trim().parse().ok())
                .map_or(Lifetime::Unusable, Lifetime::Seconds),
        };
        let access_token = text("access_token").ok_or_else(|| bad("access_token is missing"))?;
        if !is_b64token(access_token) {
            return Err(bad("access_token has characters a bearer token cannot have (RFC 6750 §2.1)"));
        }
        let refresh_token = text("refresh_token");
        if refresh_token.is_some_and(|token| !token.bytes().all(|b| (0x20..=0x7e).contains(&b))) {
            return Err(bad("refresh_token has characters other than printable ASCII (RFC 6749 Appendix A.17)"));
        }
        let token_type = text("token_type").ok_or_else(|| bad("token_type is missing"))?;
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(bad(&format!("token_type {:?} is not supported (only bearer)", terminal_safe(token_type))));
        }
        let mut capped = |name: &str, secs: u64, max: Duration| {
            if secs > max.as_secs() {
                note(&format!("{name} of {secs} s is not believable; taken as {} s", max.as_secs()));
            }
            after(now, Duration::from_secs(secs).min(max))
        };
        let expires_at = match lifetime("expires_in") {
            Lifetime::Absent => after(now, DEFAULT_ACCESS_LIFETIME),
            Lifetime::Unusable => now,
            Lifetime::Seconds(secs) => capped("expires_in", secs, MAX_ACCESS_LIFETIME),
        };
        let refresh_expires_at = match lifetime("refresh_expires_in") {
            // Keycloak says 0 for refresh tokens that do not expire (offline tokens).
            Lifetime::Absent | Lifetime::Seconds(0) => None,
            Lifetime::Unusable => Some(now),
            Lifetime::Seconds(secs) => Some(capped("refresh_expires_in", secs, MAX_REFRESH_LIFETIME)),
        };
        Ok(TokenSet {
            access_token: AccessToken::new(access_token),
            token_type: token_type.to_owned(),
            received_at: now,
            expires_at,
            refresh_token: refresh_token.map(RefreshToken::new),
            refresh_expires_at,
            scope: text("scope").map(terminal_safe),
            id_token: text("id_token").map(IdToken::new),
        })
    }

    /// Whether the access token is still valid `margin` from now.
    pub fn access_valid_for(&self, margin: Duration) -> bool {
        SystemTime::now().checked_add(margin).is_some_and(|then| then < self.expires_at)
    }

    /// Whether the refresh token can still be used: there is one, and it is not known to have expired.
    pub fn can_refresh(&self) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_at.is_none_or(|at| SystemTime::now() < at)
    }

    /// Whether the set can still be used: its access token is valid, or it can be refreshed.
    pub fn usable(&self) -> bool {
        self.access_valid_for(Duration::ZERO) || self.can_refresh()
    }

    /// How long before expiry the access token is renewed: a quarter of its lifetime, at most 30 s, so that a
    /// server issuing 20-second tokens does not see a refresh for every use.
    pub fn refresh_margin(&self) -> Duration {
        let lifetime = self.expires_at.duration_since(self.received_at).unwrap_or_default();
        (lifetime / 4).min(Duration::from_secs(30))
    }
}

/// Whether `token` is an RFC 6750 §2.1 `b64token`: letters, digits, `-._~+/`, then `=` only at the end.
pub(crate) fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// `base + span`; where the platform cannot hold that time, something earlier, never a panic.
pub(crate) fn after(base: SystemTime, span: Duration) -> SystemTime {
    base.checked_add(span).or_else(|| base.checked_add(span.min(MAX_ACCESS_LIFETIME))).unwrap_or(base)
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
        TokenSet::from_response(grant, &response, SystemTime::now(), &mut |note| self.http.note(note))
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
        TokenSet::from_response(Grant::AuthorizationCode, &response(status, body), SystemTime::UNIX_EPOCH, &mut |_| {})
    }

    fn secs(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn reads_sipgates_token_json() {
        let body = r#"{"session_state":"32c5","token_type":"bearer","id_token":"eyJi","refresh_token":"eyJr",
            "access_token":"eyJa","not-before-policy":0,"expires_in":300,"refresh_expires_in":2592000}"#;
        let tokens = parse(200, body).unwrap();
        assert_eq!(tokens.access_token.secret(), "eyJa");
        assert_eq!(tokens.refresh_token.unwrap().secret(), "eyJr");
        assert_eq!(tokens.expires_at, secs(300));
        assert_eq!(tokens.refresh_expires_at, Some(secs(2592000)));
        assert_eq!(tokens.scope, None);
    }

    #[test]
    fn tolerates_string_expiry_any_case_bearer_and_missing_optionals() {
        let tokens = parse(200, r#"{"access_token":"a","token_type":"Bearer","expires_in":"60","x":1}"#).unwrap();
        assert_eq!(tokens.expires_at, secs(60));
        assert!(tokens.refresh_token.is_none() && tokens.id_token.is_none());
    }

    #[test]
    fn absurd_lifetimes_are_capped_unusable_ones_expired_and_absent_ones_assumed() {
        let body = |expires_in: &str| {
            format!(
                r#"{{"access_token":"a","token_type":"bearer","expires_in":{expires_in},"refresh_token":"r","refresh_expires_in":{expires_in}}}"#
            )
        };
        let mut notes = Vec::new();
        let huge = TokenSet::from_response(
            Grant::Refresh,
            &response(200, &body("18446744073709551615")),
            SystemTime::UNIX_EPOCH,
            &mut |note| notes.push(note.to_owned()),
        )
        .unwrap();
        assert_eq!(huge.expires_at, SystemTime::UNIX_EPOCH + MAX_ACCESS_LIFETIME);
        assert_eq!(huge.refresh_expires_at, Some(SystemTime::UNIX_EPOCH + MAX_REFRESH_LIFETIME));
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].starts_with("expires_in of 18446744073709551615 s is not believable"), "{notes:?}");
        assert_eq!(
            parse(200, &body("\"18446744073709551615\"")).unwrap().expires_at,
            SystemTime::UNIX_EPOCH + MAX_ACCESS_LIFETIME
        );
        for unusable in ["-1", "1.5", "\"soon\"", "true"] {
            let tokens = parse(200, &body(unusable)).unwrap();
            assert_eq!(tokens.expires_at, SystemTime::UNIX_EPOCH, "{unusable}");
            assert!(!tokens.access_valid_for(Duration::ZERO), "{unusable}");
        }
        let absent = parse(200, r#"{"access_token":"a","token_type":"bearer"}"#).unwrap();
        assert_eq!(absent.expires_at, secs(300));
        // Near the end of time, adding a lifetime does not panic either.
        let late = SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 / 2);
        let _ = after(late, Duration::from_secs(u64::MAX));
    }

    #[test]
    fn the_refresh_margin_is_a_quarter_of_the_lifetime_at_most_30_s() {
        let with_lifetime = |lifetime: u64| TokenSet {
            expires_at: secs(lifetime),
            ..parse(200, r#"{"access_token":"a","token_type":"bearer"}"#).unwrap()
        };
        assert_eq!(with_lifetime(300).refresh_margin(), Duration::from_secs(30));
        assert_eq!(with_lifetime(20).refresh_margin(), Duration::from_secs(5));
        assert_eq!(with_lifetime(0).refresh_margin(), Duration::ZERO);
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
    fn tokens_must_be_tokens() {
        for access in ["SECRET\r\nX-Injected: 1", "SECRET\u{1b}[2J", "SECRET\u{e9}", "SEC RET", "SE=CRET", "==="] {
            let body = serde_json::json!({"access_token": access, "token_type": "bearer"}).to_string();
            let error = parse(200, &body).unwrap_err().to_string();
            assert!(error.contains("RFC 6750") && !error.contains("SECRET"), "{access:?}: {error}");
        }
        for refresh in ["SECRET\n", "SECRET\u{0}", "SECRET\u{ff}"] {
            let body = serde_json::json!({"access_token": "a", "token_type": "bearer", "refresh_token": refresh});
            let error = parse(200, &body.to_string()).unwrap_err().to_string();
            assert!(error.contains("printable ASCII") && !error.contains("SECRET"), "{refresh:?}: {error}");
        }
        let body = r#"{"access_token":"eyJ.a-b_c~d+e/f==","token_type":"bearer","refresh_token":"r !~\"x"}"#;
        assert!(parse(200, body).is_ok(), "b64token and VSCHAR pass");
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
