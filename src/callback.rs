//! The loopback server that receives the browser's redirect (RFC 8252 §7.3).
//!
//! Promises: it listens on loopback addresses only, from before the URL is shown until the
//! [`CallbackServer`] is dropped, and the port is closed when `drop` returns; only `GET` on the redirect
//! path with the right `state` is a callback, and the first one wins; everything else is answered at
//! once (404, 405, 400) and the wait goes on. Every connection is served on a thread of its own with a
//! deadline for its request head, so a client that sends slowly, never finishes or never reads holds up
//! nothing but itself. The server threads never panic and never end the process: they send events
//! through a channel.
//!
//! It speaks just enough HTTP/1.1 for a browser's redirect: one request per connection, no body, the
//! answer closes the connection. (tiny_http, used by the stand-in, has no read timeouts: a connection
//! that never finishes its request blocks one of its pool threads for good, and a race in its pool can
//! queue the next connection behind such a thread — the genuine callback could wait forever.)

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::RedirectUri;
use crate::error::{Error, OAuthError};
use crate::pkce::state_matches;
use crate::query;
use crate::secret::{AuthorizationCode, CsrfState};

/// How long a client has to send its request head.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// How long writing an answer may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request head read (request line and headers); a browser's redirect is far smaller.
const MAX_HEAD: usize = 32 * 1024;

/// How many connections are served at once; beyond that, new ones are closed at once.
const MAX_CONNECTIONS: usize = 256;

/// What the browser brought back.
#[derive(Debug)]
pub enum Callback {
    /// `code` with the right `state`.
    Code(AuthorizationCode, Reply),
    /// `error` with the right `state` (RFC 6749 §4.1.2.1), e.g. the user denied consent.
    Denied(OAuthError, Reply),
}

/// The browser's pending request: answered with the outcome of the sign-in.
#[derive(Debug)]
pub struct Reply(TcpStream);

impl Reply {
    /// Shows the browser a page; `success` picks the wording of the title.
    pub fn finish(mut self, success: bool, message: &str) {
        let (status, title) = if success { (200, "Signed in") } else { (400, "Sign-in failed") };
        answer(&mut self.0, &Page { status, title, message: message.to_owned(), allow: false }, false);
    }
}

/// What the server threads report to the waiting thread.
enum Event {
    Callback(Box<Callback>),
    /// A request on the callback path whose `state` is missing or wrong.
    WrongState,
}

/// The running callback server.
pub struct CallbackServer {
    /// The listening addresses, to wake their accept threads on shutdown.
    addrs: Vec<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
    events: Receiver<Event>,
    redirect_uri: String,
    stopping: Arc<AtomicBool>,
}

impl std::fmt::Debug for CallbackServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackServer").field("redirect_uri", &self.redirect_uri).finish_non_exhaustive()
    }
}

/// Progress of the wait, for the caller to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Still waiting; this much time is left.
    Left(Duration),
    /// A callback with a wrong or missing `state` came in and was turned away.
    WrongState,
}

impl CallbackServer {
    /// Starts listening for the redirect to `redirect`, expecting `state`. For the name `localhost` it
    /// listens on 127.0.0.1 and, where the machine has it, ::1; port 0 picks a free port.
    pub fn start(redirect: &RedirectUri, state: CsrfState) -> Result<CallbackServer, Error> {
        let listeners = bind(redirect)?;
        let port = listeners[0].local_addr().map_err(|source| listen_error(redirect, source))?.port();
        let (sender, events) = mpsc::channel();
        let expected = Arc::new(Expected { path: redirect.path.clone(), state, used: AtomicBool::new(false) });
        let stopping = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
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
        Ok(CallbackServer { addrs, threads, events, redirect_uri: redirect.with_port(port), stopping })
    }

    /// The redirect URI with the real port: what the authorization and token requests must carry.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the callback until `timeout` has passed, calling `progress` about once a second.
    pub fn wait(&self, timeout: Duration, mut progress: impl FnMut(Wait)) -> Result<Callback, Error> {
        let deadline = Instant::now() + timeout;
        let mut saw_wrong_state = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout { seconds: timeout.as_secs(), saw_wrong_state });
            }
            progress(Wait::Left(left));
            match self.events.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(Event::Callback(callback)) => return Ok(*callback),
                Ok(Event::WrongState) => {
                    saw_wrong_state = true;
                    progress(Wait::WrongState);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Listen {
                        addr: self.redirect_uri.clone(),
                        source: io::Error::other("the callback server stopped"),
                    });
                }
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

/// What a genuine callback looks like.
struct Expected {
    path: String,
    state: CsrfState,
    /// Set by the first genuine callback: a state is accepted once.
    used: AtomicBool,
}

/// What every thread of one server shares.
#[derive(Clone)]
struct Shared {
    events: Sender<Event>,
    expected: Arc<Expected>,
    stopping: Arc<AtomicBool>,
    /// Connections being served right now.
    connections: Arc<AtomicUsize>,
}

fn listen_error(redirect: &RedirectUri, source: io::Error) -> Error {
    Error::Listen { addr: format!("{}:{}", redirect.host, redirect.port), source }
}

/// Binds the loopback addresses for `redirect`; the first listener decides the port.
fn bind(redirect: &RedirectUri) -> Result<Vec<TcpListener>, Error> {
    let host = redirect.host.trim_start_matches('[').trim_end_matches(']');
    let bind_one = |addr: SocketAddr| {
        TcpListener::bind(addr).map_err(|source| match source.kind() {
            io::ErrorKind::AddrInUse => Error::PortInUse { port: redirect.port },
            io::ErrorKind::PermissionDenied => Error::PortPermission { port: redirect.port },
            _ => Error::Listen { addr: addr.to_string(), source },
        })
    };
    if !redirect.is_localhost_name() {
        let ip = host.parse().map_err(|_| listen_error(redirect, io::Error::other("not an IP address")))?;
        return Ok(vec![bind_one(SocketAddr::new(ip, redirect.port))?]);
    }
    let v4 = bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, redirect.port)))?;
    let port = v4.local_addr().map_err(|source| listen_error(redirect, source))?.port();
    match bind_one(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
        Ok(v6) => Ok(vec![v4, v6]),
        // A machine without IPv6 loopback; or a free port picked for 127.0.0.1 happens to be taken on ::1.
        Err(Error::Listen { .. }) => Ok(vec![v4]),
        Err(Error::PortInUse { .. }) if redirect.port == 0 => Ok(vec![v4]),
        Err(error) => Err(error),
    }
}

/// The accept loop of one listener: every connection on a thread of its own, at most
/// [`MAX_CONNECTIONS`] at once. Dropping the listener at the end closes the port.
fn accept(listener: &TcpListener, shared: &Shared) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        // A failed accept (the peer went away, or no descriptors left) ends only that connection.
        let Ok(stream) = stream else { continue };
        if shared.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let for_thread = shared.clone();
        let started = std::thread::Builder::new().name("callback-connection".into()).spawn(move || {
            connection(stream, &for_thread);
            for_thread.connections.fetch_sub(1, Ordering::SeqCst);
        });
        if started.is_err() {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Serves one connection: reads the request head, answers or passes the callback on.
fn connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let head = match read_head(&mut stream) {
        Ok(head) => head,
        Err(HeadError::TimedOut) => return,
        Err(HeadError::TooLarge) => {
            let message = "The request is too large for a sign-in callback.".to_owned();
            return answer(&mut stream, &Page { status: 431, title: "Sign-in failed", message, allow: false }, false);
        }
        Err(HeadError::Malformed) => {
            let message = "The request is not valid HTTP.".to_owned();
            return answer(&mut stream, &Page { status: 400, title: "Sign-in failed", message, allow: false }, false);
        }
    };
    let head_only = head.method == "HEAD";
    match classify(&head, &shared.expected) {
        Verdict::TurnAway(page) => answer(&mut stream, &page, head_only),
        Verdict::WrongState(page) => {
            answer(&mut stream, &page, head_only);
            let _ = shared.events.send(Event::WrongState);
        }
        Verdict::Code(code) => {
            let _ = shared.events.send(Event::Callback(Box::new(Callback::Code(code, Reply(stream)))));
        }
        Verdict::Denied(error) => {
            let _ = shared.events.send(Event::Callback(Box::new(Callback::Denied(error, Reply(stream)))));
        }
    }
}

/// The parts of a request the callback looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    method: String,
    /// The request target as sent: `/path?query` (anything else never matches the path).
    target: String,
    /// Whether a body follows (`Content-Length` other than 0, or `Transfer-Encoding`).
    has_body: bool,
}

/// Why no request head could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadError {
    /// The client did not send a complete head within [`HEAD_DEADLINE`], or went away.
    TimedOut,
    /// The head is larger than [`MAX_HEAD`].
    TooLarge,
    /// Not an HTTP/1.x request.
    Malformed,
}

/// Reads the request head (up to the empty line) within [`HEAD_DEADLINE`].
fn read_head(stream: &mut TcpStream) -> Result<Head, HeadError> {
    let deadline = Instant::now() + HEAD_DEADLINE;
    let mut received = Vec::with_capacity(1024);
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(end) = head_end(&received) {
            return parse_head(&received[..end]);
        }
        if received.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::TimedOut);
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return Err(HeadError::TimedOut),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Where the head ends: the first empty line (CRLF CRLF, or bare LF LF).
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = bytes.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = bytes.windows(2).position(|w| w == b"\n\n");
    crlf.into_iter().chain(lf).min()
}

/// Parses a request head: `METHOD SP TARGET SP HTTP/1.x` and the headers that announce a body.
fn parse_head(bytes: &[u8]) -> Result<Head, HeadError> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).skip_while(|l| l.is_empty());
    let request_line = lines.next().ok_or(HeadError::Malformed)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed);
    };
    let is_token =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let is_target = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
    if !is_token(method) || !is_target(target) || !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(HeadError::Malformed);
    }
    let mut has_body = false;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HeadError::Malformed)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            has_body |= value != "0";
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    Ok(Head { method: method.to_owned(), target: target.to_owned(), has_body })
}

/// An HTML answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Page {
    status: u16,
    title: &'static str,
    message: String,
    /// Whether to send `Allow: GET` (with 405).
    allow: bool,
}

impl Page {
    fn failed(message: &str) -> Page {
        Page { status: 400, title: "Sign-in failed", message: message.to_owned(), allow: false }
    }
}

/// What to do with a request.
#[derive(Debug)]
enum Verdict {
    /// Not the callback: answer with this page; the wait goes on.
    TurnAway(Page),
    /// A callback with a missing or wrong `state`: answer with this page and tell the waiting thread.
    WrongState(Page),
    /// The genuine callback with a code.
    Code(AuthorizationCode),
    /// The genuine callback with an error.
    Denied(OAuthError),
}

/// Decides what a request is. Only a genuine callback marks the state as used.
fn classify(head: &Head, expected: &Expected) -> Verdict {
    let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
    if path != expected.path {
        let message = "This is sipgate-oauth's sign-in callback; nothing else is here.".to_owned();
        return Verdict::TurnAway(Page { status: 404, title: "Not found", message, allow: false });
    }
    if head.method != "GET" {
        let message = "The sign-in callback only accepts GET.".to_owned();
        return Verdict::TurnAway(Page { status: 405, title: "Method not allowed", message, allow: true });
    }
    if head.has_body {
        return Verdict::TurnAway(Page::failed("The sign-in callback carries no body."));
    }
    // A fragment never reaches a server; if one is sent anyway, it is not part of the query.
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let Ok(pairs) = query::decode(query) else {
        return Verdict::TurnAway(Page::failed("The callback's parameters are malformed."));
    };
    let (Ok(state), Ok(code), Ok(error)) =
        (query::single(&pairs, "state"), query::single(&pairs, "code"), query::single(&pairs, "error"))
    else {
        return Verdict::TurnAway(Page::failed(
            "The callback repeats a parameter (state, code or error); it was rejected.",
        ));
    };
    if !state.is_some_and(|state| state_matches(&expected.state, state)) {
        return Verdict::WrongState(Page::failed(
            "The state in the callback does not match the state of this sign-in. This happens when \
             sipgate-oauth was restarted and an old sign-in URL was used, or the browser tab was refreshed. \
             Use the URL that the running sipgate-oauth printed.",
        ));
    }
    let error = error.filter(|error| !error.is_empty());
    if code.is_none_or(str::is_empty) && error.is_none() {
        return Verdict::TurnAway(Page::failed("The callback has neither a code nor an error."));
    }
    if expected.used.swap(true, Ordering::SeqCst) {
        return Verdict::TurnAway(Page::failed("This sign-in has already been completed."));
    }
    match (code, error) {
        (_, Some(error)) => {
            let field = |name| query::single(&pairs, name).ok().flatten().map(str::to_owned);
            Verdict::Denied(OAuthError {
                error: error.to_owned(),
                description: field("error_description"),
                uri: field("error_uri"),
            })
        }
        (code, None) => Verdict::Code(AuthorizationCode::new(code.unwrap_or_default())),
    }
}

/// The status the server answers a raw request head with (the bytes before the empty line), for a
/// callback on `path` expecting `state`; `None` if it is the genuine callback. For fuzzing and tests:
/// the same parsing and decisions as a request over a socket.
pub fn answer_status(head: &[u8], path: &str, state: &str) -> Option<u16> {
    let expected = Expected { path: path.to_owned(), state: CsrfState::new(state), used: AtomicBool::new(false) };
    match parse_head(head) {
        Err(HeadError::TimedOut) => Some(408),
        Err(HeadError::TooLarge) => Some(431),
        Err(HeadError::Malformed) => Some(400),
        Ok(head) => match classify(&head, &expected) {
            Verdict::TurnAway(page) | Verdict::WrongState(page) => Some(page.status),
            Verdict::Code(_) | Verdict::Denied(_) => None,
        },
    }
}

/// Writes `page` and closes the connection; the rest of what the client sent is read (briefly) and
/// dropped, so that closing does not reset the connection before the client has read the answer.
fn answer(stream: &mut TcpStream, page: &Page, head_only: bool) {
    let body = html(page.title, &page.message);
    let mut response = format!("HTTP/1.1 {} {}\r\n", page.status, reason(page.status));
    let headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
        ("Connection", "close"),
    ];
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    if page.allow {
        response.push_str("Allow: GET\r\n");
    }
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
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "",
    }
}

/// A self-contained HTML page: escaped text, no external resources.
fn html(title: &str, message: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} — sipgate-oauth</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:34em;margin:4em auto;padding:0 1em;color:#222}}\
         h1{{font-size:1.4em}}</style></head>\n<body><h1>{title}</h1><p>{message}</p>\
         <p>sipgate-oauth — you can close this tab.</p></body></html>\n",
        title = escape_html(title),
        message = escape_html(message),
    )
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected { path: "/oauth".into(), state: CsrfState::new("s3cret-state"), used: AtomicBool::new(false) }
    }

    fn get(target: &str) -> Head {
        Head { method: "GET".into(), target: target.into(), has_body: false }
    }

    fn status(verdict: &Verdict) -> Option<u16> {
        match verdict {
            Verdict::TurnAway(page) | Verdict::WrongState(page) => Some(page.status),
            Verdict::Code(_) | Verdict::Denied(_) => None,
        }
    }

    #[test]
    fn heads_are_parsed_strictly() {
        let head = parse_head(b"GET /oauth?code=a HTTP/1.1\r\nHost: x\r\nContent-Length: 0").unwrap();
        assert_eq!(head, get("/oauth?code=a"));
        let head = parse_head(b"\r\nPOST /oauth HTTP/1.0\r\ntransfer-encoding: chunked").unwrap();
        assert!(head.has_body && head.method == "POST");
        for bad in [&b""[..], b"GET /oauth", b"GET /oauth HTTP/2.0", b"GET  /oauth HTTP/1.1", b"G\xffT / HTTP/1.1"] {
            assert_eq!(parse_head(bad), Err(HeadError::Malformed), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_head(b"GET /\xff HTTP/1.1"), Err(HeadError::Malformed));
        assert_eq!(parse_head(b"GET / HTTP/1.1\r\nno colon"), Err(HeadError::Malformed));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\n"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn only_a_get_with_the_right_state_is_the_callback_and_only_once() {
        let expected = expected();
        assert_eq!(status(&classify(&get("/favicon.ico"), &expected)), Some(404));
        let post = Head { method: "POST".into(), ..get("/oauth?code=a&state=s3cret-state") };
        assert!(matches!(classify(&post, &expected), Verdict::TurnAway(Page { status: 405, allow: true, .. })));
        let with_body = Head { has_body: true, ..get("/oauth?code=a&state=s3cret-state") };
        assert_eq!(status(&classify(&with_body, &expected)), Some(400));
        assert!(matches!(classify(&get("/oauth?code=a&state=wrong"), &expected), Verdict::WrongState(_)));
        assert!(matches!(classify(&get("/oauth?code=a"), &expected), Verdict::WrongState(_)));
        assert!(matches!(classify(&get("/oauth?error=access_denied&state=x"), &expected), Verdict::WrongState(_)));
        for turned_away in [
            "/oauth?code=a&code=b&state=s3cret-state",
            "/oauth?code=a&state=s3cret-state&state=s3cret-state",
            "/oauth?code=%zz&state=s3cret-state",
            "/oauth?state=s3cret-state",
            "/oauth?state=s3cret-state&code=&error=",
        ] {
            assert_eq!(status(&classify(&get(turned_away), &expected)), Some(400), "{turned_away}");
        }
        assert!(!expected.used.load(Ordering::SeqCst), "nothing above uses up the state");
        let genuine = get("/oauth?code=c0de&state=s3cret-state&iss=x&session_state=y");
        assert!(matches!(classify(&genuine, &expected), Verdict::Code(code) if code.secret() == "c0de"));
        assert_eq!(status(&classify(&genuine, &expected)), Some(400), "a state is accepted once");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
    }
}
