//! The commands: each one a function from the parsed command line to output on `out` (results) and
//! `err` (everything said to the user). This is the only layer that writes to the terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sipgate_oauth::device::{self, DeviceEvent};
use sipgate_oauth::mock::{self, MockClient, MockConfig, MockServer};
use sipgate_oauth::{
    Browser, Config, Error, Http, KeptProfile, NoBrowser, Profiles, Session, SignIn, SignInEvent, TokenSet,
};

use super::{Cli, Command, HELP, completions, help, operations};

/// How long one HTTP request may take in all.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the command of `cli`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    match &cli.command {
        Command::Help(topic) => return write_out(out, topic.as_deref().and_then(help::topic).unwrap_or(HELP)),
        Command::Completions(shell) => return write_out(out, &completions::script(*shell)),
        Command::Version => return write_out(out, &format!("sipgate-oauth {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Demo => return demo(&cli, out, err),
        Command::Mock(args) if mock::help_requested(args) => return write_out(out, mock::HELP),
        Command::Operations { filter, json } => return operations::list(filter.as_deref(), *json, out, err),
        Command::Scopes { filter, json } => return operations::scopes(filter.as_deref(), *json, out, err),
        Command::Mock(args) => {
            let options = mock::Options::parse(args).map_err(Error::Usage)?;
            let addr = format!("127.0.0.1:{} (the stand-in)", options.port);
            return mock::run(options, &mut &mut *out, &mut &mut *err).map_err(|source| Error::Listen { addr, source });
        }
        Command::Status { json } => return status(&cli, *json, out),
        Command::Logout { all: true } => return logout_all(&cli, err),
        _ => {}
    }
    let config = Config::load(cli.env_file.as_deref(), cli.profile.as_deref())?;
    for warning in config.warnings() {
        note(err, &format!("warning: {warning}"));
    }
    let http = http(&cli);
    let session = Session::new(&http, &config)?;
    match cli.command {
        Command::Help(_) | Command::Version | Command::Demo | Command::Mock(_) | Command::Completions(_) => Ok(()),
        Command::Operations { .. } | Command::Scopes { .. } => Ok(()),
        Command::Flow => {
            example_flow(&http, &config, &session, login_options(&cli, &config), out, err)?;
            note(err, &format!("Tokens kept in {}.", session.path().display()));
            Ok(())
        }
        Command::Login => login(&http, &config, &session, login_options(&cli, &config), err),
        Command::Token { json, header } => token(&session, (json, header), &config.profile, out),
        Command::Account => api_call(&session, "GET", &config.api_endpoint, None, out),
        Command::Api { method, path, body, headers, include, paginate } => {
            let body = body.map(|body| operations::read_body(body, &mut std::io::stdin().lock())).transpose()?;
            let request = sipgate_oauth::ApiRequest { method, path, headers, body };
            operations::api(&session, &config, request, (include, paginate), out, err)
        }
        Command::Logout { .. } => logout(&session, err),
        Command::Status { .. } => Ok(()),
    }
}

/// The HTTP client of the run; with `-v`, it traces to stderr.
fn http(cli: &Cli) -> Http {
    let http = Http::new(HTTP_TIMEOUT);
    if cli.verbose { http.with_trace(std::io::stderr()) } else { http }
}

/// `demo`: the example's flow against a stand-in on an ephemeral loopback port, the browser played by a
/// built-in HTTP client, the tokens kept in a temporary store that is removed afterwards. Needs no `.env`
/// and no network.
fn demo(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
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
    let http = http(cli);
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
        use std::os::unix::fs::DirBuilderExt;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("sipgate-oauth-demo-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|source| Error::Store { path: dir.clone(), source })?;
        Ok(TempStore(dir))
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `login`: sign in, keep the tokens, say who signed in.
fn login(http: &Http, config: &Config, session: &Session, sign_in: Login, err: &mut dyn Write) -> Result<(), Error> {
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

/// `token`: a valid access token on stdout, and nothing else; with `--header` as an `Authorization`
/// header line, with `--json` with the fields `status --json` names the same way.
fn token(session: &Session, (json, header): (bool, bool), profile: &str, out: &mut dyn Write) -> Result<(), Error> {
    let tokens = session.valid_tokens()?;
    if header {
        return write_out(out, &format!("Authorization: Bearer {}\n", tokens.access_token.secret()));
    }
    if !json {
        return write_out(out, &format!("{}\n", tokens.access_token.secret()));
    }
    let shown = serde_json::json!({
        "access_token": tokens.access_token.secret(),
        "access_expires_at": unix_seconds(tokens.expires_at),
        "scope": tokens.scope,
        "profile": profile,
    });
    write_out(out, &format!("{shown}\n"))
}

/// `account` and `api`: one call with the kept tokens; the body on stdout.
pub(super) fn api_call(
    session: &Session,
    method: &str,
    path: &str,
    body: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let response = session.call(method, path, body)?;
    if response.body.is_empty() {
        return Ok(());
    }
    write_out(out, &format!("{}\n", pretty(&response.body)))
}

/// A response body for stdout: JSON pretty-printed, anything else as it came.
pub(super) fn pretty(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned()),
        Err(_) => body.to_owned(),
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

/// `status`: every kept profile, whether it is signed in and when its tokens expire; never a secret. Needs
/// no configuration. Exits 1 (after the report) when the selected profile has no usable sign-in, as
/// `gh auth status` does.
fn status(cli: &Cli, json: bool, out: &mut dyn Write) -> Result<(), Error> {
    let profiles = Profiles::locate(cli.env_file.as_deref(), cli.profile.as_deref())?;
    let selected = profiles.selected().to_owned();
    let mut names = profiles.names()?;
    if !names.contains(&selected) {
        names.insert(0, selected.clone());
    }
    // A profile that cannot be read is reported as such; the others are listed all the same.
    let kept: Vec<(String, Result<Option<KeptProfile>, Error>)> =
        names.into_iter().map(|name| (name.clone(), profiles.load(&name))).collect();
    let usable = |kept: &Result<Option<KeptProfile>, Error>| matches!(kept, Ok(Some(k)) if k.tokens.usable());
    if json {
        let entry = |name: &str, kept: &Result<Option<KeptProfile>, Error>| {
            let found = kept.as_ref().ok().and_then(Option::as_ref);
            let tokens = found.map(|k| &k.tokens);
            serde_json::json!({
                "profile": name,
                "signed_in": usable(kept),
                "client_id": found.map(|k| &k.client_id),
                "scope": tokens.and_then(|t| t.scope.clone()),
                "access_expires_at": tokens.map(|t| unix_seconds(t.expires_at)),
                "refresh_expires_at": tokens.and_then(|t| t.refresh_expires_at.map(unix_seconds)),
                "has_refresh_token": tokens.is_some_and(|t| t.refresh_token.is_some()),
                "file": found.map(|k| &k.path),
                "error": kept.as_ref().err().map(super::message),
            })
        };
        let mut shown =
            kept.iter().find(|(name, _)| *name == selected).map_or(serde_json::Value::Null, |(n, k)| entry(n, k));
        shown["profiles"] = kept.iter().map(|(name, kept)| entry(name, kept)).collect();
        write_out(out, &format!("{shown}\n"))?;
    } else {
        let text: String = kept.iter().map(|(name, kept)| describe_profile(name, kept, *name == selected)).collect();
        write_out(out, &text)?;
    }
    match kept.into_iter().find(|(name, _)| *name == selected) {
        Some((_, Err(error))) => Err(error),
        Some((_, kept)) if usable(&kept) => Ok(()),
        _ => Err(Error::NotSignedIn),
    }
}

/// One profile for `status`: a heading line, then its details indented.
fn describe_profile(name: &str, kept: &Result<Option<KeptProfile>, Error>, selected: bool) -> String {
    let marker = if selected { " (selected)" } else { "" };
    let kept = match kept {
        Err(error) => return format!("{name}{marker}: cannot be read — {}\n", super::message(error)),
        Ok(None) => return format!("{name}{marker}: not signed in\n"),
        Ok(Some(kept)) => kept,
    };
    let tokens = &kept.tokens;
    let now = unix_seconds(SystemTime::now());
    let expiry = |time: SystemTime| match unix_seconds(time).saturating_sub(now) {
        0 => "expired".to_owned(),
        secs => format!("in {}", human_duration(secs)),
    };
    let refresh = match (&tokens.refresh_token, tokens.refresh_expires_at) {
        (None, _) => "no refresh token".to_owned(),
        (Some(_), None) => "unknown".to_owned(),
        (Some(_), Some(at)) => expiry(at),
    };
    let state = if tokens.usable() { "signed in" } else { "signed out: the kept tokens have expired" };
    format!(
        "{name}{marker}: {state}\n  client: {}\n  scope: {}\n  access token expires: {}\n  refresh token expires: \
         {refresh}\n  file: {}\n",
        kept.client_id,
        tokens.scope.as_deref().unwrap_or("(not reported)"),
        expiry(tokens.expires_at),
        kept.path.display()
    )
}

/// `logout --all`: every kept profile signed out with its own kept configuration.
fn logout_all(cli: &Cli, err: &mut dyn Write) -> Result<(), Error> {
    let profiles = Profiles::locate(cli.env_file.as_deref(), None)?;
    let names = profiles.names()?;
    if names.is_empty() {
        note(err, "No profile is kept: nothing to do.");
    }
    let http = http(cli);
    for name in names {
        let config = profiles.config(&name)?;
        note(err, &format!("profile {name}:"));
        logout(&Session::new(&http, &config)?, err)?;
    }
    Ok(())
}

/// Seconds since the Unix epoch (0 for earlier times).
fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
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
pub(super) fn note(err: &mut dyn Write, text: &str) {
    let _ = writeln!(err, "{text}");
}

/// How a command signs in: in the browser (authorization code with PKCE), or with `--device` on
/// another device (RFC 8628).
enum Login {
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

fn login_options(cli: &Cli, config: &Config) -> Login {
    if cli.device {
        return Login::Device { visit: None };
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
    Login::Browser(SignIn { browser, timeout: cli.timeout, paste }, no_browser)
}

/// Renders the sign-in's progress on `err`; the countdown is rewritten in place on a terminal. In paste
/// mode (no browser opened here; `why`, unless the user asked for that) it explains how to finish.
fn progress(err: &mut dyn Write, paste: bool, why: Option<NoBrowser>) -> impl FnMut(SignInEvent) + '_ {
    let mut countdown = Countdown { interactive: std::io::stderr().is_terminal(), shown: false };
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

/// The "waiting for sign-in" line: rewritten in place on a terminal, said once otherwise.
struct Countdown {
    interactive: bool,
    shown: bool,
}

impl Countdown {
    fn show(&mut self, err: &mut dyn Write, left: Duration) {
        if self.interactive {
            let secs = left.as_secs_f64().ceil() as u64;
            let _ = write!(
                err,
                "\r\x1b[2Kwaiting for sign-in in the browser — {}:{:02} left, Ctrl-C to cancel",
                secs / 60,
                secs % 60
            );
            self.shown = true;
        } else if !self.shown {
            note(
                err,
                &format!(
                    "waiting for sign-in in the browser (up to {} s, Ctrl-C to cancel)…",
                    left.as_secs_f64().round()
                ),
            );
            self.shown = true;
        }
        let _ = err.flush();
    }

    fn end(&mut self, err: &mut dyn Write) {
        if self.interactive && self.shown {
            let _ = writeln!(err);
            self.shown = false;
        }
    }
}

/// The flow of sipgate's Python example: sign in, call TEST_API_ENDPOINT, refresh, call it again. Both
/// API answers go to `out` as pretty JSON. Every new token set is kept before it is used (sipgate kills a
/// refresh token once it is used, so the newest one must be kept at once).
fn example_flow(
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

pub(super) fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|source| Error::Output { source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_rewrites_one_line_on_a_terminal_and_says_it_once_elsewhere() {
        let mut terminal = Vec::new();
        let mut countdown = Countdown { interactive: true, shown: false };
        countdown.show(&mut terminal, Duration::from_millis(271_500));
        countdown.show(&mut terminal, Duration::from_secs(271));
        countdown.end(&mut terminal);
        let line = "\r\x1b[2Kwaiting for sign-in in the browser — 4:32 left, Ctrl-C to cancel";
        assert_eq!(String::from_utf8(terminal).unwrap(), format!("{line}{}\n", line.replace("4:32", "4:31")));

        let mut log = Vec::new();
        let mut countdown = Countdown { interactive: false, shown: false };
        countdown.show(&mut log, Duration::from_secs(300));
        countdown.show(&mut log, Duration::from_secs(299));
        countdown.end(&mut log);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "waiting for sign-in in the browser (up to 300 s, Ctrl-C to cancel)…\n"
        );
    }

    #[test]
    fn json_is_pretty_printed_and_other_text_kept() {
        assert_eq!(pretty(r#"{"verified":true}"#), "{\n  \"verified\": true\n}");
        assert_eq!(pretty("plain"), "plain");
    }
}
