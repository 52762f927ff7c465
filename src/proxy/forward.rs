//! One request through the proxy: guarded, sent upstream with the kept token, answered as it came back.
//!
//! Promises: the client's `Authorization`, `Cookie` and hop-by-hop headers (RFC 9110 §7.6.1) never go
//! upstream; the token goes only to the API base URL's origin, and a redirect is passed back, never
//! followed (a `Location` below the API base is rewritten to the proxy). The answer's body is streamed;
//! a request body is buffered up to [`REPLAY_LIMIT`] so that a 401 can be refreshed and replayed, and a
//! larger one is streamed without a replay. Whatever fails, the client gets a JSON error and the proxy
//! goes on.

use std::io::{Cursor, Read};
use std::time::Instant;

use tiny_http::{Header, Request, Response, StatusCode};

use super::guard;
use super::shared::Shared;
use crate::error::Error;
use crate::redact;

/// The largest request body kept in memory so that the request can be sent again after a refresh
/// (HTTP 401): 1 MiB. A larger body is streamed upstream, and a 401 to it is passed back as it is.
pub const REPLAY_LIMIT: usize = 1024 * 1024;

/// Hop-by-hop headers (RFC 9110 §7.6.1), and what the proxy sets itself: never passed on either way.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Client headers that never go upstream besides the hop-by-hop ones: the client's own credentials, and
/// what the proxy or ureq set for the upstream connection.
const DROPPED_UPSTREAM: [&str; 4] = ["authorization", "cookie", "host", "expect"];

/// Answers `request` and returns what the log line shows: the status and the path (secret segment cut).
pub(super) fn handle(shared: &Shared, request: Request) -> (u16, String) {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let target = request.url().to_owned();
    let header = |name: &str| header(&request, name).map(str::to_owned);
    let (host, origin) = (header("host"), header("origin"));
    let routed = guard::route(&target, shared.secret.as_ref(), &shared.base_path).map(str::to_owned);
    let shown = routed.as_deref().map_or_else(|| "(not below the base URL)".to_owned(), redact::url);
    let status = if !guard::host_allowed(host.as_deref(), shared.port) {
        let message = "this proxy answers requests for 127.0.0.1, localhost or [::1] with its port only";
        reply_error(request, 403, "forbidden_host", message, None)
    } else if let Some(upstream) = routed.as_deref().map(str::to_owned) {
        if !guard::origin_allowed(origin.as_deref(), &shared.allow_origins) {
            let message = "requests from web pages of this origin are refused; start the proxy with \
                           --allow-origin ORIGIN to allow them";
            reply_error(request, 403, "forbidden_origin", message, None)
        } else if method == "OPTIONS" && origin.is_some() && header("access-control-request-method").is_some() {
            preflight(request, origin.as_deref().unwrap_or_default())
        } else {
            forward(shared, request, &upstream, origin.as_deref())
        }
    } else {
        reply_error(request, 404, "not_found", "no such path below this proxy's base URL", None)
    };
    let line = format!("{method} {} {status} {} ms", redact::terminal_safe(&shown), started.elapsed().as_millis());
    (status, line)
}

/// The first value of header `name` of `request`.
fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request.headers().iter().find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name)).map(|h| h.value.as_str())
}

/// A request body: in memory (can be sent again), or too large for that: what was read of it, the rest
/// still to be read from the client.
enum Body {
    Buffered(Vec<u8>),
    Streamed { read: Vec<u8>, length: Option<usize> },
}

/// Sends the request to `upstream` (path and query below the API origin) and streams the answer back.
fn forward(shared: &Shared, mut request: Request, upstream: &str, origin: Option<&str>) -> u16 {
    let url = format!("{}{upstream}", shared.upstream_origin);
    let method = request.method().as_str().to_owned();
    let connection: Vec<String> = header(&request, "connection")
        .map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned()))
        .filter(|(name, _)| {
            !HOP_BY_HOP.contains(&name.as_str())
                && !DROPPED_UPSTREAM.contains(&name.as_str())
                && !connection.contains(name)
        })
        .collect();
    let declared = request.body_length();
    let mut body = match read_body(request.as_reader(), declared) {
        Ok(body) => body,
        Err(error) => {
            let message = format!("cannot read the request body: {error}");
            return reply_error(request, 400, "bad_request", &message, origin);
        }
    };
    let replayable = matches!(body, Body::Buffered(_));
    let answer = shared.live.send(
        replayable,
        |token| {
            let mut builder = http::Request::builder().method(method.as_str()).uri(url.as_str());
            for (name, value) in &headers {
                builder = builder.header(name, value);
            }
            builder = builder.header("authorization", format!("Bearer {}", token.secret()));
            let what = || format!("{method} {}", redact::url(&url));
            match &mut body {
                Body::Buffered(bytes) => shared.live.http().forward(built(builder.body(bytes.as_slice()), what)?),
                Body::Streamed { read, length } => {
                    if let Some(length) = length {
                        builder = builder.header("content-length", length.to_string());
                    }
                    let mut reader = Cursor::new(std::mem::take(read)).chain(request.as_reader());
                    let body = ureq::SendBody::from_reader(&mut reader);
                    shared.live.http().forward(built(builder.body(body), what)?)
                }
            }
        },
        |answer| answer.status() == 401,
    );
    match answer {
        Ok(answer) => pass_back(shared, request, answer, origin),
        Err(error) => {
            let session = shared.live.session();
            match session.sign_in_again(&error) {
                Some(message) => reply_error(request, 401, "sign_in_required", &message, origin),
                None => reply_error(request, 502, "upstream_failed", &describe(&error), origin),
            }
        }
    }
}

/// A request built for upstream, or the error of a header the client sent that cannot be sent on.
fn built<B>(
    request: Result<http::Request<B>, http::Error>,
    what: impl Fn() -> String,
) -> Result<http::Request<B>, Error> {
    request.map_err(|e| Error::Http { what: what(), source: ureq::Error::Http(e) })
}

/// Reads a request body into memory if it fits [`REPLAY_LIMIT`]; a larger one is left to stream.
fn read_body(reader: &mut dyn Read, declared: Option<usize>) -> std::io::Result<Body> {
    if declared.is_some_and(|length| length > REPLAY_LIMIT) {
        return Ok(Body::Streamed { read: Vec::new(), length: declared });
    }
    let mut bytes = Vec::new();
    let limit = u64::try_from(REPLAY_LIMIT).unwrap_or(u64::MAX) + 1;
    reader.take(limit).read_to_end(&mut bytes)?;
    if declared.is_some_and(|length| bytes.len() < length) {
        // The client closed its side early: what came is not the request it declared.
        let message = "the body ended before its Content-Length (the client closed the connection)";
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, message));
    }
    if bytes.len() <= REPLAY_LIMIT {
        return Ok(Body::Buffered(bytes));
    }
    Ok(Body::Streamed { read: bytes, length: declared })
}

/// Passes the upstream answer back: status, headers (hop-by-hop ones dropped, a `Location` below the API
/// base rewritten to the proxy), and the body streamed.
fn pass_back(shared: &Shared, request: Request, answer: http::Response<ureq::Body>, origin: Option<&str>) -> u16 {
    let status = answer.status().as_u16();
    let (parts, body) = answer.into_parts();
    let length = body.content_length().and_then(|length| usize::try_from(length).ok());
    let mut headers = Vec::new();
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if HOP_BY_HOP.contains(&name) {
            continue;
        }
        let value = match (name, value.to_str()) {
            ("location", Ok(location)) => shared.rewrite_location(location).into_bytes(),
            _ => value.as_bytes().to_vec(),
        };
        if let Ok(header) = Header::from_bytes(name.as_bytes(), value) {
            headers.push(header);
        }
    }
    headers.extend(cors(origin));
    let response = Response::new(StatusCode(status), headers, body.into_reader(), length, None);
    let _ = request.respond(response);
    status
}

/// The CORS headers for a request from `origin`, which the guard has let through.
fn cors(origin: Option<&str>) -> Vec<Header> {
    let Some(origin) = origin else { return Vec::new() };
    [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        .into_iter()
        .filter_map(|(name, value)| Header::from_bytes(name, value).ok())
        .collect()
}

/// Answers a CORS preflight of an allowed origin here, without asking upstream: every method, and the
/// headers it asks for.
fn preflight(request: Request, origin: &str) -> u16 {
    let asked = header(&request, "access-control-request-headers").unwrap_or_default().to_owned();
    let mut headers = cors(Some(origin));
    for (name, value) in [
        ("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"),
        ("Access-Control-Allow-Headers", asked.as_str()),
        ("Access-Control-Max-Age", "600"),
    ] {
        if let Ok(header) = Header::from_bytes(name, value) {
            headers.push(header);
        }
    }
    let _ = request.respond(Response::new(StatusCode(204), headers, std::io::empty(), Some(0), None));
    204
}

/// A JSON error answer of the proxy itself: `{"error": code, "message": message}`.
fn reply_error(request: Request, status: u16, code: &str, message: &str, origin: Option<&str>) -> u16 {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut headers = cors(origin);
    headers.extend(Header::from_bytes("Content-Type", "application/json").ok());
    let length = body.len();
    let _ = request.respond(Response::new(StatusCode(status), headers, Cursor::new(body), Some(length), None));
    status
}

/// An error and its causes, for a client: `GET https://… failed: io: connection refused`.
fn describe(error: &Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    redact::terminal_safe(&message)
}
