//! The HTTP side of the stand-in: a tiny_http server on a loopback listener, a few receiving threads
//! that answer requests where they receive them, and the request log.
//!
//! What it promises: nothing a client does stops it from answering others. A request whose body has
//! not arrived yet (or that must wait, for an injected delay) is answered on a thread of its own, so a
//! client that announces a body and never sends it ties up that thread only; every other request is
//! answered on the thread that received it, with no further hand-off. Bodies are capped (413), the
//! request head is capped after tiny_http has read it (431, connection closed), and if tiny_http's
//! accept loop ends (it does so for good on the first failed `accept`, e.g. when file descriptors run
//! out) the server reports it as a [`MockEvent::ListenerDied`] and through
//! [`MockServer::listener_error`]. It prints nothing: the request log goes to the sink the caller gives.
//!
//! What tiny_http cannot bound, and so neither can this module: it reads each line of a request head
//! into memory without a limit before the head reaches this code (a 300 MiB header line takes 300 MiB
//! for as long as it is read), it has no read deadlines (a client that sends half a head keeps its
//! connection thread), and it starts one thread per connection without a limit. It drains an unread body
//! after the answer (through a fixed buffer: the vendored tiny_http is patched for that, see
//! vendor/tiny_http/PATCHED.md), so a claim of any size costs the connection's thread and descriptors only
//! until the client has sent it or goes away. It listens on loopback addresses only.

use std::collections::HashSet;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::answer::{HttpDate, encode, response};
use super::config::{DEFAULT_SCOPE, MockClient, MockConfig};
use super::intake::{MAX_HEAD, body_pending, head_size, may_block, read_body};
use super::params::Incoming;
use super::reply::Reply;
use super::routes::handle;
use super::shared::Shared;

/// How many threads at most receive requests from tiny_http and answer them (no more than the CPUs the
/// process may run on: pinned to one, as in the benchmark, a second one only adds wake-ups and waits for
/// tiny_http's queue and the tables' lock). They only ever wait for a request or for the tables' lock:
/// anything that could block on a client goes to a thread of its own.
const RECEIVERS: usize = 2;

/// How long shutdown waits for receivers still busy with a request; those still busy then are left to
/// end on their own.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What a running stand-in reports to the sink given to [`MockServer::start_with_events`].
#[derive(Debug)]
pub enum MockEvent {
    /// One line of the request log (method, path with secret parameters redacted, status, time), if
    /// `MockConfig::log` is on.
    Request(String),
    /// tiny_http's accept loop has ended (it does so on the first failed `accept`): no new connection
    /// will be answered. Sent once.
    ListenerDied(std::io::Error),
}

/// A running stand-in. Dropping it stops it.
pub struct MockServer {
    serving: Arc<Serving>,
    server: Option<Arc<tiny_http::Server>>,
    receivers: Vec<JoinHandle<()>>,
    /// Dropped to stop the watch thread (see [`watch`]).
    watching: Option<Sender<()>>,
    /// One message per receiver that has left its loop.
    exited: Mutex<Receiver<()>>,
    addr: SocketAddr,
}

/// What the receiving threads share.
struct Serving {
    shared: Shared,
    /// Distinct peer addresses seen (one per TCP connection). Read-locked on every request, written
    /// only for a new connection.
    peers: RwLock<HashSet<SocketAddr>>,
    stop: AtomicBool,
    events: Option<Sender<MockEvent>>,
    /// Why the accept loop ended, once it has.
    listener_error: OnceLock<(std::io::ErrorKind, String)>,
}

/// Tells the server a receiver has ended, even if it ended by a panic.
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
    /// It logs nothing; see [`MockServer::start_with_events`].
    pub fn start(config: MockConfig, addr: SocketAddr) -> std::io::Result<MockServer> {
        MockServer::launch(config, addr, None)
    }

    /// Like [`MockServer::start`], reporting to `events`: a line per request if `config.log` is on, and
    /// the end of the accept loop. Nothing is printed.
    pub fn start_with_events(
        config: MockConfig,
        addr: SocketAddr,
        events: Sender<MockEvent>,
    ) -> std::io::Result<MockServer> {
        MockServer::launch(config, addr, Some(events))
    }

    fn launch(config: MockConfig, addr: SocketAddr, events: Option<Sender<MockEvent>>) -> std::io::Result<MockServer> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the sipgate stand-in listens on loopback addresses only, not {addr}"),
            ));
        }
        let listener = crate::http::without_nagle(TcpListener::bind(addr)?)?;
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener_with_read_timeout(listener, None, Some(config.idle_timeout))
            .map_err(std::io::Error::other)?;
        let serving = Arc::new(Serving {
            shared: {
                let base_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
                Shared::new(config, base_url)
            },
            peers: RwLock::new(HashSet::new()),
            stop: AtomicBool::new(false),
            events,
            listener_error: OnceLock::new(),
        });
        let (exit_signal, exited) = std::sync::mpsc::channel();
        let mut started = MockServer {
            serving,
            server: Some(Arc::new(server)),
            receivers: Vec::new(),
            watching: None,
            exited: Mutex::new(exited),
            addr,
        };
        let receivers = std::thread::available_parallelism().map_or(RECEIVERS, |cpus| cpus.get().min(RECEIVERS));
        for n in 0..receivers {
            let (server, serving, signal) = (started.server.clone(), Arc::clone(&started.serving), exit_signal.clone());
            let receiver = std::thread::Builder::new().name(format!("sipgate-stand-in-{n}")).spawn(move || {
                let _signal = ExitSignal(signal);
                if let Some(server) = server {
                    receive(&server, &serving);
                }
            });
            // On failure, dropping `started` stops the receivers already running.
            started.receivers.push(receiver?);
        }
        let (watching, stopped) = std::sync::mpsc::channel();
        let serving = Arc::clone(&started.serving);
        std::thread::Builder::new()
            .name("sipgate-stand-in-watch".into())
            .spawn(move || watch(addr, &serving, &stopped))?;
        started.watching = Some(watching);
        Ok(started)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, or [`MockConfig::public_url`] if set: where clients reach it.
    pub fn base_url(&self) -> String {
        self.serving.shared.base_url.clone()
    }

    /// The `.env` lines for `client` in `realm` (see `docs/sipgate.md`, "The `.env` of sipgate's example"):
    /// `AUTH_URL`, `TOKEN_URL`, `TEST_API_ENDPOINT`, `CLIENT_ID`, `CLIENT_SECRET`, `OAUTH_SCOPE`,
    /// `REDIRECT_URI` (the client's first redirect URI). `PORT` is left to the caller.
    pub fn env(&self, realm: &str, client: &MockClient) -> Vec<(&'static str, String)> {
        let endpoint = |name: &str| format!("{}/auth/realms/{realm}/protocol/openid-connect/{name}", self.base_url());
        vec![
            ("AUTH_URL", endpoint("auth")),
            ("TOKEN_URL", endpoint("token")),
            ("TEST_API_ENDPOINT", format!("{}/v2/account", self.base_url())),
            ("CLIENT_ID", client.id.clone()),
            ("CLIENT_SECRET", client.secret.clone()),
            ("OAUTH_SCOPE", DEFAULT_SCOPE.to_owned()),
            ("REDIRECT_URI", client.redirect_uris.first().cloned().unwrap_or_default()),
        ]
    }

    /// The `index`th configured client.
    pub(super) fn client(&self, index: usize) -> Option<MockClient> {
        self.serving.shared.config.clients.get(index).cloned()
    }

    /// How many TCP connections sent at least one request (distinct peer addresses seen).
    pub fn connections(&self) -> u64 {
        let peers = self.serving.peers.read().unwrap_or_else(PoisonError::into_inner);
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
        let reply = handle(&self.serving.shared, &incoming);
        (reply.status, reply.body)
    }

    /// How many requests were received.
    pub fn requests(&self) -> u64 {
        self.serving.shared.requests.load(Ordering::Relaxed)
    }

    /// Why the listener stopped taking connections, if it has: tiny_http's accept loop ends for good on
    /// the first failed `accept` (e.g. `EMFILE`, too many open files). Connections already open are still
    /// answered, new ones are not. `None` while it is listening.
    pub fn listener_error(&self) -> Option<std::io::Error> {
        let (kind, message) = self.serving.listener_error.get()?;
        Some(std::io::Error::new(*kind, message.clone()))
    }

    /// Stops the receivers and closes the port. Dropping the server does the same. A receiver still
    /// busy after two seconds is left to finish on its own (the port stays open until then).
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.serving.stop.store(true, Ordering::SeqCst);
        self.watching = None;
        if let Some(server) = &self.server {
            for _ in &self.receivers {
                server.unblock();
            }
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        let signals = self.exited.lock().unwrap_or_else(PoisonError::into_inner);
        let mut exited = 0;
        while exited < self.receivers.len()
            && signals.recv_timeout(deadline.saturating_duration_since(Instant::now())).is_ok()
        {
            exited += 1;
        }
        drop(signals);
        let all_exited = exited == self.receivers.len();
        for receiver in self.receivers.drain(..) {
            if all_exited || receiver.is_finished() {
                // A receiver never panics; if one did, there is nothing left to clean up for it.
                let _ = receiver.join();
            }
            // Otherwise it is still busy; dropping the handle lets it end on its own.
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

/// One receiving thread: takes requests from tiny_http until the server stops. A request that may
/// block (its body is still on the way, or an injected delay applies) is answered on a thread of its
/// own; every other one right here.
fn receive(server: &tiny_http::Server, serving: &Arc<Serving>) {
    let mut date = HttpDate::default();
    loop {
        match server.recv() {
            Ok(request) if may_block(&request, &serving.shared.config) => {
                let serving = Arc::clone(serving);
                let spawned = std::thread::Builder::new().name("sipgate-stand-in-body".into()).spawn(move || {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        serve(&serving, request, &mut HttpDate::default());
                    }));
                });
                // Without a thread (the process is at its limit) the request is dropped, which tiny_http
                // answers with 500.
                drop(spawned);
            }
            Ok(request) => {
                // Nothing in `serve` should panic; should tiny_http or a handler ever do so, this
                // thread keeps serving (the tables survive: their lock ignores poisoning).
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| serve(serving, request, &mut date)));
            }
            // `unblock()`: the server is stopping.
            Err(_) if serving.stop.load(Ordering::SeqCst) => return,
            // tiny_http hands out an error only when its accept loop has ended. Connections already open
            // may still send requests, so this thread goes on receiving.
            Err(error) => listener_died(serving, error),
        }
    }
}

/// How often the watch thread checks that the listener still takes connections.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// The watch thread: tiny_http's accept loop can also end by a panic (its `try_clone` of an accepted
/// socket unwraps, and fails when file descriptors run out), which no `recv` reports. Either way its
/// thread drops the listener, so a connection is refused: this checks once per [`WATCH_EVERY`] until the
/// server stops (`stopped` is closed).
fn watch(addr: SocketAddr, serving: &Serving, stopped: &Receiver<()>) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(WATCH_EVERY) {
        if serving.listener_error.get().is_some() {
            return;
        }
        if let Err(error) = TcpStream::connect_timeout(&addr, WATCH_EVERY)
            && error.kind() == std::io::ErrorKind::ConnectionRefused
        {
            let message = "tiny_http's accept loop has ended (its thread panicked; out of file descriptors?)";
            listener_died(serving, std::io::Error::other(message));
            return;
        }
    }
}

/// Records and reports the end of the accept loop (once).
fn listener_died(serving: &Serving, error: std::io::Error) {
    if serving.listener_error.set((error.kind(), error.to_string())).is_ok()
        && let Some(events) = &serving.events
    {
        let _ = events.send(MockEvent::ListenerDied(error));
    }
}

/// Reads, answers and logs one request.
fn serve(serving: &Serving, mut request: tiny_http::Request, date: &mut HttpDate) {
    let shared = &serving.shared;
    let started = Instant::now();
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(peer) = request.remote_addr()
        && !serving.peers.read().unwrap_or_else(PoisonError::into_inner).contains(peer)
    {
        serving.peers.write().unwrap_or_else(PoisonError::into_inner).insert(*peer);
    }
    // Whether nothing of the body is left to read (so the answer can be written before tiny_http
    // drains it).
    let (reply, body_read) = if head_size(&request) > MAX_HEAD {
        // tiny_http would read another request on this connection; a client that honours the header
        // closes it.
        let reply = Reply::oauth_error(431, "invalid_request", "Request header fields too large");
        (reply.with_header("Connection", "close".to_owned()), !body_pending(&request))
    } else {
        match read_body(&mut request) {
            Ok(body) => {
                let url = request.url();
                let (path, query) = url.split_once('?').unwrap_or((url, ""));
                let header = |name: &'static str| {
                    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str())
                };
                let incoming = Incoming {
                    method: request.method().as_str(),
                    path,
                    query,
                    authorization: header("Authorization"),
                    content_type: header("Content-Type"),
                    body: &body,
                };
                (answer_or_500(shared, &incoming), true)
            }
            Err(reply) => (reply, false),
        }
    };
    let latency = shared.config.faults.latency;
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    if shared.config.log && serving.events.is_some() {
        let mut line = format!(
            "{} {} {} ms",
            crate::redact::request_line(request.method().as_str(), request.url()),
            reply.status,
            started.elapsed().as_millis()
        );
        // The OAuth error code and description say why; neither ever holds a secret.
        if reply.status >= 400
            && let Some(error) = std::str::from_utf8(&reply.body).ok().and_then(crate::error::OAuthError::from_json)
        {
            line.push_str(&format!(" — {error}"));
        }
        log(serving, line);
    }
    if body_read {
        let head = *request.method() == tiny_http::Method::Head;
        let bytes = encode(&reply, date.now(), head)
            .or_else(|| encode(&Reply::text(500, "a header value could not be encoded"), date.now(), head))
            .unwrap_or_default();
        // One `write` of the whole answer. The client may have gone away; there is no one left to tell.
        let mut writer = request.into_writer();
        let _ = writer.write_all(&bytes).and_then(|()| writer.flush());
    } else {
        // tiny_http's own path: the answer goes out first, then tiny_http drains what is left of the body
        // (which may wait for the client: such a request is on a thread of its own).
        let _ = request.respond(response(reply));
    }
}
/// The handler's answer; a panic in it becomes a 500 for this request alone. The tables stay as the
/// handler left them (their lock recovers from poisoning, see `Shared::state`) and the server goes on; the
/// panic's message goes to stderr through the panic hook, and the request log says `500`.
fn answer_or_500(shared: &Shared, incoming: &Incoming<'_>) -> Reply {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(shared, incoming)))
        .unwrap_or_else(|_| Reply::text(500, "the stand-in failed on this request (a bug: please report it)"))
}

/// Sends one line of the request log to the caller's sink, if there is one, control characters as `?`.
fn log(serving: &Serving, line: String) {
    if let Some(events) = &serving.events
        && serving.shared.config.log
    {
        let line = crate::redact::terminal_safe(&line).replace(['\n', '\t'], "?");
        let _ = events.send(MockEvent::Request(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query;

    const VERIFIER: &str = "challenge-secret-challenge-secret-challenge-secret";

    /// A stand-in that approves at once and reports its request log, and an agent that follows nothing.
    fn logging_stand_in() -> (MockServer, std::sync::mpsc::Receiver<MockEvent>, ureq::Agent) {
        let (sink, lines) = std::sync::mpsc::channel();
        let config = MockConfig { auto_approve: true, log: true, ..MockConfig::default() };
        let server = MockServer::start_with_events(config, SocketAddr::from(([127, 0, 0, 1], 0)), sink).unwrap();
        let agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).proxy(None).build();
        (server, lines, agent.into())
    }

    /// A sign-in of the demo client (two requests: authorization, then the code exchange): the code and
    /// the token answer.
    fn sign_in(agent: &ureq::Agent, oidc: &str) -> (String, serde_json::Value) {
        let auth = query::encode([
            ("client_id", "sipgate-oauth-demo"),
            ("redirect_uri", "http://127.0.0.1:5/oauth"),
            ("response_type", "code"),
            ("scope", "account:read"),
            ("state", "state-secret-1"),
            ("code_challenge", VERIFIER),
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
            ("code_verifier", VERIFIER),
        ];
        let mut answer = agent.post(format!("{oidc}/token")).send_form(form).unwrap();
        let tokens = serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
        (code, tokens)
    }

    #[test]
    fn a_panicking_handler_costs_its_request_a_500_and_nothing_else() {
        let (server, lines, agent) = logging_stand_in();
        let oidc = format!("{}/auth/realms/third-party/protocol/openid-connect", server.base_url());
        let (_, tokens) = sign_in(&agent, &oidc);
        let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());

        // The handler panics while it holds the tables' lock: the lock is poisoned, the thread unwinds.
        for _ in 0..3 {
            let mut failed = agent.get(format!("{}/test/panic", server.base_url())).call().unwrap();
            assert_eq!(failed.status(), 500);
            assert!(failed.body_mut().read_to_string().unwrap().contains("the stand-in failed on this request"));
        }
        // The token issued before still works, so the tables are as they were, and the server goes on.
        let account = agent.get(format!("{}/v2/account", server.base_url())).header("Authorization", &bearer).call();
        assert_eq!(account.unwrap().status(), 200);
        let discovery = agent
            .get(format!("{}/auth/realms/third-party/.well-known/openid-configuration", server.base_url()))
            .call()
            .unwrap();
        assert_eq!(discovery.status(), 200);
        let logged: Vec<String> = lines
            .try_iter()
            .filter_map(|event| match event {
                MockEvent::Request(line) => Some(line),
                _ => None,
            })
            .collect();
        assert_eq!(logged.iter().filter(|line| line.starts_with("GET /test/panic 500 ")).count(), 3, "{logged:?}");
    }

    #[test]
    fn request_log_has_one_line_per_request_and_no_secret() {
        let (server, lines, agent) = logging_stand_in();
        let oidc = format!("{}/auth/realms/third-party/protocol/openid-connect", server.base_url());
        let (code, _) = sign_in(&agent, &oidc);
        agent.get(format!("{oidc}/token?code={code}&client_secret=demo-secret")).call().unwrap();

        let logged: Vec<String> = (0..3)
            .map(|_| match lines.recv().unwrap() {
                MockEvent::Request(line) => line,
                other => panic!("not a request line: {other:?}"),
            })
            .collect();
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
    fn without_a_sink_nothing_is_logged_and_with_logging_off_nothing_is_sent() {
        let (sink, lines) = std::sync::mpsc::channel();
        let quiet = MockConfig { log: false, ..MockConfig::default() };
        let server = MockServer::start_with_events(quiet, SocketAddr::from(([127, 0, 0, 1], 0)), sink).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).proxy(None).build().into();
        let answer = agent.get(format!("{}/v2/account", server.base_url())).call().unwrap();
        assert_eq!(answer.status(), 401);
        server.shutdown();
        // The server and with it the sender are gone: the channel is empty and closed.
        assert!(lines.recv().is_err());
    }

    #[test]
    fn a_connection_that_goes_quiet_is_closed_and_a_half_sent_head_is_answered_408() {
        use std::io::{Read, Write};
        let config = MockConfig { idle_timeout: Duration::from_millis(200), ..MockConfig::default() };
        let server = MockServer::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = server.base_url().trim_start_matches("http://").to_owned();
        // What the stand-in sends until it closes the connection; the test's own read deadline is only
        // there so that a server that never closes fails the test rather than hanging it.
        let until_closed = |stream: &mut std::net::TcpStream| {
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).map(|_| String::from_utf8_lossy(&answer).into_owned())
        };

        let mut silent = std::net::TcpStream::connect(&addr).unwrap();
        assert_eq!(until_closed(&mut silent).unwrap(), "");

        let mut half = std::net::TcpStream::connect(&addr).unwrap();
        half.write_all(b"GET /v2/account HTTP/1.1\r\nHost: x\r\n").unwrap();
        let answer = until_closed(&mut half).unwrap();
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer:?}");
        assert!(answer.contains("\r\nConnection: close\r\n"), "{answer:?}");

        // Kept alive after an answer, then quiet: the answer comes whole, then the connection ends.
        let mut kept = std::net::TcpStream::connect(&addr).unwrap();
        kept.write_all(b"GET /auth/realms/third-party/.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let answer = until_closed(&mut kept).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer:?}");
        assert!(answer.ends_with('}'), "{answer:?}");
        server.shutdown();
    }

    #[test]
    fn server_handle_can_be_shared_between_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<MockServer>();
    }
}
