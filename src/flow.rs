//! The browser sign-in: authorization URL → callback (or a pasted address) → token exchange
//! (RFC 6749 §4.1, RFC 7636, RFC 8252).
//!
//! Nothing here prints: progress is reported as [`SignInEvent`]s for the caller to show, and no event
//! carries a secret but the authorization URL itself (its `state` is single-use). The callback port is
//! open from before the URL is reported until the browser has its answer.

use std::io::BufRead;
use std::time::Duration;

use crate::browser::Browser;
use crate::callback::{Callback, CallbackServer, Wait};
use crate::config::Config;
use crate::error::Error;
use crate::http::Http;
use crate::oauth::{OAuthClient, TokenSet};
use crate::pkce::{self, Pkce};
use crate::query;

/// How to run the browser sign-in.
pub struct SignIn {
    /// How the authorization URL reaches a browser.
    pub browser: Browser,
    /// How long to wait for the callback.
    pub timeout: Duration,
    /// Paste mode: lines read from here (the terminal, a pipe) are taken as the address the browser ended
    /// on, for when the browser runs on another machine. End of input is no error; the wait goes on.
    pub paste: Option<Box<dyn BufRead + Send>>,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("browser", &self.browser)
            .field("timeout", &self.timeout)
            .field("paste", &self.paste.is_some())
            .finish()
    }
}

/// What the sign-in reports while it runs, in this order: `Open`, then `BrowserOpened` or
/// `BrowserFailed` (none for [`Browser::PrintOnly`]), then `Waiting` about once a second, with
/// `WrongState`, `CallbackRejected` and `PasteRejected` in between as they happen, and `Exchanging` at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignInEvent {
    /// Sign in at this authorization URL.
    Open {
        /// The authorization URL (RFC 6749 §4.1.1).
        url: String,
        /// The redirect URI with the port really listened on.
        redirect_uri: String,
    },
    /// The browser was started with this program.
    BrowserOpened {
        /// What was started.
        program: String,
    },
    /// No browser could be started; the URL must be opened by hand.
    BrowserFailed {
        /// Why.
        reason: String,
    },
    /// Still waiting for the callback.
    Waiting {
        /// Time left until the timeout.
        left: Duration,
    },
    /// A callback with a wrong or missing `state` arrived and was turned away; the wait goes on.
    WrongState,
    /// A request reached the callback but was turned away — it names another issuer (RFC 9207), repeats a
    /// parameter, has no code, … — and the browser was told why; the wait goes on.
    CallbackRejected {
        /// Why, in words (what the browser's page says).
        reason: String,
    },
    /// A pasted line was not a usable address; the wait goes on.
    PasteRejected {
        /// What is wrong with it.
        reason: String,
    },
    /// The callback arrived; the code is being exchanged for tokens.
    Exchanging,
}

/// The authorization request URL (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3). The client secret is
/// never part of it.
pub(crate) fn authorization_url(config: &Config, redirect_uri: &str, state: &str, code_challenge: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", config.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("scope", config.scope.as_str()),
        ("state", state),
        ("code_challenge", code_challenge),
        ("code_challenge_method", Pkce::METHOD),
    ];
    let separator = if config.auth_url.contains('?') { '&' } else { '?' };
    format!("{}{separator}{}", config.auth_url, query::encode(params))
}

/// Signs in in the browser and returns the tokens: authorization URL, callback, code exchange.
pub fn sign_in(
    http: &Http,
    config: &Config,
    options: SignIn,
    on_event: &mut dyn FnMut(SignInEvent),
) -> Result<TokenSet, Error> {
    let pkce = Pkce::generate();
    let state = pkce::new_state();
    let challenge = pkce.challenge.clone();
    let server = CallbackServer::start(&config.redirect, state.clone(), config.issuer(), |redirect_uri| {
        authorization_url(config, redirect_uri, state.secret(), &challenge)
    })?;
    let url = authorization_url(config, server.redirect_uri(), state.secret(), &pkce.challenge);
    on_event(SignInEvent::Open { url, redirect_uri: server.redirect_uri().to_owned() });
    match options.browser.open(server.start_url()) {
        Ok(Some(program)) => on_event(SignInEvent::BrowserOpened { program }),
        Ok(None) => {}
        Err(error) => on_event(SignInEvent::BrowserFailed { reason: error.to_string() }),
    }
    if let Some(input) = options.paste {
        let paste = server.paste();
        // Reads until end of input (at most paste::MAX_TOTAL bytes); the thread is left behind when the
        // sign-in ends first.
        let _ = std::thread::Builder::new().name("paste".into()).spawn(move || {
            for line in crate::paste::Lines::new(input) {
                match line {
                    crate::paste::Line::Text(line) => paste.offer(&line),
                    problem => paste.reject(problem.problem().unwrap_or_default()),
                }
            }
        });
    }

    let callback = server.wait(options.timeout, |wait| {
        on_event(match wait {
            Wait::Left(left) => SignInEvent::Waiting { left },
            Wait::WrongState => SignInEvent::WrongState,
            Wait::PasteRejected(reason) => SignInEvent::PasteRejected { reason },
            Wait::Rejected(reason) => SignInEvent::CallbackRejected { reason },
        })
    })?;
    match callback {
        Callback::Denied(error, reply) => {
            reply.finish(false, &format!("The authorization server reported: {error}. Return to the terminal."));
            Err(Error::Authorization(error))
        }
        Callback::Code(code, reply) => {
            on_event(SignInEvent::Exchanging);
            let tokens = OAuthClient::new(http, config).exchange_code(&code, &pkce.verifier, server.redirect_uri());
            match &tokens {
                Ok(tokens) => reply.finish(true, &signed_in_message(&config.profile, tokens)),
                Err(error) => {
                    reply.finish(false, &format!("The token exchange failed: {error}. Return to the terminal."))
                }
            }
            tokens
        }
    }
}

/// The success page's text: which profile signed in with which scopes (the granted ones, where the
/// server said; else the requested ones), and the one "close this tab".
fn signed_in_message(profile: &str, tokens: &TokenSet) -> String {
    let scopes = tokens.scope.as_deref().filter(|scope| !scope.trim().is_empty());
    let scopes = match scopes {
        Some(scope) => format!("with the scopes {}", scope.split_whitespace().collect::<Vec<_>>().join(", ")),
        None => "(the server named no scopes)".to_owned(),
    };
    format!("Sign-in completed: the profile {profile} is signed in {scopes}. You can close this tab.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_url_carries_pkce_and_state_but_no_secret() {
        let config = crate::config::example_config(&[
            ("CLIENT_ID", "my client"),
            ("CLIENT_SECRET", "TOPSECRET"),
            ("OAUTH_SCOPE", "account:read history:read"),
        ])
        .unwrap();
        let url = authorization_url(&config, "http://localhost:8080/oauth", "st4te", "ch4llenge");
        assert_eq!(
            url,
            "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth?response_type=code\
             &client_id=my%20client&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth\
             &scope=account%3Aread%20history%3Aread&state=st4te&code_challenge=ch4llenge&code_challenge_method=S256"
        );
        assert!(!url.contains("TOPSECRET") && !url.contains("client_secret"));
    }
}
