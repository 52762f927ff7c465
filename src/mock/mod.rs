//! The local sipgate stand-in: a small Keycloak-and-REST look-alike for tests and offline development.
//!
//! It serves the authorization, token, revocation, logout and discovery endpoints of the realms
//! `third-party` and `sipgate-apps` (and the device authorization grant, RFC 8628), plus
//! `GET /v2/account`, on `127.0.0.1` only. It answers the way
//! sipgate's login (Keycloak) does, including the error bodies of `docs/sipgate.md`, so a client tested
//! against it behaves the same against the real thing. Faults (latency, 502/503, dead tokens) can be
//! switched on to test a client's error paths.
//!
//! Promises: it never panics on any input, it never logs a secret, and codes and tokens are random
//! and checked against its own table, so they cannot be forged. All state lives in one mutex that is
//! held only while a table is read or changed, never during I/O or an injected delay.

mod api;
mod authorize;
mod device;
mod options;
mod pages;
mod reply;
mod rest;
mod routes;
mod server;
mod state;
mod token;

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

pub use options::{HELP, Options, help_requested};
pub use server::{MockEvent, MockServer};

/// The port `sipgate-oauth mock` listens on when `--port` is not given.
pub const DEFAULT_PORT: u16 = 8089;

/// The realms the stand-in serves; sipgate uses both (older clients `third-party`, newer `sipgate-apps`).
pub const REALMS: [&str; 2] = ["third-party", "sipgate-apps"];

/// The scope `MockServer::env` puts into `OAUTH_SCOPE`, as in sipgate's example `.env`.
const DEFAULT_SCOPE: &str = "account:read";

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
    /// Report each request (method, path with secrets redacted, status) as a [`MockEvent::Request`] to
    /// the sink given to [`MockServer::start_with_events`]. Without a sink nothing is logged.
    pub log: bool,
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
        }
    }
}

/// A loopback IP redirect URI without a port (`http://127.0.0.1/oauth`) would make a client listen on
/// port 80; the stand-in accepts any port for it, so the printed `.env` gets the example's port 8080.
fn with_example_port(uri: &str) -> String {
    for host in ["http://127.0.0.1", "http://[::1]"] {
        if let Some(rest) = uri.strip_prefix(host)
            && (rest.is_empty() || rest.starts_with(['/', '?']))
        {
            return format!("{host}:8080{rest}");
        }
    }
    uri.to_owned()
}

/// The account of sipgate's documentation example.
fn default_account() -> Value {
    json!({"company": "", "mainProductType": "BASIC", "logoUrl": "", "verified": true})
}

/// Runs the stand-in in the foreground: raises the soft open-files limit to the hard one, listens on
/// `127.0.0.1:port`, writes the `.env` lines for the first client (realm `third-party`) to `stdout`, then
/// serves until the process ends. Start-up notes and the request log (unless `config.log` is off) go to
/// `stderr`. Returns an error if the listener stops taking connections (tiny_http's accept loop ends
/// for good on the first failed `accept`), so that the caller can exit loudly instead of living on deaf.
pub fn run(options: Options, stdout: &mut impl Write, stderr: &mut impl Write) -> std::io::Result<()> {
    if let Err(error) = raise_open_files_limit() {
        writeln!(stderr, "warning: the open-files limit could not be raised: {error}")?;
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], options.port));
    let (sink, events) = std::sync::mpsc::channel();
    let server = MockServer::start_with_events(options.config, addr, sink)?;
    let client = server.client(0);
    writeln!(stderr, "sipgate stand-in listening on {} (realms {})", server.base_url(), REALMS.join(", "))?;
    if let Some(client) = &client {
        writeln!(stderr, "client {}: redirect URIs {}", client.id, client.redirect_uris.join(", "))?;
        for (name, value) in server.env(REALMS[0], client) {
            let value = if name == "REDIRECT_URI" { with_example_port(&value) } else { value };
            writeln!(stdout, "{name}={value}")?;
        }
        stdout.flush()?;
    }
    writeln!(stderr, "Ctrl-C stops it.")?;
    // The server holds the sender, so this waits for as long as it serves.
    for event in events {
        match event {
            MockEvent::Request(line) => writeln!(stderr, "{line}")?,
            MockEvent::ListenerDied(error) => {
                return Err(std::io::Error::new(
                    error.kind(),
                    format!(
                        "the stand-in stopped taking connections ({error}); start it again \
                         (if it ran out of file descriptors: raise `ulimit -n`)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Raises the soft limit of open files (`RLIMIT_NOFILE`) to the hard limit, as Go programs do at start:
/// every connection costs tiny_http two descriptors, and its accept loop ends for good when it runs out.
fn raise_open_files_limit() -> std::io::Result<()> {
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    if soft < hard { rlimit::Resource::NOFILE.set(hard, hard) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_redirect_uri_gets_a_port_only_where_any_port_matches() {
        assert_eq!(with_example_port("http://127.0.0.1/oauth"), "http://127.0.0.1:8080/oauth");
        assert_eq!(with_example_port("http://[::1]/cb"), "http://[::1]:8080/cb");
        assert_eq!(with_example_port("http://127.0.0.1:9000/oauth"), "http://127.0.0.1:9000/oauth");
        assert_eq!(with_example_port("http://localhost:8080/oauth"), "http://localhost:8080/oauth");
        assert_eq!(with_example_port("http://127.0.0.10/oauth"), "http://127.0.0.10/oauth");
    }
}
