//! The commands: each one a function from the parsed command line to output on `out` (results) and
//! `err` (everything said to the user).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::api;
use crate::browser::Browser;
use crate::cli::{Cli, Command, HELP};
use crate::config::Config;
use crate::error::Error;
use crate::flow::{self, SignIn};
use crate::http::Http;
use crate::oauth::{OAuthClient, TokenSet};

/// How long one HTTP request may take in all.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the command of `cli`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    match cli.command {
        Command::Help => write_out(out, HELP),
        Command::Version => write_out(out, &format!("sipgate-oauth {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Flow => {
            let config = Config::load(cli.env_file.as_deref())?;
            let http = Http::new(HTTP_TIMEOUT, cli.verbose);
            let browser = if cli.no_browser { Browser::PrintOnly } else { Browser::System };
            example_flow(&http, &config, sign_in_options(&cli, browser), out, err)?;
            Ok(())
        }
        _ => Err(Error::Usage("this command is not implemented yet".into())),
    }
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
/// Both API answers go to `out` as pretty JSON; returns the newest tokens.
pub fn example_flow(
    http: &Http,
    config: &Config,
    sign_in: SignIn,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<TokenSet, Error> {
    let oauth = OAuthClient::new(http, config);
    let mut tokens = flow::sign_in(http, config, sign_in, err)?;
    let _ = writeln!(err, "Got tokens{}.", tokens.scope.as_ref().map(|s| format!(" (scope: {s})")).unwrap_or_default());

    let _ = writeln!(err, "GET {}", config.api_endpoint);
    let refresh = |tokens: &TokenSet| refresh(&oauth, tokens);
    let response = api::call(http, "GET", &config.api_endpoint, None, &mut tokens, refresh)?;
    write_out(out, &format!("{}\n", api::pretty(&response.body)))?;

    let _ = writeln!(err, "Refreshing the tokens…");
    tokens = refresh(&tokens)?;

    let _ = writeln!(err, "GET {} with the refreshed token", config.api_endpoint);
    let response = api::call(http, "GET", &config.api_endpoint, None, &mut tokens, refresh)?;
    write_out(out, &format!("{}\n", api::pretty(&response.body)))?;
    let _ = writeln!(err, "Done.");
    Ok(tokens)
}

/// Refreshes `tokens`; without a refresh token the user must sign in again.
fn refresh(oauth: &OAuthClient, tokens: &TokenSet) -> Result<TokenSet, Error> {
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
