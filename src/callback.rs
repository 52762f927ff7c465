//! The loopback server that receives the browser's redirect (RFC 8252 §7.3).
//!
//! Promises: it listens on loopback addresses only, from before the URL is shown until the
//! [`CallbackServer`] is dropped; only `GET` on the redirect path with the right `state` is a callback,
//! and the first one wins; everything else is answered at once (404, 405, 400) and the wait goes on.
//! The server threads never panic and never end the process: they send events through a channel.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::RedirectUri;
use crate::error::{Error, OAuthError};
use crate::pkce::state_matches;
use crate::query;
use crate::secret::{AuthorizationCode, CsrfState};

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
pub struct Reply(tiny_http::Request);

impl Reply {
    /// Shows the browser a page; `success` picks the wording of the title.
    pub fn finish(self, success: bool, message: &str) {
        let (status, title) = if success { (200, "Signed in") } else { (400, "Sign-in failed") };
        let _ = self.0.respond(page(status, title, message));
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
    servers: Vec<Arc<tiny_http::Server>>,
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
        let mut servers = Vec::new();
        let mut threads = Vec::new();
        for listener in listeners {
            let addr = listener.local_addr().map_err(|source| listen_error(redirect, source))?;
            let server = tiny_http::Server::from_listener(listener, None)
                .map_err(|e| Error::Listen { addr: addr.to_string(), source: io::Error::other(e.to_string()) })?;
            let server = Arc::new(server);
            let (server_ref, sender, expected, stopping) =
                (Arc::clone(&server), sender.clone(), Arc::clone(&expected), Arc::clone(&stopping));
            threads.push(std::thread::spawn(move || serve(&server_ref, &sender, &expected, &stopping)));
            servers.push(server);
        }
        Ok(CallbackServer { servers, threads, events, redirect_uri: redirect.with_port(port), stopping })
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
    /// Stops the threads and closes the port.
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        for server in &self.servers {
            server.unblock();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
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

/// The loop of one server thread: answer everything that is not the callback, pass the callback on.
fn serve(server: &tiny_http::Server, events: &Sender<Event>, expected: &Expected, stopping: &AtomicBool) {
    while !stopping.load(Ordering::SeqCst) {
        let Ok(request) = server.recv() else { continue };
        if let Some(event) = classify(request, expected)
            && events.send(event).is_err()
        {
            return;
        }
    }
}

/// Answers a request that is not a genuine callback and returns `None`; otherwise the event.
fn classify(request: tiny_http::Request, expected: &Expected) -> Option<Event> {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if path != expected.path {
        let _ =
            request.respond(page(404, "Not found", "This is sipgate-oauth's sign-in callback; nothing else is here."));
        return None;
    }
    if *request.method() != tiny_http::Method::Get {
        let allow = tiny_http::Header::from_bytes("Allow", "GET").expect("a static header is valid");
        let _ = request
            .respond(page(405, "Method not allowed", "The sign-in callback only accepts GET.").with_header(allow));
        return None;
    }
    let reject = |request: tiny_http::Request, message: &str| {
        let _ = request.respond(page(400, "Sign-in failed", message));
        None
    };
    let Ok(pairs) = query::decode(query) else {
        return reject(request, "The callback's parameters are malformed.");
    };
    let (Ok(state), Ok(code), Ok(error)) =
        (query::single(&pairs, "state"), query::single(&pairs, "code"), query::single(&pairs, "error"))
    else {
        return reject(request, "The callback repeats a parameter (state, code or error); it was rejected.");
    };
    if !state.is_some_and(|state| state_matches(&expected.state, state)) {
        let _ = request.respond(page(
            400,
            "Sign-in failed",
            "The state in the callback does not match the state of this sign-in. This happens when \
             sipgate-oauth was restarted and an old sign-in URL was used, or the browser tab was refreshed. \
             Use the URL that the running sipgate-oauth printed.",
        ));
        return Some(Event::WrongState);
    }
    if code.is_none_or(str::is_empty) && error.is_none() {
        return reject(request, "The callback has neither a code nor an error.");
    }
    if expected.used.swap(true, Ordering::SeqCst) {
        return reject(request, "This sign-in has already been completed.");
    }
    let callback = match (code, error) {
        (_, Some(error)) => {
            let field = |name| query::single(&pairs, name).ok().flatten().map(str::to_owned);
            let error = OAuthError {
                error: error.to_owned(),
                description: field("error_description"),
                uri: field("error_uri"),
            };
            Callback::Denied(error, Reply(request))
        }
        (code, None) => Callback::Code(AuthorizationCode::new(code.unwrap_or_default()), Reply(request)),
    };
    Some(Event::Callback(Box::new(callback)))
}

/// A self-contained HTML page: escaped text, no external resources, not cached, no referrer.
fn page(status: u16, title: &str, message: &str) -> tiny_http::Response<io::Cursor<Vec<u8>>> {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} — sipgate-oauth</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:34em;margin:4em auto;padding:0 1em;color:#222}}\
         h1{{font-size:1.4em}}</style></head>\n<body><h1>{title}</h1><p>{message}</p>\
         <p>sipgate-oauth — you can close this tab.</p></body></html>\n",
        title = escape_html(title),
        message = escape_html(message),
    );
    let headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ];
    let mut response = tiny_http::Response::from_data(body.into_bytes()).with_status_code(status);
    for (name, value) in headers {
        response.add_header(tiny_http::Header::from_bytes(name, value).expect("static headers are valid"));
    }
    response
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

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<script>alert("x&'y")</script>"#),
            "&lt;script&gt;alert(&quot;x&amp;&#39;y&quot;)&lt;/script&gt;"
        );
    }
}
