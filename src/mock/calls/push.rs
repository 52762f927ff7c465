//! One push to the app, as sipgate sends it: `POST`, a form body with sipgate's encoding, the headers
//! of SIPGATE-IO.md §2 and `X-Sipgate-Signature`; then what came back, judged the way sipgate judges it
//! (status, content type, XML), and the webhook log entry for it. No retries.

use std::time::Instant;

use serde_json::{Value, json};

use super::answer::{self, Instructions};
use super::sign::Signer;
use super::xml;

/// The most of an answer that is read; a longer one is an error.
const MAX_ANSWER: u64 = 256 * 1024;

/// How much of an answer's body the log keeps.
const LOGGED_BODY: usize = 4096;

/// A form body as sipgate writes it: `user%5B%5D=Alice+Doe` (brackets percent-encoded, spaces as `+`).
pub(crate) fn form(pairs: &[(&str, String)]) -> String {
    let encode = |text: &str| crate::query::encode_component(text).replace("%20", "+");
    let fields: Vec<String> = pairs.iter().map(|(key, value)| format!("{}={}", encode(key), encode(value))).collect();
    fields.join("&")
}

/// One push and its answer.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// Where it went.
    pub url: String,
    /// The raw form body sent.
    pub request: String,
    /// The status as sipgate's log writes it: the HTTP status, or `600` (I/O) / `601` (TLS).
    pub status: String,
    /// The HTTP status, if an answer came.
    pub http_status: Option<u16>,
    /// The answer's `Content-Type`.
    pub content_type: Option<String>,
    /// The answer's body.
    pub body: Vec<u8>,
    /// The raw answer (status line, headers, body), as the log shows it; for 600/601 the error.
    pub response: String,
    /// Why the answer was not used as instructions, as the log's `xmlError` says it.
    pub xml_error: Option<String>,
    /// Why no answer came at all (unreachable, timed out, TLS).
    pub failure: Option<String>,
    /// How long it took.
    pub millis: u128,
}

/// Sends `body` to `url`, signed.
pub(crate) fn send(agent: &ureq::Agent, signer: &Signer, url: &str, body: String) -> Exchange {
    let started = Instant::now();
    let signature = signer.sign(body.as_bytes());
    let sent = agent
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
        .header("Accept", "application/xml, text/plain, text/html")
        .header("Accept-Charset", "utf-8")
        .header("User-Agent", "sipgate.io")
        .header("X-Sipgate-Signature", &signature)
        .send(body.as_bytes());
    let mut exchange = Exchange {
        url: url.to_owned(),
        request: body,
        status: String::new(),
        http_status: None,
        content_type: None,
        body: Vec::new(),
        response: String::new(),
        xml_error: None,
        failure: None,
        millis: 0,
    };
    match sent {
        Ok(mut answer) => {
            let status = answer.status();
            exchange.http_status = Some(status.as_u16());
            exchange.status = status.as_u16().to_string();
            exchange.content_type =
                answer.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let mut head = format!("HTTP/1.1 {} {}\n", status.as_u16(), status.canonical_reason().unwrap_or(""));
            for (name, value) in answer.headers() {
                head.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
            }
            match answer.body_mut().with_config().limit(MAX_ANSWER).read_to_vec() {
                Ok(bytes) => exchange.body = bytes,
                Err(error) => {
                    let (code, text) = classify(&error);
                    exchange.status = code.to_owned();
                    exchange.failure = Some(text);
                }
            }
            let shown = String::from_utf8_lossy(&exchange.body[..exchange.body.len().min(LOGGED_BODY)]).into_owned();
            exchange.response = format!("{head}\n{shown}");
        }
        Err(error) => {
            let (code, text) = classify(&error);
            exchange.status = code.to_owned();
            exchange.response = format!("{code} - {text}");
            exchange.failure = Some(text);
        }
    }
    exchange.millis = started.elapsed().as_millis();
    exchange
}

/// sipgate's log codes for a push without an answer: 601 for TLS, 600 for everything else.
fn classify(error: &ureq::Error) -> (&'static str, String) {
    match error {
        ureq::Error::Timeout(_) => ("600", "General IO Error – timed out".to_owned()),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => ("601", format!("SSL handshake failed ({error})")),
        ureq::Error::HostNotFound => ("600", "General IO Error – unknown host".to_owned()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            ("600", "General IO Error – connection refused".to_owned())
        }
        ureq::Error::BodyExceedsLimit(_) => ("600", format!("the answer is longer than {MAX_ANSWER} bytes")),
        other => ("600", format!("General IO Error – {other}")),
    }
}

/// What the answer tells sipgate to do: `Ok(None)` for no instructions (an empty body), `Err` with the
/// XML error (also kept in `exchange.xml_error`) when sipgate would not use it.
pub(crate) fn instructions(exchange: &mut Exchange, outgoing: bool) -> Result<Option<Instructions>, String> {
    let judged = judge(exchange, outgoing);
    if let Err(error) = &judged {
        exchange.xml_error = Some(error.clone());
    }
    judged
}

fn judge(exchange: &Exchange, outgoing: bool) -> Result<Option<Instructions>, String> {
    if let Some(failure) = &exchange.failure {
        return Err(failure.clone());
    }
    let status = exchange.http_status.unwrap_or_default();
    if !(200..300).contains(&status) {
        return Err(format!("HTTP status {status}: only a 2xx answer is read"));
    }
    if exchange.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let essence =
        exchange.content_type.as_deref().map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if !matches!(essence.as_deref(), Some("application/xml" | "text/xml")) {
        return Err("Response does not have content type application/xml".to_owned());
    }
    let text = xml::decode(&exchange.body)?;
    let root = xml::parse(&text)?;
    answer::read(&root, outgoing).map(Some)
}

/// The webhook log entry (`GET /log/webhooks`) of an exchange.
pub(crate) fn log_entry(exchange: &Exchange, created: &str) -> Value {
    json!({
        "created": created,
        "url": exchange.url,
        "request": exchange.request,
        "response": exchange.response,
        "xmlError": exchange.xml_error.clone().unwrap_or_default(),
        "status": exchange.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_like_sipgate_does() {
        let body = form(&[
            ("event", "newCall".into()),
            ("user[]", "Alice Doe".into()),
            ("user[]", "Bob".into()),
            ("to", "4915791234567".into()),
        ]);
        assert_eq!(body, "event=newCall&user%5B%5D=Alice+Doe&user%5B%5D=Bob&to=4915791234567");
    }

    fn answered(status: u16, content_type: Option<&str>, body: &str) -> Exchange {
        Exchange {
            url: "http://a/".into(),
            request: String::new(),
            status: status.to_string(),
            http_status: Some(status),
            content_type: content_type.map(str::to_owned),
            body: body.as_bytes().to_vec(),
            response: String::new(),
            xml_error: None,
            failure: None,
            millis: 0,
        }
    }

    #[test]
    fn answers_are_judged_as_sipgate_does() {
        let ok = "<Response><Hangup/></Response>";
        for content_type in ["application/xml", "text/xml; charset=utf-8", "Application/XML"] {
            assert!(instructions(&mut answered(200, Some(content_type), ok), false).unwrap().is_some());
        }
        assert_eq!(instructions(&mut answered(204, None, ""), false), Ok(None));
        let mut wrong = answered(200, Some("text/html"), ok);
        assert_eq!(instructions(&mut wrong, false).unwrap_err(), "Response does not have content type application/xml");
        assert_eq!(wrong.xml_error.as_deref(), Some("Response does not have content type application/xml"));
        assert!(instructions(&mut answered(500, Some("application/xml"), ok), false).unwrap_err().contains("500"));
        assert!(
            instructions(&mut answered(200, Some("application/xml"), "<Response>"), false)
                .unwrap_err()
                .contains("not closed")
        );
    }
}
