//! The commands: each one a function from the parsed command line to output on `out` (results) and
//! `err` (everything said to the user).

use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime};

use crate::api;
use crate::browser::Browser;
use crate::cli::{Cli, Command, HELP};
use crate::config::Config;
use crate::error::Error;
use crate::flow::{self, SignIn};
use crate::http::Http;
use crate::mock::{self, MockClient, MockConfig, MockServer};
use crate::oauth::{OAuthClient, TokenSet};
use crate::session::{Session, unix_seconds};
use crate::store::Store;

/// How long one HTTP request may take in all.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the command of `cli`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let browser = if cli.no_browser { Browser::PrintOnly } else { Browser::System };
    match &cli.command {
        Command::Help => return write_out(out, HELP),
        Command::Version => return write_out(out, &format!("sipgate-oauth {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Demo => return demo(&cli, out, err),
        Command::Mock(args) if mock::help_requested(args) => return write_out(out, mock::HELP),
        Command::Mock(args) => {
            let options = mock::Options::parse(args).map_err(Error::Usage)?;
            let addr = format!("127.0.0.1:{} (the stand-in; --port picks another)", options.port);
            return mock::run(options, &mut &mut *out, &mut &mut *err).map_err(|source| Error::Listen { addr, source });
        }
        _ => {}
    }
    let config = Config::load(cli.env_file.as_deref())?;
    let http = Http::new(HTTP_TIMEOUT, cli.verbose);
    let session = || Ok::<_, Error>(Session::new(&http, &config, Store::dir_from_env(&|var| std::env::var(var).ok())?));
    match cli.command {
        Command::Help | Command::Version | Command::Demo | Command::Mock(_) => Ok(()),
        Command::Flow => {
            let session = session();
            kept_example_flow(&http, &config, session, sign_in_options(&cli, browser), out, err)
        }
        Command::Login => login(&http, &config, &session()?, sign_in_options(&cli, browser), err),
        Command::Token { json } => token(&session()?, json, out),
        Command::Account => api_call(&http, &session()?, "GET", &config.api_endpoint, None, out),
        Command::Api { method, path, data } => {
            let url = api::api_url(&config, &path)?;
            let body = data.map(read_data).transpose()?;
            api_call(&http, &session()?, &method, &url, body.as_deref(), out)
        }
        Command::Logout => logout(&session()?, err),
        Command::Status { json } => status(&session()?, json, out),
    }
}

/// The plain command: the example's flow, keeping every new token set as it comes. Without a usable
/// store the flow still runs, with a warning.
fn kept_example_flow(
    http: &Http,
    config: &Config,
    session: Result<Session, Error>,
    sign_in: SignIn,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    if let Err(error) = &session {
        note(err, &format!("warning: tokens will not be kept: {error}"));
    }
    let kept = std::cell::Cell::new(false);
    let keep = |tokens: &TokenSet| {
        if let Ok(session) = &session {
            kept.set(session.save(tokens).is_ok());
        }
    };
    example_flow(http, config, sign_in, &keep, out, err)?;
    if let Ok(session) = &session {
        let path = session.store().path().display();
        match kept.get() {
            true => note(err, &format!("Tokens kept in {path}.")),
            false => note(err, &format!("warning: the tokens could not be written to {path}")),
        }
    }
    Ok(())
}

/// `demo`: the example's flow against a stand-in on an ephemeral loopback port, the browser played by a
/// built-in HTTP client. Needs no `.env` and no network.
fn demo(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let listen = "127.0.0.1:0".parse().expect("a literal socket address");
    let config = MockConfig { auto_approve: true, log: false, ..MockConfig::default() };
    let server = MockServer::start(config, listen)
        .map_err(|source| Error::Listen { addr: "127.0.0.1:0 (the stand-in)".into(), source })?;
    let mut env = server.env("third-party", &MockClient::demo());
    env.push(("REDIRECT_URI", "http://127.0.0.1:0/oauth".into()));
    let config =
        Config::from_lookup(|var| env.iter().rev().find(|(key, _)| *key == var).map(|(_, value)| value.clone()))?;
    note(err, &format!("demo: a sipgate stand-in answers at {} — nothing leaves this machine.", server.base_url()));
    let http = Http::new(HTTP_TIMEOUT, cli.verbose);
    let follow_redirects = |url: String| {
        let agent = ureq::Agent::config_builder().max_redirects(5).http_status_as_error(false).build().new_agent();
        let _ = agent.get(&url).call();
    };
    let sign_in =
        SignIn { browser: Browser::With(Box::new(follow_redirects)), ..sign_in_options(cli, Browser::PrintOnly) };
    example_flow(&http, &config, sign_in, &|_| {}, out, err)?;
    Ok(())
}

/// `login`: sign in, keep the tokens, say who signed in.
fn login(http: &Http, config: &Config, session: &Session, sign_in: SignIn, err: &mut dyn Write) -> Result<(), Error> {
    let mut tokens = flow::sign_in(http, config, sign_in, err)?;
    session.save(&tokens)?;
    let account = api::call(http, "GET", &config.api_endpoint, None, &mut tokens, |stale| session.refresh(stale))?;
    let who = serde_json::from_str::<serde_json::Value>(&account.body).ok().map(|account| describe_account(&account));
    note(err, &format!("Signed in{}. Tokens kept in {}.", who.unwrap_or_default(), session.store().path().display()));
    Ok(())
}

/// `(company "X", BASIC account)`: what `/v2/account` says about who signed in.
fn describe_account(account: &serde_json::Value) -> String {
    let field = |name| account.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
    let mut parts = Vec::new();
    if let Some(company) = field("company") {
        parts.push(format!("company {company:?}"));
    }
    if let Some(product) = field("mainProductType") {
        parts.push(format!("{product} account"));
    }
    if parts.is_empty() { String::new() } else { format!(" ({})", parts.join(", ")) }
}

/// `token`: a valid access token on stdout, and nothing else.
fn token(session: &Session, json: bool, out: &mut dyn Write) -> Result<(), Error> {
    let tokens = session.valid_tokens()?;
    if !json {
        return write_out(out, &format!("{}\n", tokens.access_token.secret()));
    }
    let shown = serde_json::json!({
        "access_token": tokens.access_token.secret(),
        "expires_at": tokens.expires_at.map(unix_seconds),
        "scope": tokens.scope,
    });
    write_out(out, &format!("{shown}\n"))
}

/// `account` and `api`: one call with the kept tokens; the body on stdout.
fn api_call(
    http: &Http,
    session: &Session,
    method: &str,
    url: &str,
    body: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let mut tokens = session.valid_tokens()?;
    let response = api::call(http, method, url, body, &mut tokens, |stale| session.refresh(stale))?;
    if response.body.is_empty() {
        return Ok(());
    }
    write_out(out, &format!("{}\n", api::pretty(&response.body)))
}

/// `--data JSON` or `--data @FILE`.
fn read_data(data: String) -> Result<String, Error> {
    match data.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("--data @{path}: {e}"))),
        None => Ok(data),
    }
}

/// `logout`: revoke at the server, delete here.
fn logout(session: &Session, err: &mut dyn Write) -> Result<(), Error> {
    match session.logout() {
        Ok(None) => note(err, "Signed out: the tokens were revoked at the server and deleted here."),
        Ok(Some(error)) => note(
            err,
            &format!(
                "Signed out here: the tokens were deleted. But revoking them at the server failed ({error}), \
                 so the refresh token may stay valid until it expires."
            ),
        ),
        Err(Error::NotSignedIn) => note(err, "Not signed in: nothing to do."),
        Err(error) => return Err(error),
    }
    Ok(())
}

/// `status`: whether tokens are kept and when they expire; never a secret.
fn status(session: &Session, json: bool, out: &mut dyn Write) -> Result<(), Error> {
    let tokens = session.stored()?;
    let now = unix_seconds(SystemTime::now());
    let at = |time: Option<SystemTime>| time.map(unix_seconds);
    let left = |time: Option<SystemTime>| time.map(|t| unix_seconds(t).saturating_sub(now));
    if json {
        let shown = serde_json::json!({
            "signed_in": tokens.is_some(),
            "store": session.store().path(),
            "scope": tokens.as_ref().and_then(|t| t.scope.clone()),
            "access_expires_at": tokens.as_ref().and_then(|t| at(t.expires_at)),
            "refresh_expires_at": tokens.as_ref().and_then(|t| at(t.refresh_expires_at)),
            "has_refresh_token": tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()),
        });
        return write_out(out, &format!("{shown}\n"));
    }
    let Some(tokens) = tokens else {
        return write_out(out, &format!("not signed in (store: {})\n", session.store().path().display()));
    };
    let expiry = |time: Option<SystemTime>| match left(time) {
        None => "unknown".to_owned(),
        Some(0) => "expired".to_owned(),
        Some(secs) => format!("in {}", human_duration(secs)),
    };
    let text = format!(
        "signed in\nscope: {}\naccess token expires: {}\nrefresh token expires: {}\nstore: {}\n",
        tokens.scope.as_deref().unwrap_or("(not reported)"),
        expiry(tokens.expires_at),
        if tokens.refresh_token.is_some() { expiry(tokens.refresh_expires_at) } else { "no refresh token".into() },
        session.store().path().display()
    );
    write_out(out, &text)
}

/// `4 min 32 s`, `29 d 23 h`.
fn human_duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {} s", secs / 60, secs % 60),
        3600..86400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86400, secs % 86400 / 3600),
    }
}

/// A line for the user on stderr; a closed stderr is no reason to fail.
fn note(err: &mut dyn Write, text: &str) {
    let _ = writeln!(err, "{text}");
}

fn sign_in_options(cli: &Cli, browser: Browser) -> SignIn {
    SignIn {
        browser,
        browser_var: std::env::var("BROWSER").ok(),
        timeout: cli.timeout,
        interactive: std::io::stderr().is_terminal(),
    }
}

/// The flow of sipgate's Python example: sign in, call TEST_API_ENDPOINT, refresh, call it again.
/// Both API answers go to `out` as pretty JSON. `keep` is handed every new token set before it is used
/// (sipgate kills a refresh token once it is used, so the newest one must be kept at once).
pub fn example_flow(
    http: &Http,
    config: &Config,
    sign_in: SignIn,
    keep: &dyn Fn(&TokenSet),
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<TokenSet, Error> {
    let oauth = OAuthClient::new(http, config);
    let mut tokens = flow::sign_in(http, config, sign_in, err)?;
    keep(&tokens);
    note(err, &format!("Got tokens{}.", tokens.scope.as_ref().map(|s| format!(" (scope: {s})")).unwrap_or_default()));
    let refresh = |stale: &TokenSet| {
        let fresh = refresh_tokens(&oauth, stale)?;
        keep(&fresh);
        Ok(fresh)
    };

    note(err, &format!("GET {}", config.api_endpoint));
    let response = api::call(http, "GET", &config.api_endpoint, None, &mut tokens, refresh)?;
    write_out(out, &format!("{}\n", api::pretty(&response.body)))?;

    if tokens.refresh_token.is_some() {
        note(err, "Refreshing the tokens…");
        tokens = refresh(&tokens)?;
        note(err, &format!("GET {} with the refreshed token", config.api_endpoint));
    } else {
        note(
            err,
            "warning: the server issued no refresh token, so there is nothing to refresh (OpenID Connect servers \
             may want offline_access in OAUTH_SCOPE); calling the API once more with the same token",
        );
        note(err, &format!("GET {}", config.api_endpoint));
    }
    let response = api::call(http, "GET", &config.api_endpoint, None, &mut tokens, refresh)?;
    write_out(out, &format!("{}\n", api::pretty(&response.body)))?;
    note(err, "Done.");
    Ok(tokens)
}

/// Refreshes `tokens`; without a refresh token the user must sign in again.
fn refresh_tokens(oauth: &OAuthClient, tokens: &TokenSet) -> Result<TokenSet, Error> {
    match &tokens.refresh_token {
        Some(refresh_token) => oauth.refresh(refresh_token),
        None => Err(Error::BadTokenResponse {
            reason: "no refresh_token was issued, so the tokens cannot be refreshed".into(),
        }),
    }
}

fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|source| Error::Output { source })
}
