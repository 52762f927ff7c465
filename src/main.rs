//! The binary: read the command line, run the command, turn an error into a message and an exit code.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use sipgate_oauth::Error;

fn main() -> ExitCode {
    let result = cli::Cli::parse(std::env::args_os().skip(1))
        .and_then(|cli| cli::commands::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", message(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// The error's message, followed by its causes.
fn message(error: &Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    message
}

/// 2 for a wrong command line or configuration, 1 for every other failure.
fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Usage(_) | Error::Config { .. } | Error::EnvFile { .. } => 2,
        _ => 1,
    }
}
