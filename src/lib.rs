//! sipgate-oauth: sign in to sipgate with OAuth 2.0 from the command line.
#![forbid(unsafe_code)]

pub mod error;
pub mod mock;
pub mod query;
pub mod secret;

pub use error::{Error, OAuthError};
