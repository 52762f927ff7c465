//! The browser sign-in: authorization URL → callback → token exchange (RFC 6749 §4.1, RFC 7636,
//! RFC 8252).
//!
//! Everything said to the user goes to the `err` writer (stderr in the binary); nothing here prints a
//! secret. The callback port is open from before the URL is shown until the browser has its answer.

use std::io::Write;
use std::time::Duration;

use crate::browser::Browser;
use crate::callback::{Callback, CallbackServer, Wait};
use crate::config::Config;
use crate::error::Error;
use crate::http::Http;
use crate::oauth::{OAuthClient, TokenSet};
use crate::pkce::{self, Pkce};
use crate::query;

/// How to run the sign-in.
#[derive(Debug)]
pub struct SignIn {
    /// How the URL reaches a browser.
    pub browser: Browser,
    /// `$BROWSER`, read once by the caller.
    pub browser_var: Option<String>,
    /// How long to wait for the callback.
    pub timeout: Duration,
    /// Whether `err` is a terminal (the countdown is then updated in place).
    pub interactive: bool,
}

/// The authorization request URL (RFC 6749 §4.1.1 with PKCE, RFC 7636 §4.3). The client secret is
/// never part of it.
pub fn authorization_url(config: &Config, redirect_uri: &str, state: &str, code_challenge: &str) -> String {
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

/// Runs the browser sign-in and returns the tokens.
pub fn sign_in(http: &Http, config: &Config, options: SignIn, err: &mut dyn Write) -> Result<TokenSet, Error> {
    let pkce = Pkce::generate();
    let state = pkce::new_state();
    let server = CallbackServer::start(&config.redirect, state.clone())?;
    let url = authorization_url(config, server.redirect_uri(), state.secret(), &pkce.challenge);

    let _ = writeln!(err, "Sign in to sipgate in your browser. If it does not open, open this URL:");
    let _ = writeln!(err, "{url}");
    match options.browser.open(&url, options.browser_var) {
        Ok(Some(opened)) => {
            let _ = writeln!(err, "(opened with {opened})");
        }
        Ok(None) => {}
        Err(error) => {
            let _ = writeln!(err, "warning: could not open a browser ({error}); open the URL above yourself");
        }
    }

    let mut countdown = Countdown { interactive: options.interactive, shown: false };
    let callback = server.wait(options.timeout, |wait| countdown.show(err, wait));
    countdown.end(err);

    match callback? {
        Callback::Denied(error, reply) => {
            reply.finish(false, &format!("The authorization server reported: {error}. Return to the terminal."));
            Err(Error::Authorization(error))
        }
        Callback::Code(code, reply) => {
            let _ = writeln!(err, "Signed in at the authorization server; exchanging the code for tokens…");
            let tokens = OAuthClient::new(http, config).exchange_code(&code, &pkce.verifier, server.redirect_uri());
            match &tokens {
                Ok(_) => reply.finish(true, "Sign-in completed. You can close this tab and return to the terminal."),
                Err(error) => reply.finish(false, &format!("The token exchange failed: {error}")),
            }
            tokens
        }
    }
}

/// The "waiting for sign-in" line: rewritten in place on a terminal, said once otherwise.
struct Countdown {
    interactive: bool,
    shown: bool,
}

impl Countdown {
    fn show(&mut self, err: &mut dyn Write, wait: Wait) {
        match wait {
            Wait::Left(left) if self.interactive => {
                let secs = left.as_secs_f64().ceil() as u64;
                let _ = write!(
                    err,
                    "\r\x1b[2Kwaiting for sign-in in the browser — {}:{:02} left, Ctrl-C to cancel",
                    secs / 60,
                    secs % 60
                );
                self.shown = true;
            }
            Wait::Left(left) if !self.shown => {
                let _ = writeln!(
                    err,
                    "waiting for sign-in in the browser (up to {} s, Ctrl-C to cancel)…",
                    left.as_secs_f64().round()
                );
                self.shown = true;
            }
            Wait::Left(_) => {}
            Wait::WrongState => {
                self.end(err);
                let _ = writeln!(
                    err,
                    "warning: a callback arrived whose state does not match this sign-in (an old URL from a restarted \
                     sipgate-oauth, or a refreshed tab?) — it was rejected; still waiting for the right one"
                );
            }
        }
        let _ = err.flush();
    }

    fn end(&mut self, err: &mut dyn Write) {
        if self.interactive && self.shown {
            let _ = writeln!(err);
            self.shown = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        crate::config::example_config(&[
            ("CLIENT_ID", "my client"),
            ("CLIENT_SECRET", "TOPSECRET"),
            ("OAUTH_SCOPE", "account:read history:read"),
        ])
        .unwrap()
    }

    #[test]
    fn countdown_rewrites_one_line_on_a_terminal_and_says_it_once_elsewhere() {
        let mut terminal = Vec::new();
        let mut countdown = Countdown { interactive: true, shown: false };
        countdown.show(&mut terminal, Wait::Left(Duration::from_millis(271_500)));
        countdown.show(&mut terminal, Wait::Left(Duration::from_secs(271)));
        countdown.end(&mut terminal);
        let line = "\r\x1b[2Kwaiting for sign-in in the browser — 4:32 left, Ctrl-C to cancel";
        assert_eq!(String::from_utf8(terminal).unwrap(), format!("{line}{}\n", line.replace("4:32", "4:31")));

        let mut log = Vec::new();
        let mut countdown = Countdown { interactive: false, shown: false };
        countdown.show(&mut log, Wait::Left(Duration::from_secs(300)));
        countdown.show(&mut log, Wait::Left(Duration::from_secs(299)));
        countdown.end(&mut log);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "waiting for sign-in in the browser (up to 300 s, Ctrl-C to cancel)…\n"
        );
    }

    #[test]
    fn authorization_url_carries_pkce_and_state_but_no_secret() {
        let url = authorization_url(&config(), "http://localhost:8080/oauth", "st4te", "ch4llenge");
        assert_eq!(
            url,
            "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth?response_type=code\
             &client_id=my%20client&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth\
             &scope=account%3Aread%20history%3Aread&state=st4te&code_challenge=ch4llenge&code_challenge_method=S256"
        );
        assert!(!url.contains("TOPSECRET") && !url.contains("client_secret"));
    }
}
