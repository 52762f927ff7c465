//! The binary: read the command line, run the command, turn an error into a message and an exit code.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use sipgate_oauth::Error;

fn main() -> ExitCode {
    let result = cli::Cli::parse(std::env::args_os().skip(1)).and_then(|cli| {
        // exec handles Ctrl-C itself (it outlives its child); everything else ends with 130 on it.
        if !matches!(cli.command, cli::Command::Exec(_)) {
            cli::interrupt::exit_130_on_ctrl_c();
        }
        match &cli.command {
            // These two end with an exit code of their own: the child's, or the serving proxy's.
            cli::Command::Exec(args) => cli::serve::exec(&cli, args),
            cli::Command::Proxy(args) => cli::serve::proxy(&cli, args, &mut std::io::stdout(), &mut std::io::stderr()),
            _ => cli::run(cli, &mut std::io::stdout(), &mut std::io::stderr()).map(|()| 0),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {}", cli::message(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// 2 for a wrong command line or configuration, 4 when only a new sign-in helps (as `gh` does), 1 for
/// every other failure. (130 after Ctrl-C: from the signal itself on Unix, from `cli::interrupt` on Windows.)
fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Usage(_) | Error::Config { .. } | Error::EnvFile { .. } => 2,
        error if error.needs_sign_in() => 4,
        _ => 1,
    }
}
