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
//! connection thread), it starts one thread per connection without a limit, and it drains an unread
//! body of a claimed length into one buffer of that length, which is why claims beyond [`MAX_DRAIN`]
//! are abandoned rather than drained. It listens on loopback addresses only.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::reply::Reply;
use super::routes::{Incoming, Shared, handle};
use super::{MockClient, MockConfig};

/// How many threads receive requests from tiny_http and answer them. They only ever wait for a
/// request or for the tables' lock: anything that could block on a client goes to a thread of its own.
const RECEIVERS: usize = 2;

/// The largest request body read; larger ones get 413.
const MAX_BODY: usize = 64 * 1024;

/// The largest request head (request line and header fields) answered; larger ones get 431.
const MAX_HEAD: usize = 64 * 1024;

/// tiny_http reads a body of up to this many bytes itself, before the request is handed over.
const BUFFERED_BODY: usize = 1024;

/// tiny_http drains an unread body when a request is dropped, into one buffer the size of what is left
/// (allocated zeroed, so only what arrives is ever touched). A claimed `Content-Length` beyond this
/// could make that allocation fail and abort the process, so such a request is abandoned unanswered
/// (its connection is parked until the process ends) instead.
const MAX_DRAIN: usize = 1024 * 1024 * 1024;

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
        let listener = without_nagle(TcpListener::bind(addr)?)?;
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener(listener, None).map_err(std::io::Error::other)?;
        let serving = Arc::new(Serving {
            shared: Shared::new(config, format!("http://{addr}")),
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
        for n in 0..RECEIVERS {
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

    /// `http://127.0.0.1:PORT`.
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
            ("OAUTH_SCOPE", super::DEFAULT_SCOPE.to_owned()),
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

/// The listener, with Nagle's algorithm off for every connection it accepts (Linux and the BSDs copy
/// `TCP_NODELAY` from the listening socket to the accepted one; std sets it only on a stream, hence the
/// round trip through the file descriptor).
///
/// An answer leaves in one `write` when it fits tiny_http's buffer or is written whole (see [`encode`]),
/// but a large one can still leave in two; with Nagle on, the second would wait for the client's ACK of
/// the first, which a client on a kept-alive connection delays: 40 ms per answer on Linux.
fn without_nagle(listener: TcpListener) -> std::io::Result<TcpListener> {
    let socket = TcpStream::from(OwnedFd::from(listener));
    socket.set_nodelay(true)?;
    Ok(TcpListener::from(OwnedFd::from(socket)))
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

/// Whether answering `request` could wait on the client or on purpose: a pending body, or an injected
/// delay.
fn may_block(request: &tiny_http::Request, config: &MockConfig) -> bool {
    !config.faults.latency.is_zero() || body_pending(request)
}

/// Whether `request` has a body tiny_http has not read yet: longer than it buffers, chunked, behind
/// `Expect: 100-continue`, or an upgrade.
fn body_pending(request: &tiny_http::Request) -> bool {
    let has = |name: &'static str| request.headers().iter().any(|header| header.field.equiv(name));
    match request.body_length() {
        _ if has("Transfer-Encoding") || has("Connection") && has("Upgrade") => true,
        None | Some(0) => false,
        Some(length) => length > BUFFERED_BODY || has("Expect"),
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
    if let Some(claimed) = request.body_length().filter(|length| *length > MAX_DRAIN) {
        let line = format!(
            "{} {} abandoned: claims a body of {claimed} bytes",
            request.method(),
            crate::redact::url(request.url())
        );
        log(serving, line);
        std::mem::forget(request);
        return;
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
                (handle(shared, &incoming), true)
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
            "{} {} {} {} ms",
            request.method().as_str(),
            crate::redact::url(request.url()),
            reply.status,
            started.elapsed().as_millis()
        );
        // The OAuth error code and description say why; neither ever holds a secret.
        if reply.status >= 400
            && let Some(error) = std::str::from_utf8(&reply.body).ok().and_then(crate::OAuthError::from_json)
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
/// Sends one line of the request log to the caller's sink, if there is one.
fn log(serving: &Serving, line: String) {
    if let Some(events) = &serving.events
        && serving.shared.config.log
    {
        let _ = events.send(MockEvent::Request(line));
    }
}

/// The size of the request head as tiny_http parsed it (request line and header fields, with their
/// separators), for the [`MAX_HEAD`] check.
fn head_size(request: &tiny_http::Request) -> usize {
    let fields: usize = request
        .headers()
        .iter()
        .map(|header| header.field.as_str().as_str().len() + header.value.as_str().len() + 4)
        .sum();
    request.method().as_str().len() + request.url().len() + fields + 12
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

/// The whole HTTP/1.1 answer for `reply` in one buffer: status line, `Server`, `Date`,
/// `Cache-Control: no-store` (every answer), the content type, the reply's own headers,
/// `Content-Length`, and the body unless `head`. `None` if a header value holds a byte a header cannot
/// carry (only a redirect URI from the configuration could).
fn encode(reply: &Reply, date: &str, head: bool) -> Option<Vec<u8>> {
    let reason = tiny_http::StatusCode(reply.status).default_reason_phrase();
    let mut out = Vec::with_capacity(256 + reply.body.len());
    let _ = write!(
        out,
        "HTTP/1.1 {} {reason}\r\nServer: sipgate-stand-in\r\nDate: {date}\r\nCache-Control: no-store\r\n",
        reply.status
    );
    let extra = reply.content_type.map(|value| ("Content-Type", value)).into_iter();
    for (name, value) in extra.chain(reply.headers.iter().map(|(name, value)| (*name, value.as_str()))) {
        if !value.bytes().all(|byte| byte == b'\t' || (b' '..=b'~').contains(&byte)) {
            return None;
        }
        let _ = write!(out, "{name}: {value}\r\n");
    }
    // RFC 9110 §8.6: no Content-Length in a 1xx or 204 answer; 304 is never sent.
    if !(reply.status < 200 || reply.status == 204) {
        let _ = write!(out, "Content-Length: {}\r\n", reply.body.len());
    }
    out.extend_from_slice(b"\r\n");
    if !head && reply.status != 204 {
        out.extend_from_slice(&reply.body);
    }
    Some(out)
}

/// The tiny_http response for a reply, for a request whose body was not read to its end; every answer
/// is `Cache-Control: no-store`.
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

/// The `Date` header's value (RFC 9110 §5.6.7, IMF-fixdate), formatted once per second per thread.
#[derive(Default)]
struct HttpDate {
    second: u64,
    text: String,
}

impl HttpDate {
    /// The current time as an HTTP date. A clock before 1970 reads as 1970.
    fn now(&mut self) -> &str {
        let second = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs());
        if self.text.is_empty() || second != self.second {
            self.second = second;
            self.text = http_date(second);
        }
        &self.text
    }
}

/// Seconds since 1970 as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(seconds: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = seconds / 86_400;
    let (hour, minute, second) = (seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
    // Civil date from a day count (Howard Hinnant's algorithm), in eras of 400 years from 0000-03-01.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 2 } else { month_index - 10 }; // 0 = January
    let year = year_of_era + era * 400 + u64::from(month < 2);
    let weekday = WEEKDAYS[(days % 7) as usize];
    let month = MONTHS[month as usize];
    format!("{weekday}, {day:02} {month} {year} {hour:02}:{minute:02}:{second:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query;

    #[test]
    fn request_log_has_one_line_per_request_and_no_secret() {
        let (sink, lines) = std::sync::mpsc::channel();
        let config = MockConfig { auto_approve: true, log: true, ..MockConfig::default() };
        let server = MockServer::start_with_events(config, SocketAddr::from(([127, 0, 0, 1], 0)), sink).unwrap();
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
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(4_107_542_399), "Sun, 28 Feb 2100 23:59:59 GMT");
    }

    #[test]
    fn encoded_answer_has_status_headers_length_and_body() {
        let reply = Reply::redirect("http://127.0.0.1:9/cb?code=x".into());
        let bytes = encode(&reply, "Thu, 01 Jan 1970 00:00:00 GMT", false).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 302 Found\r\nServer: sipgate-stand-in\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Cache-Control: no-store\r\nLocation: http://127.0.0.1:9/cb?code=x\r\nContent-Length: 0\r\n\r\n"
        );
        let json = Reply::text(404, "gone");
        let head = String::from_utf8(encode(&json, "D", true).unwrap()).unwrap();
        assert!(
            head.starts_with("HTTP/1.1 404 Not Found\r\n") && head.ends_with("Content-Length: 4\r\n\r\n"),
            "{head}"
        );
        assert!(String::from_utf8(encode(&json, "D", false).unwrap()).unwrap().ends_with("\r\n\r\ngone"));
        let empty = String::from_utf8(encode(&Reply::empty(204), "D", false).unwrap()).unwrap();
        assert!(!empty.contains("Content-Length") && empty.ends_with("no-store\r\n\r\n"), "{empty}");
        let injected = Reply::redirect("http://127.0.0.1/\r\nSet-Cookie: x".into());
        assert_eq!(encode(&injected, "D", false), None);
    }

    #[test]
    fn server_handle_can_be_shared_between_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<MockServer>();
    }
}
