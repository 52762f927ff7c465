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

//!
//! Inside, imports point one way: `server` (accept and dispatch) → `routes` (which handler) → the
//! handlers (`authorize`, `token`, `device`, `api`, `rest`) → what they share (`grant`, `shared`,
//! `params`, `state`, `pages`, `reply`) → `config`. See docs/architecture.md.

mod answer;
mod api;
mod authorize;
mod calls;
mod config;
mod csv;
mod device;
mod fake;
mod grant;
mod intake;
mod options;
mod pages;
mod params;
mod pattern;
mod reply;
mod rest;
mod routes;
mod server;
mod shared;
mod state;
mod token;
mod validate;

use std::io::Write;
use std::net::SocketAddr;

pub use config::{DEFAULT_PORT, Faults, MockClient, MockConfig, REALMS, WebhookConfig};
pub use options::{HELP, Options, flags, help_requested};
pub use server::{MockEvent, MockServer};

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
    let webhooks = options.config.webhooks.clone();
    let server = MockServer::start_with_events(options.config, addr, sink)?;
    let client = server.client(0);
    let listening = format!("http://{}", server.addr());
    writeln!(stderr, "sipgate stand-in listening on {listening} (realms {})", REALMS.join(", "))?;
    if server.base_url() != listening {
        writeln!(stderr, "clients reach it at {}", server.base_url())?;
    }
    if let Some(client) = &client {
        writeln!(stderr, "client {}: redirect URIs {}", client.id, client.redirect_uris.join(", "))?;
        for (name, value) in server.env(REALMS[0], client) {
            let value = if name == "REDIRECT_URI" { with_example_port(&value) } else { value };
            writeln!(stdout, "{name}={value}")?;
        }
        stdout.flush()?;
    }
    if let Some(url) = &webhooks.url {
        let key = if webhooks.key_pem.is_some() { "your --webhook-key" } else { "the published TEST key" };
        writeln!(
            stderr,
            "simulated calls (sipgate-oauth mock call) push to {url}, signed with {key} ({}/_stand-in/webhook-public-key)",
            server.base_url()
        )?;
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

/// Raises the soft limit of open files (`RLIMIT_NOFILE`) towards the hard limit, as Go programs do at
/// start: every connection costs tiny_http two descriptors, and its accept loop ends for good when it runs
/// out. Capped at 2^20, and on macOS at `kern.maxfilesperproc`, because macOS reports an unlimited hard
/// limit that `setrlimit` refuses (EINVAL).
#[cfg(unix)]
fn raise_open_files_limit() -> std::io::Result<()> {
    rlimit::increase_nofile_limit(1 << 20).map(drop)
}

/// Windows has no such limit on sockets.
#[cfg(not(unix))]
fn raise_open_files_limit() -> std::io::Result<()> {
    Ok(())
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
