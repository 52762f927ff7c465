//! The API proxy (`sipgate-oauth proxy`, and `exec`'s child): a loopback HTTP server that forwards every
//! request to `API_BASE_URL` with the kept sign-in's bearer token added, so that any program in any
//! language uses sipgate without OAuth code of its own.
//!
//! Promises: it listens on 127.0.0.1 only; its base URL carries a random path segment of 256 bits unless
//! the user turns that off; requests are answered by a pool of waiting threads that grows whenever all
//! are busy (`pool.rs`), so a slow client or a slow upstream holds up nobody else; tokens come from a
//! [`LiveSession`] (fresh, one refresh for all, one replay after a 401); it never prints: the request log
//! goes to the writer it is given.

mod forward;
mod guard;
mod pool;
mod shared;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};

pub use forward::REPLAY_LIMIT;

use crate::error::Error;
use crate::session::LiveSession;
use guard::PathSecret;
use pool::Pool;
use shared::Shared;

/// A client connection that sends nothing for this long is closed (a request body read then fails, 400),
/// so that connections a client forgot or holds on purpose do not keep a thread and two descriptors.
const QUIET_CONNECTION: std::time::Duration = std::time::Duration::from_secs(60);

/// How a proxy is started.
pub struct ProxyOptions {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Whether the base URL carries a random secret path segment; off (`--no-secret-path`), any local
    /// user can use the proxy, and so the sign-in.
    pub secret_path: bool,
    /// Web origins allowed besides loopback ones (`--allow-origin`), e.g. `https://app.example.com`.
    pub allow_origins: Vec<String>,
    /// Where one line per request goes (`-v`): method, path without the secret segment, status, time.
    pub log: Option<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("port", &self.port)
            .field("secret_path", &self.secret_path)
            .field("allow_origins", &self.allow_origins)
            .field("log", &self.log.is_some())
            .finish()
    }
}

/// A running proxy. Dropping it stops it.
pub struct Proxy {
    addr: SocketAddr,
    base_url: String,
    pool: Pool,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Proxy {
    /// Starts serving on `127.0.0.1:options.port` in background threads.
    pub fn start(live: Arc<LiveSession>, options: ProxyOptions) -> Result<Proxy, Error> {
        let api_base = live.config().api_base.clone();
        let uri: http::Uri = api_base
            .parse()
            .map_err(|_| Error::Config { var: "API_BASE_URL", message: format!("{api_base:?} is not a URL") })?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            let message = format!("{api_base:?} is not an absolute URL");
            return Err(Error::Config { var: "API_BASE_URL", message });
        };
        let upstream_origin = format!("{scheme}://{authority}");
        let base_path = uri.path().trim_end_matches('/').to_owned();

        let listen = format!("127.0.0.1:{} (the proxy)", options.port);
        let listen_error = |source| Error::Listen { addr: listen.clone(), source };
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .and_then(crate::http::without_nagle)
            .map_err(listen_error)?;
        let addr = listener.local_addr().map_err(listen_error)?;
        let server = tiny_http::Server::from_listener_with_read_timeout(listener, None, Some(QUIET_CONNECTION))
            .map_err(|e| listen_error(std::io::Error::other(e.to_string())))?;
        let server = Arc::new(server);

        let secret = options.secret_path.then(PathSecret::generate);
        let secret_segment = secret.as_ref().map(|s| format!("/{}", s.secret())).unwrap_or_default();
        let local_origin = format!("http://{addr}{secret_segment}");
        let base_url = format!("{local_origin}{base_path}");
        let shared = Arc::new(Shared {
            live,
            secret,
            port: addr.port(),
            upstream_origin,
            base_path,
            local_origin,
            allow_origins: options.allow_origins,
            log: options.log.map(Mutex::new),
        });
        let pool = Pool::start(server, move |request| {
            let (_, line) = forward::handle(&shared, request);
            if let Some(log) = &shared.log {
                let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = writeln!(log, "{line}").and_then(|()| log.flush());
            }
        })
        .map_err(listen_error)?;
        Ok(Proxy { addr, base_url, pool })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for clients, in place of `API_BASE_URL`: `http://127.0.0.1:PORT/SECRET/v2`. It holds
    /// the secret: show it only to the user who started the proxy.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until the process ends.
    pub fn serve_forever(self) {
        loop {
            std::thread::park();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.pool.stop();
    }
}
