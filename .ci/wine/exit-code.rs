//! A Windows parent for the Wine run of .ci/platforms: it runs the command line it is given, with this
//! process's standard handles, and prints the exit code Windows reports for it (`exit 130`), the code
//! that cmd's `%ERRORLEVEL%` and PowerShell's `$LASTEXITCODE` show a user. The status of the Unix
//! process Wine runs a program in is Wine's, not the program's: a process that Wine ends by a signal
//! after the program's own exit shows 128 + the signal there, whatever code the program ended with.
//! Standard library only.

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(program) = args.next() else {
        eprintln!("exit-code: expected a program and its arguments");
        std::process::exit(2);
    };
    match std::process::Command::new(&program).args(args).status() {
        Ok(status) => match status.code() {
            Some(code) => println!("exit {code}"),
            None => println!("exit none"),
        },
        Err(error) => {
            eprintln!("exit-code: {program}: {error}");
            std::process::exit(2);
        }
    }
}
