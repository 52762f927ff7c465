//! Loading a configuration: the process environment, then `.env`, then what the profile kept when it
//! signed in, then sipgate's defaults. It lives here, above the store, because a profile's kept
//! configuration fills what the environment and `.env` leave unset: the configuration itself never
//! reads the store. What was read of the profile's file is handed on ([`Kept`]), so that a run reads
//! it once.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::store::{Record, Store};

/// What [`Config::load_kept`] read of the profile's file, for
/// [`Session::with_kept`](crate::Session::with_kept): the file is then read once per run, not twice.
#[derive(Debug, Default)]
pub struct Kept(pub(crate) Option<(PathBuf, Record)>);

impl Config {
    /// Loads the configuration of `profile` (else `SIPGATE_OAUTH_PROFILE`, else `default`). Each variable
    /// comes from the first of: the process environment; `env_file` (or `./.env` if it exists); what the
    /// profile kept when it signed in; sipgate's defaults. A missing `./.env` is fine; a missing
    /// `--env-file` is an error.
    pub fn load(env_file: Option<&Path>, profile: Option<&str>) -> Result<Config, Error> {
        Config::load_kept(env_file, profile).map(|(config, _)| config)
    }

    /// [`Config::load`], and what it read of the profile's file, for
    /// [`Session::with_kept`](crate::Session::with_kept).
    pub fn load_kept(env_file: Option<&Path>, profile: Option<&str>) -> Result<(Config, Kept), Error> {
        let crate::env_file::EnvFile { vars: file, warnings } = crate::env_file::read(env_file)?;
        let outer =
            |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty()).or_else(|| file.get(var).cloned());
        let profile = crate::config::profile_name(profile, &outer)?;
        let read = match crate::profile::store_dir(&outer) {
            Ok(dir) => {
                let store = Store::new(&dir, &profile);
                store.load()?.map(|record| (store.path().to_owned(), record))
            }
            Err(_) => None,
        };
        let kept = read.as_ref().map(|(_, record)| &record.config);
        let config = Config::from_lookup(|var| match var {
            "SIPGATE_OAUTH_PROFILE" => Some(profile.clone()),
            _ => outer(var).or_else(|| kept?.get(var).cloned()),
        })?;
        Ok((config.with_file_warnings(warnings), Kept(read)))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use crate::http::Http;
    use crate::oauth::TokenSet;
    use crate::secret::AccessToken;
    use crate::session::Session;

    use super::*;

    fn tokens(access: &str) -> TokenSet {
        let now = SystemTime::now();
        TokenSet {
            access_token: AccessToken::new(access.to_owned()),
            token_type: "bearer".into(),
            received_at: now,
            expires_at: now + Duration::from_secs(300),
            refresh_token: None,
            refresh_expires_at: None,
            scope: Some("account:read".into()),
            id_token: None,
        }
    }

    #[test]
    fn the_kept_record_is_the_first_read_and_never_outlives_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().display().to_string();
        let env = dir.path().join("env");
        std::fs::write(&env, format!("CLIENT_ID=c\nCLIENT_SECRET=s\nSIPGATE_OAUTH_STORE={store}\n")).unwrap();
        let (config, _) = Config::load_kept(Some(&env), None).unwrap();
        let http = Http::new(Duration::from_secs(1));
        Session::new(&http, &config).unwrap().save(&tokens("first")).unwrap();

        let (config, kept) = Config::load_kept(Some(&env), None).unwrap();
        assert!(kept.0.is_some(), "the profile's record was read with its configuration");
        let session = Session::with_kept(&http, &config, kept).unwrap();
        assert_eq!(session.stored().unwrap().unwrap().access_token.secret(), "first");
        // A write after the kept read: what the session reads next is the file, not the older read.
        let (config, kept) = Config::load_kept(Some(&env), None).unwrap();
        let session = Session::with_kept(&http, &config, kept).unwrap();
        session.save(&tokens("second")).unwrap();
        assert_eq!(session.stored().unwrap().unwrap().access_token.secret(), "second");
    }
}
