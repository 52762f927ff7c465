//! The one error type of the tool, and the RFC 6749 §5.2 error body.
//!
//! Every variant is a failure the user can act on; its `Display` says what happened and what to do.
//! No variant holds a secret: token responses never become part of an error.

use std::fmt;
use std::path::PathBuf;

pub use crate::certificate::CertificateProblem;

/// An OAuth 2.0 error response: the token endpoint's JSON body (RFC 6749 §5.2) or the
/// callback's `error` parameters (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The error code, e.g. `invalid_grant`.
    pub error: String,
    /// `error_description`: text for the developer.
    pub description: Option<String>,
    /// `error_uri`: a page about the error.
    pub uri: Option<String>,
}

impl OAuthError {
    /// Reads an RFC 6749 §5.2 JSON body; `None` if it is not one. Control characters in the values
    /// (terminal escape sequences a server could send) are replaced.
    pub fn from_json(body: &str) -> Option<OAuthError> {
        let value: serde_json::Value = serde_json::from_str(crate::redact::strip_bom(body)).ok()?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Some(OAuthError::new(field("error")?, field("error_description"), field("error_uri")))
    }

    /// An error from a server's `error`, `error_description` and `error_uri`, made safe to print.
    pub fn new(error: String, description: Option<String>, uri: Option<String>) -> OAuthError {
        let safe = |text: String| crate::redact::terminal_safe(&text);
        OAuthError { error: safe(error), description: description.map(safe), uri: uri.map(safe) }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)?;
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        if let Some(uri) = &self.uri {
            write!(f, " (see {uri})")?;
        }
        Ok(())
    }
}

/// Which call to the authorization server failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Exchanging the authorization code (RFC 6749 §4.1.3).
    AuthorizationCode,
    /// Refreshing the tokens (RFC 6749 §6).
    Refresh,
    /// Revoking a token (RFC 7009) or the Keycloak logout.
    Revoke,
    /// The device authorization grant: requesting a code or polling for tokens (RFC 8628).
    Device,
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Grant::AuthorizationCode => "the token exchange",
            Grant::Refresh => "the token refresh",
            Grant::Revoke => "the token revocation",
            Grant::Device => "the device sign-in",
        })
    }
}

/// Everything that can go wrong, one variant per thing the user can do something about.
///
/// `Display` says what happened and what to do; where an underlying error is the cause, it is returned by
/// [`source()`](std::error::Error::source) and not repeated in `Display`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The command line is wrong.
    Usage(String),
    /// A configuration variable is missing or invalid.
    Config {
        /// The variable, e.g. `CLIENT_ID`.
        var: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The `--env-file` (or `.env`) cannot be read or parsed.
    EnvFile {
        /// The file.
        path: PathBuf,
        /// What dotenvy said.
        message: String,
    },
    /// Another process holds the callback port.
    PortInUse {
        /// The port of REDIRECT_URI.
        port: u16,
    },
    /// Binding the callback port needs privileges.
    PortPermission {
        /// The port of REDIRECT_URI.
        port: u16,
    },
    /// The callback server could not start for another reason.
    Listen {
        /// The address it tried.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// No callback arrived within `--timeout`.
    Timeout {
        /// How long it waited, in seconds.
        seconds: u64,
        /// Whether a callback with a wrong `state` was seen meanwhile.
        saw_wrong_state: bool,
        /// Why the last callback that was turned away (another issuer, no code, …) was, if one was.
        rejected: Option<String>,
    },
    /// The authorization server redirected back with `error=` (the user denied, a bad scope, …).
    Authorization(OAuthError),
    /// The token endpoint answered with an RFC 6749 §5.2 error.
    OAuth {
        /// Which call it was.
        grant: Grant,
        /// The error body.
        error: OAuthError,
    },
    /// A server answered with an unexpected status and a body that is not an OAuth error.
    Status {
        /// What the request was for, e.g. `the token exchange` or `GET https://…/v2/account`.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body, without secrets.
        excerpt: String,
    },
    /// A server answered with a redirect (3xx). Token and API calls never follow one: the request carries
    /// a secret, and the configured URL is what the user vouched for.
    Redirect {
        /// What the request was for.
        what: String,
        /// The HTTP status.
        status: u16,
        /// Where it pointed (`Location`), secret query values replaced.
        location: Option<String>,
    },
    /// A token endpoint's success answer that is no valid token response; the body (it may hold tokens) is not kept.
    BadTokenResponse {
        /// What is wrong with it.
        reason: String,
    },
    /// The API rejected the access token even after a refresh.
    Unauthorized {
        /// The URL called.
        url: String,
    },
    /// The access token lacks the scope an API call needs (HTTP 403).
    Forbidden {
        /// The URL called.
        url: String,
        /// The scope the token was granted, if known.
        scope: Option<String>,
        /// The scopes that allow the call (any one suffices), from the operation table; empty when the
        /// operation is not in the table.
        accepted: Vec<String>,
    },
    /// An API answer succeeded but is not what the command needs: a page of a list for `api
    /// --paginate`, the user id in `/authorization/userinfo` for `{userId}`.
    BadApiAnswer {
        /// The request, e.g. `GET https://…/v2/history?offset=0&limit=100`.
        what: String,
        /// What is wrong with it and what to do.
        reason: String,
    },
    /// The network request failed (DNS, connection, TLS, timeout).
    Http {
        /// What the request was for.
        what: String,
        /// ureq's error.
        source: ureq::Error,
    },
    /// A server's TLS certificate was not accepted; `-v` shows the chain it presented.
    Certificate {
        /// The host connected to.
        host: String,
        /// What is wrong with the certificate.
        problem: CertificateProblem,
    },
    /// Writing the results to stdout failed (e.g. a closed pipe).
    Output {
        /// The cause.
        source: std::io::Error,
    },
    /// No tokens are stored for this client.
    NotSignedIn,
    /// Only a new sign-in mends it, and this says why and how, for the profile at hand (from
    /// [`Session::sign_in_again`](crate::Session::sign_in_again)).
    SignInNeeded {
        /// `profile work is not signed in: … — sign in again: sipgate-oauth login --profile work`.
        message: String,
    },
    /// The tokens need renewing, but the server issued no refresh token with them.
    NoRefreshToken,
    /// The profile keeps tokens of another client or server than the one configured here.
    OtherClient {
        /// The profile.
        profile: String,
        /// `client at token URL` of the kept tokens.
        kept: String,
        /// `client at token URL` of the configuration.
        configured: String,
    },
    /// The stored refresh token is dead (used, expired or revoked).
    SessionExpired(OAuthError),
    /// The token store could not be read or written.
    Store {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored token file exists but is not valid; it is left untouched.
    StoreCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    // The device authorization grant (RFC 8628, `--device`).
    /// The server does not let this client use the device flow (Keycloak: "The flow is disabled for
    /// the client"), said by its device endpoint or its token endpoint.
    DeviceFlowDisabled(OAuthError),
    /// No device authorization endpoint is known: DEVICE_AUTH_URL is unset and discovery names none.
    DeviceEndpointUnknown {
        /// Why not, e.g. the discovery document's status.
        reason: String,
    },
    /// The device authorization endpoint answered 2xx with something that is not a valid answer.
    BadDeviceResponse {
        /// What is wrong with it.
        reason: String,
    },
    /// The user denied the sign-in on the other device (`access_denied`).
    DeviceDenied(OAuthError),
    /// The code was not entered in time (`expired_token`, or `expires_in` passed while polling).
    DeviceExpired {
        /// The code's lifetime, `expires_in`.
        seconds: u64,
    },
    /// A simulated call (`mock call`) ran, but a push found the app unreachable, or the app answered
    /// something sipgate would reject.
    CallFailed {
        /// What went wrong, one line each.
        problems: Vec<String>,
    },
}

impl Error {
    /// Whether only a new sign-in mends it: nothing is kept, the refresh token is dead or missing, or the
    /// API rejects a freshly refreshed token. A program that keeps running (`mcp`, `proxy`) answers such a
    /// call with [`Session::sign_in_again`](crate::Session::sign_in_again) and goes on.
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            Error::NotSignedIn
                | Error::SignInNeeded { .. }
                | Error::SessionExpired(_)
                | Error::NoRefreshToken
                | Error::Unauthorized { .. }
        )
    }
}

/// A hint for an OAuth error code, per the troubleshooting list of `docs/sipgate.md`.
fn hint(grant: Grant, code: &str) -> &'static str {
    match (grant, code) {
        (_, "unauthorized_client" | "invalid_client") => {
            "check CLIENT_ID and CLIENT_SECRET against your client at https://console.sipgate.com"
        }
        (Grant::AuthorizationCode, "invalid_grant") => {
            "the code expired, was used already, or REDIRECT_URI differs from the one registered — start the sign-in again"
        }
        (Grant::Refresh, "invalid_grant") => "the refresh token is no longer valid — run `sipgate-oauth login`",
        (_, "invalid_scope") => "check OAUTH_SCOPE against the scopes your client may request",
        _ => "see the error above; run with -v for the full exchange",
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The parser points to the command's own help where it knows the command.
            Error::Usage(message) if message.contains("--help`") => f.write_str(message),
            Error::Usage(message) => write!(f, "{message} — see `sipgate-oauth --help`"),
            Error::Config { var, message } => write!(f, "{var}: {message}"),
            Error::EnvFile { path, message } => write!(f, "cannot read {}: {message}", path.display()),
            Error::PortInUse { port } => write!(
                f,
                "port {port} is already in use — is another sipgate-oauth running? \
                 Stop it, or change REDIRECT_URI (and PORT) to a free port and register that URI for your client"
            ),
            Error::PortPermission { port } => write!(
                f,
                "permission denied to listen on port {port} — ports this low need privileges here (usually those below 1024); \
                 use a port above 1024 in REDIRECT_URI (and PORT) and register that URI for your client"
            ),
            Error::Listen { addr, .. } => write!(f, "cannot listen on {addr}"),
            Error::Timeout { seconds, saw_wrong_state, rejected } => {
                write!(f, "no sign-in arrived within {seconds} s. ")?;
                if let Some(reason) = rejected {
                    return write!(f, "A callback came but was rejected: {reason} Use --timeout to wait longer");
                }
                if *saw_wrong_state {
                    write!(
                        f,
                        "A callback came with a state that does not match this sign-in: \
                         use the URL printed by this run, not one from an earlier run or a refreshed tab. "
                    )?;
                }
                write!(
                    f,
                    "If the browser showed \"Invalid parameter: redirect_uri\", REDIRECT_URI is not registered \
                     for this client: add it exactly at https://console.sipgate.com (Clients → your client → \
                     redirect URIs). Use --timeout to wait longer"
                )
            }
            Error::Authorization(error) => {
                write!(f, "the authorization server refused the sign-in: {error}")?;
                if error.error == "access_denied" {
                    write!(f, " — the sign-in was cancelled or consent was denied; run again to retry")?;
                }
                Ok(())
            }
            Error::OAuth { grant, error } => {
                write!(f, "{grant} failed: {error} — {}", hint(*grant, &error.error))
            }
            Error::Status { what, status, excerpt } => {
                write!(f, "{what} failed with HTTP {status}")?;
                if !excerpt.is_empty() {
                    write!(f, ": {excerpt}")?;
                }
                Ok(())
            }
            Error::Redirect { what, status, location } => {
                write!(f, "{what} was answered with a redirect (HTTP {status}")?;
                if let Some(location) = location {
                    write!(f, " to {location}")?;
                }
                write!(
                    f,
                    "), which is not followed — requests that carry secrets go only where configured; \
                     check the URL (https:// rather than http://, the path, a trailing slash)"
                )
            }
            Error::BadTokenResponse { reason } => {
                write!(f, "the token endpoint sent an invalid answer: {reason} (is TOKEN_URL right?)")
            }
            Error::Unauthorized { url } => {
                write!(f, "{url} rejected the access token even after a refresh (HTTP 401) — run `sipgate-oauth login`")
            }
            Error::Forbidden { url, scope, accepted } => {
                write!(f, "{url} refused the call (HTTP 403): the token lacks the scope it needs")?;
                if let Some(scope) = scope {
                    write!(f, " (granted: {scope})")?;
                }
                match accepted.as_slice() {
                    [] => write!(f, " — add the scope to OAUTH_SCOPE and your client, then sign in again"),
                    accepted => write!(
                        f,
                        "; it needs one of: {} — add it to OAUTH_SCOPE and your client, then sign in again",
                        accepted.join(", ")
                    ),
                }
            }
            Error::BadApiAnswer { what, reason } => write!(f, "{what} answered, but {reason}"),
            Error::CallFailed { problems } => write!(
                f,
                "the simulated call ran, but sipgate would have gone on without your app: {} — see the timeline",
                problems.join("; ")
            ),
            Error::Http { what, .. } => write!(f, "{what} failed"),
            Error::Certificate { host, problem } => write!(f, "the TLS certificate of {host} {problem}"),
            Error::Output { .. } => f.write_str("cannot write the output"),
            Error::NotSignedIn => f.write_str("not signed in — run `sipgate-oauth login`"),
            Error::SignInNeeded { message } => f.write_str(message),
            Error::OtherClient { profile, kept, configured } => write!(
                f,
                "profile {profile} is signed in as client {kept}, but the configuration here is for {configured} — \
                 sign it in with that: `sipgate-oauth login --profile {profile}` (to keep both: --profile NAME), \
                 or run it where the .env names the profile's client"
            ),
            Error::NoRefreshToken => f.write_str(
                "the access token has expired and the server issued no refresh token to renew it — \
                 run `sipgate-oauth login` (OpenID Connect servers may want offline_access in OAUTH_SCOPE)",
            ),
            Error::SessionExpired(error) => {
                write!(f, "the stored sign-in has expired or was revoked ({error}) — run `sipgate-oauth login`")
            }
            Error::Store { path, .. } => write!(f, "token store {}", path.display()),
            Error::StoreCorrupt { path, reason } => write!(
                f,
                "token file {} is not valid ({reason}); it was left as it is — \
                 inspect or remove it, then run `sipgate-oauth login`",
                path.display()
            ),
            Error::DeviceFlowDisabled(error) => write!(
                f,
                "the authorization server does not allow the device sign-in for this client ({error}) — ask the \
                 client's owner to switch on the OAuth 2.0 Device Authorization Grant for CLIENT_ID, or sign in \
                 without --device (in the browser, or in paste mode)"
            ),
            Error::DeviceEndpointUnknown { reason } => write!(
                f,
                "no device authorization endpoint is known: {reason} — set DEVICE_AUTH_URL, or sign in \
                 without --device"
            ),
            Error::BadDeviceResponse { reason } => write!(
                f,
                "the device authorization endpoint sent an invalid answer: {reason} (is DEVICE_AUTH_URL right?)"
            ),
            Error::DeviceDenied(error) => write!(
                f,
                "the sign-in on the other device was denied ({error}) — run again with --device and choose Allow \
                 to sign in"
            ),
            Error::DeviceExpired { seconds } => write!(
                f,
                "the code was not entered in time: it expired after {seconds} s — run again with --device and \
                 enter the new code before it expires"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Listen { source, .. } | Error::Output { source } | Error::Store { source, .. } => Some(source),
            Error::Http { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_error_body_is_read_and_shown_with_a_hint() {
        let body = r#"{"error":"unauthorized_client","error_description":"Invalid client secret"}"#;
        let error = OAuthError::from_json(body).unwrap();
        let shown = Error::OAuth { grant: Grant::AuthorizationCode, error }.to_string();
        assert_eq!(
            shown,
            "the token exchange failed: unauthorized_client: Invalid client secret — \
             check CLIENT_ID and CLIENT_SECRET against your client at https://console.sipgate.com"
        );
        assert_eq!(OAuthError::from_json("<html>Bad Gateway</html>"), None);
        assert_eq!(OAuthError::from_json(r#"{"message":"x"}"#), None);
        let hostile =
            OAuthError::from_json("\u{feff}{\"error\":\"e\",\"error_description\":\"\\u001b]0;pwned\\u0007\"}");
        assert_eq!(hostile.unwrap().description.as_deref(), Some("?]0;pwned?"));
    }

    #[test]
    fn causes_are_sources_and_not_repeated_in_the_message() {
        use std::error::Error as _;
        let error = Error::Store { path: "/s/t.json".into(), source: std::io::Error::other("disk full") };
        assert_eq!(error.to_string(), "token store /s/t.json");
        assert_eq!(error.source().map(ToString::to_string).as_deref(), Some("disk full"));
        assert!(Error::NotSignedIn.source().is_none());
    }

    #[test]
    fn a_dead_sign_in_is_told_apart_from_a_failing_call() {
        let dead = OAuthError::new("invalid_grant".into(), Some("Stale token".into()), None);
        assert!(Error::SessionExpired(dead).needs_sign_in());
        assert!(Error::NotSignedIn.needs_sign_in() && Error::NoRefreshToken.needs_sign_in());
        assert!(Error::Unauthorized { url: "https://api/v2/account".into() }.needs_sign_in());
        let forbidden = Error::Forbidden { url: "u".into(), scope: None, accepted: vec![] };
        assert!(!forbidden.needs_sign_in());
        assert!(!Error::Status { what: "GET u".into(), status: 503, excerpt: String::new() }.needs_sign_in());
    }
}
