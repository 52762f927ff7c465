//! The command line: parsed into a [`Cli`] before anything runs.
//!
//! One convention for every command: options may stand before or after the command, `--name value` and
//! `--name=value` mean the same, and `--` ends the options. Arguments that are not UTF-8 are refused with
//! a usage error, never a panic.

pub mod commands;
mod help;
mod operations;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use sipgate_oauth::Error;

pub use help::HELP;

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
        /// HTTP method: `GET` by default, `POST` with `--data`.
        method: String,
        /// Path below the API base.
        path: String,
        /// `--data JSON` or `--data @FILE`.
        data: Option<String>,
        /// `--paginate`: follow `offset`/`limit` to `totalCount` and print all items as one JSON array.
        paginate: bool,
    },
    /// `api --list [WORD]`: the operations of the API (method, path, scopes), those matching WORD.
    Operations {
        /// Only operations whose method, path, name or scopes contain this (any case).
        filter: Option<String>,
        /// `--json` output.
        json: bool,
    },
    /// `scopes [WORD]`: sipgate's scopes with a one-line meaning, those matching WORD.
    Scopes {
        /// Only scopes whose name or meaning contains this (any case).
        filter: Option<String>,
        /// `--json` output.
        json: bool,
    },
    /// Revoke the tokens and delete them locally.
    Logout {
        /// `--all`: every kept profile, not only the selected one.
        all: bool,
    },
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
    /// `--profile NAME`: whose configuration and tokens (else `SIPGATE_OAUTH_PROFILE`, else `default`).
    pub profile: Option<String>,
}

/// The default wait for the browser's callback.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The longest `--timeout` taken: a day.
const MAX_TIMEOUT: u64 = 24 * 60 * 60;

/// The HTTP methods `api` sends.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The options that take a value.
const VALUED: [&str; 4] = ["--env-file", "--timeout", "--data", "--profile"];

impl Cli {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, Error> {
        let args = args
            .into_iter()
            .map(|arg| {
                arg.into_string()
                    .map_err(|arg| Error::Usage(format!("the argument {:?} is not valid UTF-8", arg.to_string_lossy())))
            })
            .collect::<Result<Vec<String>, Error>>()?;
        let mut cli = Cli {
            command: Command::Flow,
            env_file: None,
            timeout: DEFAULT_TIMEOUT,
            no_browser: false,
            verbose: false,
            device: false,
            profile: None,
        };
        let mut words: Vec<String> = Vec::new();
        let mut json = false;
        let mut all = false;
        let mut data = None;
        let (mut list, mut paginate) = (false, false);
        let mut args = args.into_iter();
        let mut options_ended = false;
        while let Some(arg) = args.next() {
            if options_ended || words.first().is_some_and(|w| w == "mock") {
                words.push(arg);
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
                _ => (arg.clone(), None),
            };
            if inline.is_some() && !VALUED.contains(&name.as_str()) {
                return Err(Error::Usage(format!("{name} takes no value")));
            }
            let mut value = || match inline.clone() {
                Some(value) => Ok(value),
                None => args.next().ok_or_else(|| Error::Usage(format!("{name} needs a value"))),
            };
            match name.as_str() {
                "--" => options_ended = true,
                "-h" | "--help" => return Ok(Cli { command: Command::Help, ..cli }),
                "-V" | "--version" => return Ok(Cli { command: Command::Version, ..cli }),
                "-v" | "--verbose" => cli.verbose = true,
                "--no-browser" => cli.no_browser = true,
                "--device" => cli.device = true,
                "--all" => all = true,
                "--profile" => cli.profile = Some(value()?),
                "--json" => json = true,
                "--list" => list = true,
                "--paginate" => paginate = true,
                "--env-file" => cli.env_file = Some(PathBuf::from(value()?)),
                "--data" => data = Some(value()?),
                "--timeout" => cli.timeout = timeout(&value()?)?,
                flag if flag.starts_with('-') && flag.len() > 1 => {
                    return Err(Error::Usage(format!("unknown option {flag}")));
                }
                _ => words.push(arg),
            }
        }
        if (list || paginate) && words.first().is_none_or(|word| word != "api") {
            let option = if list { "--list" } else { "--paginate" };
            return Err(Error::Usage(format!("{option} goes with `api`")));
        }
        cli.command = match list {
            true => operations_list(&words[1..], json, data.is_some(), paginate)?,
            false => command(&words, json, data.clone(), paginate, all)?,
        };
        let takes_json = matches!(
            cli.command,
            Command::Token { .. } | Command::Status { .. } | Command::Scopes { .. } | Command::Operations { .. }
        );
        if json && !takes_json {
            return Err(Error::Usage("--json goes with `token`, `status`, `scopes` or `api --list`".into()));
        }
        if cli.device && !matches!(cli.command, Command::Flow | Command::Login | Command::Demo) {
            return Err(Error::Usage("--device goes with `login`, `demo` or no command".into()));
        }
        if data.is_some() && !matches!(cli.command, Command::Api { .. }) {
            return Err(Error::Usage("--data goes with `api`".into()));
        }
        if all && !matches!(cli.command, Command::Logout { .. }) {
            return Err(Error::Usage("--all goes with `logout`".into()));
        }
        Ok(cli)
    }
}

/// `--timeout SECONDS`: a whole number from 1 to a day.
fn timeout(text: &str) -> Result<Duration, Error> {
    text.parse().ok().filter(|seconds| (1..=MAX_TIMEOUT).contains(seconds)).map(Duration::from_secs).ok_or_else(|| {
        Error::Usage(format!("--timeout takes a whole number of seconds from 1 to {MAX_TIMEOUT}, not {text:?}"))
    })
}

/// The command and its arguments.
fn command(words: &[String], json: bool, data: Option<String>, paginate: bool, all: bool) -> Result<Command, Error> {
    let no_more = |n: usize, command: Command| match words.get(n) {
        Some(extra) => Err(Error::Usage(format!("unexpected argument {extra:?}"))),
        None => Ok(command),
    };
    let Some(first) = words.first() else { return Ok(Command::Flow) };
    match first.as_str() {
        "demo" => no_more(1, Command::Demo),
        "login" => no_more(1, Command::Login),
        "token" => no_more(1, Command::Token { json }),
        "account" => no_more(1, Command::Account),
        "status" => no_more(1, Command::Status { json }),
        "logout" => no_more(1, Command::Logout { all }),
        "help" => no_more(1, Command::Help),
        "mock" => Ok(Command::Mock(words[1..].to_vec())),
        "scopes" => no_more(2, Command::Scopes { filter: words.get(1).cloned(), json }),
        "api" => api(&words[1..], data, paginate),
        other => Err(Error::Usage(format!("unknown command {other:?}"))),
    }
}

/// `api --list [WORD]`.
fn operations_list(words: &[String], json: bool, data: bool, paginate: bool) -> Result<Command, Error> {
    if data || paginate {
        let option = if data { "--data" } else { "--paginate" };
        return Err(Error::Usage(format!("{option} does not go with `api --list`")));
    }
    match words {
        [] | [_] => Ok(Command::Operations { filter: words.first().cloned(), json }),
        [_, extra, ..] => {
            Err(Error::Usage(format!("unexpected argument {extra:?} — usage: sipgate-oauth api --list [WORD]")))
        }
    }
}

/// `api [METHOD] PATH`: the method is checked here, before anything is sent.
fn api(words: &[String], data: Option<String>, paginate: bool) -> Result<Command, Error> {
    let usage =
        "usage: sipgate-oauth api [METHOD] PATH [--data JSON|@FILE] [--paginate], e.g. `sipgate-oauth api /account`";
    let is_method = |word: &str| METHODS.contains(&word.to_ascii_uppercase().as_str());
    let (method, path) = match words {
        [path] if is_method(path) && !path.starts_with('/') => {
            return Err(Error::Usage(format!("api {path} needs a PATH — {usage}")));
        }
        [path] => (if data.is_some() { "POST" } else { "GET" }.to_owned(), path),
        [method, path] if is_method(method) => (method.to_ascii_uppercase(), path),
        [method, _] => {
            return Err(Error::Usage(format!("{method:?} is not an HTTP method ({}) — {usage}", METHODS.join(", "))));
        }
        [] => return Err(Error::Usage(format!("api needs a PATH — {usage}"))),
        [_, _, extra, ..] => return Err(Error::Usage(format!("unexpected argument {extra:?} — {usage}"))),
    };
    if paginate && (method != "GET" || data.is_some()) {
        return Err(Error::Usage(format!("--paginate goes with GET requests without --data — {usage}")));
    }
    Ok(Command::Api { method, path: path.clone(), data, paginate })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Cli, Error> {
        Cli::parse(line.split_whitespace().map(OsString::from))
    }

    #[test]
    fn no_command_is_the_examples_flow() {
        let cli = parse("").unwrap();
        assert_eq!(cli.command, Command::Flow);
        assert_eq!(cli.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn options_go_before_or_after_the_command_with_or_without_equals() {
        let cli = parse("--env-file x.env token --json -v --timeout 5 --no-browser").unwrap();
        assert_eq!(cli.command, Command::Token { json: true });
        assert_eq!(cli.env_file, Some(PathBuf::from("x.env")));
        assert_eq!(cli.timeout, Duration::from_secs(5));
        assert!(cli.verbose && cli.no_browser);
        assert_eq!(
            parse("--env-file=x.env token --timeout=5 --json").unwrap(),
            Cli { verbose: false, no_browser: false, ..cli }
        );
    }

    #[test]
    fn api_takes_an_optional_method_and_data() {
        let api = |method: &str, path: &str, data: Option<&str>| Command::Api {
            method: method.into(),
            path: path.into(),
            data: data.map(str::to_owned),
            paginate: false,
        };
        assert_eq!(parse("api /account").unwrap().command, api("GET", "/account", None));
        assert_eq!(
            parse("api post /sessions/calls --data @call.json").unwrap().command,
            api("POST", "/sessions/calls", Some("@call.json"))
        );
        assert_eq!(parse("api /sessions/sms --data={}").unwrap().command, api("POST", "/sessions/sms", Some("{}")));
        assert_eq!(parse("api -- -odd-path").unwrap().command, api("GET", "-odd-path", None));
        assert_eq!(
            parse("api --paginate /history").unwrap().command,
            Command::Api { method: "GET".into(), path: "/history".into(), data: None, paginate: true }
        );
    }

    #[test]
    fn lists_take_an_optional_word_and_json() {
        assert_eq!(parse("api --list").unwrap().command, Command::Operations { filter: None, json: false });
        assert_eq!(
            parse("api --list sms --json").unwrap().command,
            Command::Operations { filter: Some("sms".into()), json: true }
        );
        assert_eq!(parse("scopes").unwrap().command, Command::Scopes { filter: None, json: false });
        assert_eq!(
            parse("--json scopes history").unwrap().command,
            Command::Scopes { filter: Some("history".into()), json: true }
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
            "--timeout 18446744073709551615",
            "--frobnicate",
            "--no-browser=yes",
            "fly",
            "login now",
            "account --json",
            "api",
            "api POST",
            "api FOO /account",
            "api /account extra",
            "api GET /account extra",
            "demo --data x",
            "token --device",
            "scopes a b",
            "account --list",
            "--paginate",
            "api --list sms extra",
            "api --list --data {}",
            "api --paginate POST /contacts",
            "api --paginate /history --data {}",
            "api /history --json",
        ] {
            assert!(matches!(parse(line), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    fn arguments_that_are_not_utf8_are_a_usage_error() {
        use std::os::unix::ffi::OsStringExt;
        let error = Cli::parse([OsString::from("api"), OsString::from_vec(b"/\xff".to_vec())]).unwrap_err();
        assert!(matches!(&error, Error::Usage(message) if message.contains("not valid UTF-8")), "{error}");
    }
}
