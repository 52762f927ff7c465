//! A kept sign-in: the stored tokens of one client, handed out valid and refreshed when needed.
//!
//! Promises: refreshing happens under the store's exclusive lock, and a process that waited for the
//! lock first re-reads the store and uses what the other one got; the new refresh token is on disk
//! before the new access token is handed out (sipgate kills the old one on refresh).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::Config;
use crate::error::{Error, Grant};
use crate::http::Http;
use crate::oauth::{OAuthClient, TokenSet};
use crate::store::{Store, StoredTokens};

/// An access token with less than this left is refreshed before it is handed out.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(30);

/// The stored sign-in of the configured client.
#[derive(Debug)]
pub struct Session<'a> {
    oauth: OAuthClient<'a>,
    config: &'a Config,
    store: Store,
}

impl<'a> Session<'a> {
    /// The session of `config`'s client in `store_dir`.
    pub fn new(http: &'a Http, config: &'a Config, store_dir: std::path::PathBuf) -> Session<'a> {
        let store = Store::new(store_dir, &config.token_url, &config.client_id);
        Session { oauth: OAuthClient::new(http, config), config, store }
    }

    /// The token store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The stored tokens as they are, expired or not; `None` when not signed in.
    pub fn stored(&self) -> Result<Option<TokenSet>, Error> {
        Ok(self.store.load()?.map(from_stored))
    }

    /// Keeps `tokens` (atomically replacing what was stored).
    pub fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        self.store.save(&to_stored(self.config, tokens))
    }

    /// Tokens whose access token is valid for at least [`REFRESH_MARGIN`], refreshed if needed.
    pub fn valid_tokens(&self) -> Result<TokenSet, Error> {
        let tokens = self.stored()?.ok_or(Error::NotSignedIn)?;
        if lasts(&tokens, REFRESH_MARGIN) {
            return Ok(tokens);
        }
        self.refresh(&tokens)
    }

    /// Replaces `stale` tokens (expired, or rejected by the API) with fresh ones. Under the store lock:
    /// if another process already replaced them, its tokens are used; otherwise they are refreshed and
    /// saved before they are returned.
    pub fn refresh(&self, stale: &TokenSet) -> Result<TokenSet, Error> {
        let _lock = self.store.lock()?;
        let current = self.stored()?.ok_or(Error::NotSignedIn)?;
        if current.access_token != stale.access_token && lasts(&current, REFRESH_MARGIN) {
            return Ok(current);
        }
        let refresh_token = current.refresh_token.as_ref().ok_or(Error::NotSignedIn)?;
        let fresh = self.oauth.refresh(refresh_token).map_err(|error| match error {
            Error::OAuth { grant: Grant::Refresh, error } if error.error == "invalid_grant" => {
                Error::SessionExpired(error)
            }
            other => other,
        })?;
        self.save(&fresh)?;
        Ok(fresh)
    }

    /// Ends the sign-in: revokes the refresh token at the server, then deletes the local file even if
    /// the server could not be reached. Returns the server's error, if any, for the caller to report.
    pub fn logout(&self) -> Result<Option<Error>, Error> {
        let _lock = self.store.lock()?;
        let Some(tokens) = self.stored()? else { return Err(Error::NotSignedIn) };
        let revoked = match &tokens.refresh_token {
            Some(refresh_token) => self.oauth.revoke(refresh_token).err(),
            None => None,
        };
        self.store.delete()?;
        Ok(revoked)
    }
}

/// Whether the access token is valid for at least `margin` (unknown expiry counts as valid).
pub fn lasts(tokens: &TokenSet, margin: Duration) -> bool {
    tokens.expires_at.is_none_or(|at| at > SystemTime::now() + margin)
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn to_stored(config: &Config, tokens: &TokenSet) -> StoredTokens {
    StoredTokens {
        token_url: config.token_url.clone(),
        client_id: config.client_id.clone(),
        access_token: tokens.access_token.clone(),
        access_expires_at: tokens.expires_at.map(unix_seconds),
        refresh_token: tokens.refresh_token.clone(),
        refresh_expires_at: tokens.refresh_expires_at.map(unix_seconds),
        scope: tokens.scope.clone(),
        token_type: tokens.token_type.clone(),
    }
}

fn from_stored(stored: StoredTokens) -> TokenSet {
    let time = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    TokenSet {
        access_token: stored.access_token,
        token_type: stored.token_type,
        expires_at: stored.access_expires_at.map(time),
        refresh_token: stored.refresh_token,
        refresh_expires_at: stored.refresh_expires_at.map(time),
        scope: stored.scope,
        id_token: None,
    }
}
