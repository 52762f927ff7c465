//! The HTTP side of the stand-in: a tiny_http server on a loopback listener, a fixed pool of worker
//! threads that each take the next request, and the request log.
//!
//! A slow request (an injected delay, a client that sends its body slowly) ties up one worker, not the
//! server. Bodies are capped; nothing a client sends can make a worker panic. Shutdown sets a flag,
//! unblocks every worker and joins them; dropping the tiny_http server closes the port.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use super::reply::Reply;
use super::routes::{Incoming, Shared, handle};
use super::{MockClient, MockConfig};
use crate::query::{self, encode_component};

/// How many requests are answered at the same time.
const WORKERS: usize = 8;

/// The largest request body read; larger ones get 413.
const MAX_BODY: usize = 64 * 1024;

/// Query parameters whose values never reach the log.
const SECRET_PARAMS: [&str; 11] = [
    "code",
    "state",
    "code_verifier",
    "code_challenge",
    "client_secret",
    "token",
    "refresh_token",
    "access_token",
    "id_token_hint",
    "session_state",
    "nonce",
];

/// A running stand-in. Dropping it stops it.
pub struct MockServer {
    shared: Arc<Shared>,
    server: Option<Arc<tiny_http::Server>>,
    workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts serving on `addr` (use `127.0.0.1:0` for a free port) in background threads.
    pub fn start(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
        MockServer::start_with_log(config, addr, None)
    }

    /// Like [`MockServer::start`], with the request log sent to `sink` instead of stderr.
    pub(super) fn start_with_log(
        config: MockConfig,
        addr: SocketAddr,
        sink: Option<Sender<String>>,
    ) -> std::io::Result<MockServer> {
        let listener = without_nagle(TcpListener::bind(addr)?)?;
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener(listener, None).map_err(std::io::Error::other)?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared::new(config, format!("http://{addr}"), sink));
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(WORKERS);
        for n in 0..WORKERS {
            let (for_server, for_shared, for_stop) = (Arc::clone(&server), Arc::clone(&shared), Arc::clone(&stop));
            let worker = std::thread::Builder::new()
                .name(format!("sipgate-stand-in-{n}"))
                .spawn(move || work(&for_server, &for_shared, &for_stop));
            match worker {
                Ok(worker) => workers.push(worker),
                Err(error) => {
                    let mut started = MockServer { shared, server: Some(server), workers, stop, addr };
                    started.stop();
                    return Err(error);
                }
            }
        }
        Ok(MockServer { shared, server: Some(server), workers, stop, addr })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The `.env` lines for `client` in `realm` (see SIPGATE.md): `AUTH_URL`, `TOKEN_URL`,
    /// `TEST_API_ENDPOINT`, `CLIENT_ID`, `CLIENT_SECRET`, `OAUTH_SCOPE`, `REDIRECT_URI` (the client's
    /// first redirect URI). `PORT` is left to the caller.
    pub fn env(&self, realm: &str, client: &MockClient) -> Vec<(&'static str, String)> {
        let endpoint = |name: &str| format!("{}/auth/realms/{realm}/protocol/openid-connect/{name}", self.base_url());
        vec![
            ("AUTH_URL", endpoint("auth")),
            ("TOKEN_URL", endpoint("token")),
            ("TEST_API_ENDPOINT", format!("{}/v2/account", self.base_url())),
            ("CLIENT_ID", client.id.clone()),
            ("CLIENT_SECRET", client.secret.clone()),
            ("OAUTH_SCOPE", super::DEFAULT_SCOPE.to_owned()),
            ("REDIRECT_URI", client.redirect_uris.first().cloned().unwrap_or_default()),
        ]
    }

    /// The `index`th configured client.
    pub(super) fn client(&self, index: usize) -> Option<MockClient> {
        self.shared.config.clients.get(index).cloned()
    }

    /// How many TCP connections sent at least one request (distinct peer addresses seen).
    pub fn connections(&self) -> u64 {
        let peers = self.shared.peers.lock().unwrap_or_else(PoisonError::into_inner);
        u64::try_from(peers.len()).unwrap_or(u64::MAX)
    }

    /// How many requests were received.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops the workers and closes the port. Dropping the server does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(server) = &self.server {
            for _ in &self.workers {
                server.unblock();
            }
        }
        for worker in self.workers.drain(..) {
            // A worker never panics; if one did, there is nothing left to clean up for it.
            let _ = worker.join();
        }
        // The last reference: dropping it stops tiny_http's accept thread, which closes the listener.
        self.server = None;
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The listener, with Nagle's algorithm off for every connection it accepts (Linux and the BSDs copy
/// `TCP_NODELAY` from the listening socket to the accepted one; std sets it only on a stream, hence the
/// round trip through the file descriptor).
///
/// tiny_http writes an answer through a 1 KiB buffer, so an answer larger than that (a token response is
/// about 1.4 KB) leaves in two writes. With Nagle on, the second one waits for the client's ACK of the
/// first, which a client on a kept-alive connection delays: 40 ms per token response on Linux.
fn without_nagle(listener: TcpListener) -> std::io::Result<TcpListener> {
    let socket = TcpStream::from(OwnedFd::from(listener));
    socket.set_nodelay(true)?;
    Ok(TcpListener::from(OwnedFd::from(socket)))
}

/// One worker: answers requests until the server stops.
fn work(server: &tiny_http::Server, shared: &Shared, stop: &AtomicBool) {
    loop {
        match server.recv() {
            Ok(request) => serve(shared, request),
            // Either `unblock()` (then the flag is set) or a failed connection (then go on).
            Err(_) if stop.load(Ordering::SeqCst) => return,
            Err(_) => {}
        }
    }
}

/// Reads, answers and logs one request.
fn serve(shared: &Shared, mut request: tiny_http::Request) {
    let started = Instant::now();
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(peer) = request.remote_addr() {
        shared.peers.lock().unwrap_or_else(PoisonError::into_inner).insert(*peer);
    }
    let reply = match read_body(&mut request) {
        Ok(body) => {
            let url = request.url();
            let (path, query) = url.split_once('?').unwrap_or((url, ""));
            let header =
                |name: &'static str| request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str());
            let incoming = Incoming {
                method: request.method().as_str(),
                path,
                query,
                authorization: header("Authorization"),
                content_type: header("Content-Type"),
                body: &body,
            };
            handle(shared, &incoming)
        }
        Err(reply) => reply,
    };
    let latency = shared.config.faults.latency;
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    if shared.config.log {
        let line = format!(
            "{} {} {} {} ms",
            request.method().as_str(),
            redacted_target(request.url()),
            reply.status,
            started.elapsed().as_millis()
        );
        match &shared.log_sink {
            Some(sink) => {
                let _ = sink.lock().unwrap_or_else(PoisonError::into_inner).send(line);
            }
            None => eprintln!("{line}"),
        }
    }
    // The client may have gone away; there is no one left to tell.
    let _ = request.respond(response(reply));
}

/// The body, at most `MAX_BODY` bytes; 413 beyond.
fn read_body(request: &mut tiny_http::Request) -> Result<Vec<u8>, Reply> {
    let too_large = || Reply::oauth_error(413, "invalid_request", "Request body too large");
    if request.body_length().is_some_and(|length| length > MAX_BODY) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let limit = u64::try_from(MAX_BODY).unwrap_or(u64::MAX).saturating_add(1);
    match request.as_reader().take(limit).read_to_end(&mut body) {
        Ok(_) if body.len() > MAX_BODY => Err(too_large()),
        Ok(_) => Ok(body),
        Err(_) => Err(Reply::invalid_request("The request body could not be read")),
    }
}

/// The tiny_http response for a reply; every answer is `Cache-Control: no-store`.
fn response(reply: Reply) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut headers: Vec<(&str, &str)> = vec![("Cache-Control", "no-store")];
    if let Some(content_type) = reply.content_type {
        headers.push(("Content-Type", content_type));
    }
    headers.extend(reply.headers.iter().map(|(name, value)| (*name, value.as_str())));
    let parsed: Result<Vec<tiny_http::Header>, ()> =
        headers.iter().map(|(name, value)| tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())).collect();
    match parsed {
        Ok(parsed) => {
            let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
            for header in parsed {
                response.add_header(header);
            }
            response
        }
        // Only a redirect URI from the configuration could hold a byte a header cannot carry.
        Err(()) => {
            tiny_http::Response::from_data(b"a header value could not be encoded".to_vec()).with_status_code(500)
        }
    }
}

/// The request target for the log, with the values of secret parameters replaced by `[redacted]`.
fn redacted_target(url: &str) -> String {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if query.is_empty() {
        return path.to_owned();
    }
    match query::decode(query) {
        Ok(pairs) => {
            let shown: Vec<String> = pairs
                .iter()
                .map(|(key, value)| {
                    let value = if SECRET_PARAMS.contains(&key.as_str()) {
                        "[redacted]".to_owned()
                    } else {
                        encode_component(value)
                    };
                    format!("{}={value}", encode_component(key))
                })
                .collect();
            format!("{path}?{}", shown.join("&"))
        }
        Err(_) => format!("{path}?[undecodable query redacted]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_redacts_secret_parameters() {
        let shown = redacted_target("/cb?code=abc&state=xyz&iss=http%3A%2F%2Fx&client_secret=s&token=t");
        assert_eq!(
            shown,
            "/cb?code=[redacted]&state=[redacted]&iss=http%3A%2F%2Fx&client_secret=[redacted]&token=[redacted]"
        );
        assert_eq!(redacted_target("/x?code=%zz"), "/x?[undecodable query redacted]");
        assert_eq!(redacted_target("/v2/account"), "/v2/account");
    }
}
