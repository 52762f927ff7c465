//! The one HTTP client of a run: a `ureq::Agent` with the transport rules of the checklist, and the
//! `-v` trace.
//!
//! Promises: redirects are never followed (a 3xx is an [`Error::Redirect`]), TLS is verified against
//! the built-in, the system's and `SIPGATE_OAUTH_CA_FILE`'s roots ([`crate::tls`]) and a rejected
//! certificate is an [`Error::Certificate`] (its chain in the trace), 4xx/5xx bodies are returned for the caller to read, bodies are read with a size cap,
//! and proxy settings come from the environment (`HTTPS_PROXY`, `NO_PROXY`). The trace goes to a writer
//! the caller gives ([`Http::with_trace`]), every secret replaced by `[redacted]`; without one nothing is
//! written anywhere.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{ConnectProxyConnector, Connector, NextTimeout, TcpConnector};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::ca_file::CaFile;
use crate::error::Error;
use crate::redact;
use crate::secret::{AccessToken, ClientSecret};
use crate::tls::{Rejected, TlsConnector, Trust};

/// The largest response body read; anything beyond is cut off.
pub const MAX_BODY: u64 = 1024 * 1024;

/// Idle connections kept for reuse, per host and in all: as many as the proxy has clients at once, typically.
const IDLE_CONNECTIONS: usize = 64;

/// An HTTP answer, body read to text.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` header (RFC 6750 §3), if any.
    pub www_authenticate: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, at most 1 MiB, invalid UTF-8 replaced.
    pub body: String,
}

/// A [`Response`] with its status line and every header: for callers that show them (`api --include`).
#[derive(Debug)]
pub(crate) struct FullResponse {
    /// Status, the headers the client reads itself, and the body.
    pub(crate) response: Response,
    /// E.g. `HTTP/1.1 200 OK`.
    pub(crate) status_line: String,
    /// Every header in the order received; values that are not text are replaced by `…`.
    pub(crate) headers: Vec<(String, String)>,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first line of the body, shortened, with the values of secret fields replaced: safe for
    /// error messages even when a server puts a token into an error answer.
    pub fn excerpt(&self) -> String {
        redact::terminal_safe(&redact::body(&self.body))
    }
}

/// Where the trace goes: shared by the clones of one [`Http`].
type TraceSink = Arc<Mutex<Box<dyn Write + Send>>>;

/// The HTTP client of one run.
#[derive(Clone)]
pub struct Http {
    /// The two agents, built on the first request (`token` with a valid kept token makes none), shared
    /// by the clones.
    agents: Arc<OnceLock<Agents>>,
    trust: Arc<Trust>,
    trace: Option<TraceSink>,
    timeout: Duration,
}

/// The agents of one [`Http`].
struct Agents {
    /// For every other host: proxy settings from the environment.
    agent: ureq::Agent,
    /// For loopback hosts: never through a proxy, whatever `NO_PROXY` says — what is sent to this
    /// machine (secrets over plain `http://`) must not leave it.
    direct: ureq::Agent,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("traced", &self.trace.is_some()).finish_non_exhaustive()
    }
}

impl Http {
    /// A client whose every request ends within `timeout`, trusting the built-in and the system's roots.
    pub fn new(timeout: Duration) -> Http {
        Http::with_trust(timeout, None)
    }

    /// The same client, trusting also the certificates of `ca_file` (`SIPGATE_OAUTH_CA_FILE`, see
    /// [`Config::ca_file`](crate::Config::ca_file)).
    pub fn trusting(self, ca_file: &CaFile) -> Http {
        Http { trace: self.trace, ..Http::with_trust(self.timeout, Some(ca_file.clone())) }
    }

    fn with_trust(timeout: Duration, ca_file: Option<CaFile>) -> Http {
        let trust = Arc::new(Trust::new(ca_file));
        Http { agents: Arc::default(), trust, trace: None, timeout }
    }

    /// The agent for `uri`'s host, both built on first use.
    fn agent_for(&self, uri: &http::Uri) -> &ureq::Agent {
        let agents = self.agents.get_or_init(|| {
            let agent = |proxy: Option<ureq::Proxy>| {
                let config = ureq::Agent::config_builder()
                    .timeout_global(Some(self.timeout))
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .max_redirects_will_error(false)
                    .user_agent(concat!("sipgate-oauth/", env!("CARGO_PKG_VERSION")))
                    // The proxy's many clients reuse upstream connections (ureq keeps 3 per host otherwise).
                    .max_idle_connections(IDLE_CONNECTIONS)
                    .max_idle_connections_per_host(IDLE_CONNECTIONS)
                    .proxy(proxy)
                    .build();
                // ureq's default chain without SOCKS (not compiled in) and with our TLS in place of its own.
                let connector = ().chain(ConnectProxyConnector::default()).chain(TcpConnector::default());
                let connector = connector.chain(TlsConnector(Arc::clone(&self.trust)));
                ureq::Agent::with_parts(config, connector, LiteralFirst::default())
            };
            Agents { agent: agent(ureq::Proxy::try_from_env()), direct: agent(None) }
        });
        let loopback = uri.host().is_some_and(crate::config::is_loopback_host);
        if loopback { &agents.direct } else { &agents.agent }
    }

    /// The same client, tracing every exchange to `sink` (`-v`): method, URL, headers and bodies, every
    /// secret replaced by `[redacted]`.
    pub fn with_trace(self, sink: impl Write + Send + 'static) -> Http {
        Http { trace: Some(Arc::new(Mutex::new(Box::new(sink)))), ..self }
    }

    /// POSTs `fields` as `application/x-www-form-urlencoded`; `what` names the call in errors.
    /// With `basic`, the client authenticates with HTTP Basic (RFC 6749 §2.3.1: id and secret
    /// form-encoded, then joined by `:` and base64-encoded).
    pub fn post_form(
        &self,
        what: &str,
        url: &str,
        fields: &[(&str, &str)],
        basic: Option<(&str, &ClientSecret)>,
    ) -> Result<Response, Error> {
        let body = crate::query::encode(fields.iter().copied());
        let mut request = http::Request::post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        if let Some((id, secret)) = basic {
            let credentials =
                format!("{}:{}", crate::query::encode_component(id), crate::query::encode_component(secret.secret()));
            request = request.header("Authorization", format!("Basic {}", STANDARD.encode(credentials)));
        }
        self.send(what, request, body.into_bytes(), || redact::form(fields)).map(|full| full.response)
    }

    /// Sends `method url` with an optional bearer token (RFC 6750 §2.1, header only) and JSON body.
    pub fn request(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&AccessToken>,
        json: Option<&str>,
    ) -> Result<Response, Error> {
        self.exchange(method, url, bearer, &[], json.map(str::as_bytes)).map(|full| full.response)
    }

    /// Sends `method url` with an optional bearer token and body (as `application/json` unless `headers`
    /// say otherwise); `headers` replace the defaults of the same name (`Accept`, `Content-Type`). The
    /// answer comes with every header, whatever its status.
    pub(crate) fn exchange(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&AccessToken>,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Result<FullResponse, Error> {
        let what = format!("{method} {url}");
        let mut defaults = vec![("Accept", "application/json".to_owned())];
        if let Some(token) = bearer {
            defaults.push(("Authorization", format!("Bearer {}", token.secret())));
        }
        if body.is_some() {
            defaults.push(("Content-Type", "application/json".to_owned()));
        }
        let mut request = http::Request::builder().method(method).uri(url);
        for (name, value) in defaults {
            if !headers.iter().any(|(given, _)| given.eq_ignore_ascii_case(name)) {
                request = request.header(name, value);
            }
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let traced = || body.map(|body| redact::body(&String::from_utf8_lossy(body))).unwrap_or_default();
        self.send(&what, request, body.unwrap_or_default().to_vec(), traced)
    }

    fn send(
        &self,
        what: &str,
        request: http::request::Builder,
        body: Vec<u8>,
        traced_body: impl FnOnce() -> String,
    ) -> Result<FullResponse, Error> {
        let http_error = |source: ureq::Error| Error::Http { what: what.to_owned(), source };
        let request = request.body(body).map_err(|e| http_error(ureq::Error::Http(e)))?;
        self.trace(|out| trace_request(out, &request, &traced_body()));
        let started = Instant::now();
        let mut response =
            self.agent_for(request.uri()).run(request).map_err(|source| match Rejected::inside(&source) {
                Some(rejected) => {
                    self.trace(|out| trace_rejected(out, rejected));
                    Error::Certificate { host: rejected.host.clone(), problem: rejected.problem.clone() }
                }
                None => http_error(source),
            })?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let www_authenticate = header("www-authenticate");
        let content_type = header("content-type");
        let status = response.status().as_u16();
        let status_line =
            format!("{:?} {status} {}", response.version(), response.status().canonical_reason().unwrap_or_default());
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("…").to_owned()))
            .collect();
        if (300..400).contains(&status) {
            let location = header("location").map(|location| redact::terminal_safe(&redact::url(&location)));
            let took = started.elapsed();
            let shown = Response { status, www_authenticate, content_type, body: String::new() };
            self.trace(|out| trace_response(out, &shown, took));
            return Err(Error::Redirect { what: what.to_owned(), status, location });
        }
        let bytes = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(http_error)?;
        let response =
            Response { status, www_authenticate, content_type, body: String::from_utf8_lossy(&bytes).into_owned() };
        let took = started.elapsed();
        self.trace(|out| trace_response(out, &response, took));
        Ok(FullResponse { response, status_line: status_line.trim_end().to_owned(), headers })
    }

    /// Sends `request` as it is, for the proxy's pass-through: no default headers, no trace, redirects
    /// not followed (a 3xx is returned like any answer); the body is left unread for the caller to stream.
    pub(crate) fn forward(
        &self,
        request: http::Request<impl ureq::AsSendBody>,
    ) -> Result<http::Response<ureq::Body>, Error> {
        let what = format!("{} {}", request.method(), redact::url(&request.uri().to_string()));
        self.agent_for(request.uri()).run(request).map_err(|source| Error::Http { what, source })
    }

    /// A line of its own in the trace (`-v`), e.g. that a token lifetime was capped.
    pub(crate) fn note(&self, text: &str) {
        self.trace(|out| writeln!(out, "* {text}"));
    }

    /// Writes to the trace, if there is one; a trace that cannot be written is no reason to fail.
    fn trace(&self, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
        if let Some(sink) = &self.trace {
            let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = write(&mut **sink).and_then(|()| sink.flush());
        }
    }
}

/// ureq's resolver, except that a URL whose host is an IP address is answered on the calling thread.
///
/// With a timeout set, ureq's resolver looks every name up on a thread of its own, so that the timeout can
/// cut a hanging DNS query short: a thread spawned and joined for each request, even one that reuses a
/// pooled connection, and even for `127.0.0.1`, where there is nothing to look up. Names still go that way.
#[derive(Debug, Default)]
struct LiteralFirst(DefaultResolver);

impl Resolver for LiteralFirst {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match literal_addr(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.0.resolve(uri, config, timeout),
        }
    }
}

/// The socket address of an `http`/`https` URL whose host is an IPv4 or IPv6 address.
fn literal_addr(uri: &http::Uri) -> Option<SocketAddr> {
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<IpAddr>().ok()?;
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("http")) => 80,
        (None, Some("https")) => 443,
        (None, _) => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn trace_request(out: &mut dyn Write, request: &http::Request<Vec<u8>>, body: &str) -> std::io::Result<()> {
    writeln!(out, "> {}", redact::request_line(request.method().as_str(), &request.uri().to_string()))?;
    for (name, value) in request.headers() {
        let value = value.to_str().unwrap_or("…");
        let shown = match value.split_once(' ') {
            Some((scheme, _)) if name == "authorization" => format!("{scheme} {}", redact::REDACTED),
            _ if name == "authorization" => redact::REDACTED.to_owned(),
            _ => value.to_owned(),
        };
        writeln!(out, "> {name}: {shown}")?;
    }
    if !body.is_empty() {
        writeln!(out, "> {body}")?;
    }
    Ok(())
}

fn trace_rejected(out: &mut dyn Write, rejected: &Rejected) -> std::io::Result<()> {
    writeln!(out, "* TLS: the certificate of {} was rejected; the chain it presented:", rejected.host)?;
    for (n, names) in rejected.chain.iter().enumerate() {
        writeln!(out, "*   {n} subject: {}", names.subject)?;
        writeln!(out, "*     issuer: {}", names.issuer)?;
    }
    Ok(())
}

fn trace_response(out: &mut dyn Write, response: &Response, took: Duration) -> std::io::Result<()> {
    writeln!(out, "< {} ({} ms)", response.status, took.as_millis())?;
    if let Some(value) = &response.www_authenticate {
        writeln!(out, "< www-authenticate: {}", redact::terminal_safe(value))?;
    }
    if let Some(value) = &response.content_type {
        writeln!(out, "< content-type: {}", redact::terminal_safe(value))?;
    }
    if !response.body.is_empty() {
        writeln!(out, "< {}", redact::terminal_safe(&redact::body(&response.body)))?;
    }
    Ok(())
}

/// The listener, with Nagle's algorithm off for every connection it accepts (Linux and the BSDs copy
/// `TCP_NODELAY` from the listening socket to the accepted one; std sets it only on a stream, hence the
/// round trip through the file descriptor).
///
/// An answer leaves in one `write` when it fits tiny_http's buffer or is written whole (see the stand-in's `encode`),
/// but a large one can still leave in two; with Nagle on, the second would wait for the client's ACK of
/// the first, which a client on a kept-alive connection delays: 40 ms per answer on Linux.
pub(crate) fn without_nagle(listener: TcpListener) -> std::io::Result<TcpListener> {
    #[cfg(unix)]
    use std::os::fd::OwnedFd as Owned;
    #[cfg(windows)]
    use std::os::windows::io::OwnedSocket as Owned;
    let socket = TcpStream::from(Owned::from(listener));
    socket.set_nodelay(true)?;
    Ok(TcpListener::from(Owned::from(socket)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_without_a_lookup_and_names_do_not() {
        let addr = |url: &str| literal_addr(&url.parse().unwrap());
        assert_eq!(addr("http://127.0.0.1:8089/v2/account"), Some("127.0.0.1:8089".parse().unwrap()));
        assert_eq!(addr("https://[::1]/token"), Some("[::1]:443".parse().unwrap()));
        assert_eq!(addr("http://10.0.0.1/x"), Some("10.0.0.1:80".parse().unwrap()));
        assert_eq!(addr("https://api.sipgate.com/v2/account"), None);
        assert_eq!(addr("http://localhost:8080/oauth"), None);
    }

    #[test]
    fn error_excerpts_hide_secrets_and_terminal_escapes() {
        let response =
            |body: &str| Response { status: 500, www_authenticate: None, content_type: None, body: body.to_owned() };
        assert_eq!(response(r#"{"access_token":"AT","x":1}"#).excerpt(), r#"{"access_token":"[redacted]","x":1}"#);
        assert_eq!(response("<p>\x1b]0;title\x07</p>").excerpt(), "<p>?]0;title?</p>");
    }
}
