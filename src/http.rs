//! The one HTTP client of a run: a `ureq::Agent` with the transport rules of the checklist, and the
//! `-v` trace.
//!
//! Promises: redirects are never followed (a 3xx is an [`Error::Redirect`]), TLS is verified with
//! ureq's defaults, 4xx/5xx bodies are returned for the caller to read, bodies are read with a size cap,
//! and proxy settings come from the environment (`HTTPS_PROXY`, `NO_PROXY`). The trace replaces every
//! secret by `[redacted]` before printing.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;
use crate::secret::{AccessToken, ClientSecret};

/// The largest response body read; anything beyond is cut off.
pub const MAX_BODY: u64 = 1024 * 1024;

/// Form fields, JSON keys and query parameters whose values are secrets.
const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "state",
    "token",
    "session_state",
    "password",
    "device_code",
    "user_code",
];

/// An HTTP answer, body read to text.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` header (RFC 6750 §3), if any.
    pub www_authenticate: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, at most [`MAX_BODY`] bytes, invalid UTF-8 replaced.
    pub body: String,
}

impl Response {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first line of the body, shortened, with the values of secret fields replaced: safe for
    /// error messages even when a server puts a token into an error answer.
    pub fn excerpt(&self) -> String {
        excerpt(&redact_json(&self.body))
    }
}

/// The HTTP client of one run.
#[derive(Debug, Clone)]
pub struct Http {
    agent: ureq::Agent,
    verbose: bool,
}

impl Http {
    /// A client whose every request ends within `timeout`; `verbose` traces exchanges on stderr.
    pub fn new(timeout: Duration, verbose: bool) -> Http {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(concat!("sipgate-oauth/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), LiteralFirst::default());
        Http { agent, verbose }
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
        self.send(what, request, body.into_bytes(), || redact_pairs(fields))
    }

    /// Sends `method url` with an optional bearer token (RFC 6750 §2.1, header only) and JSON body.
    pub fn request(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&AccessToken>,
        json: Option<&str>,
    ) -> Result<Response, Error> {
        let what = format!("{method} {url}");
        let mut request = http::Request::builder().method(method).uri(url).header("Accept", "application/json");
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {}", token.secret()));
        }
        if json.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let body = json.unwrap_or_default().as_bytes().to_vec();
        self.send(&what, request, body, || json.map(redact_json).unwrap_or_default())
    }

    fn send(
        &self,
        what: &str,
        request: http::request::Builder,
        body: Vec<u8>,
        traced_body: impl FnOnce() -> String,
    ) -> Result<Response, Error> {
        let http_error = |source: ureq::Error| Error::Http { what: what.to_owned(), source };
        let request = request.body(body).map_err(|e| http_error(ureq::Error::Http(e)))?;
        if self.verbose {
            trace_request(&request, &traced_body());
        }
        let started = Instant::now();
        let mut response = self.agent.run(request).map_err(http_error)?;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let www_authenticate = header("www-authenticate");
        let content_type = header("content-type");
        let status = response.status().as_u16();
        if (300..400).contains(&status) {
            let location = header("location").map(|location| redact_url(&location));
            if self.verbose {
                trace_response(
                    &Response { status, www_authenticate, content_type, body: String::new() },
                    started.elapsed(),
                );
            }
            return Err(Error::Redirect { what: what.to_owned(), status, location });
        }
        let bytes = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(http_error)?;
        let response =
            Response { status, www_authenticate, content_type, body: String::from_utf8_lossy(&bytes).into_owned() };
        if self.verbose {
            trace_response(&response, started.elapsed());
        }
        Ok(response)
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

fn trace_request(request: &http::Request<Vec<u8>>, body: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "> {} {}", request.method(), redact_url(&request.uri().to_string()));
    for (name, value) in request.headers() {
        let value = value.to_str().unwrap_or("…");
        let shown = match value.split_once(' ') {
            Some((scheme, _)) if name == "authorization" => format!("{scheme} [redacted]"),
            _ if name == "authorization" => "[redacted]".to_owned(),
            _ => value.to_owned(),
        };
        let _ = writeln!(err, "> {name}: {shown}");
    }
    if !body.is_empty() {
        let _ = writeln!(err, "> {body}");
    }
}

fn trace_response(response: &Response, took: Duration) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "< {} ({} ms)", response.status, took.as_millis());
    if let Some(value) = &response.www_authenticate {
        let _ = writeln!(err, "< www-authenticate: {value}");
    }
    if let Some(value) = &response.content_type {
        let _ = writeln!(err, "< content-type: {value}");
    }
    if !response.body.is_empty() {
        let _ = writeln!(err, "< {}", redact_json(&response.body));
    }
}

/// Whether a form field, JSON key or query parameter named `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// A form body for the trace: encoded as sent, but a secret's value is a plain `[redacted]`.
fn redact_pairs(fields: &[(&str, &str)]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .map(|&(name, value)| {
            let value =
                if is_secret_name(name) { "[redacted]".to_owned() } else { crate::query::encode_component(value) };
            format!("{}={value}", crate::query::encode_component(name))
        })
        .collect();
    shown.join("&")
}

/// A URL with the values of secret query parameters replaced.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let shown: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_name(name) => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", shown.join("&"))
}

/// A body for the trace: JSON with the values of secret keys replaced (at any depth); anything that
/// is not JSON is shown as a short excerpt.
pub fn redact_json(body: &str) -> String {
    fn scrub(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if is_secret_name(key) {
                        *inner = serde_json::Value::from("[redacted]");
                    } else {
                        scrub(inner);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            scrub(&mut value);
            value.to_string()
        }
        Err(_) => redact_text(&excerpt(body)),
    }
}

/// Text that is not JSON, with the values of `name=value` pairs whose name is a secret replaced (a
/// form-encoded token answer, or a query string quoted in an error page).
fn redact_text(text: &str) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ends_value = |c: char| matches!(c, '&' | '"' | '\'' | '<' | '>' | ';' | ',') || c.is_whitespace();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('=') {
        let (before, after) = (&rest[..at], &rest[at + 1..]);
        // The name is the run of name characters right before `=` (all ASCII, so byte offsets are safe).
        let name_len = before.chars().rev().take_while(|&c| is_name(c)).count();
        let name = &before[before.len() - name_len..];
        out.push_str(before);
        out.push('=');
        if is_secret_name(name) {
            out.push_str("[redacted]");
            rest = &after[after.find(ends_value).unwrap_or(after.len())..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The first line of `text`, at most 200 characters.
pub fn excerpt(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_hide_secrets() {
        let form = redact_pairs(&[("grant_type", "authorization_code"), ("code", "c0de"), ("client_secret", "s")]);
        assert_eq!(form, "grant_type=authorization_code&code=[redacted]&client_secret=[redacted]");
        let json = redact_json(r#"{"access_token":"at","expires_in":300,"nested":{"refresh_token":"rt"}}"#);
        assert_eq!(json, r#"{"access_token":"[redacted]","expires_in":300,"nested":{"refresh_token":"[redacted]"}}"#);
        assert_eq!(
            redact_url("http://h/cb?code=abc&state=xyz&iss=i"),
            "http://h/cb?code=[redacted]&state=[redacted]&iss=i"
        );
    }

    #[test]
    fn error_excerpts_hide_secrets() {
        let response =
            |body: &str| Response { status: 500, www_authenticate: None, content_type: None, body: body.to_owned() };
        assert_eq!(response(r#"{"access_token":"AT","x":1}"#).excerpt(), r#"{"access_token":"[redacted]","x":1}"#);
        assert_eq!(
            response("access_token=AT&token_type=bearer&refresh_token=RT").excerpt(),
            "access_token=[redacted]&token_type=bearer&refresh_token=[redacted]"
        );
        assert_eq!(response("<p>a=b code=C0DE</p>").excerpt(), "<p>a=b code=[redacted]</p>");
        // Found by fuzzing: a multi-byte character right before `=`.
        assert_eq!(response("x\u{feff}=1 é\u{feff}token=T").excerpt(), "x\u{feff}=1 é\u{feff}token=[redacted]");
    }

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
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("\n<html>\n<body>Bad Gateway"), "<html>");
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 201);
    }
}
