//! The profiles kept in a token store, read without a configuration (for `status` and `logout --all`):
//! their names, what each keeps (never a secret's value), the configuration each signed in with, and
//! whether the configuration here is for another client than a profile's.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::oauth::TokenSet;
use crate::store::Store;

/// The profiles kept in a token store, read without a configuration: for `status` and `logout --all`.
#[derive(Debug, Clone)]
pub struct Profiles {
    dir: PathBuf,
    selected: String,
}

/// What one profile keeps, without its secrets' values.
#[derive(Debug, Clone)]
pub struct KeptProfile {
    /// The profile's name.
    pub name: String,
    /// The client it signed in with.
    pub client_id: String,
    /// The token endpoint its tokens came from.
    pub token_url: String,
    /// Its tokens.
    pub tokens: TokenSet,
    /// Its file.
    pub path: PathBuf,
}

impl KeptProfile {
    /// [`Error::OtherClient`] if `config` (the configuration here) is for another client or token endpoint
    /// than this profile signed in with: every command but `status` refuses its tokens then.
    pub fn other_client_than(&self, config: &Config) -> Option<Error> {
        other_client(config, &self.client_id, &self.token_url)
    }
}

/// [`Error::OtherClient`] if tokens of `client_id` from `token_url` are not for `config`'s client.
pub(crate) fn other_client(config: &Config, client_id: &str, token_url: &str) -> Option<Error> {
    (client_id != config.client_id || token_url != config.token_url).then(|| Error::OtherClient {
        profile: config.profile.clone(),
        kept: format!("{client_id} at {token_url}"),
        configured: format!("{} at {}", config.client_id, config.token_url),
    })
}

impl Profiles {
    /// The token store named by the environment, then `env_file` (or `./.env`): `SIPGATE_OAUTH_STORE`,
    /// `XDG_CONFIG_HOME` or `HOME`; and the selected profile: `profile` (`--profile`), else
    /// `SIPGATE_OAUTH_PROFILE` from the same places, else `default`.
    pub fn locate(env_file: Option<&Path>, profile: Option<&str>) -> Result<Profiles, Error> {
        let file = crate::env_file::read(env_file)?.vars;
        let lookup = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty()).or_else(|| file.get(var).cloned());
        let dir = crate::profile::store_dir(&lookup)
            .map_err(|message| Error::Config { var: crate::profile::STORE_DIR_VAR, message })?;
        let selected = crate::config::profile_name(profile, &lookup)?;
        Ok(Profiles { dir, selected })
    }

    /// The directory of the profiles' files.
    pub fn path(&self) -> PathBuf {
        self.dir.join("profiles")
    }

    /// What [`Session::sign_in_again`](crate::Session::sign_in_again) says, for `profile` and the reason `why`, to a caller without a
    /// session (`status`): `profile NAME is not signed in: WHY — sign in again: …login --profile NAME`.
    pub fn sign_in_needed(profile: &str, why: &str) -> String {
        format!("profile {profile} is not signed in: {why} — sign in again: `sipgate-oauth login --profile {profile}`")
    }

    /// The selected profile's name.
    pub fn selected(&self) -> &str {
        &self.selected
    }

    /// The names of the kept profiles, sorted.
    pub fn names(&self) -> Result<Vec<String>, Error> {
        Store::profiles(&self.dir)
    }

    /// What profile `name` keeps; `None` if nothing.
    pub fn load(&self, name: &str) -> Result<Option<KeptProfile>, Error> {
        let store = Store::new(&self.dir, name);
        Ok(store.load()?.map(|record| KeptProfile {
            name: name.to_owned(),
            client_id: record.client_id,
            token_url: record.token_url,
            tokens: record.tokens,
            path: store.path().to_owned(),
        }))
    }

    /// The configuration profile `name` kept, alone (nothing from the environment or `.env`).
    pub fn config(&self, name: &str) -> Result<Config, Error> {
        let kept = Store::new(&self.dir, name).load()?.map(|record| record.config).unwrap_or_default();
        let dir = self.dir.display().to_string();
        Config::from_lookup(|var| match var {
            "SIPGATE_OAUTH_PROFILE" => Some(name.to_owned()),
            "SIPGATE_OAUTH_STORE" => Some(dir.clone()),
            _ => kept.get(var).cloned(),
        })
    }
}
