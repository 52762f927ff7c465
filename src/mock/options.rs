//! The command line of `sipgate-oauth mock`: flags into an [`Options`], checked up front, each error
//! naming the flag.

use std::time::Duration;

use super::config::{DEFAULT_PORT, Faults, MockClient, MockConfig};

/// The help text of `sipgate-oauth mock --help`.
pub const HELP: &str = "\
sipgate-oauth mock: a local sipgate stand-in (login + REST API) for tests and offline development

Usage: sipgate-oauth mock [OPTIONS]

Listens on 127.0.0.1 only, serves the realms third-party and sipgate-apps, prints the .env lines for
the first client on stdout and logs each request (secrets redacted) on stderr. Ctrl-C stops it.

Options:
  --port N                 port to listen on (default 8089; 0 picks a free one)
  --client-id ID           register a client; starts a new client (repeatable)
  --client-secret SECRET   the secret of the client before it
  --redirect-uri URI       a redirect URI of the client before it (repeatable); for http://127.0.0.1
                           and http://[::1] any port matches (RFC 8252)
                           Without --client-id: client sipgate-oauth-demo / demo-secret with
                           http://127.0.0.1/oauth and http://localhost:8080/oauth
  --no-device-grant        the client before it (or, before any --client-id, every client) may not
                           use the device authorization grant (\"the flow is disabled\")
  --access-ttl SECONDS     access token lifetime (default 300; 0 = dead at once)
  --refresh-ttl SECONDS    refresh token lifetime (default 2592000 = 30 days)
  --account-file PATH      JSON object answered by GET /v2/account
  --auto-approve           skip the sign-in page: redirect with a code at once; opening a device's
                           verification_uri_complete approves it at once
  --device-interval SECONDS  the device flow's polling interval (default 5; sooner polls get slow_down)
  --device-ttl SECONDS     the device code's lifetime, expires_in (default 600)
  --public-url URL         where clients reach it, e.g. https://localhost:8443 behind a TLS proxy
                           (nginx): discovery, issuer, iss, redirects and device URLs name it
  --quiet                  no request log
  --background             start it as a process of its own and return once it answers: the .env lines
                           and SIPGATE_MOCK_PID on stdout; stop it with kill \"$SIPGATE_MOCK_PID\"
  --help                   show this help

Faults (to test a client's error handling):
  --latency-ms N           wait N ms before every answer
  --fail-token-503 N       the next N token requests answer 503 (body not JSON)
  --fail-token-502 N       then the next N answer 502 with an HTML page, like a proxy
  --expire-access-tokens   issued access tokens are dead at once (the API answers 401)
  --refresh-invalid-grant  every refresh answers 400 invalid_grant
  --device-slow-down N     the next N device-code polls answer slow_down

Simulated calls (sipgate.io; see `sipgate-oauth mock call --help`):
  --webhook-url URL        push newCall of incoming and outgoing calls to URL (as if set with
                           PUT /settings/sipgateio)
  --webhook-timeout SECONDS  how long the app may take to answer a push (default 10, as sipgate)
  --webhook-key FILE       sign pushes with this RSA private key (PEM) instead of the published
                           TEST key (GET /_stand-in/webhook-public-key serves the public half)
";

/// What `sipgate-oauth mock …` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The stand-in's configuration.
    pub config: MockConfig,
}

/// Whether the arguments ask for the help text (`--help` or `-h`); [`Options::parse`] answers
/// `Err(HELP)` for them, so check this first to print it as a result instead of an error.
pub fn help_requested(args: &[String]) -> bool {
    args.iter().any(|arg| arg == "--help" || arg == "-h")
}

impl Options {
    /// Parses the arguments after the word `mock`. `Err` is a message for the user; for `--help` it is
    /// [`HELP`].
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut port = DEFAULT_PORT;
        let mut config = MockConfig { log: true, ..MockConfig::default() };
        let mut clients: Vec<MockClient> = Vec::new();
        let mut faults = Faults::default();
        let mut no_device_grant_for_all = false;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next().cloned()).ok_or(format!("{flag} needs a value"));
            match flag {
                "--help" | "-h" => return Err(HELP.to_owned()),
                "--port" => port = number(flag, &value()?)?,
                "--client-id" => {
                    let id = value()?;
                    if id.is_empty() {
                        return Err("--client-id must not be empty".to_owned());
                    }
                    if clients.iter().any(|client| client.id == id) {
                        return Err(format!("--client-id {id} is given twice"));
                    }
                    clients.push(MockClient {
                        id,
                        secret: String::new(),
                        redirect_uris: Vec::new(),
                        device_grant: true,
                    });
                }
                "--client-secret" => {
                    let secret = value()?;
                    let client = clients.last_mut().ok_or("--client-secret must follow --client-id")?;
                    if !client.secret.is_empty() {
                        return Err(format!("--client-secret is given twice for client {}", client.id));
                    }
                    client.secret = secret;
                }
                "--redirect-uri" => {
                    let uri = value()?;
                    check_redirect_uri(&uri)?;
                    let client = clients.last_mut().ok_or("--redirect-uri must follow --client-id")?;
                    client.redirect_uris.push(uri);
                }
                "--access-ttl" => config.access_ttl = Duration::from_secs(number(flag, &value()?)?),
                "--refresh-ttl" => config.refresh_ttl = Duration::from_secs(number(flag, &value()?)?),
                "--account-file" => config.account = account(&value()?)?,
                "--auto-approve" => config.auto_approve = true,
                "--no-device-grant" => match clients.last_mut() {
                    Some(client) => client.device_grant = false,
                    None => no_device_grant_for_all = true,
                },
                "--device-interval" => config.device_interval = Duration::from_secs(number(flag, &value()?)?),
                "--device-ttl" => config.device_ttl = Duration::from_secs(number(flag, &value()?)?),
                "--device-slow-down" => faults.device_slow_down = number(flag, &value()?)?,
                "--quiet" => config.log = false,
                // Handled by the command line, which starts the stand-in as a process of its own.
                "--background" => {}
                "--public-url" => config.public_url = Some(public_url(&value()?)?),
                "--latency-ms" => faults.latency = Duration::from_millis(number(flag, &value()?)?),
                "--fail-token-503" => faults.token_503 = number(flag, &value()?)?,
                "--fail-token-502" => faults.token_502 = number(flag, &value()?)?,
                "--expire-access-tokens" => faults.expire_access_tokens = true,
                "--refresh-invalid-grant" => faults.refresh_invalid_grant = true,
                "--webhook-url" => config.webhooks.url = Some(webhook_url(&value()?)?),
                "--webhook-timeout" => config.webhooks.timeout = seconds(flag, &value()?)?,
                "--webhook-key" => config.webhooks.key_pem = Some(webhook_key(&value()?)?),
                _ => return Err(unknown_option(arg)),
            }
            if inline.is_some() && !takes_value(flag) {
                return Err(format!("{flag} takes no value"));
            }
        }
        for client in &clients {
            if client.secret.is_empty() {
                return Err(format!("client {} needs --client-secret", client.id));
            }
            if client.redirect_uris.is_empty() {
                return Err(format!("client {} needs at least one --redirect-uri", client.id));
            }
        }
        if !clients.is_empty() {
            config.clients = clients;
        }
        if no_device_grant_for_all {
            config.clients.iter_mut().for_each(|client| client.device_grant = false);
        }
        config.faults = faults;
        Ok(Options { port, config })
    }
}

/// Whether a flag is followed by a value.
fn takes_value(flag: &str) -> bool {
    !matches!(
        flag,
        "--auto-approve"
            | "--quiet"
            | "--background"
            | "--expire-access-tokens"
            | "--refresh-invalid-grant"
            | "--no-device-grant"
    )
}

/// The flags of `sipgate-oauth mock`, each once, in the order [`HELP`] lists them: what did-you-mean
/// and the completion scripts offer, so neither drifts from the help text.
pub fn flags() -> Vec<&'static str> {
    crate::spelling::flags_in(HELP)
}

/// `unknown option --auto-aprove for `sipgate-oauth mock` — did you mean --auto-approve?`: the options
/// offered are the ones [`HELP`] lists, so the two never drift apart.
fn unknown_option(arg: &str) -> String {
    let flag = arg.split_once('=').map_or(arg, |(flag, _)| flag);
    match crate::spelling::closest(flag, flags()) {
        Some(option) => format!(
            "unknown option {flag} for `sipgate-oauth mock` — did you mean {option}? — see `sipgate-oauth mock --help`"
        ),
        None => format!("unknown option {flag} for `sipgate-oauth mock` — see `sipgate-oauth mock --help`"),
    }
}

/// A non-negative whole number for `flag`.
fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("{flag} needs a whole number, not {value:?}"))
}

/// A push URL: absolute http(s), without spaces.
fn webhook_url(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    if rest.is_none_or(|rest| rest.is_empty() || rest.starts_with('/')) || !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("--webhook-url {url:?} is not an absolute http:// or https:// URL"));
    }
    Ok(url.to_owned())
}

/// Seconds, fractions allowed (`0.5`), more than 0 and at most an hour.
fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!("{flag} needs seconds above 0 and up to 3600, not {value:?}")),
    }
}

/// The PEM text of a `--webhook-key` file, checked to be a key that can sign.
fn webhook_key(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("--webhook-key {path}: {error}"))?;
    super::calls::check_key(&text).map_err(|error| format!("--webhook-key {path}: {error}"))?;
    Ok(text)
}

/// A redirect URI must be an absolute http(s) URL without a fragment (RFC 6749 §3.1.2) and without
/// characters a `Location` header cannot carry.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let absolute = uri.strip_prefix("http://").or_else(|| uri.strip_prefix("https://"));
    if absolute.is_none_or(str::is_empty) {
        return Err(format!("--redirect-uri {uri:?} is not an absolute http:// or https:// URL"));
    }
    if uri.contains('#') || !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("--redirect-uri {uri:?} must have no fragment, spaces or non-ASCII characters"));
    }
    Ok(())
}

/// A `--public-url`: `http://` or `https://`, a host, an optional port, no path.
fn public_url(url: &str) -> Result<String, String> {
    let invalid = || {
        format!("--public-url {url:?} must be http:// or https:// with a host and no path, e.g. https://localhost:8443")
    };
    let uri: http::Uri = url.parse().map_err(|_| invalid())?;
    let path_free = matches!(uri.path(), "" | "/") && uri.query().is_none();
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() && path_free => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(invalid()),
    }
}

/// The JSON object in the `--account-file`.
fn account(path: &str) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|error| format!("--account-file {path}: {error}"))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("--account-file {path} is not JSON: {error}"))?;
    if !value.is_object() {
        return Err(format!("--account-file {path} must hold a JSON object"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn no_flags_is_the_demo_client_on_the_default_port_with_a_log() {
        let options = parse(&[]).unwrap();
        assert_eq!(options.port, DEFAULT_PORT);
        assert_eq!(options.config.clients, vec![MockClient::demo()]);
        assert!(options.config.log);
        assert!(!options.config.auto_approve);
        assert_eq!(options.config.faults, Faults::default());
    }

    #[test]
    fn each_client_id_starts_a_client_with_its_own_uris() {
        let options = parse(&[
            "--client-id",
            "a",
            "--client-secret",
            "sa",
            "--redirect-uri",
            "http://127.0.0.1/cb",
            "--redirect-uri",
            "https://app.example/cb",
            "--client-id=b",
            "--client-secret=sb",
            "--redirect-uri=http://localhost:9000/cb",
        ])
        .unwrap();
        let clients = &options.config.clients;
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[0].redirect_uris, ["http://127.0.0.1/cb", "https://app.example/cb"]);
        assert_eq!((clients[1].id.as_str(), clients[1].secret.as_str()), ("b", "sb"));
    }

    #[test]
    fn ttls_flags_and_faults_are_read() {
        let options = parse(&[
            "--port",
            "0",
            "--access-ttl",
            "0",
            "--refresh-ttl",
            "60",
            "--auto-approve",
            "--quiet",
            "--latency-ms",
            "250",
            "--fail-token-503",
            "2",
            "--fail-token-502",
            "1",
            "--expire-access-tokens",
            "--refresh-invalid-grant",
        ])
        .unwrap();
        assert_eq!(options.port, 0);
        assert_eq!(options.config.access_ttl, Duration::ZERO);
        assert_eq!(options.config.refresh_ttl, Duration::from_secs(60));
        assert!(options.config.auto_approve && !options.config.log);
        let faults = options.config.faults;
        assert_eq!(faults.latency, Duration::from_millis(250));
        assert_eq!((faults.token_503, faults.token_502), (2, 1));
        assert!(faults.expire_access_tokens && faults.refresh_invalid_grant);
    }

    #[test]
    fn device_flags_are_read_and_the_grant_is_switched_off_per_client() {
        let options = parse(&["--device-interval", "0", "--device-ttl=30", "--device-slow-down", "2"]).unwrap();
        assert_eq!(options.config.device_interval, Duration::ZERO);
        assert_eq!(options.config.device_ttl, Duration::from_secs(30));
        assert_eq!(options.config.faults.device_slow_down, 2);
        assert!(options.config.clients.iter().all(|client| client.device_grant));

        assert!(!parse(&["--no-device-grant"]).unwrap().config.clients[0].device_grant);
        let options = parse(&[
            "--client-id=a",
            "--client-secret=s",
            "--redirect-uri=http://127.0.0.1/cb",
            "--no-device-grant",
            "--client-id=b",
            "--client-secret=s",
            "--redirect-uri=http://127.0.0.1/cb",
        ])
        .unwrap();
        let grants: Vec<bool> = options.config.clients.iter().map(|client| client.device_grant).collect();
        assert_eq!(grants, [false, true]);
        assert!(parse(&["--no-device-grant=yes"]).unwrap_err().contains("takes no value"));
    }

    #[test]
    fn mistakes_are_named() {
        let error = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(error(&["--port"]), "--port needs a value");
        assert!(error(&["--port", "70000"]).contains("--port needs a whole number"));
        assert!(error(&["--latency-ms", "-1"]).contains("--latency-ms"));
        assert!(error(&["--frobnicate"]).contains("unknown option --frobnicate"));
        assert_eq!(error(&["--redirect-uri", "http://x/cb"]), "--redirect-uri must follow --client-id");
        assert_eq!(error(&["--client-id", "a", "--redirect-uri", "http://x/cb"]), "client a needs --client-secret");
        assert!(error(&["--client-id", "a", "--client-secret", "s"]).contains("needs at least one --redirect-uri"));
        assert!(error(&["--client-id", "a", "--client-secret", "s", "--redirect-uri", "/cb"]).contains("absolute"));
        assert!(error(&["--client-id", "a", "--client-id", "a"]).contains("twice"));
        assert!(error(&["--quiet=yes"]).contains("takes no value"));
        assert!(error(&["--account-file", "/nonexistent/account.json"]).contains("--account-file"));
        assert_eq!(error(&["--help"]), HELP);
        assert!(help_requested(&["-h".to_string()]));
    }

    #[test]
    fn webhook_flags_set_the_url_timeout_and_key_and_say_what_is_wrong() {
        let options = parse(&["--webhook-url", "http://127.0.0.1:3000/hook", "--webhook-timeout=0.5"]).unwrap();
        assert_eq!(options.config.webhooks.url.as_deref(), Some("http://127.0.0.1:3000/hook"));
        assert_eq!(options.config.webhooks.timeout, Duration::from_millis(500));
        assert_eq!(options.config.webhooks.key_pem, None);
        assert_eq!(parse(&[]).unwrap().config.webhooks.timeout, Duration::from_secs(10));
        let error = |args: &[&str]| parse(args).unwrap_err();
        assert!(error(&["--webhook-url", "/hook"]).contains("absolute"));
        assert!(error(&["--webhook-url", "http:///hook"]).contains("absolute"));
        assert!(error(&["--webhook-timeout", "0"]).contains("above 0"));
        assert!(error(&["--webhook-timeout", "soon"]).contains("--webhook-timeout"));
        assert!(error(&["--webhook-key", "/nonexistent/key.pem"]).contains("--webhook-key /nonexistent/key.pem"));
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.pem");
        std::fs::write(&bad, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap();
        assert!(error(&["--webhook-key", bad.to_str().unwrap()]).contains("BEGIN PRIVATE KEY"));
        let good = dir.path().join("key.pem");
        std::fs::write(&good, super::super::calls::TEST_KEY_PEM).unwrap();
        let options = parse(&["--webhook-key", good.to_str().unwrap()]).unwrap();
        assert!(options.config.webhooks.key_pem.is_some());
        assert!(!format!("{:?}", options.config.webhooks).contains("PRIVATE"), "the key never shows in Debug");
    }

    #[test]
    fn account_file_must_hold_a_json_object() {
        let dir = std::env::temp_dir().join(format!("sipgate-mock-options-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.json");
        std::fs::write(&good, r#"{"company":"ACME","mainProductType":"TEAM"}"#).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "[1,2]").unwrap();
        let options = parse(&["--account-file", good.to_str().unwrap()]).unwrap();
        assert_eq!(options.config.account["company"], "ACME");
        assert!(parse(&["--account-file", bad.to_str().unwrap()]).unwrap_err().contains("JSON object"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
