//! What the command line says: the [`Command`] to run and the options around it, as [`Cli::parse`]
//! (in `parse.rs`) builds them. Plain data; nothing here reads or writes anything.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use sipgate_oauth::{Config, Http};

use super::completions::Shell;

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
        /// `--json`: `{"access_token", "access_expires_at", "scope", "profile"}`.
        json: bool,
        /// `--header`: `Authorization: Bearer …`, for `curl -H @-`.
        header: bool,
    },
    /// `GET TEST_API_ENDPOINT` with the stored token.
    Account,
    /// Any API call with the stored token.
    Api {
        /// HTTP method: `GET` by default, `POST` with a body.
        method: String,
        /// Path below the API base.
        path: String,
        /// `--data`, `--input` or fields: what is sent.
        body: Option<Body>,
        /// `-H 'Name: value'`, in the order given.
        headers: Vec<(String, String)>,
        /// `-i`: the status line and headers before the body on stdout.
        include: bool,
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
    /// `mcp`: an MCP server on stdin/stdout for AI agents, with the kept sign-in.
    Mcp {
        /// `--allow-writes`: offer POST, PUT and DELETE operations too.
        allow_writes: bool,
        /// `--tools WORD…`: offer only the operations that match one of these.
        tools: Vec<String>,
    },
    /// Run the sipgate stand-in in the foreground; its own options follow.
    Mock(Vec<String>),
    /// `proxy`: a local API proxy that adds the kept token to every request.
    Proxy(ProxyArgs),
    /// `exec -- COMMAND`: run a command with a fresh token (and a proxy) in its environment.
    Exec(ExecArgs),
    /// `completions SHELL`: print a completion script.
    Completions(Shell),
    /// Print the help text: the general one, or a command's own (`help COMMAND`, `COMMAND --help`).
    Help(Option<String>),
    /// Print the version.
    Version,
}

/// What `api` sends as the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `--data JSON` or `--data @FILE`.
    Data(String),
    /// `--input FILE`, or `-` for stdin: sent as it is.
    Input(PathBuf),
    /// `-f key=value` (a string) and `-F key=value` (`true`, `false`, `null` and numbers as JSON): one
    /// JSON object.
    Fields(Map<String, Value>),
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
    /// `--via-http`: sign in at a stand-in on a loopback address without a browser: the tool fetches the
    /// sign-in address itself (the stand-in must run with `--auto-approve`).
    pub via_http: bool,
    /// `--profile NAME`: whose configuration and tokens (else `SIPGATE_OAUTH_PROFILE`, else `default`).
    pub profile: Option<String>,
}

/// The default wait for the browser's callback.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How long one HTTP request may take in all.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

impl Cli {
    /// The HTTP client of the run for `config`: trusting its `SIPGATE_OAUTH_CA_FILE`, if any; with `-v`,
    /// it traces to stderr.
    pub fn http(&self, config: &Config) -> Http {
        let http = Http::new(HTTP_TIMEOUT);
        let http = match &config.ca_file {
            Some(ca_file) => http.trusting(ca_file),
            None => http,
        };
        if self.verbose { http.with_trace(std::io::stderr()) } else { http }
    }
}

/// `proxy`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyArgs {
    /// `--port N`: 0 (a free one) by default.
    pub port: u16,
    /// `--no-secret-path`.
    pub no_secret_path: bool,
    /// `--allow-origin ORIGIN`, each one given.
    pub allow_origins: Vec<String>,
    /// `--background`: serve from a process of its own and exit once its base URL is printed.
    pub background: bool,
}

/// `exec`'s options and command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecArgs {
    /// `--no-proxy`: only `SIPGATE_TOKEN` and `SIPGATE_TOKEN_EXPIRES_AT`.
    pub no_proxy: bool,
    /// The proxy's options (`--port`, `--allow-origin`).
    pub proxy: ProxyArgs,
    /// COMMAND and its arguments.
    pub command: Vec<String>,
}
