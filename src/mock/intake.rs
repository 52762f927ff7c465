//! Taking a request in from tiny_http: the limits on its head and body, whether reading its body could
//! wait on the client, and the body itself.

use std::io::Read;

use super::config::MockConfig;
use super::reply::Reply;

/// The largest request body read; larger ones get 413.
pub(super) const MAX_BODY: usize = 64 * 1024;

/// The largest request head (request line and header fields) answered; larger ones get 431.
pub(super) const MAX_HEAD: usize = 64 * 1024;

/// tiny_http reads a body of up to this many bytes itself, before the request is handed over.
pub(super) const BUFFERED_BODY: usize = 1024;

/// Whether answering `request` could wait on the client or on purpose: a pending body, an injected
/// delay, or a simulated call's timeline asked for with `wait` (a long poll, see `calls::admin`).
pub(super) fn may_block(request: &tiny_http::Request, config: &MockConfig) -> bool {
    !config.faults.latency.is_zero()
        || body_pending(request)
        || (request.url().starts_with("/_stand-in/calls/") && request.url().contains("wait="))
}

/// Whether `request` has a body tiny_http has not read yet: longer than it buffers, chunked, behind
/// `Expect: 100-continue`, or an upgrade.
pub(super) fn body_pending(request: &tiny_http::Request) -> bool {
    let has = |name: &'static str| request.headers().iter().any(|header| header.field.equiv(name));
    match request.body_length() {
        _ if has("Transfer-Encoding") || has("Connection") && has("Upgrade") => true,
        None | Some(0) => false,
        Some(length) => length > BUFFERED_BODY || has("Expect"),
    }
}

/// The size of the request head as tiny_http parsed it (request line and header fields, with their
/// separators), for the [`MAX_HEAD`] check.
pub(super) fn head_size(request: &tiny_http::Request) -> usize {
    let fields: usize = request
        .headers()
        .iter()
        .map(|header| header.field.as_str().as_str().len() + header.value.as_str().len() + 4)
        .sum();
    request.method().as_str().len() + request.url().len() + fields + 12
}

/// The body, at most `MAX_BODY` bytes; 413 beyond.
pub(super) fn read_body(request: &mut tiny_http::Request) -> Result<Vec<u8>, Reply> {
    let too_large = || Reply::oauth_error(413, "invalid_request", "Request body too large");
    if request.body_length().is_some_and(|length| length > MAX_BODY) {
        // Nothing of it is read here: after the answer, tiny_http drains what the client sends through a
        // fixed buffer (vendor/tiny_http/PATCHED.md) until it has all or the client goes away.
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
