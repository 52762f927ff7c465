//! Configuration: read once from the environment and a `.env` file, validated before anything else
//! happens.
//!
//! The keys are those of sipgate's Python example, so its `.env` works unchanged. The real environment
//! wins over the file. A [`Config`] is immutable once built; every error names the variable at fault.

use std::net::IpAddr;
use std::path::PathBuf;

use http::Uri;

use crate::ca_file::CaFile;
use crate::error::Error;
use crate::secret::ClientSecret;

/// Where to sign up for a client, shown when CLIENT_ID or CLIENT_SECRET is missing.
const CONSOLE_HINT: &str = "create a client at https://console.sipgate.com (Clients → New client, then \
    \"Add redirect uri\") and put its id and secret into .env — or try `sipgate-oauth demo`, which needs neither";

/// Scopes of OpenID Connect (and Keycloak) that sipgate's API description does not list but its
/// server understands; `OAUTH_SCOPE` may hold them without a warning.
const OIDC_SCOPES: [&str; 5] = ["offline_access", "profile", "email", "phone", "address"];

/// The realm of sipgate's login when `REALM` is not set: the one of sipgate's Python example.
const DEFAULT_REALM: &str = "third-party";

/// sipgate's defaults: what a variable is when nothing sets it. The login URLs follow `REALM`.
fn default(var: &str, realm: &str) -> Option<String> {
    let login = format!("https://login.sipgate.com/auth/realms/{realm}/protocol/openid-connect");
    Some(match var {
        "AUTH_URL" => format!("{login}/auth"),
        "TOKEN_URL" => format!("{login}/token"),
        "TEST_API_ENDPOINT" => "https://api.sipgate.com/v2/account".to_owned(),
        "OAUTH_SCOPE" => "account:read".to_owned(),
        "REDIRECT_URI" => "http://localhost:8080/oauth".to_owned(),
        _ => return None,
    })
}

/// Whether `text` is a plain name: letters, digits, `-`, `_` and `.`.
fn is_name(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The variables a profile keeps (and [`Config::kept`] returns): everything that says which server and
/// which client, nothing about this machine (`BROWSER`, `SIPGATE_OAUTH_STORE`).
const KEPT: [&str; 13] = [
    "AUTH_URL",
    "TOKEN_URL",
    "TEST_API_ENDPOINT",
    "API_BASE_URL",
    "REVOKE_URL",
    "LOGOUT_URL",
    "DEVICE_AUTH_URL",
    "ISSUER",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "OAUTH_SCOPE",
    "REDIRECT_URI",
    "SIPGATE_OAUTH_CA_FILE",
];

/// The validated configuration of one run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--profile` or `SIPGATE_OAUTH_PROFILE`: whose configuration and tokens; `default` if not set.
    pub profile: String,
    /// `AUTH_URL`: the authorization endpoint (RFC 6749 §3.1).
    pub auth_url: String,
    /// `TOKEN_URL`: the token endpoint (RFC 6749 §3.2).
    pub token_url: String,
    /// `TEST_API_ENDPOINT`: the URL called after sign-in (sipgate: `/v2/account`).
    pub api_endpoint: String,
    /// `API_BASE_URL`: base of relative API paths; by default TEST_API_ENDPOINT without its last segment.
    pub api_base: String,
    /// `REVOKE_URL`: RFC 7009 revocation endpoint; by default derived from TOKEN_URL.
    pub revoke_url: String,
    /// `LOGOUT_URL`: Keycloak's logout endpoint; by default derived from TOKEN_URL.
    pub logout_url: String,
    /// `DEVICE_AUTH_URL`: the device authorization endpoint (RFC 8628 §3.1); unset, `--device` looks
    /// it up in the discovery document.
    pub device_auth_url: Option<String>,
    /// `CLIENT_ID`.
    pub client_id: String,
    /// `CLIENT_SECRET`.
    pub client_secret: ClientSecret,
    /// `OAUTH_SCOPE`: space-separated scopes.
    pub scope: String,
    /// `REDIRECT_URI`, split into its parts.
    pub redirect: RedirectUri,
    /// `SIPGATE_OAUTH_STORE`: where tokens are kept; by default `$XDG_CONFIG_HOME/sipgate-oauth`, else
    /// `~/.config/sipgate-oauth`; `None` (with the reason) when none of these is set.
    pub store_dir: Result<PathBuf, String>,
    /// `BROWSER`: the program that opens the sign-in URL; by default the platform's opener.
    pub browser: Option<String>,
    /// `ISSUER`: the authorization server's issuer a callback's `iss` must equal (RFC 9207); by default
    /// read off a Keycloak AUTH_URL.
    pub issuer: Option<String>,
    /// What looked wrong but harmless in the `.env` file (see [`Config::warnings`]).
    file_warnings: Vec<String>,
    /// `SIPGATE_OAUTH_CA_FILE`: certificate authorities trusted in addition to the built-in and the
    /// system's roots (docs/tls.md); read and checked here, before any request.
    pub ca_file: Option<CaFile>,
}

/// A loopback redirect URI (RFC 8252 §7.3): `http://HOST:PORT/PATH` with HOST a loopback name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    /// The host as written: `localhost`, `127.0.0.1`, `[::1]`, …
    pub host: String,
    /// The port; 0 means "any free port", and the URI sent to the server then carries the real one.
    pub port: u16,
    /// The path the callback arrives on, e.g. `/oauth`.
    pub path: String,
}

impl RedirectUri {
    /// The URI with `port` in place of the configured one.
    pub fn with_port(&self, port: u16) -> String {
        format!("http://{}:{port}{}", self.host, self.path)
    }

    /// Whether the host is the name `localhost` (then both 127.0.0.1 and ::1 are served).
    pub fn is_localhost_name(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
    }
}

impl Config {
    /// Builds the configuration from `lookup` (a variable name → its value). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let set = |var: &str| lookup(var).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let realm = set("REALM").unwrap_or_else(|| DEFAULT_REALM.to_owned());
        if !is_name(&realm) {
            let message = format!("{realm:?} is not a realm name (sipgate has third-party and sipgate-apps)");
            return Err(Error::Config { var: "REALM", message });
        }
        let get = |var: &str| set(var).or_else(|| default(var, &realm));
        let required = |var: &'static str, why: &str| {
            get(var).ok_or_else(|| Error::Config { var, message: format!("is not set — {why}") })
        };
        let profile = profile_name(None, &get)?;

        let client_id = required("CLIENT_ID", CONSOLE_HINT)?;
        let client_secret = ClientSecret::new(required("CLIENT_SECRET", CONSOLE_HINT)?);
        let url_hint = "set it as in .env.example";
        let auth_url = endpoint("AUTH_URL", &required("AUTH_URL", url_hint)?)?;
        let token_url = endpoint("TOKEN_URL", &required("TOKEN_URL", url_hint)?)?;
        let api_endpoint = endpoint("TEST_API_ENDPOINT", &required("TEST_API_ENDPOINT", url_hint)?)?;
        let scope = required("OAUTH_SCOPE", "set the scopes to request, e.g. OAUTH_SCOPE=account:read")?;
        let redirect = redirect_uri(&required("REDIRECT_URI", "e.g. REDIRECT_URI=http://localhost:8080/oauth")?)?;

        if let Some(port) = get("PORT") {
            let parsed: Option<u16> = port.parse().ok();
            if parsed != Some(redirect.port) {
                return Err(Error::Config {
                    var: "PORT",
                    message: format!(
                        "is {port} but REDIRECT_URI uses port {} — they must be the same; \
                         change PORT, or remove it (REDIRECT_URI alone decides the port)",
                        redirect.port
                    ),
                });
            }
        }

        let derived = |var: &'static str, last: &str| match get(var) {
            Some(url) => endpoint(var, &url),
            None => Ok(sibling(&token_url, last)),
        };
        let revoke_url = derived("REVOKE_URL", "revoke")?;
        let logout_url = derived("LOGOUT_URL", "logout")?;
        let device_auth_url = get("DEVICE_AUTH_URL").map(|url| endpoint("DEVICE_AUTH_URL", &url)).transpose()?;
        let api_base = match get("API_BASE_URL") {
            Some(url) => endpoint("API_BASE_URL", &url)?.trim_end_matches('/').to_owned(),
            None => parent(&api_endpoint),
        };

        let ca_file = get("SIPGATE_OAUTH_CA_FILE").map(|path| ca_file(&path)).transpose()?;
        let store_dir = crate::profile::store_dir(&|var| get(var));
        Ok(Config {
            profile,
            store_dir,
            browser: get("BROWSER"),
            issuer: get("ISSUER"),
            ca_file,
            auth_url,
            token_url,
            api_endpoint,
            api_base,
            revoke_url,
            logout_url,
            device_auth_url,
            client_id,
            client_secret,
            scope,
            redirect,
            file_warnings: Vec::new(),
        })
    }

    /// The URL of an API path: `/account` or `account` → `{API_BASE_URL}/account`. A full URL is accepted
    /// only below the API base, so the token is never sent elsewhere.
    pub fn api_url(&self, path: &str) -> Result<String, Error> {
        if path == self.api_endpoint {
            return Ok(path.to_owned());
        }
        if path.contains("://") {
            let below_base =
                path.strip_prefix(&self.api_base).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
            return match below_base {
                true => Ok(path.to_owned()),
                false => Err(Error::Usage(format!(
                    "{path} is not below the API base {} — pass a path like /account (or set API_BASE_URL)",
                    self.api_base
                ))),
            };
        }
        Ok(format!("{}/{}", self.api_base, path.trim_start_matches('/')))
    }

    /// What looks wrong in the configuration but does not stop the run, for the user to see first: the
    /// `.env` file's harmless slips (a misspelt setting, spaces inside quotes), then [`Config::scope_warnings`].
    pub fn warnings(&self) -> Vec<String> {
        self.file_warnings.iter().cloned().chain(self.scope_warnings()).collect()
    }

    /// Warnings about `OAUTH_SCOPE`: one for each scope that sipgate's API description does not list
    /// (OpenID Connect's own scopes aside), with the closest known one when there is one. Not errors:
    /// sipgate may have added scopes since the table was made, so they are requested as written.
    pub fn scope_warnings(&self) -> Vec<String> {
        self.scope
            .split_whitespace()
            .filter(|scope| !crate::operations::is_known_scope(scope) && !OIDC_SCOPES.contains(scope))
            .map(|scope| match crate::operations::closest_scope(scope) {
                Some(known) => format!("OAUTH_SCOPE has `{scope}`, which sipgate does not know — did you mean `{known}`?"),
                None => format!(
                    "OAUTH_SCOPE has `{scope}`, which is not among sipgate's scopes (`sipgate-oauth scopes` lists them); \
                     it is requested all the same"
                ),
            })
            .collect()
    }

    /// This configuration with the harmless slips found in its `.env` file, for [`Config::warnings`].
    pub(crate) fn with_file_warnings(self, file_warnings: Vec<String>) -> Config {
        Config { file_warnings, ..self }
    }

    /// The authorization server's issuer (RFC 9207 `iss`): `ISSUER` if set, else where AUTH_URL shows it —
    /// Keycloak's `…/realms/NAME/protocol/openid-connect/auth` belongs to the issuer `…/realms/NAME`.
    pub(crate) fn issuer(&self) -> Option<String> {
        if let Some(issuer) = &self.issuer {
            return Some(issuer.clone());
        }
        let issuer = self.auth_url.strip_suffix("/protocol/openid-connect/auth")?;
        issuer.rsplit_once("/realms/").is_some().then(|| issuer.to_owned())
    }

    /// What a profile keeps of this configuration, variable → value: the server's URLs, the client (its
    /// secret included), the scope and the redirect URI.
    pub(crate) fn kept(&self) -> std::collections::BTreeMap<String, String> {
        let value = |var: &str| -> Option<String> {
            Some(match var {
                "AUTH_URL" => self.auth_url.clone(),
                "TOKEN_URL" => self.token_url.clone(),
                "TEST_API_ENDPOINT" => self.api_endpoint.clone(),
                "API_BASE_URL" => self.api_base.clone(),
                "REVOKE_URL" => self.revoke_url.clone(),
                "LOGOUT_URL" => self.logout_url.clone(),
                "DEVICE_AUTH_URL" => self.device_auth_url.clone()?,
                "ISSUER" => self.issuer.clone()?,
                "CLIENT_ID" => self.client_id.clone(),
                "CLIENT_SECRET" => self.client_secret.secret().to_owned(),
                "OAUTH_SCOPE" => self.scope.clone(),
                "REDIRECT_URI" => self.redirect.with_port(self.redirect.port),
                "SIPGATE_OAUTH_CA_FILE" => self.ca_file.as_ref()?.path().display().to_string(),
                _ => return None,
            })
        };
        // Extended, not collected: a map's `collect` sorts its entries first (docs/performance.md, "Size").
        let mut kept = std::collections::BTreeMap::new();
        kept.extend(KEPT.iter().filter_map(|&var| Some((var.to_owned(), value(var)?))));
        kept
    }
}

/// The selected profile: `flag` (`--profile`), else `SIPGATE_OAUTH_PROFILE` as `lookup` finds it, else
/// `default`; a name that cannot be a file name is an error naming where it came from.
pub(crate) fn profile_name(flag: Option<&str>, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
    let name = flag.map(str::to_owned).or_else(|| lookup("SIPGATE_OAUTH_PROFILE"));
    let name = name.unwrap_or_else(|| "default".to_owned());
    if crate::profile::is_profile_name(&name) {
        return Ok(name);
    }
    let message = format!("{name:?} is not a profile name: 1 to 64 letters, digits, - and _");
    Err(match flag {
        Some(_) => Error::Usage(format!("--profile {message}")),
        None => Error::Config { var: "SIPGATE_OAUTH_PROFILE", message },
    })
}

/// Whether `host` (as in a URL, IPv6 in brackets) is a loopback host: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses an endpoint URL: absolute, `https://`, or `http://` on a loopback host only.
fn endpoint(var: &'static str, value: &str) -> Result<String, Error> {
    let invalid = |why: &str| Error::Config { var, message: format!("{why} (got {value:?})") };
    let uri: Uri = value.parse().map_err(|_| invalid("is not a valid URL"))?;
    let host = uri.host().ok_or_else(|| invalid("is not an absolute URL with a host"))?;
    match uri.scheme_str() {
        Some("https") => Ok(value.to_owned()),
        Some("http") if is_loopback_host(host) => Ok(value.to_owned()),
        Some("http") => Err(invalid("must use https:// (plain http:// is only allowed for loopback hosts)")),
        _ => Err(invalid("must start with https://")),
    }
}

/// Reads SIPGATE_OAUTH_CA_FILE, made absolute so that the profile can keep it for use in other directories.
fn ca_file(value: &str) -> Result<CaFile, Error> {
    let invalid = |why: String| Error::Config {
        var: "SIPGATE_OAUTH_CA_FILE",
        message: format!("{why} — set it to a PEM file with the certificate of the authority to trust"),
    };
    let path = std::path::absolute(value).map_err(|error| invalid(format!("cannot read {value}: {error}")))?;
    CaFile::read(&path).map_err(invalid)
}

/// Parses REDIRECT_URI: `http://` on a loopback host, with a port (explicit or 80) and a path.
fn redirect_uri(value: &str) -> Result<RedirectUri, Error> {
    let invalid = |why: &str| Error::Config {
        var: "REDIRECT_URI",
        message: format!("{why} (got {value:?}); use e.g. http://localhost:8080/oauth and register it for your client"),
    };
    let uri: Uri = value.parse().map_err(|_| invalid("is not a valid URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(invalid("must start with http:// — the callback is served on this machine"));
    }
    let host = uri.host().filter(|h| is_loopback_host(h)).ok_or_else(|| {
        invalid("must point at this machine (localhost, 127.0.0.1 or [::1]) — the callback server listens there")
    })?;
    if uri.query().is_some() || value.contains('#') {
        return Err(invalid("must not have a query or fragment"));
    }
    let path = uri.path();
    if path == "/" {
        return Err(invalid("needs a path, like /oauth"));
    }
    Ok(RedirectUri { host: host.to_owned(), port: uri.port_u16().unwrap_or(80), path: path.to_owned() })
}

/// `https://h/a/b/token` + `revoke` → `https://h/a/b/revoke`.
fn sibling(url: &str, last: &str) -> String {
    format!("{}/{last}", parent(url))
}

/// `https://h/v2/account` → `https://h/v2`.
fn parent(url: &str) -> String {
    let path_start = url.find("://").map_or(0, |i| i + 3);
    match url[path_start..].rfind('/') {
        Some(i) => url[..path_start + i].to_owned(),
        None => url.to_owned(),
    }
}

/// The Python example's `.env` with sipgate's URLs and made-up credentials, with `changes` applied.
#[cfg(test)]
pub(crate) fn example_config(changes: &[(&str, &str)]) -> Result<Config, Error> {
    tests::config_with(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &[(&str, &str)] = &[
        ("TOKEN_URL", "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/token"),
        ("AUTH_URL", "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth"),
        ("TEST_API_ENDPOINT", "https://api.sipgate.com/v2/account"),
        ("CLIENT_ID", "my-client"),
        ("CLIENT_SECRET", "my-secret"),
        ("OAUTH_SCOPE", "account:read"),
        ("REDIRECT_URI", "http://localhost:8080/oauth"),
        ("PORT", "8080"),
        ("HOME", "/home/test"),
    ];

    pub(super) fn config_with(changes: &[(&str, &str)]) -> Result<Config, Error> {
        let mut vars: std::collections::HashMap<String, String> =
            EXAMPLE.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        for (key, value) in changes {
            vars.insert(key.to_string(), value.to_string());
        }
        Config::from_lookup(|var| vars.get(var).cloned())
    }

    fn config_error(changes: &[(&str, &str)]) -> String {
        config_with(changes).expect_err("the change makes the config invalid").to_string()
    }

    #[test]
    fn the_python_examples_env_is_accepted() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.redirect, RedirectUri { host: "localhost".into(), port: 8080, path: "/oauth".into() });
        assert_eq!(config.api_base, "https://api.sipgate.com/v2");
        assert_eq!(
            config.revoke_url,
            "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/revoke"
        );
        assert_eq!(
            config.logout_url,
            "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/logout"
        );
        assert_eq!(config.client_secret.secret(), "my-secret");
    }

    #[test]
    fn missing_client_id_points_to_the_console_and_demo() {
        let message = config_error(&[("CLIENT_ID", "")]);
        assert!(message.starts_with("CLIENT_ID: is not set"), "{message}");
        assert!(message.contains("console.sipgate.com") && message.contains("sipgate-oauth demo"), "{message}");
    }

    #[test]
    fn port_must_match_the_redirect_uri() {
        let message = config_error(&[("PORT", "9090")]);
        assert!(message.starts_with("PORT: is 9090 but REDIRECT_URI uses port 8080"), "{message}");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(
            config_error(&[("TOKEN_URL", "http://login.sipgate.com/token")])
                .starts_with("TOKEN_URL: must use https://")
        );
        assert!(config_with(&[("TOKEN_URL", "http://127.0.0.5:9/token")]).is_ok());
        assert!(config_with(&[("TOKEN_URL", "http://[::1]:9/token")]).is_ok());
        assert!(config_error(&[("AUTH_URL", "not a url")]).starts_with("AUTH_URL: is not"));
        assert!(config_error(&[("AUTH_URL", "ftp://localhost/x")]).starts_with("AUTH_URL: must start with https://"));
    }

    #[test]
    fn redirect_uri_must_be_a_loopback_http_url_with_a_path() {
        assert!(config_error(&[("REDIRECT_URI", "https://localhost:8080/oauth")]).contains("must start with http://"));
        assert!(
            config_error(&[("REDIRECT_URI", "http://example.com:8080/oauth")]).contains("must point at this machine")
        );
        assert!(config_error(&[("REDIRECT_URI", "http://localhost:8080")]).contains("needs a path"));
        let default_port = config_with(&[("REDIRECT_URI", "http://127.0.0.1/cb"), ("PORT", "80")]).unwrap();
        assert_eq!(default_port.redirect.port, 80);
        let any_port = config_with(&[("REDIRECT_URI", "http://[::1]:0/cb"), ("PORT", "")]).unwrap();
        assert_eq!(any_port.redirect.with_port(4242), "http://[::1]:4242/cb");
    }

    #[test]
    fn only_the_client_must_be_given_the_rest_is_sipgates() {
        let only_client = |realm: Option<&str>| {
            Config::from_lookup(|var| match var {
                "CLIENT_ID" => Some("c".to_owned()),
                "CLIENT_SECRET" => Some("s".to_owned()),
                "HOME" => Some("/home/me".to_owned()),
                "REALM" => realm.map(str::to_owned),
                _ => None,
            })
            .unwrap()
        };
        let config = only_client(None);
        let login = "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect";
        assert_eq!(
            (config.auth_url.as_str(), config.token_url.as_str()),
            (&*format!("{login}/auth"), &*format!("{login}/token"))
        );
        assert_eq!(config.api_endpoint, "https://api.sipgate.com/v2/account");
        assert_eq!(config.scope, "account:read");
        assert_eq!(config.redirect, RedirectUri { host: "localhost".into(), port: 8080, path: "/oauth".into() });
        assert_eq!(config.profile, "default");
        let apps = only_client(Some("sipgate-apps"));
        assert!(
            apps.token_url.starts_with("https://login.sipgate.com/auth/realms/sipgate-apps/"),
            "{}",
            apps.token_url
        );
        let bad = Config::from_lookup(|var| (var == "REALM").then(|| "../x".to_owned()));
        assert!(matches!(bad, Err(Error::Config { var: "REALM", .. })));
    }

    #[test]
    fn keycloaks_issuer_is_read_off_auth_url() {
        assert_eq!(
            config_with(&[]).unwrap().issuer().as_deref(),
            Some("https://login.sipgate.com/auth/realms/third-party")
        );
        assert_eq!(config_with(&[("AUTH_URL", "https://op.example/authorize")]).unwrap().issuer(), None);
    }

    #[test]
    fn api_paths_resolve_below_the_api_base_only() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.api_url("/account").unwrap(), "https://api.sipgate.com/v2/account");
        assert_eq!(config.api_url("history?limit=5").unwrap(), "https://api.sipgate.com/v2/history?limit=5");
        assert_eq!(config.api_url("https://api.sipgate.com/v2/devices").unwrap(), "https://api.sipgate.com/v2/devices");
        assert!(config.api_url("https://evil.example/v2").is_err());
        assert!(config.api_url("https://api.sipgate.com/v2evil").is_err());
    }

    #[test]
    fn store_and_browser_come_from_the_configuration_like_every_setting() {
        let config = config_with(&[("SIPGATE_OAUTH_STORE", "/kept"), ("BROWSER", "firefox")]).unwrap();
        assert_eq!((config.store_dir, config.browser.as_deref()), (Ok(PathBuf::from("/kept")), Some("firefox")));
        let config = config_with(&[("HOME", "/home/me")]).unwrap();
        assert_eq!(config.store_dir, Ok(PathBuf::from("/home/me/.config/sipgate-oauth")));
    }

    #[test]
    fn overrides_replace_derived_urls() {
        let config =
            config_with(&[("API_BASE_URL", "https://api.example.test/v3/"), ("REVOKE_URL", "https://x.test/r")])
                .unwrap();
        assert_eq!(config.api_base, "https://api.example.test/v3");
        assert_eq!(config.revoke_url, "https://x.test/r");
    }

    #[test]
    fn unknown_scopes_are_warnings_with_the_closest_known_one() {
        let config = config_with(&[("OAUTH_SCOPE", "openid offline_access acount:read history:read pizza")]).unwrap();
        assert_eq!(
            config.scope_warnings(),
            [
                "OAUTH_SCOPE has `acount:read`, which sipgate does not know — did you mean `account:read`?",
                "OAUTH_SCOPE has `pizza`, which is not among sipgate's scopes (`sipgate-oauth scopes` lists them); \
                 it is requested all the same",
            ]
        );
        assert_eq!(config.scope, "openid offline_access acount:read history:read pizza", "requested as written");
        assert!(config_with(&[]).unwrap().scope_warnings().is_empty());
    }
}
