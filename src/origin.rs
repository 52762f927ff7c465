//! The origin rule: a kept token goes only to the origins (scheme, host, port; RFC 6454) the profile
//! signed in with.
//!
//! A profile keeps the URLs it signed in with. A later run may read other values for the same settings
//! (a `.env` in another directory, the environment), and those must not carry the kept bearer token,
//! refresh token or client secret to a server the user never signed in at. [`check`] compares the
//! origin of each setting a command is about to send a kept token to with the origins the profile kept;
//! one outside them is a configuration error naming the setting and both origins. There is no override:
//! `login` with the new configuration is the one way to send tokens somewhere new.

use http::Uri;

use crate::config::Config;
use crate::error::Error;
use crate::store::Record;

/// The settings whose URLs receive a kept token: the API (bearer token), the token endpoint (refresh
/// token and client secret), revocation and logout (refresh token and client secret).
pub(crate) const API: [&str; 2] = ["TEST_API_ENDPOINT", "API_BASE_URL"];
/// The settings that receive the refresh token when a sign-in ends.
pub(crate) const SIGN_OUT: [&str; 2] = ["REVOKE_URL", "LOGOUT_URL"];

/// sipgate's API, where a profile kept before its configuration was (format version 1) sent its token.
const SIPGATE_API: &str = "https://api.sipgate.com/v2/account";

/// `scheme://host[:port]` of `url`, lowercase, the scheme's default port left out; `None` for
/// something that is not an absolute URL.
pub(crate) fn origin(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let host = uri.host()?.to_ascii_lowercase();
    let port = match (scheme.as_str(), uri.port_u16()) {
        ("http", Some(80)) | ("https", Some(443)) | (_, None) => String::new(),
        (_, Some(port)) => format!(":{port}"),
    };
    Some(format!("{scheme}://{host}{port}"))
}

/// The URL `config` has for `var`, one of [`API`], [`SIGN_OUT`] or `TOKEN_URL`.
fn configured<'a>(config: &'a Config, var: &str) -> &'a str {
    match var {
        "TEST_API_ENDPOINT" => &config.api_endpoint,
        "API_BASE_URL" => &config.api_base,
        "REVOKE_URL" => &config.revoke_url,
        "LOGOUT_URL" => &config.logout_url,
        _ => &config.token_url,
    }
}

/// The URL the profile signed in with for `var`; for a record without its configuration (format 1),
/// what that version used: sipgate's API, endpoints beside the token endpoint.
fn kept<'a>(record: &'a Record, var: &str) -> &'a str {
    match record.config.get(var) {
        Some(url) => url,
        None if API.contains(&var) => SIPGATE_API,
        None => &record.token_url,
    }
}

/// The origins the profile signed in with: those of the URLs it kept that receive tokens (not, say, the
/// loopback redirect URI), and of its token endpoint.
fn kept_origins(record: &Record) -> Vec<String> {
    let urls = API.iter().chain(&SIGN_OUT).map(|var| kept(record, var)).chain([record.token_url.as_str()]);
    let mut origins: Vec<String> = urls.filter_map(origin).collect();
    origins.sort_unstable();
    origins.dedup();
    origins
}

/// Checks that each of `vars` in `config` points at an origin `record` signed in with; the first that
/// does not is [`Error::Config`] naming it, its origin and the one the profile kept for it.
pub(crate) fn check(config: &Config, record: &Record, vars: &[&'static str]) -> Result<(), Error> {
    let allowed = kept_origins(record);
    for &var in vars {
        let url = configured(config, var);
        let Some(here) = origin(url) else { continue };
        if allowed.contains(&here) {
            continue;
        }
        let there = origin(kept(record, var)).unwrap_or_else(|| kept(record, var).to_owned());
        return Err(Error::Config {
            var,
            message: format!(
                "points at {here}, but profile {profile} signed in at {there}, and a kept token is sent only to \
                 the servers it signed in with — run `sipgate-oauth login` to sign in with this configuration \
                 (or remove {var} from .env and the environment)",
                profile = config.profile
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_with_defaults_left_out() {
        assert_eq!(origin("https://API.sipgate.com:443/v2/x?y").as_deref(), Some("https://api.sipgate.com"));
        assert_eq!(origin("http://127.0.0.1:8080/v2").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin("http://h:80").as_deref(), Some("http://h"));
        assert_ne!(origin("http://h"), origin("https://h"));
        assert_ne!(origin("http://h:1"), origin("http://h:2"));
        assert_eq!(origin("/v2/account"), None);
    }
}
