//! Reading one request head off a callback connection, with deadlines and a size limit.
//!
//! Promises: a client has [`FIRST_LINE_DEADLINE`] to send its request line and [`HEAD_DEADLINE`] for the
//! whole head, which may be at most [`MAX_HEAD`] bytes; the body is never read. Parsing is `httparse`'s
//! (already compiled in through ureq), which accepts exactly HTTP/1.0 and HTTP/1.1 request heads.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long a client has for its request line: a browser sends its whole head at once, an idle
/// connection that sends nothing is closed soon.
pub(super) const FIRST_LINE_DEADLINE: Duration = Duration::from_secs(3);

/// How long a client has to send its whole request head.
pub(super) const HEAD_DEADLINE: Duration = Duration::from_secs(10);

/// The largest request head read (request line and headers); a browser's redirect is far smaller.
pub(super) const MAX_HEAD: usize = 32 * 1024;

/// The most header lines a head may have.
const MAX_HEADERS: usize = 64;

/// The parts of a request the callback looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target as sent: `/path?query` (anything else never matches the path).
    pub target: String,
    /// Whether a body follows (`Content-Length` other than 0, or `Transfer-Encoding`).
    pub has_body: bool,
}

/// Why no request head could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadError {
    /// The client did not send its request line or head in time, or went away.
    TimedOut,
    /// The head is larger than [`MAX_HEAD`] or has too many headers.
    TooLarge,
    /// Not an HTTP/1.x request.
    Malformed,
}

/// Reads the request head within the deadlines.
pub(super) fn read(stream: &mut TcpStream) -> Result<Head, HeadError> {
    let started = Instant::now();
    let mut received = Vec::with_capacity(1024);
    let mut buffer = [0u8; 4096];
    loop {
        if let Some(head) = parse(&received)? {
            return Ok(head);
        }
        if received.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let deadline = if received.contains(&b'\n') { HEAD_DEADLINE } else { FIRST_LINE_DEADLINE };
        let left = deadline.saturating_sub(started.elapsed());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::TimedOut);
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return Err(HeadError::TimedOut),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Parses a request head; `Ok(None)` while it is incomplete.
pub(crate) fn parse(bytes: &[u8]) -> Result<Option<Head>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Partial) => return Ok(None),
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooLarge),
        Err(_) => return Err(HeadError::Malformed),
    }
    let (Some(method), Some(target)) = (request.method, request.path) else { return Err(HeadError::Malformed) };
    let has_body = request.headers.iter().any(|header| {
        (header.name.eq_ignore_ascii_case("content-length") && header.value.trim_ascii() != b"0")
            || header.name.eq_ignore_ascii_case("transfer-encoding")
    });
    Ok(Some(Head { method: method.to_owned(), target: target.to_owned(), has_body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str) -> Head {
        Head { method: "GET".into(), target: target.into(), has_body: false }
    }

    #[test]
    fn heads_are_parsed_once_complete() {
        assert_eq!(parse(b"GET /oauth?code=a HTTP/1.1\r\nHost: x\r\n\r\n"), Ok(Some(get("/oauth?code=a"))));
        assert_eq!(parse(b"GET /oauth?code=a HTTP/1.1\r\nHost: x\r\n"), Ok(None));
        let head = parse(b"\r\nPOST /oauth HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n").unwrap().unwrap();
        assert!(head.has_body && head.method == "POST");
        let head = parse(b"GET /oauth HTTP/1.1\r\ncontent-length: 0\r\n\r\n").unwrap().unwrap();
        assert!(!head.has_body);
    }

    #[test]
    fn what_is_not_http_1_is_malformed() {
        for bad in
            [&b"GET /oauth HTTP/2.0\r\n\r\n"[..], b"G\xffT / HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\nno colon\r\n\r\n"]
        {
            assert_eq!(parse(bad), Err(HeadError::Malformed), "{:?}", String::from_utf8_lossy(bad));
        }
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "a: b\r\n".repeat(MAX_HEADERS + 1));
        assert_eq!(parse(many.as_bytes()), Err(HeadError::TooLarge));
    }
}
