//! Sign in to sipgate with OAuth 2.0 from a synchronous Rust program, keep the tokens, call the sipgate
//! REST API — and a local sipgate stand-in to test all of it offline.
//!
//! The tasks, in the order a program meets them:
//! - **Configure**: [`Config::load`] reads the keys of sipgate's Python example (`CLIENT_ID`,
//!   `CLIENT_SECRET`, `REDIRECT_URI`, …) from the environment and `.env`; [`Config::from_lookup`] takes
//!   them from any function, e.g. a map in a test.
//! - **Sign in**: [`sign_in`] opens the user's browser ([`Browser`]) — or reads the address the user
//!   pastes — receives the redirect on a loopback port and exchanges the code (with PKCE) for a
//!   [`TokenSet`]. Progress arrives as [`SignInEvent`]s; the library prints nothing.
//! - **Keep and use**: a [`Session`] keeps the tokens in a private file, hands out a valid access token
//!   (refreshing under a lock shared by all processes), and [`Session::call`]s the API, refreshing once on 401.
//! - **Test**: [`mock::MockServer`] is a sipgate stand-in (login and API) on `127.0.0.1:0`.
//!
//! Every failure is one [`Error`], whose message says what to do. Secrets are types of their own
//! ([`AccessToken`], [`RefreshToken`], [`ClientSecret`], …) whose `Debug` prints `[redacted]`.
//!
//! ```
//! use std::time::Duration;
//! use sipgate_oauth::mock::{MockClient, MockConfig, MockServer};
//! use sipgate_oauth::{Browser, Config, Http, Session, SignIn};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A stand-in that approves at once; against sipgate, use `Config::load(None)` instead.
//! let server = MockServer::start(MockConfig { auto_approve: true, ..MockConfig::default() }, "127.0.0.1:0".parse()?)?;
//! let store = std::env::temp_dir().join(format!("sipgate-oauth-doctest-{}", std::process::id()));
//! let mut env = server.env("third-party", &MockClient::demo());
//! env.push(("REDIRECT_URI", "http://127.0.0.1:0/oauth".into()));
//! env.push(("SIPGATE_OAUTH_STORE", store.display().to_string()));
//! let config = Config::from_lookup(|var| env.iter().rev().find(|(k, _)| *k == var).map(|(_, v)| v.clone()))?;
//!
//! let http = Http::new(Duration::from_secs(30));
//! // The "browser": an HTTP client that follows the stand-in's redirects to the callback.
//! let browser = Browser::With(Box::new(|url: String| drop(ureq::get(&url).call())));
//! let sign_in = SignIn { browser, timeout: Duration::from_secs(30), paste: None };
//! let tokens = sipgate_oauth::sign_in(&http, &config, sign_in, &mut |_event| {})?;
//!
//! let session = Session::new(&http, &config)?;
//! session.save(&tokens)?;
//! let account = session.call("GET", "/account", None)?;
//! assert!(account.body.contains("mainProductType"));
//! session.logout()?;
//! # std::fs::remove_dir_all(store)?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod api;
mod browser;
mod ca_file;
mod callback;
mod certificate;
mod config;
pub mod device;
mod env_file;
mod error;
pub mod exec;
mod flow;
mod html;
mod http;
mod kept;
mod legacy;
pub mod mcp;
pub mod mock;
mod oauth;
pub mod operations;
mod origin;
pub mod paging;
mod paste;
mod pkce;
mod profile;
mod profiles;
pub mod proxy;
mod query;
mod redact;
mod secret;
mod session;
pub mod spelling;
mod store;
mod tls;
mod utc;

pub use api::{ApiRequest, ApiResponse};
pub use browser::{Browser, NoBrowser};
pub use ca_file::CaFile;
pub use config::{Config, RedirectUri};
pub use error::{CertificateProblem, Error, Grant, OAuthError};
pub use flow::{SignIn, SignInEvent, sign_in};
pub use http::{Http, Response};
pub use kept::Kept;
pub use legacy::LegacySignIn;
pub use oauth::{OAuthClient, TokenSet};
pub use profiles::{KeptProfile, Profiles};
pub use secret::{AccessToken, AuthorizationCode, ClientSecret, CodeVerifier, CsrfState, IdToken, RefreshToken};
pub use session::{LiveSession, Session};

/// The crate's inner parts, for its own integration tests, benchmark and fuzz targets: not part of the
/// API, no stability promise. Switched on by the `internals` feature.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::callback::verdict::answer_status;
    pub use crate::config::is_loopback_host;
    /// Pasted lines, bounded.
    pub mod paste {
        pub use crate::paste::*;
    }
    pub use crate::pkce::{Pkce, s256};
    /// Form and query encoding.
    pub mod query {
        pub use crate::query::*;
    }
    /// Secrets out of text.
    pub mod redact {
        pub use crate::redact::*;
    }
    pub use crate::store::record::unix_seconds;
    pub use crate::store::{Record, Store};

    /// The device grant's parsing and timing (RFC 8628), for the fuzz targets.
    pub mod device {
        use std::time::{Duration, SystemTime};

        use crate::device::{DeviceAuthorization, Poll, poll_until_decided};
        use crate::{Error, Response, TokenSet};

        /// Reads the device authorization endpoint's answer (§3.2).
        pub fn read_authorization(response: &Response) -> Result<DeviceAuthorization, Error> {
            crate::device::read_authorization(response)
        }

        /// Reads one poll of the token endpoint (§3.5), received at `now`: `Some` tokens, `None` to poll again.
        pub fn read_poll(
            response: &Response,
            expires_in: Duration,
            now: SystemTime,
        ) -> Result<Option<TokenSet>, Error> {
            crate::device::read_poll(response, expires_in, now).map(|poll| match poll {
                Poll::Tokens(tokens) => Some(*tokens),
                Poll::Pending | Poll::SlowDown => None,
            })
        }

        /// The waits of a polling loop with `interval` and `expires_in` whose polls are all pending
        /// (`slow_down` where `slow` says, in turn), on a clock that only the waits move.
        pub fn waits(interval: Duration, expires_in: Duration, slow: &[bool]) -> Vec<Duration> {
            let (waits, polls) = (std::cell::RefCell::new(Vec::new()), std::cell::Cell::new(0));
            let poll = || {
                polls.set(polls.get() + 1);
                Ok(if slow.get(polls.get() % slow.len().max(1)) == Some(&true) {
                    Poll::SlowDown
                } else {
                    Poll::Pending
                })
            };
            let clock = std::cell::Cell::new(Duration::ZERO);
            let wait = |wait: Duration| {
                clock.set(clock.get().saturating_add(wait));
                waits.borrow_mut().push(wait);
            };
            let _ = poll_until_decided(interval, expires_in, poll, wait, || clock.get(), &mut |_| {});
            waits.into_inner()
        }
    }

    /// Opens `url` with `browser` as a sign-in does: what was started (the Windows command-line test).
    pub fn open_browser(browser: crate::Browser, url: &str) -> std::io::Result<Option<String>> {
        browser.open(url)
    }
}
