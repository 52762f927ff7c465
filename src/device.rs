//! The device sign-in: the OAuth 2.0 device authorization grant (RFC 8628), for signing in on another
//! device (a phone, a laptop with a browser) while this one only has a terminal.
//!
//! The device endpoint is `DEVICE_AUTH_URL`, else the `device_authorization_endpoint` of the
//! discovery document next to TOKEN_URL. Its answer (the user code and where to enter it) is handed
//! to the caller as a [`DeviceEvent::Prompt`]: this module never prints. Then it polls the token
//! endpoint every `interval` (5 s more after each `slow_down`) until the user has decided or
//! `expires_in` has passed. Client authentication and error parsing are [`OAuthClient`]'s, so the
//! tokens it returns are the same [`TokenSet`] as after a browser sign-in. The device code is a
//! secret; the user code is shown to the user by design, but never logged in a trace.

use std::time::{Duration, Instant, SystemTime};

use crate::config::{Config, is_loopback_host};
use crate::error::{Error, Grant, OAuthError};
use crate::http::{Http, Response};
use crate::oauth::{OAuthClient, TokenSet};
use crate::secret::DeviceCode;

/// The `grant_type` of a device-code token request (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The polling interval when the server names none (RFC 8628 §3.2).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// What `slow_down` adds to the interval, for this and every later poll (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// What the user must be told to sign in on another device (RFC 8628 §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevicePrompt {
    /// `verification_uri`: where to enter the code.
    pub verification_uri: String,
    /// `user_code`: the code to enter, e.g. `ABCD-EFGH`.
    pub user_code: String,
    /// `verification_uri_complete`: a URI with the code in it (to open, or to show as a QR code).
    pub verification_uri_complete: Option<String>,
    /// `expires_in`: how long the code is valid.
    pub expires_in: Duration,
}

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    /// `device_code`: what this device polls with.
    pub device_code: DeviceCode,
    /// What the user is told.
    pub prompt: DevicePrompt,
    /// `interval`: the least time between two polls.
    pub interval: Duration,
}

/// What happens during the device sign-in that the user should hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceEvent<'a> {
    /// Show the user where to go and which code to enter; polling starts after this.
    Prompt(&'a DevicePrompt),
    /// The server asked to poll more slowly (`slow_down`); polls now come every `interval`.
    SlowDown {
        /// The new interval.
        interval: Duration,
    },
}

/// Signs in with the device authorization grant: finds the device endpoint, requests a code, hands
/// the prompt to `on_event`, and polls until the user has allowed (the tokens), denied
/// ([`Error::DeviceDenied`]) or let the code expire ([`Error::DeviceExpired`]). Waits between polls
/// on this thread.
pub fn sign_in(http: &Http, config: &Config, on_event: &mut dyn FnMut(DeviceEvent<'_>)) -> Result<TokenSet, Error> {
    let endpoint = device_endpoint(http, config)?;
    let authorization = request_authorization(http, config, &endpoint)?;
    on_event(DeviceEvent::Prompt(&authorization.prompt));
    poll(http, config, &authorization, on_event)
}

/// The device authorization endpoint: `DEVICE_AUTH_URL`, else the discovery document's
/// `device_authorization_endpoint` (RFC 8628 §4).
pub fn device_endpoint(http: &Http, config: &Config) -> Result<String, Error> {
    if let Some(url) = &config.device_auth_url {
        return Ok(url.clone());
    }
    let url = discovery_url(&config.token_url);
    let unknown = |reason: String| Error::DeviceEndpointUnknown { reason };
    let response = http.request("GET", &url, None, None)?;
    if response.status != 200 {
        return Err(unknown(format!("the discovery document {url} answered HTTP {}", response.status)));
    }
    let document: serde_json::Value = serde_json::from_str(&response.body)
        .map_err(|_| unknown(format!("the discovery document {url} is not JSON")))?;
    let endpoint = document.get("device_authorization_endpoint").and_then(|v| v.as_str()).ok_or_else(|| {
        unknown(format!(
            "the discovery document {url} names no device_authorization_endpoint (the server may not offer the device flow)"
        ))
    })?;
    if !is_acceptable_endpoint(endpoint) {
        return Err(unknown(format!(
            "the discovery document {url} names {endpoint:?}, which is not https:// (or http:// on loopback)"
        )));
    }
    Ok(endpoint.to_owned())
}

/// The discovery document that belongs to TOKEN_URL: Keycloak's realm document
/// (`…/realms/{realm}/.well-known/openid-configuration` for `…/realms/{realm}/protocol/openid-connect/token`),
/// else the one at the token endpoint's parent (`https://issuer/token` → `https://issuer/.well-known/…`).
pub fn discovery_url(token_url: &str) -> String {
    let token_url = token_url.split(['?', '#']).next().unwrap_or(token_url);
    let base = match token_url.strip_suffix("/protocol/openid-connect/token") {
        Some(realm) => realm,
        None => {
            let path_start = token_url.find("://").map_or(0, |i| i + 3);
            match token_url[path_start..].rfind('/') {
                Some(i) => &token_url[..path_start + i],
                None => token_url,
            }
        }
    };
    format!("{base}/.well-known/openid-configuration")
}

/// Whether an endpoint from a server's document may be called: `https://`, or `http://` on loopback.
fn is_acceptable_endpoint(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(host)) => is_loopback_host(host),
        _ => false,
    }
}

/// Requests a device code and user code (RFC 8628 §3.1) with the client's credentials and OAUTH_SCOPE.
pub fn request_authorization(http: &Http, config: &Config, endpoint: &str) -> Result<DeviceAuthorization, Error> {
    let oauth = OAuthClient::new(http, config);
    let response = oauth.post(Grant::Device, endpoint, &[("scope", config.scope.as_str())])?;
    read_authorization(&response)
}

/// Reads the device endpoint's answer: the authorization, or the error it stands for.
pub(crate) fn read_authorization(response: &Response) -> Result<DeviceAuthorization, Error> {
    if !response.is_success() {
        return Err(match OAuthError::from_json(&response.body) {
            Some(error) if is_flow_disabled(&error) => Error::DeviceFlowDisabled(error),
            Some(error) => Error::OAuth { grant: Grant::Device, error },
            None => {
                Error::Status { what: Grant::Device.to_string(), status: response.status, excerpt: response.excerpt() }
            }
        });
    }
    let bad = |reason: &str| Error::BadDeviceResponse { reason: reason.to_owned() };
    let json: serde_json::Value = serde_json::from_str(&response.body).map_err(|_| bad("the body is not JSON"))?;
    let text = |name: &str| json.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
    let seconds = |name: &str| {
        let value = json.get(name)?;
        value.as_u64().or_else(|| value.as_str()?.trim().parse().ok())
    };
    // What is shown on a terminal must not carry control characters (escape sequences).
    let shown = |name: &str| match text(name) {
        Some(value) if value.chars().any(char::is_control) => Err(bad(&format!("{name} holds control characters"))),
        value => Ok(value.map(str::to_owned)),
    };
    let device_code = text("device_code").ok_or_else(|| bad("device_code is missing"))?;
    let user_code = shown("user_code")?.ok_or_else(|| bad("user_code is missing"))?;
    // Some servers (Google's) say verification_url.
    let verification_uri = match shown("verification_uri")? {
        Some(uri) => uri,
        None => shown("verification_url")?.ok_or_else(|| bad("verification_uri is missing"))?,
    };
    let expires_in = seconds("expires_in").ok_or_else(|| bad("expires_in is missing"))?;
    Ok(DeviceAuthorization {
        device_code: DeviceCode::new(device_code),
        prompt: DevicePrompt {
            verification_uri,
            user_code,
            verification_uri_complete: shown("verification_uri_complete")?,
            expires_in: Duration::from_secs(expires_in),
        },
        // RFC 8628 §3.2: 5 s when absent; 0 would poll without a pause, so 1 s at least.
        interval: seconds("interval").map_or(DEFAULT_INTERVAL, |secs| Duration::from_secs(secs.max(1))),
    })
}

/// Whether an error says the client may not use the device grant: Keycloak's `unauthorized_client`
/// "… The flow is disabled for the client." (device endpoint) or "Client not allowed OAuth 2.0 Device
/// Authorization Grant" (token endpoint); oidc-provider's `invalid_request` "…device_code is not
/// allowed for this client" / "requested grant type is not allowed for this client". Keycloak also
/// says `unauthorized_client` for a wrong secret, so the description decides.
fn is_flow_disabled(error: &OAuthError) -> bool {
    let description = error.description.as_deref().unwrap_or_default().to_ascii_lowercase();
    let said = |phrase: &str| description.contains(phrase);
    matches!(error.error.as_str(), "unauthorized_client" | "invalid_request")
        && (said("device authorization grant")
            || said("flow is disabled")
            || (said("not allowed") && (said("grant type") || said("device_code"))))
}

/// What one poll of the token endpoint brought.
#[derive(Debug)]
pub(crate) enum Poll {
    /// The user allowed: the tokens.
    Tokens(Box<TokenSet>),
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: ask again after a longer interval.
    SlowDown,
}

/// Polls the token endpoint with the device code (RFC 8628 §3.4) until there is an outcome.
pub fn poll(
    http: &Http,
    config: &Config,
    authorization: &DeviceAuthorization,
    on_event: &mut dyn FnMut(DeviceEvent<'_>),
) -> Result<TokenSet, Error> {
    let oauth = OAuthClient::new(http, config);
    let expires_in = authorization.prompt.expires_in;
    let fields = [("grant_type", GRANT_TYPE), ("device_code", authorization.device_code.secret())];
    let started = Instant::now();
    poll_until_decided(
        authorization.interval,
        expires_in,
        || read_poll(&oauth.post(Grant::Device, &config.token_url, &fields)?, expires_in, SystemTime::now()),
        std::thread::sleep,
        || started.elapsed(),
        on_event,
    )
}

/// The polling loop, with the network, the wait and the clock passed in: wait `interval`, poll; on
/// `slow_down` the interval grows by 5 s for good; give up once `expires_in` has passed. No wait goes
/// past `expires_in` (however long the server's interval): the last poll comes as the code expires.
pub(crate) fn poll_until_decided(
    interval: Duration,
    expires_in: Duration,
    mut poll_once: impl FnMut() -> Result<Poll, Error>,
    mut wait: impl FnMut(Duration),
    elapsed: impl Fn() -> Duration,
    on_event: &mut dyn FnMut(DeviceEvent<'_>),
) -> Result<TokenSet, Error> {
    let mut interval = interval;
    loop {
        wait(interval.min(expires_in.saturating_sub(elapsed())));
        match poll_once()? {
            Poll::Tokens(tokens) => return Ok(*tokens),
            Poll::Pending => {}
            Poll::SlowDown => {
                interval = interval.saturating_add(SLOW_DOWN_STEP);
                on_event(DeviceEvent::SlowDown { interval });
            }
        }
        if elapsed() >= expires_in {
            return Err(Error::DeviceExpired { seconds: expires_in.as_secs() });
        }
    }
}

/// Reads one poll's answer, received at `now`: tokens, keep waiting, or the error it stands for.
pub(crate) fn read_poll(response: &Response, expires_in: Duration, now: SystemTime) -> Result<Poll, Error> {
    if response.is_success() {
        return TokenSet::from_response(Grant::Device, response, now, &mut |_| {})
            .map(|tokens| Poll::Tokens(Box::new(tokens)));
    }
    match OAuthError::from_json(&response.body) {
        Some(error) if error.error == "authorization_pending" => Ok(Poll::Pending),
        Some(error) if error.error == "slow_down" => Ok(Poll::SlowDown),
        Some(error) if error.error == "access_denied" => Err(Error::DeviceDenied(error)),
        Some(error) if error.error == "expired_token" => Err(Error::DeviceExpired { seconds: expires_in.as_secs() }),
        Some(error) if is_flow_disabled(&error) => Err(Error::DeviceFlowDisabled(error)),
        _ => TokenSet::from_response(Grant::Device, response, now, &mut |_| {})
            .map(|tokens| Poll::Tokens(Box::new(tokens))),
    }
}

/// The prompt as a block of text for a terminal: framed, the URL and the code each on a line of their
/// own (easy to read off and to copy), then the link with the code in it, then how long it is valid.
pub fn prompt_box(prompt: &DevicePrompt) -> String {
    let mut lines = vec![
        "Sign in on another device (a phone or a computer with a browser): open".to_owned(),
        String::new(),
        format!("    {}", prompt.verification_uri),
        String::new(),
        "and enter the code".to_owned(),
        String::new(),
        format!("    {}", prompt.user_code),
        String::new(),
    ];
    if let Some(complete) = &prompt.verification_uri_complete {
        lines.push("or open this link, which has the code in it:".to_owned());
        lines.push(String::new());
        lines.push(format!("    {complete}"));
        lines.push(String::new());
    }
    lines.push(format!("The code is valid for {}. Waiting for the sign-in…", human(prompt.expires_in)));
    let width = lines.iter().map(|line| line.chars().count()).max().unwrap_or(0) + 4;
    let rule = "═".repeat(width);
    let mut text = format!("{rule}\n");
    for line in &lines {
        let line = if line.is_empty() { String::new() } else { format!("  {line}") };
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&rule);
    text.push('\n');
    text
}

/// `10 min`, `90 s`.
fn human(duration: Duration) -> String {
    match duration.as_secs() {
        secs if secs >= 60 && secs % 60 == 0 => format!("{} min", secs / 60),
        secs => format!("{secs} s"),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response { status, www_authenticate: None, content_type: None, body: body.to_owned() }
    }

    fn oauth_error(status: u16, error: &str, description: &str) -> Response {
        response(status, &serde_json::json!({"error": error, "error_description": description}).to_string())
    }

    const ANSWER: &str = r#"{"device_code":"DEVICE-SECRET","user_code":"BCDF-GHJK",
        "verification_uri":"https://login.sipgate.com/auth/realms/third-party/device",
        "verification_uri_complete":"https://login.sipgate.com/auth/realms/third-party/device?user_code=BCDF-GHJK",
        "expires_in":600,"interval":5}"#;

    #[test]
    fn reads_keycloaks_device_answer_and_keeps_the_device_code_secret() {
        let authorization = read_authorization(&response(200, ANSWER)).unwrap();
        assert_eq!(authorization.device_code.secret(), "DEVICE-SECRET");
        assert_eq!(authorization.prompt.user_code, "BCDF-GHJK");
        assert_eq!(authorization.prompt.expires_in, Duration::from_secs(600));
        assert_eq!(authorization.interval, Duration::from_secs(5));
        assert!(!format!("{authorization:?}").contains("DEVICE-SECRET"));
        let minimal = r#"{"device_code":"d","user_code":"u","verification_url":"https://x/d","expires_in":"60"}"#;
        let authorization = read_authorization(&response(200, minimal)).unwrap();
        assert_eq!(authorization.interval, DEFAULT_INTERVAL, "RFC 8628 §3.2: 5 s when absent");
        assert_eq!(authorization.prompt.verification_uri, "https://x/d");
        assert_eq!(authorization.prompt.verification_uri_complete, None);
    }

    #[test]
    fn rejects_incomplete_or_terminal_hostile_answers_without_echoing_them() {
        let missing = read_authorization(&response(200, r#"{"device_code":"SECRET","user_code":"u"}"#));
        let message = missing.unwrap_err().to_string();
        assert!(message.contains("verification_uri is missing") && !message.contains("SECRET"), "{message}");
        let hostile = ANSWER.replace("BCDF-GHJK\",", "\\u001b[2J\",");
        let message = read_authorization(&response(200, &hostile)).unwrap_err().to_string();
        assert!(message.contains("user_code holds control characters"), "{message}");
    }

    #[test]
    fn flow_disabled_is_told_apart_from_a_wrong_secret() {
        let disabled = "Client is not allowed to initiate OAuth 2.0 Device Authorization Grant. \
                        The flow is disabled for the client.";
        let error = read_authorization(&oauth_error(400, "unauthorized_client", disabled)).unwrap_err();
        assert!(matches!(error, Error::DeviceFlowDisabled(_)), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("ask the client's owner") && message.contains("without --device"), "{message}");
        let wrong = read_authorization(&oauth_error(401, "unauthorized_client", "Invalid client secret")).unwrap_err();
        assert!(wrong.to_string().contains("check CLIENT_ID and CLIENT_SECRET"), "{wrong}");
        let poll = read_poll(
            &oauth_error(400, "unauthorized_client", "Client not allowed OAuth 2.0 Device Authorization Grant"),
            Duration::from_secs(600),
            SystemTime::UNIX_EPOCH,
        );
        assert!(matches!(poll, Err(Error::DeviceFlowDisabled(_))), "{poll:?}");
        // oidc-provider's words, at its device endpoint and its token endpoint.
        for description in [
            "urn:ietf:params:oauth:grant-type:device_code is not allowed for this client",
            "requested grant type is not allowed for this client",
        ] {
            let error =
                OAuthError { error: "invalid_request".into(), description: Some(description.into()), uri: None };
            assert!(is_flow_disabled(&error), "{description}");
        }
        let missing = OAuthError {
            error: "invalid_request".into(),
            description: Some("Missing parameter: scope".into()),
            uri: None,
        };
        assert!(!is_flow_disabled(&missing));
    }

    #[test]
    fn poll_answers_become_outcomes() {
        let read = |answer: Response| read_poll(&answer, Duration::from_secs(600), SystemTime::UNIX_EPOCH);
        assert!(matches!(read(oauth_error(400, "authorization_pending", "")), Ok(Poll::Pending)));
        assert!(matches!(read(oauth_error(400, "slow_down", "")), Ok(Poll::SlowDown)));
        let denied =
            read(oauth_error(400, "access_denied", "The end user denied the authorization request")).unwrap_err();
        assert!(denied.to_string().contains("was denied"), "{denied}");
        let expired = read(oauth_error(400, "expired_token", "Device code is expired")).unwrap_err();
        assert!(expired.to_string().contains("expired after 600 s"), "{expired}");
        let invalid = read(oauth_error(400, "invalid_grant", "Device code not valid")).unwrap_err();
        assert!(invalid.to_string().starts_with("the device sign-in failed: invalid_grant"), "{invalid}");
        let gateway = read(response(502, "<html>Bad Gateway</html>")).unwrap_err();
        assert_eq!(gateway.to_string(), "the device sign-in failed with HTTP 502: <html>Bad Gateway</html>");
        let tokens = read(response(200, r#"{"access_token":"a","token_type":"bearer","expires_in":300}"#));
        assert!(matches!(tokens, Ok(Poll::Tokens(t)) if t.access_token.secret() == "a"));
    }

    /// Runs the loop with scripted answers on a fake clock; returns the outcome and every wait.
    fn run_loop(interval: u64, expires_in: u64, answers: Vec<Poll>) -> (Result<TokenSet, Error>, Vec<u64>, Vec<u64>) {
        let clock = Cell::new(Duration::ZERO);
        let waits = RefCell::new(Vec::new());
        let mut answers = answers.into_iter();
        let mut slow_downs = Vec::new();
        let result = poll_until_decided(
            Duration::from_secs(interval),
            Duration::from_secs(expires_in),
            || Ok(answers.next().unwrap_or(Poll::Pending)),
            |wait| {
                waits.borrow_mut().push(wait.as_secs());
                clock.set(clock.get() + wait);
            },
            || clock.get(),
            &mut |event| {
                if let DeviceEvent::SlowDown { interval } = event {
                    slow_downs.push(interval.as_secs());
                }
            },
        );
        (result, waits.into_inner(), slow_downs)
    }

    fn tokens() -> Poll {
        let body = r#"{"access_token":"a","token_type":"bearer"}"#;
        Poll::Tokens(Box::new(
            TokenSet::from_response(Grant::Device, &response(200, body), SystemTime::now(), &mut |_| {}).unwrap(),
        ))
    }

    #[test]
    fn polls_every_interval_until_the_tokens_come() {
        let (result, waits, slow_downs) = run_loop(5, 600, vec![Poll::Pending, Poll::Pending, tokens()]);
        assert_eq!(result.unwrap().access_token.secret(), "a");
        assert_eq!(waits, [5, 5, 5]);
        assert!(slow_downs.is_empty());
    }

    #[test]
    fn slow_down_adds_five_seconds_for_good() {
        let (result, waits, slow_downs) =
            run_loop(5, 600, vec![Poll::Pending, Poll::SlowDown, Poll::Pending, Poll::SlowDown, tokens()]);
        assert!(result.is_ok());
        assert_eq!(waits, [5, 5, 10, 10, 15]);
        assert_eq!(slow_downs, [10, 15]);
    }

    #[test]
    fn no_wait_outlasts_the_code() {
        let (result, waits, _) = run_loop(100_000, 2, Vec::new());
        assert!(matches!(result, Err(Error::DeviceExpired { seconds: 2 })), "{result:?}");
        assert_eq!(waits, [2], "one wait to the end of the code's life, one poll, done");
        let (_, waits, _) = run_loop(7, 20, vec![Poll::SlowDown, Poll::SlowDown]);
        assert_eq!(waits, [7, 12, 1], "the interval grows, but not past the code's life");
        let (_, waits, _) = run_loop(u64::MAX, 3, vec![Poll::SlowDown]);
        assert_eq!(waits, [3], "no overflow");
    }

    #[test]
    fn a_zero_interval_is_one_second_and_none_is_five() {
        let answer = |interval: &str| {
            let body = format!(
                r#"{{"device_code":"d","user_code":"u","verification_uri":"https://x/d","expires_in":60{interval}}}"#
            );
            read_authorization(&response(200, &body)).unwrap().interval
        };
        assert_eq!(answer(r#","interval":0"#), Duration::from_secs(1));
        assert_eq!(answer(""), Duration::from_secs(5));
        assert_eq!(answer(r#","interval":"9""#), Duration::from_secs(9));
    }

    #[test]
    fn polling_stops_once_the_code_has_expired() {
        let (result, waits, _) = run_loop(5, 20, Vec::new());
        assert!(matches!(result, Err(Error::DeviceExpired { seconds: 20 })), "{result:?}");
        assert_eq!(waits, [5, 5, 5, 5], "the last poll at 20 s, then no more");
    }

    #[test]
    fn discovery_sits_next_to_the_realm_or_the_token_endpoint() {
        assert_eq!(
            discovery_url("https://login.sipgate.com/auth/realms/sipgate-apps/protocol/openid-connect/token"),
            "https://login.sipgate.com/auth/realms/sipgate-apps/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("http://127.0.0.1:3000/token"),
            "http://127.0.0.1:3000/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://id.example/oauth2/token?x=1"),
            "https://id.example/oauth2/.well-known/openid-configuration"
        );
    }

    #[test]
    fn only_https_or_loopback_endpoints_are_taken_from_a_document() {
        assert!(is_acceptable_endpoint("https://login.sipgate.com/auth/realms/x/protocol/openid-connect/auth/device"));
        assert!(is_acceptable_endpoint("http://127.0.0.1:8089/device"));
        assert!(!is_acceptable_endpoint("http://login.example/device"));
        assert!(!is_acceptable_endpoint("/relative/device"));
    }

    #[test]
    fn the_prompt_box_puts_url_and_code_on_lines_of_their_own() {
        let prompt = DevicePrompt {
            verification_uri: "https://login.sipgate.com/auth/realms/third-party/device".into(),
            user_code: "BCDF-GHJK".into(),
            verification_uri_complete: Some(
                "https://login.sipgate.com/auth/realms/third-party/device?user_code=BCDF-GHJK".into(),
            ),
            expires_in: Duration::from_secs(600),
        };
        let text = prompt_box(&prompt);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("═══") && lines[0] == *lines.last().unwrap(), "{text}");
        assert!(lines.contains(&"      https://login.sipgate.com/auth/realms/third-party/device"), "{text}");
        assert!(lines.contains(&"      BCDF-GHJK"), "{text}");
        assert!(lines.iter().any(|l| l.trim() == prompt.verification_uri_complete.as_deref().unwrap()), "{text}");
        assert!(text.contains("valid for 10 min"), "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= lines[0].chars().count()), "{text}");
    }
}
