//! The command line: parsed into a [`Cli`] before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// No command: the example's flow — sign in, `/v2/account`, refresh, `/v2/account` again; tokens kept.
    Flow,
    /// The same flow against the built-in stand-in, offline.
    Demo,
    /// Sign in in the browser and keep the tokens.
    Login,
    /// Print a valid access token.
    Token {
        /// `--json`: `{"access_token", "expires_at", "scope"}`.
        json: bool,
    },
    /// `GET TEST_API_ENDPOINT` with the stored token.
    Account,
    /// Any API call with the stored token.
    Api {
        /// HTTP method, `GET` by default.
        method: String,
        /// Path below the API base.
        path: String,
        /// `--data JSON` or `--data @FILE`.
        data: Option<String>,
    },
    /// Revoke the tokens and delete them locally.
    Logout,
    /// Show whether tokens are stored and when they expire.
    Status {
        /// `--json` output.
        json: bool,
    },
    /// Run the sipgate stand-in in the foreground; its own options follow.
    Mock(Vec<String>),
    /// Print the help text.
    Help,
    /// Print the version.
    Version,
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    /// The command.
    pub command: Command,
    /// `--env-file PATH` instead of `./.env`.
    pub env_file: Option<PathBuf>,
    /// `--timeout SECONDS`: how long to wait for the browser.
    pub timeout: Duration,
    /// `--no-browser`: print the URL only.
    pub no_browser: bool,
    /// `-v`: trace HTTP exchanges, secrets redacted.
    pub verbose: bool,
    /// `--device`: sign in on another device with a code (RFC 8628) instead of in the browser.
    pub device: bool,
}

/// The default wait for the browser's callback.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The text of `--help`.
pub const HELP: &str = "\
sipgate-oauth — sign in to sipgate with OAuth 2.0, keep the tokens, call the API

USAGE:
    sipgate-oauth [OPTIONS] [COMMAND]

COMMANDS:
    (none)           sign in in the browser, GET TEST_API_ENDPOINT, refresh, GET it again; keep the tokens
    demo             the same flow against a built-in sipgate stand-in: offline, no .env needed
    login            sign in in the browser and keep the tokens
    token [--json]   print a valid access token (refreshed when needed) on stdout
    account          GET TEST_API_ENDPOINT with the kept tokens
    api [METHOD] PATH [--data JSON|@FILE]
                     call any API path below API_BASE_URL with the kept tokens
    status [--json]  show whether tokens are kept and when they expire (no secrets)
    logout           revoke the tokens at the server and delete them here
    mock [OPTIONS]   run the sipgate stand-in on 127.0.0.1 (see `sipgate-oauth mock --help`)

OPTIONS:
    --env-file PATH      read configuration from PATH instead of ./.env
    --timeout SECONDS    how long to wait for the browser's sign-in [default: 300]
    --no-browser         only print the sign-in URL, do not open a browser
    --device             (none), login, demo: sign in on another device with a code (device flow)
    -v, --verbose        trace every HTTP exchange on stderr, secrets replaced by [redacted]
    -h, --help           print this help
    -V, --version        print the version

ENVIRONMENT (the keys of sipgate's Python example; the environment wins over .env):
    AUTH_URL, TOKEN_URL      sipgate's authorization and token endpoints
    TEST_API_ENDPOINT        the API URL called after sign-in (https://api.sipgate.com/v2/account)
    CLIENT_ID, CLIENT_SECRET your client from https://console.sipgate.com
    OAUTH_SCOPE              space-separated scopes, e.g. account:read
    REDIRECT_URI             the registered loopback redirect, e.g. http://localhost:8080/oauth
    PORT                     optional; must equal REDIRECT_URI's port
    API_BASE_URL             base of `api` paths [default: TEST_API_ENDPOINT without its last segment]
    REVOKE_URL, LOGOUT_URL   logout endpoints [default: next to TOKEN_URL]
    DEVICE_AUTH_URL          device authorization endpoint for --device [default: from discovery]
    SIPGATE_OAUTH_STORE      where tokens are kept [default: $XDG_CONFIG_HOME/sipgate-oauth]
    BROWSER                  the program that opens the sign-in URL [default: xdg-open / open / start]
    HTTPS_PROXY, NO_PROXY    proxy settings

EXIT CODES:
    0 success, 1 the run failed, 2 usage or configuration error
";

impl Cli {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Cli, Error> {
        let mut cli = Cli {
            command: Command::Flow,
            env_file: None,
            timeout: DEFAULT_TIMEOUT,
            no_browser: false,
            verbose: false,
            device: false,
        };
        let mut words: Vec<String> = Vec::new();
        let mut json = false;
        let mut data = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if words.first().is_some_and(|w| w == "mock") {
                words.push(arg);
                continue;
            }
            let mut value = |name: &str| args.next().ok_or_else(|| Error::Usage(format!("{name} needs a value")));
            match arg.as_str() {
                "-h" | "--help" => return Ok(Cli { command: Command::Help, ..cli }),
                "-V" | "--version" => return Ok(Cli { command: Command::Version, ..cli }),
                "-v" | "--verbose" => cli.verbose = true,
                "--no-browser" => cli.no_browser = true,
                "--device" => cli.device = true,
                "--json" => json = true,
                "--env-file" => cli.env_file = Some(PathBuf::from(value("--env-file")?)),
                "--data" => data = Some(value("--data")?),
                "--timeout" => {
                    let text = value("--timeout")?;
                    let seconds: u64 = text.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                        Error::Usage(format!("--timeout takes a whole number of seconds above 0, not {text:?}"))
                    })?;
                    cli.timeout = Duration::from_secs(seconds);
                }
                flag if flag.starts_with('-') && flag.len() > 1 => {
                    return Err(Error::Usage(format!("unknown option {flag}")));
                }
                _ => words.push(arg),
            }
        }
        let word = |i: usize| words.get(i).map(String::as_str);
        let no_more = |n: usize, command: Command| match words.get(n) {
            Some(extra) => Err(Error::Usage(format!("unexpected argument {extra:?}"))),
            None => Ok(command),
        };
        cli.command = match word(0) {
            None => Command::Flow,
            Some("demo") => no_more(1, Command::Demo)?,
            Some("login") => no_more(1, Command::Login)?,
            Some("token") => no_more(1, Command::Token { json })?,
            Some("account") => no_more(1, Command::Account)?,
            Some("status") => no_more(1, Command::Status { json })?,
            Some("logout") => no_more(1, Command::Logout)?,
            Some("mock") => Command::Mock(words[1..].to_vec()),
            Some("api") => match (word(1), word(2)) {
                (Some(path), None) => Command::Api { method: "GET".into(), path: path.into(), data: data.clone() },
                (Some(method), Some(path)) => {
                    no_more(3, Command::Flow)?;
                    Command::Api { method: method.to_ascii_uppercase(), path: path.into(), data: data.clone() }
                }
                (None, _) => return Err(Error::Usage("api needs a PATH, e.g. `sipgate-oauth api /account`".into())),
            },
            Some(other) => return Err(Error::Usage(format!("unknown command {other:?}"))),
        };
        let takes_json = matches!(cli.command, Command::Token { .. } | Command::Status { .. });
        if json && !takes_json {
            return Err(Error::Usage("--json goes with `token` or `status`".into()));
        }
        if cli.device && !matches!(cli.command, Command::Flow | Command::Login | Command::Demo) {
            return Err(Error::Usage("--device goes with `login`, `demo` or no command".into()));
        }
        if data.is_some() && !matches!(cli.command, Command::Api { .. }) {
            return Err(Error::Usage("--data goes with `api`".into()));
        }
        Ok(cli)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Cli, Error> {
        Cli::parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn no_command_is_the_examples_flow() {
        let cli = parse("").unwrap();
        assert_eq!(cli.command, Command::Flow);
        assert_eq!(cli.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn options_go_before_or_after_the_command() {
        let cli = parse("--env-file x.env token --json -v --timeout 5 --no-browser").unwrap();
        assert_eq!(cli.command, Command::Token { json: true });
        assert_eq!(cli.env_file, Some(PathBuf::from("x.env")));
        assert_eq!(cli.timeout, Duration::from_secs(5));
        assert!(cli.verbose && cli.no_browser);
    }

    #[test]
    fn api_takes_an_optional_method_and_data() {
        assert_eq!(
            parse("api /account").unwrap().command,
            Command::Api { method: "GET".into(), path: "/account".into(), data: None }
        );
        assert_eq!(
            parse("api post /sessions/calls --data @call.json").unwrap().command,
            Command::Api { method: "POST".into(), path: "/sessions/calls".into(), data: Some("@call.json".into()) }
        );
    }

    #[test]
    fn device_goes_with_the_sign_in_commands() {
        for line in ["--device", "login --device", "--device demo"] {
            assert!(parse(line).unwrap().device, "{line}");
        }
        assert!(!parse("login").unwrap().device);
    }

    #[test]
    fn mock_keeps_its_own_options() {
        assert_eq!(
            parse("mock --port 0 --auto-approve").unwrap().command,
            Command::Mock(vec!["--port".into(), "0".into(), "--auto-approve".into()])
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "--timeout",
            "--timeout 0",
            "--timeout soon",
            "--frobnicate",
            "fly",
            "login now",
            "account --json",
            "api",
            "demo --data x",
            "token --device",
        ] {
            let error = parse(line).expect_err(line);
            assert_eq!(error.exit_code(), 2, "{line}");
        }
    }
}
