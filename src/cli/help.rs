//! The help texts: the general one (`--help`, `help`) and each command's own (`COMMAND --help`,
//! `help COMMAND`), every command's with examples.

/// The text of `--help`.
pub const HELP: &str = "\
sipgate-oauth — sign in to sipgate with OAuth 2.0, keep the tokens, call the API

USAGE:
    sipgate-oauth [OPTIONS] [COMMAND]

COMMANDS:
    (none)           sign in in the browser, GET TEST_API_ENDPOINT, refresh, GET it again; keep the tokens
    demo             the same flow against a built-in sipgate stand-in: offline, no .env needed
    login            sign in in the browser and keep the tokens
    token [--json|--header]
                     print a valid access token (refreshed when needed) on stdout
    account          GET TEST_API_ENDPOINT with the kept tokens
    api [METHOD] PATH [-H 'Name: value'] [--data JSON|@FILE | --input FILE|- | -f key=value…]
                     [-i] [--paginate]
                     call any API path below API_BASE_URL with the kept tokens;
                     {userId} in PATH is the signed-in user; --paginate gathers
                     every page of a list (GET) into one JSON array
                     (METHOD: GET, or POST when a body is given)
    api --list [WORD] [--json]
                     list the API's operations (method, path, scopes), those matching WORD
    scopes [WORD] [--json]
                     list sipgate's scopes with what each allows, those matching WORD
    status [--json]  every profile: signed in?, scopes, expiry (no secrets); exit 4 when the selected one is not
    logout [--all]   revoke the tokens at the server and delete them here (--all: every profile's)
    mcp [--allow-writes] [--tools WORD…]
                     an MCP server on stdin/stdout: AI agents use sipgate with the kept sign-in,
                     only what its scopes allow, read-only unless --allow-writes (docs/mcp.md)
    mock [OPTIONS]   run the sipgate stand-in on 127.0.0.1 (see `sipgate-oauth mock --help`)
    proxy [--port N] [--allow-origin ORIGIN] [--background]
                     a local API proxy that adds the kept token to every request; prints
                     SIPGATE_API_BASE_URL=… (see `sipgate-oauth proxy --help`)
    exec [--no-proxy] -- COMMAND [ARGS…]
                     run COMMAND with SIPGATE_TOKEN and a proxy at SIPGATE_API_BASE_URL; its exit code
    completions bash|zsh|fish|powershell
                     print a completion script for the shell
    help [COMMAND]   print this help, or a command's own with examples (also: COMMAND --help)

OPTIONS (before or after the command; --name=value works too):
    --env-file PATH      read configuration from PATH instead of ./.env
    --timeout SECONDS    how long to wait for the browser's sign-in [default: 300]
    --no-browser         only print the sign-in URL, do not open a browser
    --device             (none), login, demo: sign in on another device with a code (device flow)
    --via-http           (none), login: sign in at a loopback stand-in (`mock --auto-approve`) by HTTP,
                         without a browser
    --profile NAME       use the sign-in kept under NAME instead of the default one
    -v, --verbose        trace every HTTP exchange on stderr, secrets replaced by [redacted]
    -h, --help           print this help
    -V, --version        print the version

CONFIGURATION (the keys of sipgate's Python example). Each variable comes from the first that sets it:
    1. the environment   2. --env-file, else ./.env   3. what the profile kept at login   4. the default
    CLIENT_ID, CLIENT_SECRET your client from https://console.sipgate.com (the only required settings)
    REALM                    sipgate's login realm: third-party or sipgate-apps [default: third-party]
    AUTH_URL, TOKEN_URL      authorization and token endpoints [default: sipgate's, for REALM]
    TEST_API_ENDPOINT        the API URL called after sign-in [default: https://api.sipgate.com/v2/account]
    OAUTH_SCOPE              space-separated scopes [default: account:read]
    REDIRECT_URI             the registered loopback redirect [default: http://localhost:8080/oauth]
    PORT                     optional; must equal REDIRECT_URI's port
    API_BASE_URL             base of `api` paths [default: TEST_API_ENDPOINT without its last segment]
    REVOKE_URL, LOGOUT_URL   logout endpoints [default: next to TOKEN_URL]
    DEVICE_AUTH_URL          device authorization endpoint for --device [default: from discovery]
    ISSUER                   the issuer a callback's iss must name [default: read off a Keycloak AUTH_URL]
    SIPGATE_OAUTH_PROFILE    the profile, like --profile [default: default]
    SIPGATE_OAUTH_STORE      where profiles are kept [default: $XDG_CONFIG_HOME/sipgate-oauth]
    BROWSER                  the command that opens the sign-in URL, with arguments; %s stands for the URL
                             (else it is appended); a:b tries a, then b [default: xdg-open / open; wslview in WSL]
    HTTPS_PROXY, NO_PROXY    proxy settings (never used for loopback hosts)

EXIT CODES:
    0 success, 1 the run failed, 2 usage or configuration error, 4 sign in needed (not signed in, refresh
    token dead or revoked: `sipgate-oauth login --profile NAME`), 130 interrupted by Ctrl-C.
    `status` and `logout` exit 4 for a profile that keeps nothing (`logout --all` with nothing kept: 0);
    `status` exits 1 when the configuration here (./.env) is for another client than the profile's.
";

/// The help of one command, with examples; `None` for a name that is no command.
pub fn topic(command: &str) -> Option<&'static str> {
    Some(match command {
        "demo" => DEMO,
        "login" => LOGIN,
        "token" => TOKEN,
        "account" => ACCOUNT,
        "api" => API,
        "scopes" => SCOPES,
        "status" => STATUS,
        "logout" => LOGOUT,
        "mcp" => MCP,
        "mock" => sipgate_oauth::mock::HELP,
        "proxy" => super::serve::PROXY_HELP,
        "exec" => super::serve::EXEC_HELP,
        "completions" => COMPLETIONS,
        "help" => HELP,
        _ => return None,
    })
}

/// The lines every command's help ends with.
macro_rules! common_tail {
    () => {
        "\nThe options of every command (--env-file, --profile, -v, …): `sipgate-oauth --help`.\n"
    };
}

const MCP: &str = concat!(
    "\
sipgate-oauth mcp — an MCP server for AI agents, with the kept sign-in

USAGE:
    sipgate-oauth mcp [--profile NAME] [--allow-writes] [--tools WORD…]

Speaks the Model Context Protocol (2026-07-28, and the initialize handshake of 2025-11-25 and
earlier) on stdin/stdout, for an agent that starts it as a local server. It offers one tool per
operation of sipgate's API that the profile's granted scopes allow, plus `whoami` and `scopes`.
Tokens are refreshed as needed; a dead sign-in answers every call with the `login` command to run,
and the server keeps running. The log goes to stderr. Ends when stdin ends. See docs/mcp.md.

OPTIONS:
    --allow-writes     offer the operations that change something (POST, PUT, DELETE: an SMS, a
                       call, settings); without it only reads are offered and callable
    --tools WORD…      offer only the operations whose tool name, path or scope contains a WORD
    --profile NAME     whose sign-in [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    sipgate-oauth mcp                              # for the agent's configuration: read-only
    sipgate-oauth mcp --profile work --tools history sms
",
    common_tail!()
);

const DEMO: &str = concat!(
    "\
sipgate-oauth demo — the whole flow, offline, against a built-in sipgate stand-in

USAGE:
    sipgate-oauth demo [--device]

Starts the stand-in on a free loopback port, signs in with a built-in HTTP client as the browser,
calls /v2/account, refreshes, calls it again and prints both answers as JSON. Needs no .env.

EXAMPLES:
    sipgate-oauth demo
    sipgate-oauth demo --device     # the same with the device sign-in (RFC 8628)
",
    common_tail!()
);

const LOGIN: &str = concat!(
    "\
sipgate-oauth login — sign in in the browser and keep the tokens

USAGE:
    sipgate-oauth login [--no-browser | --device | --via-http] [--timeout SECONDS] [--profile NAME]

OPTIONS:
    --no-browser       print the sign-in URL only; paste the address the browser ends on
    --device           sign in on another device with a code (RFC 8628)
    --via-http         at a loopback stand-in started with --auto-approve: sign in by HTTP, no browser
    --timeout SECONDS  how long to wait for the browser [default: 300]
    --profile NAME     keep the sign-in under NAME [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    sipgate-oauth login
    sipgate-oauth login --no-browser           # over SSH: open the URL elsewhere
    sipgate-oauth --profile work login         # keep this sign-in under the name work
",
    common_tail!()
);

const TOKEN: &str = concat!(
    "\
sipgate-oauth token — print a valid access token on stdout (refreshed when needed)

USAGE:
    sipgate-oauth token [--json | --header] [--profile NAME]

OPTIONS:
    --json            {\"access_token\", \"access_expires_at\" (Unix seconds), \"scope\", \"profile\"}
    --header          Authorization: Bearer …, ready for curl -H @-
    --profile NAME    whose sign-in [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    curl -H \"Authorization: Bearer $(sipgate-oauth token)\" https://api.sipgate.com/v2/account
    sipgate-oauth token --header | curl -H @- https://api.sipgate.com/v2/account
    sipgate-oauth token --json | jq .access_expires_at
",
    common_tail!()
);

const ACCOUNT: &str = concat!(
    "\
sipgate-oauth account — GET TEST_API_ENDPOINT with the kept tokens

USAGE:
    sipgate-oauth account [--profile NAME]

OPTIONS:
    --profile NAME    whose sign-in [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    sipgate-oauth account
    sipgate-oauth --profile work account
",
    common_tail!()
);

const API: &str = concat!(
    "\
sipgate-oauth api — call any sipgate API path with the kept tokens (like `gh api`)

USAGE:
    sipgate-oauth api [METHOD] PATH [OPTIONS]
    sipgate-oauth api --list [WORD] [--json]

PATH is below API_BASE_URL (/account, /history?limit=5) or a full URL below it; {userId} in it is the
signed-in user. METHOD is GET, or POST when a body is given. The answer's body goes to stdout, JSON
pretty-printed; an answer that is not 2xx is printed all the same, and the run exits 1.

OPTIONS:
    -X, --method METHOD         the method, as in `gh api` (the same as METHOD before PATH)
    -H, --header 'Name: value'  send a header too (repeatable; replaces Accept or Content-Type)
    -d, --data JSON|@FILE       the body, as it is or from FILE
    --input FILE|-              the body from FILE, or from stdin with -
    -f, --raw-field key=value   a string field of a JSON object body (repeatable)
    -F, --field key=value       the same, but true, false, null and numbers as JSON values
    -i, --include               print the status line and the headers before the body
    --paginate                  GET every page of a list; one JSON array of all items
    --list [WORD]               list the API's operations (method, path, scopes) instead
    --json                      with --list: the operations as JSON
    --profile NAME              whose sign-in [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    sipgate-oauth api /history?limit=5
    sipgate-oauth api POST /sessions/sms -f smsId=s0 -f recipient=+4915790000000 -f message=hello
    sipgate-oauth api -i -H 'Accept: application/json' /account
    echo '{\"firstname\":\"Ada\"}' | sipgate-oauth api PUT /contacts/ID --input -
    sipgate-oauth api --paginate '/history?limit=100'
",
    common_tail!()
);

const SCOPES: &str = concat!(
    "\
sipgate-oauth scopes — list sipgate's scopes with what each allows

USAGE:
    sipgate-oauth scopes [WORD] [--json]

OPTIONS:
    --json    the scopes as JSON: [{\"scope\", \"meaning\"}, …]

EXAMPLES:
    sipgate-oauth scopes
    sipgate-oauth scopes history
    sipgate-oauth scopes --json
",
    common_tail!()
);

const STATUS: &str = concat!(
    "\
sipgate-oauth status — every kept profile: signed in or not, client, scopes, expiry (no secrets)

USAGE:
    sipgate-oauth status [--json] [--profile NAME]

Lists every profile; the selected one (--profile, SIPGATE_OAUTH_PROFILE, else default) is marked. Needs no
configuration. After the list it exits, like `gh auth status`:
    0  the selected profile is signed in
    4  sign in needed: it keeps nothing, or its tokens can no longer be used (the message names the
       `sipgate-oauth login --profile NAME` to run)
    1  the configuration here (./.env, --env-file, the environment) is for another client than the one
       the profile signed in with, so every other command would refuse its tokens; the message names
       both clients: sign the profile in with this one, use another --profile, or run it elsewhere

OPTIONS:
    --json            the selected profile's fields at the top (those of `token --json`: access_expires_at,
                      scope, profile — without the token) and every profile under profiles; error says why
                      a profile cannot be read, or why the selected one cannot be used here (exit 1)
    --profile NAME    the profile to check [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    sipgate-oauth status
    sipgate-oauth status >/dev/null || sipgate-oauth login
    sipgate-oauth status --json
    sipgate-oauth status --profile customer
",
    common_tail!()
);

const LOGOUT: &str = concat!(
    "\
sipgate-oauth logout — revoke the tokens at the server and delete them here

USAGE:
    sipgate-oauth logout [--all] [--profile NAME]

A profile that keeps nothing exits 4 (sign in needed), as `status` does, naming the `login --profile
NAME` to run. `--all` with no profile kept says so and exits 0: nothing is left either way.

OPTIONS:
    --all             every profile's tokens, not only the current profile's
    --profile NAME    whose tokens [default: SIPGATE_OAUTH_PROFILE, else default]

EXAMPLES:
    sipgate-oauth logout
    sipgate-oauth --profile work logout
    sipgate-oauth logout --all
",
    common_tail!()
);

const COMPLETIONS: &str = concat!(
    "\
sipgate-oauth completions — print a completion script: commands, options, profile names, api paths
and methods (from the operation table), the stand-in's flags after `mock`

USAGE:
    sipgate-oauth completions bash|zsh|fish|powershell

EXAMPLES:
    source <(sipgate-oauth completions bash)                      # in ~/.bashrc
    sipgate-oauth completions zsh > \"${fpath[1]}/_sipgate-oauth\"
    sipgate-oauth completions fish > ~/.config/fish/completions/sipgate-oauth.fish
    sipgate-oauth completions powershell | Out-String | Invoke-Expression   # in $PROFILE
",
    common_tail!()
);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::ffi::OsString;

    use super::super::Cli;
    use super::super::words::{COMMANDS, GLOBAL_OPTIONS, VALUED, command_options};
    use super::*;

    /// The options a help text offers: those in its USAGE lines and at the head of its OPTIONS lines
    /// (`-H, --header 'Name: value'` offers `-H` and `--header`); not those in prose or examples.
    fn offered(text: &str) -> BTreeSet<String> {
        let mut section = "";
        let mut found = BTreeSet::new();
        for line in text.lines() {
            if !line.starts_with(' ') && line.ends_with(':') || line.starts_with("OPTIONS") {
                section = if line.starts_with("USAGE") {
                    "usage"
                } else if line.starts_with("OPTIONS") {
                    "options"
                } else {
                    ""
                };
                continue;
            }
            if line.is_empty() && section == "usage" {
                section = ""; // the USAGE lines end at the first blank line; prose follows
            }
            let words: Vec<&str> = match section {
                "usage" => line.split_whitespace().collect(),
                // The head of an option line: its option words, up to the first word that is none.
                "options" if line.trim_start().starts_with('-') => {
                    line.split_whitespace().take_while(|word| word.starts_with('-') || word.ends_with(',')).collect()
                }
                _ => continue,
            };
            for word in words {
                for part in word.split(['[', ']', '|', ',', '=']) {
                    let option = part.trim_end_matches('…');
                    let long = option.len() > 2 && option.starts_with("--");
                    let short = option.len() == 2 && option.starts_with('-') && option != "--";
                    if long || short {
                        found.insert(option.to_owned());
                    }
                }
            }
        }
        found
    }

    /// A value each option that takes one accepts.
    fn sample(option: &str) -> &'static str {
        match option {
            "--env-file" => "x.env",
            "--timeout" | "--port" => "5",
            "--profile" => "work",
            "-X" | "--method" => "GET",
            "-d" | "--data" => "{}",
            "--input" => "-",
            "-f" | "--raw-field" | "-F" | "--field" => "a=b",
            "-H" | "--header" => "Accept: text/csv",
            "--tools" => "history",
            "--allow-origin" => "https://app.example.com",
            _ => "x",
        }
    }

    /// Whether the parser takes `option` (alone, or with a value) after `command`, with the arguments the
    /// command needs.
    fn accepts(command: &str, option: &str) -> bool {
        let bases: &[(&[&str], &[&str])] = match command {
            "api" => &[(&["api"], &["/account"]), (&["api", "--list"], &[])],
            "completions" => &[(&["completions"], &["bash"])],
            "exec" => &[(&["exec"], &["--", "true"])],
            _ => &[(&[command], &[])],
        };
        let with_value = [vec![option], vec![option, sample(option)]];
        bases.iter().any(|(before, after)| {
            with_value.iter().any(|given| {
                let line = before.iter().chain(given).chain(after.iter());
                Cli::parse(line.map(OsString::from)).is_ok()
            })
        })
    }

    /// Every option the parser knows of, long and short.
    fn every_option() -> BTreeSet<String> {
        let own = COMMANDS.iter().flat_map(|command| command_options(command).iter());
        let short = ["-h", "-v", "-V", "-i"];
        GLOBAL_OPTIONS.iter().chain(own).chain(VALUED.iter()).chain(short.iter()).map(|o| o.to_string()).collect()
    }

    /// The commands whose help this module writes and whose options the main parser (or `serve_words`)
    /// reads: all but `mock`, whose own parser finds its flags in its help, and `help`, which takes none.
    fn checked() -> impl Iterator<Item = &'static str> + Clone {
        COMMANDS.into_iter().filter(|command| !["mock", "help"].contains(command))
    }

    #[test]
    fn every_command_help_offers_what_the_parser_takes_and_takes_what_it_offers() {
        let every = every_option();
        // A global option that some command refuses (--device, --via-http) is one a command that takes it
        // must offer; the others (--env-file, -v, …) the last line of every help refers to `--help` for.
        let main_parser = checked().filter(|command| !["proxy", "exec"].contains(command));
        let refused: BTreeSet<&str> =
            GLOBAL_OPTIONS.into_iter().filter(|option| main_parser.clone().any(|c| !accepts(c, option))).collect();
        assert!(refused.contains("--device") && refused.contains("--via-http"), "{refused:?}");
        for command in checked() {
            let help = topic(command).unwrap();
            let offered = offered(help);
            let taken: BTreeSet<String> = every.iter().filter(|option| accepts(command, option)).cloned().collect();
            let untaken: Vec<_> = offered.difference(&taken).collect();
            assert!(untaken.is_empty(), "`{command} --help` offers {untaken:?}, which the parser refuses");
            let unsaid: Vec<_> = command_options(command).iter().filter(|o| !offered.contains(**o)).collect();
            assert!(unsaid.is_empty(), "`{command} --help` does not offer its own {unsaid:?}");
            let restricted: Vec<_> = refused.iter().filter(|o| taken.contains(**o) && !offered.contains(**o)).collect();
            assert!(restricted.is_empty(), "`{command} --help` does not offer {restricted:?}, which it takes");
        }
    }

    #[test]
    fn the_commands_that_use_a_profile_offer_profile_and_the_general_help_every_global_option() {
        for command in ["login", "token", "account", "api", "status", "logout", "mcp", "proxy", "exec"] {
            assert!(offered(topic(command).unwrap()).contains("--profile"), "`{command} --help` lacks --profile");
            assert!(accepts(command, "--profile"), "{command}");
        }
        let general = offered(HELP);
        for option in GLOBAL_OPTIONS {
            assert!(general.contains(option), "--help lacks {option}");
        }
        assert!(general.contains("-v") && general.contains("-h") && general.contains("-V"), "{general:?}");
        // What the parser refuses is not offered: the check can fail.
        assert!(!accepts("status", "--all") && !accepts("token", "--paginate") && !accepts("demo", "--via-http"));
        assert!(
            offered("USAGE:\n    x [--a|-b] [--c=V]…\n\nprose --p\n\nOPTIONS:\n    -d, --e N  text -f --g\n")
                == ["--a", "-b", "--c", "-d", "--e"].into_iter().map(str::to_owned).collect()
        );
    }
}
