//! The words of the command line: commands, methods and options, as typed. The parser reads these
//! tables, and `help` and `completions` offer what they hold, so a new option is offered as soon as it
//! is parsed.

/// The HTTP methods `api` sends.
pub(super) const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The commands, as typed.
pub(super) const COMMANDS: [&str; 14] = [
    "demo",
    "login",
    "token",
    "account",
    "api",
    "scopes",
    "status",
    "logout",
    "mcp",
    "mock",
    "proxy",
    "exec",
    "completions",
    "help",
];

/// The options of every command.
pub(super) const GLOBAL_OPTIONS: [&str; 9] = [
    "--env-file",
    "--timeout",
    "--no-browser",
    "--device",
    "--via-http",
    "--profile",
    "--verbose",
    "--help",
    "--version",
];

/// The options of one command, besides the global ones.
pub(super) fn command_options(command: &str) -> &'static [&'static str] {
    match command {
        "token" => &["--json", "--header"],
        "status" | "scopes" => &["--json"],
        "logout" => &["--all"],
        "mcp" => &["--allow-writes", "--tools"],
        "proxy" => &["--port", "--allow-origin", "--no-secret-path", "--background"],
        "exec" => &["--no-proxy", "--port", "--allow-origin"],
        "api" => &[
            "--method",
            "--header",
            "--data",
            "--input",
            "--raw-field",
            "--field",
            "--include",
            "--paginate",
            "--list",
            "--json",
        ],
        _ => &[],
    }
}

/// The options that take a value (`-H`/`--header` does for `api`; for `token` it is a switch).
pub(super) const VALUED: [&str; 15] = [
    "--env-file",
    "-X",
    "--method",
    "-d",
    "--timeout",
    "--profile",
    "--data",
    "--input",
    "-H",
    "-f",
    "--raw-field",
    "-F",
    "--field",
    "--header",
    "--tools",
];
