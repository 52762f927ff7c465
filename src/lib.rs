//! sipgate-oauth: sign in to sipgate with OAuth 2.0 from the command line.
#![forbid(unsafe_code)]

pub mod api;
pub mod app;
pub mod browser;
pub mod callback;
pub mod cli;
pub mod config;
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
