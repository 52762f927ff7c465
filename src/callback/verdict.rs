//! What a request to the callback server is: the genuine callback, a callback with the wrong `state`,
//! the one-time start address, or something to turn away — and the page the browser gets for it.
//!
//! Promises: only a `GET` on the redirect path, with no body, with `state` matching in constant time and
//! with exactly one of `code` / `error`, is a callback; a state is accepted once. Duplicated parameters
//! are rejected; unknown ones (`iss`, `session_state`) are ignored. The same rules judge an address the
//! user pastes (see [`judge_address`]).

use std::sync::atomic::{AtomicBool, Ordering};

use super::request::Head;
use crate::error::OAuthError;
use crate::html::{self, escape};
use crate::pkce::state_matches;
use crate::query;
use crate::secret::{AuthorizationCode, CsrfState};

/// What a genuine callback looks like.
#[derive(Debug)]
pub(crate) struct Expected {
    /// The redirect URI's path, e.g. `/oauth`.
    pub path: String,
    /// The `state` of this sign-in.
    pub state: CsrfState,
    /// Set by the first genuine callback: a state is accepted once.
    pub used: AtomicBool,
    /// The one-time start address: its path and where it redirects.
    pub start: Option<(String, String)>,
    /// Set when the start address has been used.
    pub start_used: AtomicBool,
    /// The authorization server's issuer, where known: a callback's `iss` must equal it (RFC 9207).
    pub issuer: Option<String>,
}

impl Expected {
    /// A sign-in on `path` expecting `state`, without a start address.
    pub fn new(path: &str, state: CsrfState) -> Expected {
        Expected {
            path: path.to_owned(),
            state,
            used: AtomicBool::new(false),
            start: None,
            start_used: AtomicBool::new(false),
            issuer: None,
        }
    }
}

/// An HTML answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The heading.
    pub title: &'static str,
    /// The text under it (escaped when rendered).
    pub message: String,
}

impl Page {
    /// A 400 "Sign-in failed" page.
    pub fn failed(message: &str) -> Page {
        Page { status: 400, title: "Sign-in failed", message: message.to_owned() }
    }

    /// The whole HTML document.
    pub fn render(&self) -> String {
        let body = format!(
            "<h1>{}</h1><p>{}</p><p class=\"note\">sipgate-oauth</p>",
            escape(self.title),
            escape(&self.message)
        );
        html::page(&format!("{} — sipgate-oauth", self.title), &body)
    }
}

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Not the callback: answer with this page; the wait goes on.
    TurnAway(Page),
    /// A request on the callback path that is not a usable callback (another issuer, a repeated
    /// parameter, no code, …): answer with this page and tell the waiting thread why; the wait goes on.
    Rejected(Page),
    /// A callback with a missing or wrong `state`: answer with this page and tell the waiting thread.
    WrongState(Page),
    /// The one-time start address: redirect the browser to the authorization URL.
    Start(String),
    /// The genuine callback with a code.
    Code(AuthorizationCode),
    /// The genuine callback with an error.
    Denied(OAuthError),
}

#[cfg(any(test, feature = "internals"))]
impl Verdict {
    /// The status the browser gets for a request that is not the genuine callback; `None` for it.
    pub fn status(&self) -> Option<u16> {
        match self {
            Verdict::TurnAway(page) | Verdict::Rejected(page) | Verdict::WrongState(page) => Some(page.status),
            Verdict::Start(_) => Some(302),
            Verdict::Code(_) | Verdict::Denied(_) => None,
        }
    }
}

/// Decides what a request is. Only a genuine callback marks the state as used.
pub(crate) fn judge(head: &Head, expected: &Expected) -> Verdict {
    let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
    if let Some((start_path, url)) = &expected.start
        && path == start_path
        && head.method == "GET"
        && !expected.start_used.swap(true, Ordering::SeqCst)
    {
        return Verdict::Start(url.clone());
    }
    if path != expected.path {
        let message = "This is sipgate-oauth's sign-in callback; nothing else is here.".to_owned();
        return Verdict::TurnAway(Page { status: 404, title: "Not found", message });
    }
    if head.method != "GET" {
        let message = "The sign-in callback only accepts GET.".to_owned();
        return Verdict::TurnAway(Page { status: 405, title: "Method not allowed", message });
    }
    if head.has_body {
        return Verdict::Rejected(Page::failed("The sign-in callback carries no body."));
    }
    judge_query(query, expected)
}

/// Judges the parameters of a callback on the right path.
fn judge_query(query: &str, expected: &Expected) -> Verdict {
    // A fragment never reaches a server; if one is sent anyway, it is not part of the query.
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    let Ok(pairs) = query::decode(query) else {
        return Verdict::Rejected(Page::failed("The callback's parameters are malformed."));
    };
    let (Ok(state), Ok(code), Ok(error)) =
        (query::single(&pairs, "state"), query::single(&pairs, "code"), query::single(&pairs, "error"))
    else {
        return Verdict::Rejected(Page::failed(
            "The callback repeats a parameter (state, code or error); it was rejected.",
        ));
    };
    if !state.is_some_and(|state| state_matches(&expected.state, state)) {
        let message = "The state in the callback does not match the state of this sign-in. This happens when \
             sipgate-oauth was restarted and an old sign-in URL was used, or the browser tab was refreshed. \
             sipgate-oauth is still waiting for the right sign-in: open the URL that it printed last.";
        return Verdict::WrongState(Page {
            status: 400,
            title: "Still waiting for the sign-in",
            message: message.to_owned(),
        });
    }
    let Ok(iss) = query::single(&pairs, "iss") else {
        return Verdict::Rejected(Page::failed("The callback repeats the parameter iss; it was rejected."));
    };
    if let (Some(iss), Some(issuer)) = (iss, &expected.issuer)
        && iss != issuer
    {
        let named: String = crate::redact::terminal_safe(iss).chars().take(200).collect();
        return Verdict::Rejected(Page::failed(&format!(
            "The callback names another authorization server (iss {named:?}) than the one this sign-in went to \
             ({issuer:?}); it was rejected (RFC 9207). If that server is the right one (behind a proxy that \
             changes its address, say), set ISSUER to its issuer."
        )));
    }
    let error = error.filter(|error| !error.is_empty());
    if code.is_none_or(str::is_empty) && error.is_none() {
        return Verdict::Rejected(Page::failed("The callback has neither a code nor an error."));
    }
    if expected.used.swap(true, Ordering::SeqCst) {
        return Verdict::Rejected(Page::failed("This sign-in has already been completed."));
    }
    match (code, error) {
        (_, Some(error)) => {
            let field = |name| query::single(&pairs, name).ok().flatten().map(str::to_owned);
            Verdict::Denied(OAuthError::new(error.to_owned(), field("error_description"), field("error_uri")))
        }
        (code, None) => Verdict::Code(AuthorizationCode::new(code.unwrap_or_default())),
    }
}

/// Judges an address the user pasted: the whole redirect URL (`http://localhost:8080/oauth?code=…`), the
/// path with its query (`/oauth?code=…`) or the bare query (`?code=…` or `code=…`). A pasted URL must
/// have the redirect URI's path; its host and port are not checked (the browser may have rewritten them,
/// and the state proves where it came from).
pub(crate) fn judge_address(line: &str, expected: &Expected) -> Verdict {
    let line = line.trim();
    let target = match line.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => line,
    };
    if let Some(query) = target.strip_prefix('?') {
        return judge_query(query, expected);
    }
    if !target.starts_with('/') {
        return judge_query(target, expected);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != expected.path {
        return Verdict::TurnAway(Page::failed(&format!(
            "the address has the path {path:?}, but REDIRECT_URI's path is {:?}",
            expected.path
        )));
    }
    judge_query(query, expected)
}

/// The status the server answers a raw request head with (the bytes up to and including the empty line),
/// for a callback on `path` expecting `state`; `None` if it is the genuine callback. For fuzzing and
/// tests: the same parsing and decisions as a request over a socket.
#[cfg(any(test, feature = "internals"))]
pub fn answer_status(head: &[u8], path: &str, state: &str) -> Option<u16> {
    let expected = Expected::new(path, CsrfState::new(state));
    match super::request::parse(head) {
        Ok(None) => Some(408),
        Err(super::request::HeadError::TooLarge) => Some(431),
        Err(_) => Some(400),
        Ok(Some(head)) => judge(&head, &expected).status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected::new("/oauth", CsrfState::new("s3cret-state"))
    }

    fn get(target: &str) -> Head {
        Head { method: "GET".into(), target: target.into(), has_body: false }
    }

    #[test]
    fn only_a_get_with_the_right_state_is_the_callback_and_only_once() {
        let expected = expected();
        assert_eq!(judge(&get("/favicon.ico"), &expected).status(), Some(404));
        let post = Head { method: "POST".into(), ..get("/oauth?code=a&state=s3cret-state") };
        assert_eq!(judge(&post, &expected).status(), Some(405));
        let with_body = Head { has_body: true, ..get("/oauth?code=a&state=s3cret-state") };
        assert_eq!(judge(&with_body, &expected).status(), Some(400));
        assert!(matches!(judge(&get("/oauth?code=a&state=wrong"), &expected), Verdict::WrongState(_)));
        assert!(matches!(judge(&get("/oauth?code=a"), &expected), Verdict::WrongState(_)));
        assert!(matches!(judge(&get("/oauth?error=access_denied&state=x"), &expected), Verdict::WrongState(_)));
        for turned_away in [
            "/oauth?code=a&code=b&state=s3cret-state",
            "/oauth?code=a&state=s3cret-state&state=s3cret-state",
            "/oauth?code=%zz&state=s3cret-state",
            "/oauth?state=s3cret-state",
            "/oauth?state=s3cret-state&code=&error=",
        ] {
            assert_eq!(judge(&get(turned_away), &expected).status(), Some(400), "{turned_away}");
        }
        assert!(!expected.used.load(Ordering::SeqCst), "nothing above uses up the state");
        let genuine = get("/oauth?code=c0de&state=s3cret-state&iss=x&session_state=y");
        assert!(matches!(judge(&genuine, &expected), Verdict::Code(code) if code.secret() == "c0de"));
        assert_eq!(judge(&genuine, &expected).status(), Some(400), "a state is accepted once");
    }

    #[test]
    fn an_error_callback_is_reported_with_its_description() {
        let verdict =
            judge(&get("/oauth?error=access_denied&error_description=No%20way&state=s3cret-state"), &expected());
        match verdict {
            Verdict::Denied(error) => {
                assert_eq!((error.error.as_str(), error.description.as_deref()), ("access_denied", Some("No way")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_callback_from_another_issuer_is_rejected() {
        let mut expected = expected();
        expected.issuer = Some("https://login.example/realms/r".into());
        let other = get("/oauth?code=c&state=s3cret-state&iss=https%3A%2F%2Fevil.example%2Frealms%2Fr");
        assert_eq!(judge(&other, &expected).status(), Some(400));
        let twice = get("/oauth?code=c&state=s3cret-state&iss=a&iss=b");
        assert_eq!(judge(&twice, &expected).status(), Some(400));
        assert!(!expected.used.load(Ordering::SeqCst), "a rejected issuer does not use up the state");
        let same = get("/oauth?code=c&state=s3cret-state&iss=https%3A%2F%2Flogin.example%2Frealms%2Fr");
        assert!(matches!(judge(&same, &expected), Verdict::Code(_)));
        // Without an issuer to compare with (a server that is not Keycloak), `iss` is not checked.
        assert!(matches!(
            judge(&get("/oauth?code=c&state=s3cret-state&iss=x"), &super::tests::expected()),
            Verdict::Code(_)
        ));
    }

    #[test]
    fn the_start_address_redirects_once() {
        let mut expected = expected();
        expected.start = Some(("/start-r4nd0m".into(), "https://login.example/auth?x=1".into()));
        assert!(matches!(judge(&get("/start-r4nd0m"), &expected), Verdict::Start(url) if url.ends_with("x=1")));
        assert_eq!(judge(&get("/start-r4nd0m"), &expected).status(), Some(404), "used once");
        assert_eq!(judge(&get("/start-other"), &expected).status(), Some(404));
    }

    #[test]
    fn pasted_addresses_pass_the_same_checks() {
        for pasted in [
            "http://localhost:8080/oauth?code=c0de&state=s3cret-state",
            "  /oauth?state=s3cret-state&code=c0de\r\n",
            "?code=c0de&state=s3cret-state",
            "code=c0de&state=s3cret-state&session_state=x",
        ] {
            assert!(matches!(judge_address(pasted, &expected()), Verdict::Code(c) if c.secret() == "c0de"), "{pasted}");
        }
        assert!(matches!(
            judge_address("http://localhost:8080/oauth?code=c&state=old", &expected()),
            Verdict::WrongState(_)
        ));
        assert_eq!(
            judge_address("http://localhost:8080/other?code=c&state=s3cret-state", &expected()).status(),
            Some(400)
        );
        assert_eq!(judge_address("hello", &expected()).status(), Some(400));
        let once = expected();
        assert!(matches!(judge_address("?code=c&state=s3cret-state", &once), Verdict::Code(_)));
        assert_eq!(judge_address("?code=c&state=s3cret-state", &once).status(), Some(400));
    }

    #[test]
    fn raw_heads_get_the_status_a_socket_would() {
        assert_eq!(answer_status(b"GET /oauth?code=c&state=s HTTP/1.1\r\n\r\n", "/oauth", "s"), None);
        assert_eq!(answer_status(b"GET /x HTTP/1.1\r\n\r\n", "/oauth", "s"), Some(404));
        assert_eq!(answer_status(b"GET /oauth HTTP/1.1\r\n", "/oauth", "s"), Some(408));
        assert_eq!(answer_status(b"junk\r\n\r\n", "/oauth", "s"), Some(400));
    }
}
