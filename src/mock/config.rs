//! What the stand-in is started with and what it is: the registered clients, lifetimes, faults, the
//! realms and the default port. Fixed for a server's lifetime; every other part of `mock` may read it.

use std::time::Duration;

use serde_json::{Value, json};

/// The port `sipgate-oauth mock` listens on when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8089;

/// The realms the stand-in serves; sipgate uses both (older clients `third-party`, newer `sipgate-apps`).
pub const REALMS: [&str; 2] = ["third-party", "sipgate-apps"];

/// The scope `MockServer::env` puts into `OAUTH_SCOPE`, as in sipgate's example `.env`.
pub(super) const DEFAULT_SCOPE: &str = "account:read";

/// An OAuth client registered at the stand-in (what console.sipgate.com → Clients holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockClient {
    /// `client_id` (RFC 6749 §2.2).
    pub id: String,
    /// `client_secret` (RFC 6749 §2.3.1).
    pub secret: String,
    /// The registered redirect URIs; matched exactly, except that the port of a loopback IP literal
    /// is ignored (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// Whether the client may use the device authorization grant (RFC 8628). Keycloak switches it on
    /// per client; without it, both device endpoints answer "the flow is disabled for the client".
    pub device_grant: bool,
}

impl MockClient {
    /// The demo client: `sipgate-oauth-demo` / `demo-secret`, redirect URIs `http://127.0.0.1/oauth`
    /// (any port) and `http://localhost:8080/oauth` (sipgate's example `.env`); the device grant on.
    pub fn demo() -> MockClient {
        MockClient {
            id: "sipgate-oauth-demo".to_owned(),
            secret: "demo-secret".to_owned(),
            redirect_uris: vec!["http://127.0.0.1/oauth".to_owned(), "http://localhost:8080/oauth".to_owned()],
            device_grant: true,
        }
    }
}

/// Failures the stand-in injects on purpose, to test a client's error handling. `Default` is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// The next this-many token requests answer 503 with a body that is not JSON.
    pub token_503: u32,
    /// After the 503s, the next this-many token requests answer 502 with an HTML page, like a proxy.
    pub token_502: u32,
    /// Access tokens are dead when issued (the API answers 401), though `expires_in` says otherwise.
    pub expire_access_tokens: bool,
    /// Every refresh answers 400 `invalid_grant`.
    pub refresh_invalid_grant: bool,
    /// The next this-many device-code polls answer `slow_down`, however slowly they come.
    pub device_slow_down: u32,
}

/// Everything the stand-in is started with; fixed for its lifetime.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// The registered clients.
    pub clients: Vec<MockClient>,
    /// Access token lifetime, `expires_in` (RFC 6749 §5.1). sipgate: 300 s.
    pub access_ttl: Duration,
    /// Refresh token lifetime, `refresh_expires_in`. sipgate: 30 days.
    pub refresh_ttl: Duration,
    /// Authorization code lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes; Keycloak uses 60 s).
    pub code_ttl: Duration,
    /// The body of `GET /v2/account`.
    pub account: Value,
    /// Skip the sign-in page: `/auth` redirects with a code at once, and opening
    /// `verification_uri_complete` approves a device at once.
    pub auto_approve: bool,
    /// The device authorization's `interval` (RFC 8628 §3.2), whole seconds; polls that come sooner
    /// get `slow_down`. Keycloak: 5 s. 0 lets tests poll without waiting.
    pub device_interval: Duration,
    /// The device code's lifetime, `expires_in` (RFC 8628 §3.2), whole seconds. Keycloak: 600 s.
    pub device_ttl: Duration,
    /// Injected failures.
    pub faults: Faults,
    /// Report each request (method, path with secrets redacted, status) as a [`MockEvent::Request`](super::MockEvent::Request) to
    /// the sink given to [`MockServer::start_with_events`](super::MockServer::start_with_events). Without a sink nothing is logged.
    pub log: bool,
    /// The address clients reach it at, e.g. `https://localhost:8443` behind a TLS proxy: the discovery
    /// document, the issuer (and `iss`), redirects and device URLs name it instead of
    /// `http://127.0.0.1:PORT`. No trailing slash.
    pub public_url: Option<String>,
    /// Simulated calls (sipgate.io): where pushes go, their timeout and signing key.
    pub webhooks: WebhookConfig,
    /// A connection that sends nothing for this long is closed: between requests at once, in the middle
    /// of a head with 408; a body read fails (400). 60 s, as nginx's `client_header_timeout`.
    pub idle_timeout: Duration,
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            clients: vec![MockClient::demo()],
            access_ttl: Duration::from_secs(300),
            refresh_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            code_ttl: Duration::from_secs(60),
            account: default_account(),
            auto_approve: false,
            device_interval: Duration::from_secs(5),
            device_ttl: Duration::from_secs(600),
            faults: Faults::default(),
            log: false,
            public_url: None,
            webhooks: WebhookConfig::default(),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Where simulated calls push and how (`mock --webhook-url`, `--webhook-timeout`, `--webhook-key`).
#[derive(Clone, PartialEq)]
pub struct WebhookConfig {
    /// Both URLs at start (`mock --webhook-url`); `PUT /settings/sipgateio` changes them.
    pub url: Option<String>,
    /// How long the app may take to answer a push (sipgate: 10 s).
    pub timeout: Duration,
    /// The signing key, PEM (`mock --webhook-key`); `None` = the published test key.
    pub key_pem: Option<String>,
}

impl Default for WebhookConfig {
    fn default() -> WebhookConfig {
        WebhookConfig { url: None, timeout: Duration::from_secs(10), key_pem: None }
    }
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .field("key_pem", &self.key_pem.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The account of sipgate's documentation example.
fn default_account() -> Value {
    json!({"company": "", "mainProductType": "BASIC", "logoUrl": "", "verified": true})
}
