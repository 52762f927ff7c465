//! The command line: parsed into a [`Cli`] (`parse.rs`, `command.rs`) before anything runs, then
//! dispatched here to the function of its command (`commands.rs`, `login.rs`, `operations.rs`). This is
//! the only layer that writes to the terminal.

mod background;
mod call;
mod command;
mod commands;
mod completions;
mod countdown;
mod help;
pub mod interrupt;
mod login;
mod operations;
mod output;
mod parse;
pub mod serve;
mod serve_words;
mod via_http;
mod words;

use std::io::Write;

use sipgate_oauth::mock;
use sipgate_oauth::{Config, Error, Http, Session};

pub use command::Cli;
pub use command::Command;
use commands::{api_call, logout, logout_all, nothing_kept, status, token};
use help::HELP;
use login::{demo, example_flow, login, login_options};
pub use output::message;
use output::{note, write_out};

/// Runs the command of `cli`.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    match &cli.command {
        Command::Help(topic) => return write_out(out, topic.as_deref().and_then(help::topic).unwrap_or(HELP)),
        Command::Completions(shell) => return write_out(out, &completions::script(*shell)),
        Command::Version => return write_out(out, &format!("sipgate-oauth {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Demo => return demo(&cli, out, err),
        Command::Mock(args) if args.first().is_some_and(|word| word == "call") => {
            return call::run(&args[1..], cli.env_file.as_deref(), out);
        }
        Command::Mock(args) if mock::help_requested(args) => return write_out(out, mock::HELP),
        Command::Operations { filter, json } => return operations::list(filter.as_deref(), *json, out, err),
        Command::Scopes { filter, json } => return operations::scopes(filter.as_deref(), *json, out, err),
        Command::Mock(args) => {
            let options = mock::Options::parse(args).map_err(Error::Usage)?;
            if args.iter().any(|arg| arg == "--background") {
                return background::start(args, out, err);
            }
            let addr = format!("127.0.0.1:{} (the stand-in)", options.port);
            return mock::run(options, &mut &mut *out, &mut &mut *err).map_err(|source| Error::Listen { addr, source });
        }
        Command::Status { json } => return status(&cli, *json, out),
        Command::Logout { all: true } => return logout_all(&cli, err),
        _ => {}
    }
    // The profile's file is read once: for the configuration it keeps, and as the session's first read.
    let (config, kept) = match Config::load_kept(cli.env_file.as_deref(), cli.profile.as_deref()) {
        Err(error) if matches!(cli.command, Command::Logout { .. }) => return Err(nothing_kept(&cli).unwrap_or(error)),
        loaded => loaded?,
    };
    for warning in config.warnings() {
        note(err, &format!("warning: {warning}"));
    }
    let http = cli.http(&config);
    let session = Session::with_kept(&http, &config, kept)?;
    let result = run_with_session(cli, &config, &http, &session, out, err);
    // A dead sign-in is told with the command that mends it, for the profile at hand.
    result.map_err(|error| match session.sign_in_again(&error) {
        Some(message) => Error::SignInNeeded { message },
        None => error,
    })
}

/// The commands that need the configuration and the kept sign-in.
fn run_with_session(
    cli: Cli,
    config: &Config,
    http: &Http,
    session: &Session,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), Error> {
    match cli.command {
        Command::Help(_) | Command::Version | Command::Demo | Command::Mock(_) | Command::Completions(_) => Ok(()),
        Command::Operations { .. } | Command::Scopes { .. } => Ok(()),
        Command::Flow => {
            example_flow(http, config, session, login_options(&cli, config)?, out, err)?;
            note(err, &format!("Tokens kept in {}.", session.path().display()));
            Ok(())
        }
        Command::Login => login(http, config, session, login_options(&cli, config)?, err),
        Command::Token { json, header } => token(session, (json, header), &config.profile, out),
        Command::Account => api_call(session, "GET", &config.api_endpoint, None, out),
        Command::Api { method, path, body, headers, include, paginate } => {
            let body = body.map(|body| operations::read_body(body, &mut std::io::stdin().lock())).transpose()?;
            let request = sipgate_oauth::ApiRequest { method, path, headers, body };
            operations::api(session, config, request, (include, paginate), out, err)
        }
        Command::Mcp { allow_writes, tools } => {
            let offer = sipgate_oauth::mcp::Offer { allow_writes, words: tools };
            let served = sipgate_oauth::mcp::serve(session, &config.scope, offer, std::io::stdin().lock(), out, err);
            served.map_err(|source| Error::Output { source })
        }
        Command::Logout { .. } => logout(session, err),
        Command::Status { .. } => Ok(()),
        // Run by main.rs, which takes their exit codes.
        Command::Proxy(_) | Command::Exec(_) => Ok(()),
    }
}
