//! The loopback server that receives the browser's redirect (RFC 8252 §7.3): its life and the wait.
//!
//! Promises: it listens on loopback addresses only, from before the URL is shown until the
//! [`CallbackServer`] is dropped, and the port is closed when `drop` returns. For the name `localhost` it
//! owns the port on both 127.0.0.1 and ::1 (where the machine has IPv6), or fails: it never advertises a
//! name whose other address someone else could hold. Every connection is served on a thread of its own
//! with deadlines for its request head ([`request`]), so a client that sends slowly, never finishes or
//! never reads holds up nothing but itself; when too many connections are open, the oldest one that has
//! not finished its head is dropped to make room. What a request means is decided in [`verdict`]. The
//! server threads never panic, never end the process and make no outbound request: they send events
//! through a channel, which a pasted address ([`Paste`]) feeds too.
//!
//! It speaks just enough HTTP/1.1 for a browser's redirect: one request per connection, no body, the
//! answer closes the connection. (tiny_http, used by the stand-in, has no read timeouts: a connection
//! that never finishes its request blocks one of its pool threads for good.)

pub(crate) mod request;
pub(crate) mod verdict;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use self::request::HeadError;
use self::verdict::{Expected, Page, Verdict};
use crate::config::RedirectUri;
use crate::error::{Error, OAuthError};
use crate::secret::{AuthorizationCode, CsrfState};

/// How long writing an answer may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many connections are served at once; beyond that, the oldest still reading its head is dropped.
const MAX_CONNECTIONS: usize = 256;

/// How often a free port is tried for `localhost` with port 0 before giving up.
const PORT_TRIES: usize = 20;

/// What the browser (or the user, by pasting) brought back.
#[derive(Debug)]
pub(crate) enum Callback {
    /// `code` with the right `state`.
    Code(AuthorizationCode, Reply),
    /// `error` with the right `state` (RFC 6749 §4.1.2.1), e.g. the user denied consent.
    Denied(OAuthError, Reply),
}

/// The browser's pending request, answered with the outcome of the sign-in; none for a pasted address.
#[derive(Debug)]
pub(crate) struct Reply(Option<TcpStream>);

impl Reply {
    /// Shows the browser a page; `success` picks the wording of the title.
    pub fn finish(self, success: bool, message: &str) {
        let (status, title) = if success { (200, "Signed in") } else { (400, "Sign-in failed") };
        if let Some(mut stream) = self.0 {
            answer(&mut stream, &Answer::Page(Page { status, title, message: message.to_owned() }), false);
        }
    }
}

/// What the server threads report to the waiting thread.
enum Event {
    Callback(Box<Callback>),
    /// A request on the callback path whose `state` is missing or wrong.
    WrongState,
    /// A pasted line that is not a usable address, and why.
    PasteRejected(String),
    /// A request on the callback path that was turned away, and why.
    Rejected(String),
}

/// Progress of the wait, for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Still waiting; this much time is left.
    Left(Duration),
    /// A callback with a wrong or missing `state` came in and was turned away.
    WrongState,
    /// A pasted line was not a usable address, for this reason; the wait goes on.
    PasteRejected(String),
    /// A request on the callback path was turned away, for this reason; the wait goes on.
    Rejected(String),
}

/// The running callback server.
pub(crate) struct CallbackServer {
    /// The listening addresses, to wake their accept threads on shutdown.
    addrs: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
    events: Receiver<Event>,
    sender: Sender<Event>,
    expected: Arc<Expected>,
    redirect_uri: String,
    start_url: String,
    stopping: Arc<AtomicBool>,
}

impl std::fmt::Debug for CallbackServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackServer").field("redirect_uri", &self.redirect_uri).finish_non_exhaustive()
    }
}

impl CallbackServer {
    /// Starts listening for the redirect to `redirect`, expecting `state` and, if it is known, `issuer` as
    /// `iss` (RFC 9207); port 0 picks a free port. Its
    /// [`start_url`](Self::start_url) redirects once to what [`authorization_url`] returns for the real
    /// redirect URI.
    pub fn start(
        redirect: &RedirectUri,
        state: CsrfState,
        issuer: Option<String>,
        authorization_url: impl FnOnce(&str) -> String,
    ) -> Result<CallbackServer, Error> {
        let listeners = bind(redirect)?;
        let port = listeners[0].local_addr().map_err(|source| listen_error(redirect, source))?.port();
        let redirect_uri = redirect.with_port(port);
        let start_path = format!("/start-{}", uuid::Uuid::new_v4().simple());
        let start_url = format!("http://{}:{port}{start_path}", redirect.host);
        let mut expected = Expected::new(&redirect.path, state);
        expected.issuer = issuer;
        expected.start = Some((start_path, authorization_url(&redirect_uri)));
        let expected = Arc::new(expected);
        let (sender, events) = mpsc::channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Connections::default());
        let mut addrs = Vec::new();
        let mut threads = Vec::new();
        for listener in listeners {
            addrs.push(listener.local_addr().map_err(|source| listen_error(redirect, source))?);
            let shared = Shared {
                events: sender.clone(),
                expected: Arc::clone(&expected),
                stopping: Arc::clone(&stopping),
                connections: Arc::clone(&connections),
            };
            let thread = std::thread::Builder::new()
                .name("callback-accept".into())
                .spawn(move || accept(&listener, &shared))
                .map_err(|source| listen_error(redirect, source))?;
            threads.push(thread);
        }
        Ok(CallbackServer { addrs, threads, events, sender, expected, redirect_uri, start_url, stopping })
    }

    /// The redirect URI with the real port: what the authorization and token requests must carry.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// A one-time loopback address that redirects to the authorization URL: what a browser is handed, so
    /// that the URL with `state` in it does not show in the browser's command line.
    pub fn start_url(&self) -> &str {
        &self.start_url
    }

    /// Where a pasted redirect address goes: judged like a callback, and the first one wins.
    pub fn paste(&self) -> Paste {
        Paste { events: self.sender.clone(), expected: Arc::clone(&self.expected) }
    }

    /// Waits for the callback until `timeout` has passed, calling `progress` about once a second.
    pub fn wait(&self, timeout: Duration, mut progress: impl FnMut(Wait)) -> Result<Callback, Error> {
        let started = Instant::now();
        let mut saw_wrong_state = false;
        let mut rejected = None;
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Error::Timeout { seconds: timeout.as_secs(), saw_wrong_state, rejected });
            }
            progress(Wait::Left(left));
            match self.events.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(Event::Callback(callback)) => return Ok(*callback),
                Ok(Event::WrongState) => {
                    saw_wrong_state = true;
                    progress(Wait::WrongState);
                }
                Ok(Event::PasteRejected(reason)) => progress(Wait::PasteRejected(reason)),
                Ok(Event::Rejected(reason)) => {
                    rejected = Some(reason.clone());
                    progress(Wait::Rejected(reason));
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => unreachable!("the server holds a sender itself"),
            }
        }
    }
}

impl Drop for CallbackServer {
    /// Stops the accept threads and closes the port before it returns. Connections still being served
    /// finish on their own threads (bounded by their deadlines).
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        for (addr, thread) in self.addrs.iter().zip(self.threads.drain(..)) {
            // A connection wakes the blocked `accept`; if none can be made, the thread is left alone
            // rather than waited for forever.
            if TcpStream::connect_timeout(addr, Duration::from_secs(1)).is_ok() {
                let _ = thread.join();
            }
        }
    }
}

/// Hands pasted redirect addresses to a waiting [`CallbackServer`].
#[derive(Clone)]
pub(crate) struct Paste {
    events: Sender<Event>,
    expected: Arc<Expected>,
}

impl Paste {
    /// Tells the waiting thread that a pasted line could not be read, and why; the wait goes on.
    pub fn reject(&self, reason: String) {
        let _ = self.events.send(Event::PasteRejected(reason));
    }

    /// Judges a pasted line like a callback and tells the waiting thread: the callback (the wait ends), a
    /// wrong state, or why the line is not usable (the wait goes on). Blank lines are ignored.
    pub fn offer(&self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        let event = if !line.contains("code=") && !line.contains("error=") {
            Event::PasteRejected(
                "that is not the address of the sign-in's last page (it has no code= or error=)".into(),
            )
        } else {
            match verdict::judge_address(line, &self.expected) {
                Verdict::Code(code) => Event::Callback(Box::new(Callback::Code(code, Reply(None)))),
                Verdict::Denied(error) => Event::Callback(Box::new(Callback::Denied(error, Reply(None)))),
                Verdict::WrongState(_) => Event::WrongState,
                Verdict::TurnAway(page) | Verdict::Rejected(page) => Event::PasteRejected(page.message),
                Verdict::Start(_) => Event::PasteRejected("that is the start address, not the last page".into()),
            }
        };
        let _ = self.events.send(event);
    }
}

/// What every thread of one server shares.
#[derive(Clone)]
struct Shared {
    events: Sender<Event>,
    expected: Arc<Expected>,
    stopping: Arc<AtomicBool>,
    connections: Arc<Connections>,
}

/// The connections being served, oldest first, with a handle to close those still reading their head.
#[derive(Default)]
struct Connections {
    open: Mutex<VecDeque<(u64, Option<TcpStream>)>>,
    next_id: AtomicU64,
}

impl Connections {
    /// Registers a new connection; if the server is full, closes the oldest one still reading its head.
    /// `None` if the server is full of connections that have all been read (then the new one is dropped).
    fn admit(&self, stream: &TcpStream) -> Option<u64> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() >= MAX_CONNECTIONS {
            let oldest_idle = open.iter().position(|(_, reading)| reading.is_some())?;
            if let Some((_, Some(idle))) = open.remove(oldest_idle) {
                let _ = idle.shutdown(Shutdown::Both);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        open.push_back((id, stream.try_clone().ok()));
        Some(id)
    }

    /// The connection has its head: it is no longer idle.
    fn read(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, reading)) = open.iter_mut().find(|(open_id, _)| *open_id == id) {
            *reading = None;
        }
    }

    /// The connection is done.
    fn close(&self, id: u64) {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).retain(|(open_id, _)| *open_id != id);
    }
}

fn listen_error(redirect: &RedirectUri, source: io::Error) -> Error {
    Error::Listen { addr: format!("{}:{}", redirect.host, redirect.port), source }
}

/// Binds the loopback addresses for `redirect`; the first listener decides the port.
fn bind(redirect: &RedirectUri) -> Result<Vec<TcpListener>, Error> {
    let bind_one = |addr: SocketAddr| {
        TcpListener::bind(addr).map_err(|source| match source.kind() {
            io::ErrorKind::AddrInUse => Error::PortInUse { port: redirect.port },
            io::ErrorKind::PermissionDenied => Error::PortPermission { port: redirect.port },
            _ => Error::Listen { addr: addr.to_string(), source },
        })
    };
    if !redirect.is_localhost_name() {
        let host = redirect.host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = host.parse().map_err(|_| listen_error(redirect, io::Error::other("not an IP address")))?;
        return Ok(vec![bind_one(SocketAddr::new(ip, redirect.port))?]);
    }
    for _ in 0..PORT_TRIES {
        let v4 = bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, redirect.port)))?;
        let port = v4.local_addr().map_err(|source| listen_error(redirect, source))?.port();
        match bind_one(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            Ok(v6) => return Ok(vec![v4, v6]),
            // No IPv6 loopback on this machine: nobody can hold ::1, so 127.0.0.1 is all of `localhost`.
            Err(Error::Listen { source, .. }) if source.kind() == io::ErrorKind::AddrNotAvailable => {
                return Ok(vec![v4]);
            }
            // The free port picked on 127.0.0.1 is taken on ::1: try another.
            Err(Error::PortInUse { .. }) if redirect.port == 0 => continue,
            Err(error) => return Err(error),
        }
    }
    Err(listen_error(redirect, io::Error::other("no port was free on both 127.0.0.1 and ::1")))
}

/// The accept loop of one listener: every connection on a thread of its own. Dropping the listener at the
/// end closes the port.
fn accept(listener: &TcpListener, shared: &Shared) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        // A failed accept (the peer went away, or no descriptors left) ends only that connection.
        let Ok(stream) = stream else { continue };
        let Some(id) = shared.connections.admit(&stream) else { continue };
        let for_thread = shared.clone();
        let started = std::thread::Builder::new().name("callback-connection".into()).spawn(move || {
            connection(stream, id, &for_thread);
            for_thread.connections.close(id);
        });
        if started.is_err() {
            shared.connections.close(id);
        }
    }
}

/// Serves one connection: reads the request head, answers or passes the callback on.
fn connection(mut stream: TcpStream, id: u64, shared: &Shared) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let head = request::read(&mut stream);
    shared.connections.read(id);
    let head = match head {
        Ok(head) => head,
        Err(HeadError::TimedOut) => return,
        Err(HeadError::TooLarge) => {
            let message = "The request is too large for a sign-in callback.".to_owned();
            return answer(&mut stream, &Answer::Page(Page { status: 431, title: "Sign-in failed", message }), false);
        }
        Err(HeadError::Malformed) => {
            return answer(&mut stream, &Answer::Page(Page::failed("The request is not valid HTTP.")), false);
        }
    };
    let head_only = head.method == "HEAD";
    match verdict::judge(&head, &shared.expected) {
        Verdict::TurnAway(page) => answer(&mut stream, &Answer::Page(page), head_only),
        Verdict::Rejected(page) => {
            let reason = page.message.clone();
            answer(&mut stream, &Answer::Page(page), head_only);
            let _ = shared.events.send(Event::Rejected(reason));
        }
        Verdict::WrongState(page) => {
            answer(&mut stream, &Answer::Page(page), head_only);
            let _ = shared.events.send(Event::WrongState);
        }
        Verdict::Start(url) => answer(&mut stream, &Answer::Redirect(url), head_only),
        Verdict::Code(code) => {
            let callback = Callback::Code(code, Reply(Some(stream)));
            let _ = shared.events.send(Event::Callback(Box::new(callback)));
        }
        Verdict::Denied(error) => {
            let callback = Callback::Denied(error, Reply(Some(stream)));
            let _ = shared.events.send(Event::Callback(Box::new(callback)));
        }
    }
}

/// What a connection is answered with.
enum Answer {
    Page(Page),
    /// `302 Found` to the authorization URL (the start address).
    Redirect(String),
}

/// Writes the answer and closes the connection; the rest of what the client sent is read (briefly) and
/// dropped, so that closing does not reset the connection before the client has read the answer.
fn answer(stream: &mut TcpStream, answer: &Answer, head_only: bool) {
    let (status, body, extra) = match answer {
        Answer::Page(page) => {
            let allow = if page.status == 405 { "Allow: GET\r\n".to_owned() } else { String::new() };
            (page.status, page.render(), allow)
        }
        Answer::Redirect(url) => (302, String::new(), format!("Location: {url}\r\n")),
    };
    let mut response = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    response.push_str("Content-Type: text/html; charset=utf-8\r\nConnection: close\r\n");
    for (name, value) in crate::html::HEADERS {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str(&extra);
    response.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    if !head_only {
        response.push_str(&body);
    }
    if stream.write_all(response.as_bytes()).and_then(|()| stream.flush()).is_err() {
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = io::copy(&mut Read::by_ref(stream).take(64 * 1024), &mut io::sink());
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn localhost(port: u16) -> RedirectUri {
        RedirectUri { host: "localhost".into(), port, path: "/oauth".into() }
    }

    fn port_of(listener: &TcpListener) -> u16 {
        listener.local_addr().expect("a bound listener has an address").port()
    }

    /// A port held on ::1 whose twin on 127.0.0.1 is free; `None` without IPv6 loopback.
    fn taken_on_ipv6_only() -> Option<TcpListener> {
        for _ in 0..PORT_TRIES {
            let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).ok()?;
            if TcpListener::bind((Ipv4Addr::LOCALHOST, port_of(&v6))).is_ok() {
                return Some(v6);
            }
        }
        panic!("no port free on 127.0.0.1 among {PORT_TRIES} picked on ::1")
    }

    #[test]
    fn localhost_with_its_port_taken_on_ipv6_is_in_use_not_served_on_ipv4_alone() {
        let Some(taken) = taken_on_ipv6_only() else {
            eprintln!("note: skipped, this machine has no IPv6 loopback");
            return;
        };
        let port = port_of(&taken);
        let error = bind(&localhost(port)).expect_err("::1 is taken");
        assert!(matches!(error, Error::PortInUse { port: p } if p == port), "{error:?}");
        assert!(error.to_string().contains(&format!("port {port} is already in use")), "{error}");
        assert!(TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok(), "127.0.0.1:{port} was let go");
    }

    /// Port 0: whatever port 127.0.0.1 gets, ::1 is owned on it too. To make the kernel's pick collide
    /// with a port someone holds on ::1, a few thousand ports of the range it picks from are held there
    /// (odd ones: Linux tries those first for `bind`), then many servers are bound: with the old
    /// behaviour (v4 alone on a collision) at least one comes out v4-only with near certainty, though
    /// not with certainty: the kernel's pick is random.
    #[test]
    fn localhost_with_port_0_owns_the_port_on_both_addresses() {
        if TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_err() {
            eprintln!("note: skipped, this machine has no IPv6 loopback");
            return;
        }
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
        let bounds: Vec<u16> = range.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        let (low, high) = match bounds[..] {
            [low, high] if low < high => (low, high),
            _ => (32768, 60999),
        };
        let held: Vec<TcpListener> = (low..=high)
            .filter(|port| port % 2 == 1)
            .step_by(4)
            .filter_map(|port| TcpListener::bind((Ipv6Addr::LOCALHOST, port)).ok())
            .collect();
        assert!(!held.is_empty(), "no port of {low}-{high} could be held on ::1");
        for _ in 0..300 {
            let listeners = bind(&localhost(0)).expect("a port free on both addresses");
            let addrs: Vec<SocketAddr> =
                listeners.iter().map(|l| l.local_addr().expect("a bound listener has an address")).collect();
            assert_eq!(addrs.len(), 2, "127.0.0.1 and ::1: {addrs:?}");
            assert!(addrs[0].ip().is_loopback() && addrs[0].is_ipv4(), "{addrs:?}");
            assert_eq!(addrs[1], SocketAddr::from((Ipv6Addr::LOCALHOST, addrs[0].port())), "the same port");
        }
    }
}
