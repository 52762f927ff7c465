//! The HTTP side of the stand-in: a tiny_http server on a loopback listener, a fixed pool of worker
//! threads that each take the next request, and the request log.
//!
//! A slow request (an injected delay, a client that sends its body slowly) ties up one worker, not the
//! server. Bodies are capped; nothing a client sends can make a worker panic. It listens on loopback
//! addresses only. Shutdown sets a flag, unblocks every worker and joins them (a worker stuck on a
//! silent client gets a short grace, then is left behind); dropping the tiny_http server closes the
//! port.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::reply::Reply;
use super::routes::{Incoming, Shared, handle};
use super::{MockClient, MockConfig};
use crate::query::{self, encode_component};

/// How many requests are answered at the same time.
const WORKERS: usize = 8;

/// The largest request body read; larger ones get 413.
const MAX_BODY: usize = 64 * 1024;

/// tiny_http drains an unread body when a request is dropped, into one buffer the size of what is left.
/// For a claimed `Content-Length` beyond this, that allocation could abort the whole process, so such
/// a request is abandoned unanswered (its connection is leaked until the process ends) instead.
const MAX_DRAIN: usize = 8 * 1024 * 1024;

/// How long shutdown waits for workers still busy with a request (e.g. a client that promised a body
/// and never sent it); those still busy then are left to end on their own.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Query parameters whose values never reach the log.
const SECRET_PARAMS: [&str; 13] = [
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
    "device_code",
    "user_code",
];

/// A running stand-in. Dropping it stops it.
pub struct MockServer {
    shared: Arc<Shared>,
    server: Option<Arc<tiny_http::Server>>,
    workers: Vec<JoinHandle<()>>,
    /// One message per worker that has left its loop.
    exited: Mutex<Receiver<()>>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

/// Tells the server a worker has ended, even if it ended by a panic.
struct ExitSignal(Sender<()>);

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts serving on `addr` (use `127.0.0.1:0` for a free port) in background threads. An address
    /// that is not loopback is refused (`InvalidInput`): the stand-in hands out tokens to anyone who asks.
    pub fn start(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
        MockServer::start_with_log(config, addr, None)
    }

    /// Like [`MockServer::start`], with the request log sent to `sink` instead of stderr.
    pub(super) fn start_with_log(
        config: MockConfig,
        addr: SocketAddr,
        sink: Option<Sender<String>>,
    ) -> std::io::Result<MockServer> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the sipgate stand-in listens on loopback addresses only, not {addr}"),
            ));
        }
        let listener = without_nagle(TcpListener::bind(addr)?)?;
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener(listener, None).map_err(std::io::Error::other)?;
        let server = Arc::new(server);
        let shared = Arc::new(Shared::new(config, format!("http://{addr}"), sink));
        let stop = Arc::new(AtomicBool::new(false));
        let (exit_signal, exited) = std::sync::mpsc::channel();
        let mut started =
            MockServer { shared, server: Some(server), workers: Vec::new(), exited: Mutex::new(exited), stop, addr };
        for n in 0..WORKERS {
            let server = started.server.clone();
            let (shared, stop, signal) = (Arc::clone(&started.shared), Arc::clone(&started.stop), exit_signal.clone());
            let worker = std::thread::Builder::new().name(format!("sipgate-stand-in-{n}")).spawn(move || {
                let _signal = ExitSignal(signal);
                if let Some(server) = server {
                    work(&server, &shared, &stop);
                }
            });
            // On failure, dropping `started` stops the workers already running.
            started.workers.push(worker?);
        }
        Ok(started)
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

    /// Answers one request in this process, without a socket: the same routing, parsing and tables as
    /// a request over HTTP (no injected latency, no log). For fuzzing and property tests. `target` is the
    /// path with an optional `?query`; returns the status and the body.
    pub fn answer(
        &self,
        method: &str,
        target: &str,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let incoming = Incoming { method, path, query, authorization, content_type, body };
        let reply = handle(&self.shared, &incoming);
        (reply.status, reply.body)
    }

    /// How many requests were received.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops the workers and closes the port. Dropping the server does the same. A worker still stuck
    /// on a client after two seconds is left to finish on its own (the port stays open until then).
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
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        let signals = self.exited.lock().unwrap_or_else(PoisonError::into_inner);
        let mut exited = 0;
        while exited < self.workers.len()
            && signals.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_ok()
        {
            exited += 1;
        }
        drop(signals);
        let all_exited = exited == self.workers.len();
        for worker in self.workers.drain(..) {
            if all_exited || worker.is_finished() {
                // A worker never panics; if one did, there is nothing left to clean up for it.
                let _ = worker.join();
            }
            // Otherwise it is stuck on a client; dropping the handle lets it end on its own.
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
            Ok(request) => {
                // Nothing in `serve` should panic; should tiny_http or a handler ever do so, this
                // worker keeps serving (the tables survive: their lock ignores poisoning).
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(shared, request)));
            }
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
    if let Some(claimed) = request.body_length().filter(|length| *length > MAX_DRAIN) {
        log(
            shared,
            format!(
                "{} {} abandoned: claims a body of {claimed} bytes",
                request.method(),
                redacted_target(request.url())
            ),
        );
        std::mem::forget(request);
        return;
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
        let mut line = format!(
            "{} {} {} {} ms",
            request.method().as_str(),
            redacted_target(request.url()),
            reply.status,
            started.elapsed().as_millis()
        );
        // The OAuth error code and description say why; neither ever holds a secret.
        if reply.status >= 400
            && let Some(error) = std::str::from_utf8(&reply.body).ok().and_then(crate::OAuthError::from_json)
        {
            line.push_str(&format!(" — {error}"));
        }
        log(shared, line);
    }
    // The client may have gone away; there is no one left to tell.
    let _ = request.respond(response(reply));
}

/// Writes one line of the request log, if logging is on.
fn log(shared: &Shared, line: String) {
    if !shared.config.log {
        return;
    }
    match &shared.log_sink {
        Some(sink) => {
            let _ = sink.lock().unwrap_or_else(PoisonError::into_inner).send(line);
        }
        None => eprintln!("{line}"),
    }
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
    fn request_log_has_one_line_per_request_and_no_secret() {
        let (sink, lines) = std::sync::mpsc::channel();
        let config = MockConfig { auto_approve: true, log: true, ..MockConfig::default() };
        let server = MockServer::start_with_log(config, SocketAddr::from(([127, 0, 0, 1], 0)), Some(sink)).unwrap();
        let agent: ureq::Agent =
            ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).proxy(None).build().into();
        let oidc = format!("{}/auth/realms/third-party/protocol/openid-connect", server.base_url());
        let auth = query::encode([
            ("client_id", "sipgate-oauth-demo"),
            ("redirect_uri", "http://127.0.0.1:5/oauth"),
            ("response_type", "code"),
            ("scope", "account:read"),
            ("state", "state-secret-1"),
            ("code_challenge", "challenge-secret-challenge-secret-challenge-secret"),
        ]);
        let answer = agent.get(format!("{oidc}/auth?{auth}")).call().unwrap();
        let location = answer.headers().get("location").unwrap().to_str().unwrap().to_owned();
        let pairs = query::decode(location.split_once('?').unwrap().1).unwrap();
        let code = query::single(&pairs, "code").unwrap().unwrap().to_owned();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:5/oauth"),
            ("client_id", "sipgate-oauth-demo"),
            ("client_secret", "demo-secret"),
            ("code_verifier", "challenge-secret-challenge-secret-challenge-secret"),
        ];
        agent.post(format!("{oidc}/token")).send_form(form).unwrap();
        agent.get(format!("{oidc}/token?code={code}&client_secret=demo-secret")).call().unwrap();

        let logged: Vec<String> = (0..3).map(|_| lines.recv().unwrap()).collect();
        assert!(logged[0].starts_with("GET /auth/realms/third-party/protocol/openid-connect/auth?client_id="));
        assert!(logged[0].contains(" 302 "), "{}", logged[0]);
        assert!(logged[1].starts_with("POST /auth/realms/third-party/protocol/openid-connect/token 200 "));
        assert!(logged[2].contains("code=[redacted]&client_secret=[redacted] 405 "), "{}", logged[2]);
        assert!(logged[2].ends_with(" ms — invalid_request: HTTP method not allowed"), "{}", logged[2]);
        for line in &logged {
            for secret in [code.as_str(), "demo-secret", "state-secret-1", "challenge-secret"] {
                assert!(!line.contains(secret), "{line}");
            }
        }
        server.shutdown();
    }

    #[test]
    fn server_handle_can_be_shared_between_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<MockServer>();
    }

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
