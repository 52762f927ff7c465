//! The binary: parse the command line, run, turn an error into a message and an exit code.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use sipgate_oauth::app;
use sipgate_oauth::cli::Cli;

fn main() -> ExitCode {
    let result = Cli::parse(std::env::args().skip(1))
        .and_then(|cli| app::run(cli, &mut std::io::stdout().lock(), &mut std::io::stderr().lock()));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
