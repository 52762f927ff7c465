//! An answer of the stand-in, before it becomes an HTTP response: status, content type, body and extra
//! headers. Handlers build these; only `server` turns them into bytes on a socket.

use serde_json::{Value, json};

/// One HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`, if there is a body.
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Vec<u8>,
    /// Further headers, e.g. `Location` or `WWW-Authenticate`.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON body.
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: Some("application/json"),
            body: value.to_string().into_bytes(),
            headers: Vec::new(),
        }
    }

    /// An RFC 6749 §5.2 error body, as Keycloak sends it.
    pub fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(status, &json!({"error": error, "error_description": description}))
    }

    /// `400 invalid_request` with a description.
    pub fn invalid_request(description: &str) -> Reply {
        Reply::oauth_error(400, "invalid_request", description)
    }

    /// `400 invalid_request` for a missing form or query parameter, in Keycloak's words.
    pub fn missing(parameter: &str) -> Reply {
        Reply::invalid_request(&format!("Missing parameter: {parameter}"))
    }

    /// `400 invalid_grant` with a description.
    pub fn invalid_grant(description: &str) -> Reply {
        Reply::oauth_error(400, "invalid_grant", description)
    }

    /// An HTML page of the stand-in: nothing may load from elsewhere, nobody may frame it, and its URL
    /// (with `state` in it) is not sent on as a referrer. `Cache-Control` is left to the server, which
    /// sends it with every answer: once.
    pub fn html(status: u16, page: String) -> Reply {
        let headers = crate::html::HEADERS.iter().filter(|(name, _)| *name != "Cache-Control");
        let headers = headers.map(|&(name, value)| (name, value.to_owned())).collect();
        Reply { status, content_type: Some("text/html; charset=utf-8"), body: page.into_bytes(), headers }
    }

    /// A plain-text body.
    pub fn text(status: u16, text: &str) -> Reply {
        Reply {
            status,
            content_type: Some("text/plain; charset=utf-8"),
            body: text.as_bytes().to_vec(),
            headers: Vec::new(),
        }
    }

    /// `302 Found` to `location`.
    pub fn redirect(location: String) -> Reply {
        Reply { status: 302, content_type: None, body: Vec::new(), headers: vec![("Location", location)] }
    }

    /// A status without a body, e.g. `204 No Content`.
    pub fn empty(status: u16) -> Reply {
        Reply { status, content_type: None, body: Vec::new(), headers: Vec::new() }
    }

    /// `404` for a path the stand-in does not serve.
    pub fn not_found() -> Reply {
        Reply::oauth_error(404, "not_found", "No such endpoint at the sipgate stand-in")
    }

    /// `405` for a path served under another method.
    pub fn method_not_allowed(allow: &'static str) -> Reply {
        Reply::oauth_error(405, "invalid_request", "HTTP method not allowed").with_header("Allow", allow.to_owned())
    }

    /// The same answer with one more header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}
