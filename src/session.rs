//! A kept sign-in: the stored tokens of one client, handed out valid and refreshed when needed, and API
//! calls made with them.
//!
//! Promises: refreshing happens under the store's exclusive lock, and a process that waited for the
//! lock first re-reads the store and uses what another process got meanwhile; the new refresh token is
//! on disk before the new access token is handed out (sipgate kills the old one on refresh). An API call
//! answered 401 is refreshed once and retried once. A [`LiveSession`] does the same for the many threads of
//! a long-running server (`proxy`, `mcp`): one refresh serves them all, and a dead sign-in is an answer,
//! not an exit.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::api::{self, ApiRequest, ApiResponse};
use crate::config::Config;
use crate::error::{Error, Grant};
use crate::http::{Http, Response};
use crate::kept::Kept;
use crate::oauth::{OAuthClient, TokenSet};
use crate::origin;
use crate::profiles::{Profiles, other_client};
use crate::secret::AccessToken;
use crate::store::{Record, Store, StoreLock};

/// The kept sign-in of the configured client.
#[derive(Debug)]
pub struct Session<'a> {
    http: &'a Http,
    oauth: OAuthClient<'a>,
    config: &'a Config,
    store: Store,
    /// The record [`Config::load_kept`] read moments ago: the first read is served from it, and any
    /// other use of the store drops it (so it is never older than a write of this process).
    first_read: Mutex<Option<Record>>,
}

impl<'a> Session<'a> {
    /// The kept sign-in of `config`'s profile, in `config`'s token store. Touches no file; fails only when
    /// there is no place for a token store (no `HOME`, `XDG_CONFIG_HOME` or `SIPGATE_OAUTH_STORE`).
    pub fn new(http: &'a Http, config: &'a Config) -> Result<Session<'a>, Error> {
        let dir = config
            .store_dir
            .clone()
            .map_err(|message| Error::Config { var: crate::profile::STORE_DIR_VAR, message })?;
        let store = Store::new(&dir, &config.profile);
        Ok(Session { http, oauth: OAuthClient::new(http, config), config, store, first_read: Mutex::default() })
    }

    /// [`Session::new`], with what `Config::load_kept` read of the same profile's file as its first read.
    pub fn with_kept(http: &'a Http, config: &'a Config, kept: Kept) -> Result<Session<'a>, Error> {
        let mut session = Session::new(http, config)?;
        if let Some((_, record)) = kept.0.filter(|(path, _)| path == session.store.path()) {
            *session.first_read.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(record);
        }
        Ok(session)
    }

    /// The store, for any use but the first read: drops the record read before.
    fn store(&self) -> &Store {
        self.first_read.lock().unwrap_or_else(PoisonError::into_inner).take();
        &self.store
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    /// The stored tokens as they are, expired or not; `None` when not signed in. Tokens the profile keeps
    /// for another client or server than the configured one are [`Error::OtherClient`].
    pub fn stored(&self) -> Result<Option<TokenSet>, Error> {
        Ok(self.record()?.map(|record| record.tokens))
    }

    /// The profile's record, if it keeps one for the configured client and server. A sign-in the first
    /// version of this tool kept (one file per client in the store directory) is carried over into the
    /// profile on first use, under the store's lock.
    fn record(&self) -> Result<Option<Record>, Error> {
        let first = self.first_read.lock().unwrap_or_else(PoisonError::into_inner).take();
        match first.map_or_else(|| self.store.load(), |record| Ok(Some(record)))? {
            Some(record) => self.same_client(record).map(Some),
            None if self.legacy()?.is_some() => self.record_locked(&self.store().lock()?),
            None => Ok(None),
        }
    }

    /// [`Session::record`] for a caller that holds the store's lock.
    fn record_locked(&self, lock: &StoreLock) -> Result<Option<Record>, Error> {
        match self.store().load()? {
            Some(record) => self.same_client(record).map(Some),
            None => self.carry_over(lock),
        }
    }

    /// `record`, if it was kept for the configured client and token endpoint.
    fn same_client(&self, record: Record) -> Result<Record, Error> {
        match other_client(self.config, &record.client_id, &record.token_url) {
            Some(error) => Err(error),
            None => Ok(record),
        }
    }

    /// The first version's token file of the configured client, if there is one.
    fn legacy(&self) -> Result<Option<(Record, PathBuf)>, Error> {
        let Ok(dir) = &self.config.store_dir else { return Ok(None) };
        Store::load_legacy(dir, &self.config.token_url, &self.config.client_id)
    }

    /// Moves the first version's token file of the configured client, if there is one, into the profile.
    fn carry_over(&self, _lock: &StoreLock) -> Result<Option<Record>, Error> {
        let Some((_, path)) = self.legacy()? else { return Ok(None) };
        // `logout --all` may be signing the file out right now: under the file's own lock, one of the two
        // has it and the other finds it gone (and removes the lock file it waited on).
        let _legacy = Store::lock_legacy(&path)?;
        let Some((old, path)) = self.legacy()? else {
            let _ = Store::remove_legacy(&path);
            return Ok(None);
        };
        self.store().save(&self.new_record(&old.tokens))?;
        // The profile holds the tokens now; a file left behind would only be read again, never used (its
        // lock file goes too).
        let _ = Store::remove_legacy(&path);
        self.store().load()
    }

    /// Keeps `tokens` of a new sign-in with the configuration they were signed in with, atomically
    /// replacing what was stored, under the store's lock (so a sign-out or a refresh running meanwhile
    /// finishes first and cannot undo it). The one place the kept configuration changes.
    pub fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        let _lock = self.store().lock()?;
        self.store().save(&self.new_record(tokens))
    }

    /// The record of a new sign-in: `tokens` with the configuration of this run; no user id yet.
    fn new_record(&self, tokens: &TokenSet) -> Record {
        Record {
            token_url: self.config.token_url.clone(),
            client_id: self.config.client_id.clone(),
            tokens: tokens.clone(),
            user_id: None,
            config: self.config.kept(),
        }
    }

    /// Checks that `vars` of the configuration point only where the kept sign-in was made
    /// ([the origin rule](crate::origin)).
    fn check_origins(&self, vars: &[&'static str]) -> Result<(), Error> {
        match self.record()? {
            Some(record) => origin::check(self.config, &record, vars),
            None => Err(Error::NotSignedIn),
        }
    }

    /// The signed-in user's id (`w0`, …: the `sub` of `GET /authorization/userinfo`), which paths such as
    /// `/{userId}/sms` take. Asked once per sign-in and kept with the tokens.
    pub fn user_id(&self) -> Result<String, Error> {
        if let Some(user_id) = self.record()?.and_then(|record| record.user_id) {
            return Ok(user_id);
        }
        let userinfo = "/authorization/userinfo";
        let answer = self.call("GET", userinfo, None)?;
        let user_id = serde_json::from_str::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|info| info.get("sub").and_then(serde_json::Value::as_str).map(str::to_owned))
            .filter(|sub| !sub.is_empty() && sub.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .ok_or_else(|| Error::BadApiAnswer {
                what: format!("GET {userinfo}"),
                reason: "without a user id (`sub`)".to_owned(),
            })?;
        let lock = self.store().lock()?;
        if let Some(record) = self.record_locked(&lock)? {
            self.store().save(&Record { user_id: Some(user_id.clone()), ..record })?;
        }
        Ok(user_id)
    }

    /// Tokens whose access token is valid for at least its [refresh margin](TokenSet::refresh_margin),
    /// refreshed if needed.
    pub fn valid_tokens(&self) -> Result<TokenSet, Error> {
        let tokens = self.stored()?.ok_or(Error::NotSignedIn)?;
        if tokens.access_valid_for(tokens.refresh_margin()) {
            return Ok(tokens);
        }
        self.refresh(&tokens)
    }

    /// Replaces `stale` tokens (expired, or rejected by the API) with fresh ones. Under the store lock:
    /// if another process already replaced them, its tokens are used; otherwise they are refreshed and
    /// saved before they are returned. A refresh changes the tokens only, never the kept configuration;
    /// and if the profile changed meanwhile (another sign-in), the newer sign-in is left as it is.
    pub fn refresh(&self, stale: &TokenSet) -> Result<TokenSet, Error> {
        let lock = self.store().lock()?;
        let record = self.record_locked(&lock)?.ok_or(Error::NotSignedIn)?;
        let current = &record.tokens;
        if current.access_token != stale.access_token && current.access_valid_for(current.refresh_margin()) {
            return Ok(record.tokens);
        }
        let refresh_token = current.refresh_token.as_ref().ok_or(Error::NoRefreshToken)?;
        let fresh = self.oauth.refresh(refresh_token).map_err(|error| match error {
            Error::OAuth { grant: Grant::Refresh, error } if error.error == "invalid_grant" => {
                Error::SessionExpired(error)
            }
            other => other,
        })?;
        // A writer that ignored the lock (an older version of this tool) may have signed in meanwhile.
        if self.store().load()?.is_some_and(|now| now.tokens.refresh_token == record.tokens.refresh_token) {
            self.store().save(&Record { tokens: fresh.clone(), ..record })?;
        }
        Ok(fresh)
    }

    /// Calls the API: `method` on `path` (below `API_BASE_URL`, or a full URL below it) with an optional
    /// JSON body, refreshing the tokens first if they are about to expire, and once more if the API answers
    /// 401. Non-2xx answers are errors.
    pub fn call(&self, method: &str, path: &str, json: Option<&str>) -> Result<Response, Error> {
        let url = self.config.api_url(path)?;
        self.check_origins(&origin::API)?;
        let mut tokens = self.valid_tokens()?;
        api::call(self.http, &self.config.api_base, method, &url, json, &mut tokens, |stale| self.refresh(stale))
    }

    /// Sends `request` as [`call`](Session::call) does (tokens refreshed before and on 401), with its
    /// headers and any body, and returns the answer whatever its status: a non-2xx answer carries the
    /// error `call` would have returned, for the caller to report after showing the answer.
    pub fn send(&self, request: &ApiRequest) -> Result<ApiResponse, Error> {
        let url = self.config.api_url(&request.path)?;
        self.check_origins(&origin::API)?;
        let mut tokens = self.valid_tokens()?;
        api::send(self.http, &self.config.api_base, request, &url, &mut tokens, |stale| self.refresh(stale))
    }

    /// The profile this sign-in belongs to.
    pub fn profile(&self) -> &str {
        &self.config.profile
    }

    /// What to tell a user whose call failed with `error`, when only a new sign-in mends it
    /// ([`Error::needs_sign_in`]): why, and the command for this profile, `sipgate-oauth login --profile
    /// NAME`. `None` for every other error. For a program that keeps running after such a call (`mcp`,
    /// `proxy`): it answers with this and goes on; the next call reads the store again, so a `login` in
    /// another terminal mends it without a restart.
    pub fn sign_in_again(&self, error: &Error) -> Option<String> {
        let why = match error {
            Error::NotSignedIn => "nothing is kept for it".to_owned(),
            Error::SessionExpired(error) => format!("its refresh token is no longer valid ({})", error.error),
            Error::NoRefreshToken => "its access token expired and there is no refresh token to renew it".to_owned(),
            Error::Unauthorized { .. } => "the API rejects its token even after a refresh".to_owned(),
            _ => return None,
        };
        Some(Profiles::sign_in_needed(self.profile(), &why))
    }

    /// Ends the sign-in: revokes the refresh token at the server, then deletes the local file even if
    /// the server could not be reached. Returns the server's error, if any, for the caller to report.
    pub fn logout(&self) -> Result<Option<Error>, Error> {
        let lock = self.store().lock()?;
        let Some(record) = self.record_locked(&lock)? else { return Err(Error::NotSignedIn) };
        origin::check(self.config, &record, &origin::SIGN_OUT)?;
        let revoked = match &record.tokens.refresh_token {
            Some(refresh_token) => self.oauth.revoke(refresh_token).err(),
            None => None,
        };
        self.store().delete(lock)?;
        Ok(revoked)
    }
}

/// A kept sign-in shared by the threads of a long-running server (`proxy`, `mcp`).
///
/// Promises: the access token handed out is valid for at least its refresh margin; it is kept in memory
/// and the store is read again only when it runs short or is rejected. Threads that need a new token wait
/// for the one that is getting it, so one refresh serves every thread of the process, and the store's lock
/// makes it serve other processes too. A failed refresh is returned to the one request that asked; the
/// next request tries again (and finds the tokens of a new `login`).
#[derive(Debug)]
pub struct LiveSession {
    http: Http,
    config: Config,
    /// The tokens handed out last; `None` until the first request.
    current: Mutex<Option<TokenSet>>,
}

impl LiveSession {
    /// The kept sign-in of `config`'s profile. Touches no file (a server starts even when the sign-in is
    /// dead, and answers every request with [`Session::sign_in_again`] until it is renewed).
    pub fn new(http: Http, config: Config) -> Result<LiveSession, Error> {
        Session::new(&http, &config)?;
        Ok(LiveSession { http, config, current: Mutex::new(None) })
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The HTTP client it was made with.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The [`Session`] of the kept sign-in, for what a `LiveSession` does not do itself.
    pub fn session(&self) -> Session<'_> {
        // Display, not `expect`'s Debug: Debug of `Error` would pull every inner error's Debug into the binary.
        Session::new(&self.http, &self.config)
            .unwrap_or_else(|error| panic!("LiveSession::new made a Session of the same configuration: {error}"))
    }

    /// Tokens whose access token is valid for at least its refresh margin: the ones in memory, else the
    /// kept ones, refreshed if needed.
    pub fn tokens(&self) -> Result<TokenSet, Error> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tokens) = current.as_ref().filter(|t| t.access_valid_for(t.refresh_margin())) {
            return Ok(tokens.clone());
        }
        let session = self.session();
        session.check_origins(&origin::API)?;
        let fresh = session.valid_tokens()?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// New tokens after the API rejected `stale` (HTTP 401): those another thread or process got
    /// meanwhile, else refreshed ones.
    pub fn rejected(&self, stale: &TokenSet) -> Result<TokenSet, Error> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let replaced = |t: &&TokenSet| t.access_token != stale.access_token && t.access_valid_for(t.refresh_margin());
        if let Some(tokens) = current.as_ref().filter(replaced) {
            return Ok(tokens.clone());
        }
        let fresh = self.session().refresh(stale)?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Sends a request with a valid access token: `send` is handed the token and returns the answer,
    /// `is_rejected` tells a 401 answer. A rejected request is refreshed once and sent once more when
    /// `replayable` (its body is still at hand); otherwise the rejection is returned as it is, and the
    /// tokens are renewed for the next request.
    pub fn send<T>(
        &self,
        replayable: bool,
        mut send: impl FnMut(&AccessToken) -> Result<T, Error>,
        is_rejected: impl Fn(&T) -> bool,
    ) -> Result<T, Error> {
        let tokens = self.tokens()?;
        let answer = send(&tokens.access_token)?;
        if !is_rejected(&answer) {
            return Ok(answer);
        }
        if !replayable {
            // The answer goes back as it is; a failed renewal shows on the next request.
            let _ = self.rejected(&tokens);
            return Ok(answer);
        }
        let fresh = self.rejected(&tokens)?;
        send(&fresh.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_sign_in_names_the_login_command_of_its_profile() {
        let config = Config::from_lookup(|var| match var {
            "CLIENT_ID" => Some("client".into()),
            "CLIENT_SECRET" => Some("secret".into()),
            "SIPGATE_OAUTH_PROFILE" => Some("work".into()),
            "SIPGATE_OAUTH_STORE" => Some("/nonexistent/store".into()),
            _ => None,
        })
        .unwrap();
        let http = Http::new(std::time::Duration::from_secs(1));
        let session = Session::new(&http, &config).unwrap();
        let stale = crate::error::OAuthError::new("invalid_grant".into(), Some("Stale token".into()), None);
        assert_eq!(
            session.sign_in_again(&Error::SessionExpired(stale)).unwrap(),
            "profile work is not signed in: its refresh token is no longer valid (invalid_grant) — sign in again: \
             `sipgate-oauth login --profile work`"
        );
        assert!(session.sign_in_again(&Error::NotSignedIn).unwrap().ends_with("`sipgate-oauth login --profile work`"));
        assert_eq!(
            session.sign_in_again(&Error::Status { what: "GET x".into(), status: 500, excerpt: "".into() }),
            None
        );
    }
}
