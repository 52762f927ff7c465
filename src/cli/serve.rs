//! `proxy` and `exec`: their options, their help, and running them. Both keep their own options, as
//! `mock` does, so that `exec`'s COMMAND can have options of its own.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use sipgate_oauth::proxy::{Proxy, ProxyOptions};
use sipgate_oauth::{Config, Error, Http, LiveSession};

use super::command::{Cli, ExecArgs, ProxyArgs};
use super::output::{note, write_out};

/// How long one upstream request may take in all (a streamed answer too).
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(300);

/// Set in the environment of the proxy that `proxy --background` starts: that one serves.
const BACKGROUND_CHILD: &str = "SIPGATE_OAUTH_PROXY_CHILD";

pub const PROXY_HELP: &str = "\
sipgate-oauth proxy — a local API proxy that adds the kept sign-in's token to every request

USAGE:
    sipgate-oauth proxy [--port N] [--profile NAME] [--allow-origin ORIGIN]… [--no-secret-path] [--background] [-v]

Listens on 127.0.0.1 and forwards every request below its base URL to API_BASE_URL with
`Authorization: Bearer <access token>`: the token is refreshed before it expires (one refresh for all
clients, and for a parallel `token`), and a request answered 401 is refreshed once and sent again (bodies
up to 1 MiB; a larger one is streamed and not sent again). When the sign-in is dead, clients get a JSON
error saying `sign in again: sipgate-oauth login --profile NAME`, and the proxy keeps running.
At start it prints one line on stdout, for `eval` or a program to read:
    SIPGATE_API_BASE_URL=http://127.0.0.1:PORT/<secret>/v2

OPTIONS:
    --port N               the port on 127.0.0.1 [default: 0, a free one]
    --allow-origin ORIGIN  answer browser requests from ORIGIN too (e.g. https://app.example.com);
                           loopback origins are always allowed, any other gets 403
    --no-secret-path       WARNING: no random segment in the base URL, so every local user and
                           program can use your sign-in through the proxy
    --background           serve from a process of its own; print the base URL and
                           SIPGATE_PROXY_PID=N, then exit (ssh-agent style, for `eval`)
    -v, --verbose          one line per request on stderr: method, path, status, time
    --profile NAME         whose sign-in [default: SIPGATE_OAUTH_PROFILE, else default]

Guards: a request without the secret path segment gets 404; a Host other than 127.0.0.1, localhost or
[::1] with the proxy's port gets 403 (DNS rebinding); the client's Authorization and Cookie headers are
dropped; a redirect is passed back, never followed. Ctrl-C stops it.

EXAMPLES:
    # runs until Ctrl-C
    sipgate-oauth proxy
    eval \"$(sipgate-oauth proxy --background)\"
    curl -s \"$SIPGATE_API_BASE_URL/account\"
    kill \"$SIPGATE_PROXY_PID\"
";

pub const EXEC_HELP: &str = "\
sipgate-oauth exec — run a command with a fresh token and a local API proxy

USAGE:
    sipgate-oauth exec [--profile NAME] [--no-proxy] [--port N] [--allow-origin ORIGIN]… -- COMMAND [ARGS…]

COMMAND runs with its own stdin, stdout and stderr, and with:
    SIPGATE_TOKEN             a valid access token (refreshed first when it would expire soon)
    SIPGATE_TOKEN_EXPIRES_AT  when it expires, in Unix seconds
    SIPGATE_API_BASE_URL      a proxy (see `sipgate-oauth proxy --help`) that lives as long as COMMAND
                              and keeps every request's token fresh, however long COMMAND runs
                              (not with --no-proxy)
Its exit code is exec's (a signal N gives 128+N, as shells do); Ctrl-C goes to COMMAND, and exec waits for
it to end. Nothing of exec's own goes to stdout. Exit 4: sign in first; 127: COMMAND not found.

EXAMPLES:
    sipgate-oauth exec -- sh -c 'curl -s \"$SIPGATE_API_BASE_URL/account\"'
    sipgate-oauth exec -- npm test
    sipgate-oauth exec --no-proxy -- sh -c 'curl -s -H \"Authorization: Bearer $SIPGATE_TOKEN\" https://api.sipgate.com/v2/account'
";

/// The kept sign-in of the configured profile, for a server that keeps running.
fn live_session(cli: &Cli) -> Result<Arc<LiveSession>, Error> {
    let config = Config::load(cli.env_file.as_deref(), cli.profile.as_deref())?;
    let http = Http::new(UPSTREAM_TIMEOUT);
    let http = match &config.ca_file {
        Some(ca_file) => http.trusting(ca_file),
        None => http,
    };
    let live = LiveSession::new(http, config)?;
    if live.session().stored()?.is_none() {
        return Err(Error::NotSignedIn);
    }
    Ok(Arc::new(live))
}

fn options(cli: &Cli, args: &ProxyArgs) -> ProxyOptions {
    ProxyOptions {
        port: args.port,
        secret_path: !args.no_secret_path,
        allow_origins: args.allow_origins.clone(),
        log: cli.verbose.then(|| Box::new(std::io::stderr()) as Box<dyn Write + Send>),
    }
}

/// `proxy`: serves until the process ends; the base URL on `out`.
/// Returns the exit code (that of the serving process, when `--background` could not start it).
pub fn proxy(cli: &Cli, args: &ProxyArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    if args.background && std::env::var_os(BACKGROUND_CHILD).is_none() {
        return background(out);
    }
    let live = live_session(cli)?;
    let (api_base, profile) = (live.config().api_base.clone(), live.config().profile.clone());
    let proxy = Proxy::start(live, options(cli, args))?;
    write_out(out, &format!("SIPGATE_API_BASE_URL={}\n", proxy.base_url()))?;
    if std::env::var_os(BACKGROUND_CHILD).is_none() {
        note(err, &format!("Forwarding to {api_base} with the sign-in of profile {profile}. Ctrl-C stops it."));
    }
    proxy.serve_forever();
    Ok(0)
}

/// `proxy --background`: starts this program again as the serving proxy, passes on its start line and
/// its process id, and returns; the proxy serves on until it is stopped (`kill $SIPGATE_PROXY_PID`).
fn background(out: &mut dyn Write) -> Result<u8, Error> {
    let failed = |source| Error::Output { source };
    let program = std::env::current_exe().map_err(failed)?;
    let mut child = std::process::Command::new(&program)
        .args(std::env::args_os().skip(1))
        .env(BACKGROUND_CHILD, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(failed)?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    }
    if !line.starts_with("SIPGATE_API_BASE_URL=") {
        // It failed and said why on stderr; its exit code is ours.
        let status = child.wait().map_err(failed)?;
        return Ok(status.code().and_then(|c| u8::try_from(c).ok()).filter(|c| *c != 0).unwrap_or(1));
    }
    write_out(out, &format!("{line}SIPGATE_PROXY_PID={}\n", child.id()))?;
    Ok(0)
}

/// `exec`: runs the command; its exit code.
pub fn exec(cli: &Cli, args: &ExecArgs) -> Result<u8, Error> {
    let live = live_session(cli)?;
    let proxy = (!args.no_proxy).then(|| options(cli, &args.proxy));
    // Ctrl-C reaches the child too (it is in our process group, or attached to our console): we stay
    // until it has ended, and its exit code is ours. The child starts with the default handling.
    let _ = ctrlc::set_handler(|| {});
    match sipgate_oauth::exec::exec(live, &args.command[0], &args.command[1..], proxy)? {
        Ok(code) => Ok(code),
        Err(error) => {
            note(&mut std::io::stderr(), &format!("error: cannot run {:?}: {error}", args.command[0]));
            Ok(sipgate_oauth::exec::spawn_failure_code(&error))
        }
    }
}
