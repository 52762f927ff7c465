//! The first version's sign-ins (`tokens-<hash>.json` in the store directory), for `logout --all`: each is
//! revoked at the server with a configuration for its client where one is at hand (the file holds tokens
//! only), then removed with its lock file.
//!
//! Promises: a refresh token goes only to the origin its token endpoint has (the
//! [origin rule](crate::origin) for a sign-in kept without its configuration); a file that cannot be read
//! is reported and left as it is, as the store does with a profile's.

use std::path::PathBuf;

use crate::config::Config;
use crate::error::Error;
use crate::http::Http;
use crate::oauth::OAuthClient;
use crate::origin;
use crate::profiles::Profiles;
use crate::store::Store;

/// A token file the first version of this tool kept: one sign-in of one client, without its configuration.
#[derive(Debug, Clone)]
pub struct LegacySignIn {
    path: PathBuf,
}

impl Profiles {
    /// The first version's sign-ins in this token store, sorted by file name.
    pub fn legacy_sign_ins(&self) -> Result<Vec<LegacySignIn>, Error> {
        let (files, _) = Store::legacy_files(&self.store_dir())?;
        Ok(files.into_iter().map(|path| LegacySignIn { path }).collect())
    }

    /// Removes the first version's lock files whose token file is gone (carried over into a profile by an
    /// older run, say).
    pub fn remove_stale_legacy_locks(&self) -> Result<(), Error> {
        let (_, stale) = Store::legacy_files(&self.store_dir())?;
        stale.iter().try_for_each(|lock| Store::remove_legacy(lock))
    }

    fn store_dir(&self) -> PathBuf {
        let profiles = self.path();
        profiles.parent().map(PathBuf::from).unwrap_or(profiles)
    }
}

impl LegacySignIn {
    /// Its file name, `tokens-<16 hex digits>.json`.
    pub fn name(&self) -> String {
        self.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Revokes its refresh token at the server with the first of `configs` that is for its client and
    /// token endpoint (over `http` of that configuration), then removes the file and its lock file, as
    /// [`crate::Session::logout`] does: `Ok(Some(why))` if the tokens were removed but not revoked (the
    /// server failed, or no configuration is for its client). A file that cannot be read, or a revocation
    /// URL on another origin than the token endpoint, is an error, and the file stays.
    pub fn sign_out(&self, configs: &[Config], http: &dyn Fn(&Config) -> Http) -> Result<Option<Error>, Error> {
        // Under the file's lock: a `token` carrying it over into a profile right now finishes first (and
        // the profile is signed out with the others), or finds it gone.
        let _lock = Store::lock_legacy(&self.path)?;
        let Some(record) = Store::read_legacy(&self.path)? else {
            Store::remove_legacy(&self.path)?;
            return Ok(None);
        };
        let config = configs.iter().find(|c| c.client_id == record.client_id && c.token_url == record.token_url);
        let revoked = match (config, &record.tokens.refresh_token) {
            (_, None) => None,
            (Some(config), Some(refresh_token)) => {
                origin::check(config, &record, &origin::SIGN_OUT)?;
                OAuthClient::new(&http(config), config).revoke(refresh_token).err()
            }
            (None, Some(_)) => Some(Error::Config {
                var: "CLIENT_ID",
                message: format!(
                    "no configuration at hand (.env, the environment or a kept profile) is for client {} at {}",
                    record.client_id, record.token_url
                ),
            }),
        };
        Store::remove_legacy(&self.path)?;
        Ok(revoked)
    }
}
