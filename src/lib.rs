//! sipgate-oauth: sign in to sipgate with OAuth 2.0 from the command line, keep the tokens, call the
//! API — and a local sipgate stand-in to test all of it offline.
//!
//! The binary is a thin layer over this library, which another synchronous Rust program can use the
//! same way: build a [`Config`](config::Config) from a lookup function, run the browser sign-in with
//! [`flow::sign_in`], call the API with [`api::call`] (which refreshes once on 401), refresh with
//! [`OAuthClient::refresh`](oauth::OAuthClient::refresh), keep tokens with [`session::Session`].
//!
//! ```
//! use std::time::Duration;
//! use sipgate_oauth::{api, browser::Browser, config::Config, flow, http::Http, oauth::OAuthClient};
//! use sipgate_oauth::mock::{MockClient, MockConfig, MockServer};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A stand-in that approves at once; against sipgate, use `Config::load(None)` instead.
//! let server = MockServer::start(MockConfig { auto_approve: true, ..MockConfig::default() }, "127.0.0.1:0".parse()?)?;
//! let mut env = server.env("third-party", &MockClient::demo());
//! env.push(("REDIRECT_URI", "http://127.0.0.1:0/oauth".into()));
//! let config = Config::from_lookup(|var| env.iter().rev().find(|(k, _)| *k == var).map(|(_, v)| v.clone()))?;
//!
//! let http = Http::new(Duration::from_secs(30), false);
//! // The "browser": an HTTP client that follows the stand-in's redirect to the callback.
//! let browser = Browser::With(Box::new(|url: String| drop(ureq::get(&url).call())));
//! let sign_in = flow::SignIn { browser, browser_var: None, timeout: Duration::from_secs(30), interactive: false };
//! let mut tokens = flow::sign_in(&http, &config, sign_in, &mut std::io::sink())?;
//!
//! let oauth = OAuthClient::new(&http, &config);
//! let refresh = |stale: &sipgate_oauth::oauth::TokenSet| oauth.refresh(stale.refresh_token.as_ref().expect("issued"));
//! let account = api::call(&http, "GET", &config.api_endpoint, None, &mut tokens, refresh)?;
//! assert!(account.body.contains("mainProductType"));
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod browser;
pub mod callback;
pub mod cli;
pub mod config;
pub mod device;
pub mod error;
pub mod flow;
pub mod http;
pub mod mock;
pub mod oauth;
pub mod pkce;
pub mod query;
pub mod secret;
pub mod session;
pub mod store;

pub use error::{Error, OAuthError};
