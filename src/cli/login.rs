//! Signing in from the command line: `login`, the example's flow and `demo`, in the browser or with
//! `--device`; the progress of a sign-in rendered on stderr (the countdown, `countdown.rs`; the
//! paste-mode help when no browser opens here).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sipgate_oauth::device::{self, DeviceEvent};
use sipgate_oauth::mock::{MockClient, MockConfig, MockServer};
use sipgate_oauth::{Browser, Config, Error, Http, NoBrowser, Session, SignIn, SignInEvent, TokenSet};

use super::command::Cli;
use super::countdown::Countdown;
use super::output::{note, pretty, write_out};

/// `demo`: the example's flow against a stand-in on an ephemeral loopback port, the browser played by a
/// built-in HTTP client, the tokens kept in a temporary store that is removed afterwards. Needs no `.env`
/// and no network.
pub fn demo(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let listen = "127.0.0.1:0".parse().expect("a literal socket address");
    let mock_config =
        MockConfig { auto_approve: true, device_interval: Duration::from_secs(1), ..MockConfig::default() };
    let server = MockServer::start(mock_config, listen)
        .map_err(|source| Error::Listen { addr: "127.0.0.1:0 (the stand-in)".into(), source })?;
    let store = TempStore::new()?;
    let mut env = server.env("third-party", &MockClient::demo());
    env.push(("REDIRECT_URI", "http://127.0.0.1:0/oauth".into()));
    env.push(("SIPGATE_OAUTH_STORE", store.0.display().to_string()));
    let config =
        Config::from_lookup(|var| env.iter().rev().find(|(key, _)| *key == var).map(|(_, value)| value.clone()))?;
    note(err, &format!("demo: a sipgate stand-in answers at {} — nothing leaves this machine.", server.base_url()));
    let http = cli.http(&config);
    let session = Session::new(&http, &config)?;
    let follow_redirects = |url: String| {
        let agent = ureq::Agent::config_builder().max_redirects(5).http_status_as_error(false).proxy(None).build();
        let agent = agent.new_agent();
        let _ = agent.get(&url).call();
    };
    let sign_in = match cli.device {
        true => Login::Device { visit: Some(Box::new(follow_redirects)) },
        false => Login::Browser(
            SignIn { browser: Browser::With(Box::new(follow_redirects)), timeout: cli.timeout, paste: None },
            None,
        ),
    };
    example_flow(&http, &config, &session, sign_in, out, err)
}

/// A fresh private directory for the demo's tokens, removed on drop.
struct TempStore(PathBuf);

impl TempStore {
    fn new() -> Result<TempStore, Error> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("sipgate-oauth-demo-{}-{nanos}", std::process::id()));
        // Private from the start on unix; on Windows the temp directory is in the user's profile.
        #[cfg(unix)]
        let created = std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700).create(&dir);
        #[cfg(not(unix))]
        let created = std::fs::create_dir(&dir);
        created.map_err(|source| Error::Store { path: dir.clone(), source })?;
        Ok(TempStore(dir))
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `login`: sign in, keep the tokens, say who signed in.
pub fn login(
    http: &Http,
    config: &Config,
    session: &Session,
    sign_in: Login,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let tokens = sign_in.run(http, config, err)?;
    session.save(&tokens)?;
    // A greeting only: a client without account:read signs in all the same.
    let account = session.call("GET", &config.api_endpoint, None).ok();
    let who =
        account.and_then(|account| serde_json::from_str(&account.body).ok()).map(|account| describe_account(&account));
    note(err, &format!("Signed in{}. Tokens kept in {}.", who.unwrap_or_default(), session.path().display()));
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

/// How a command signs in: in the browser (authorization code with PKCE), or with `--device` on
/// another device (RFC 8628).
pub enum Login {
    /// The browser sign-in, and why no browser is opened, if none is.
    Browser(SignIn, Option<NoBrowser>),
    /// The device sign-in; the prompt goes to stderr. `visit` plays the user's other device (the demo):
    /// it is handed the verification URL on a thread of its own.
    Device { visit: Option<Box<dyn FnOnce(String) + Send>> },
}

impl Login {
    /// Signs in; everything said to the user goes to `err`.
    fn run(self, http: &Http, config: &Config, err: &mut dyn Write) -> Result<TokenSet, Error> {
        let mut visit = match self {
            Login::Browser(options, why) => {
                let paste = options.paste.is_some();
                return sipgate_oauth::sign_in(http, config, options, &mut progress(err, paste, why));
            }
            Login::Device { visit } => visit,
        };
        device::sign_in(http, config, &mut |event| match event {
            DeviceEvent::Prompt(prompt) => {
                let _ = write!(err, "{}", device::prompt_box(prompt));
                let _ = err.flush();
                if let Some(visit) = visit.take() {
                    let url = prompt.verification_uri_complete.clone().unwrap_or(prompt.verification_uri.clone());
                    std::thread::spawn(move || visit(url));
                }
            }
            DeviceEvent::SlowDown { interval } => {
                note(err, &format!("The server asked to poll less often; asking every {} s now.", interval.as_secs()))
            }
        })
    }
}

/// How `cli` asks to sign in: `--device`, or the browser (paste mode when none opens here).
pub fn login_options(cli: &Cli, config: &Config) -> Result<Login, Error> {
    if cli.device {
        return Ok(Login::Device { visit: None });
    }
    if cli.via_http {
        let browser = super::via_http::browser(config)?;
        return Ok(Login::Browser(SignIn { browser, timeout: cli.timeout, paste: None }, None));
    }
    let env = |name: &str| std::env::var(name).ok();
    let (browser, no_browser) = match cli.no_browser {
        true => (Browser::PrintOnly, None),
        false => match Browser::for_environment(config.browser.clone(), &env) {
            Ok(browser) => (browser, None),
            Err(why) => (Browser::PrintOnly, Some(why)),
        },
    };
    // Paste mode whenever no browser is opened here: the user signs in elsewhere and pastes the address.
    let paste: Option<Box<dyn std::io::BufRead + Send>> = match browser {
        Browser::PrintOnly => Some(Box::new(std::io::BufReader::new(std::io::stdin()))),
        _ => None,
    };
    Ok(Login::Browser(SignIn { browser, timeout: cli.timeout, paste }, no_browser))
}

/// Renders the sign-in's progress on `err`; the countdown is rewritten in place on a terminal. In paste
/// mode (no browser opened here; `why`, unless the user asked for that) it explains how to finish.
fn progress(err: &mut dyn Write, paste: bool, why: Option<NoBrowser>) -> impl FnMut(SignInEvent) + '_ {
    let mut countdown = Countdown::for_stderr();
    move |event| match event {
        SignInEvent::Open { url, redirect_uri } => {
            if !paste {
                note(err, "Sign in to sipgate in your browser. If it does not open, open this URL:");
                note(err, &url);
                return;
            }
            note(err, "Open this URL in a browser on any machine and sign in:");
            note(err, &url);
            match why {
                Some(NoBrowser::Ssh) => note(err, "(no browser is opened: this is an SSH session without a display)"),
                Some(_) => note(err, "(no browser is opened: no program to open one is installed; set BROWSER)"),
                None => {}
            }
            note(err, &paste_help(&redirect_uri));
        }
        SignInEvent::BrowserOpened { program } => note(err, &format!("(opened with {program})")),
        SignInEvent::BrowserFailed { reason } => {
            note(err, &format!("warning: could not open a browser ({reason}); open the URL above yourself"));
        }
        SignInEvent::Waiting { left } => countdown.show(err, left),
        SignInEvent::WrongState => {
            countdown.end(err);
            note(
                err,
                "warning: a callback arrived whose state does not match this sign-in (an old URL from a restarted \
                 sipgate-oauth, or a refreshed tab?) — it was rejected; still waiting for the right one",
            );
        }
        SignInEvent::CallbackRejected { reason } => {
            countdown.end(err);
            note(err, &format!("warning: a callback was rejected: {reason} Still waiting for a usable one."));
        }
        SignInEvent::PasteRejected { reason } => {
            countdown.end(err);
            note(err, &format!("That did not work: {reason}. Paste the whole address the browser ended on."));
        }
        SignInEvent::Exchanging => {
            countdown.end(err);
            note(err, "Signed in at the authorization server; exchanging the code for tokens…");
        }
        _ => {}
    }
}

/// How to finish a sign-in whose browser runs elsewhere: paste the last address; over SSH, or forward the
/// port.
fn paste_help(redirect_uri: &str) -> String {
    let mut help = format!(
        "Paste mode is on: when the browser ends on a page that does not load ({redirect_uri}?code=…), copy that \
         whole address from its address bar, paste it here and press Enter."
    );
    // Over SSH, the server's address as the client sees it: the third field of SSH_CONNECTION.
    let ssh_host = std::env::var("SSH_CONNECTION").ok().and_then(|c| c.split_whitespace().nth(2).map(str::to_owned));
    if let Some(host) = ssh_host {
        let port = redirect_uri.rsplit_once(':').and_then(|(_, rest)| rest.split('/').next()).unwrap_or("8080");
        help.push_str(&format!(
            "\nOr forward the port from the machine with the browser, and the sign-in completes by itself:\n    \
             ssh -L {port}:localhost:{port} {host}"
        ));
    }
    help
}

/// The flow of sipgate's Python example: sign in, call TEST_API_ENDPOINT, refresh, call it again. Both
/// API answers go to `out` as pretty JSON. Every new token set is kept before it is used (sipgate kills a
/// refresh token once it is used, so the newest one must be kept at once).
pub fn example_flow(
    http: &Http,
    config: &Config,
    session: &Session,
    sign_in: Login,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    let tokens = sign_in.run(http, config, err)?;
    session.save(&tokens)?;
    note(err, &format!("Got tokens{}.", tokens.scope.as_ref().map(|s| format!(" (scope: {s})")).unwrap_or_default()));

    note(err, &format!("GET {}", config.api_endpoint));
    let response = session.call("GET", &config.api_endpoint, None)?;
    write_out(out, &format!("{}\n", pretty(&response.body)))?;

    if tokens.refresh_token.is_some() {
        note(err, "Refreshing the tokens…");
        session.refresh(&tokens)?;
        note(err, &format!("GET {} with the refreshed token", config.api_endpoint));
    } else {
        note(
            err,
            "warning: the server issued no refresh token, so there is nothing to refresh (OpenID Connect servers \
             may want offline_access in OAUTH_SCOPE); calling the API once more with the same token",
        );
        note(err, &format!("GET {}", config.api_endpoint));
    }
    let response = session.call("GET", &config.api_endpoint, None)?;
    write_out(out, &format!("{}\n", pretty(&response.body)))?;
    note(err, "Done.");
    Ok(())
}
