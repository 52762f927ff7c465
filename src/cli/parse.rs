//! The command line: parsed into a [`Cli`] before anything runs.
//!
//! One convention for every command: options may stand before or after the command, `--name value` and
//! `--name=value` mean the same, and `--` ends the options. Arguments that are not UTF-8 are refused with
//! a usage error, never a panic; a misspelt command or option is a usage error that names the closest
//! known one. The tables of commands and options it reads (`words.rs`) are also what `help` and `completions` offer.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};
use sipgate_oauth::Error;
use sipgate_oauth::spelling::closest;

use super::command::{Body, Cli, Command, DEFAULT_TIMEOUT};
use super::words::{COMMANDS, GLOBAL_OPTIONS, METHODS, VALUED, command_options};

/// The longest `--timeout` taken: a day.
const MAX_TIMEOUT: u64 = 24 * 60 * 60;

/// What the options of `api` gathered while parsing.
#[derive(Default)]
struct ApiOptions {
    method: Option<String>,
    data: Option<String>,
    input: Option<PathBuf>,
    fields: Map<String, Value>,
    headers: Vec<(String, String)>,
    include: bool,
    list: bool,
    paginate: bool,
}

impl ApiOptions {
    /// The first `api` option given but `--list`, for the message when it stands where it does not fit.
    fn first_given(&self) -> Option<&'static str> {
        [
            (self.method.is_some(), "-X/--method"),
            (self.data.is_some(), "--data"),
            (self.input.is_some(), "--input"),
            (!self.fields.is_empty(), "-f/-F"),
            (!self.headers.is_empty(), "-H"),
            (self.include, "--include"),
            (self.paginate, "--paginate"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }

    /// The body: at most one of `--data`, `--input` and fields.
    fn body(&mut self) -> Result<Option<Body>, Error> {
        let data = self.data.take().map(Body::Data);
        let input = self.input.take().map(Body::Input);
        let fields = Some(std::mem::take(&mut self.fields)).filter(|f| !f.is_empty()).map(Body::Fields);
        let mut given = [data, input, fields].into_iter().flatten();
        let body = given.next();
        match given.next() {
            Some(_) => Err(Error::Usage("--data, --input and -f/-F each give the whole body: use one of them".into())),
            None => Ok(body),
        }
    }
}

impl Cli {
    /// Parses the arguments after the program name.
    /// Parses the arguments after the program name. A usage error points to the help of the command it
    /// is about (`sipgate-oauth api --help`), else to the general one.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Cli, Error> {
        let args = args
            .into_iter()
            .map(|arg| {
                arg.into_string()
                    .map_err(|arg| Error::Usage(format!("the argument {:?} is not valid UTF-8", arg.to_string_lossy())))
            })
            .collect::<Result<Vec<String>, Error>>()?;
        let command = args.iter().find(|arg| COMMANDS.contains(&arg.as_str()) && *arg != "help").cloned();
        Cli::parse_strings(args).map_err(|error| match (error, command) {
            (Error::Usage(message), Some(command)) if !message.contains("--help`") => {
                Error::Usage(format!("{message} — see `sipgate-oauth {command} --help`"))
            }
            (error, _) => error,
        })
    }

    fn parse_strings(args: Vec<String>) -> Result<Cli, Error> {
        let mut cli = Cli {
            command: Command::Flow,
            env_file: None,
            timeout: DEFAULT_TIMEOUT,
            no_browser: false,
            verbose: false,
            device: false,
            via_http: false,
            profile: None,
        };
        let mut words: Vec<String> = Vec::new();
        let (mut json, mut help, mut header_switch, mut all) = (false, false, false, false);
        let mut api = ApiOptions::default();
        let (mut allow_writes, mut tools) = (false, None::<Vec<String>>);
        let mut args = args.into_iter().peekable();
        let mut options_ended = false;
        while let Some(arg) = args.next() {
            // `proxy` and `exec` read their own options (serve::parse), and so exec's COMMAND keeps its.
            let own_options = words.first().is_some_and(|w| matches!(w.as_str(), "mock" | "proxy" | "exec"));
            if options_ended || own_options {
                words.push(arg);
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
                _ => (arg.clone(), None),
            };
            if inline.is_some() && !VALUED.contains(&name.as_str()) {
                return Err(Error::Usage(format!("{name} takes no value")));
            }
            // `--header` is a switch of `token` and takes `Name: value` for `api`; before the command, a
            // following argument with a colon is a header (a command never has one).
            let header_takes_value = inline.is_some()
                || match words.first().map(String::as_str) {
                    Some("api") => true,
                    Some(_) => false,
                    None => args.peek().is_some_and(|next| next.contains(':')),
                };
            let mut value = || match inline.clone() {
                Some(value) => Ok(value),
                None => args.next().ok_or_else(|| Error::Usage(format!("{name} needs a value"))),
            };
            match name.as_str() {
                "--" => options_ended = true,
                "-h" | "--help" => help = true,
                "-V" | "--version" => return Ok(Cli { command: Command::Version, ..cli }),
                "-v" | "--verbose" => cli.verbose = true,
                "--no-browser" => cli.no_browser = true,
                "--device" => cli.device = true,
                "--via-http" => cli.via_http = true,
                "--json" => json = true,
                "--all" => all = true,
                "--allow-writes" => allow_writes = true,
                "--tools" => tools.get_or_insert_default().extend(tool_words(&value()?)),
                "--list" => api.list = true,
                "--paginate" => api.paginate = true,
                "-i" | "--include" => api.include = true,
                "--env-file" => cli.env_file = Some(PathBuf::from(value()?)),
                "--profile" => cli.profile = Some(profile(&value()?)?),
                "-d" | "--data" => api.data = Some(value()?),
                "-X" | "--method" => api.method = Some(method(&value()?)?),
                "--input" => api.input = Some(PathBuf::from(value()?)),
                "-f" | "--raw-field" => field(&mut api.fields, &value()?, false)?,
                "-F" | "--field" => field(&mut api.fields, &value()?, true)?,
                "-H" => api.headers.push(header_line(&value()?)?),
                "--header" if header_takes_value => api.headers.push(header_line(&value()?)?),
                "--header" => header_switch = true,
                "--timeout" => cli.timeout = timeout(&value()?)?,
                flag if flag.starts_with('-') && flag.len() > 1 => return Err(unknown_option(flag, words.first())),
                _ => words.push(arg),
            }
        }
        if help {
            let topic = match words.first() {
                Some(first) if first == "help" => words.get(1),
                first => first,
            };
            return Ok(Cli { command: Command::Help(help_topic(topic.map(String::as_str))?), ..cli });
        }
        let api_only = if api.list { Some("--list") } else { api.first_given() };
        if let Some(option) = api_only.filter(|_| words.first().is_none_or(|word| word != "api")) {
            return Err(Error::Usage(format!("{option} goes with `api`")));
        }
        cli.command = match api.list {
            true => operations_list(&words[1..], json, &api)?,
            false if words.first().is_some_and(|w| w == "proxy" || w == "exec") => {
                super::serve_words::parse(&words, &mut cli, profile)?
            }
            false => command(&words, json, header_switch, all, &mut api)?,
        };
        let takes_json = matches!(
            cli.command,
            Command::Token { .. } | Command::Status { .. } | Command::Scopes { .. } | Command::Operations { .. }
        );
        if json && !takes_json {
            return Err(Error::Usage("--json goes with `token`, `status`, `scopes` or `api --list`".into()));
        }
        if header_switch && !matches!(cli.command, Command::Token { .. }) {
            return Err(Error::Usage(
                "--header without a value goes with `token`; `api` takes -H 'Name: value'".into(),
            ));
        }
        if let Command::Mcp { allow_writes: writes, tools: words } = &mut cli.command {
            *writes = allow_writes;
            match (tools, words.first()) {
                (None, Some(extra)) => {
                    return Err(Error::Usage(format!(
                        "unexpected argument {extra:?} — to offer only some tools: sipgate-oauth mcp --tools WORD…"
                    )));
                }
                (Some(given), _) => words.splice(0..0, given).for_each(drop),
                (None, None) => {}
            }
            if words.iter().any(|word| word.starts_with('-')) {
                return Err(Error::Usage("--tools takes words that name tools, e.g. --tools history sms".into()));
            }
        } else if allow_writes || tools.is_some() {
            return Err(Error::Usage("--allow-writes and --tools go with `mcp`".into()));
        }
        if all && !matches!(cli.command, Command::Logout { .. }) {
            return Err(Error::Usage("--all goes with `logout`".into()));
        }
        if cli.via_http && !matches!(cli.command, Command::Flow | Command::Login) {
            return Err(Error::Usage("--via-http goes with `login` or no command".into()));
        }
        if cli.via_http && cli.device {
            return Err(Error::Usage("--via-http and --device are two ways to sign in: use one".into()));
        }
        if cli.device && !matches!(cli.command, Command::Flow | Command::Login | Command::Demo) {
            return Err(Error::Usage("--device goes with `login`, `demo` or no command".into()));
        }
        Ok(cli)
    }
}

/// `--tools history,sms` or `--tools 'history sms'`: the words, split at commas and spaces.
fn tool_words(value: &str) -> Vec<String> {
    value.split([',', ' ']).filter(|word| !word.is_empty()).map(str::to_owned).collect()
}

/// `--timeout SECONDS`: a whole number from 1 to a day.
fn timeout(text: &str) -> Result<Duration, Error> {
    text.parse().ok().filter(|seconds| (1..=MAX_TIMEOUT).contains(seconds)).map(Duration::from_secs).ok_or_else(|| {
        Error::Usage(format!("--timeout takes a whole number of seconds from 1 to {MAX_TIMEOUT}, not {text:?}"))
    })
}

/// `--profile NAME`: letters, digits, `-`, `_` and `.` (not first), so that it names a file and nothing else.
pub(super) fn profile(name: &str) -> Result<String, Error> {
    let fits = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    match !name.is_empty() && name.len() <= 64 && name.chars().all(fits) {
        true => Ok(name.to_owned()),
        false => {
            Err(Error::Usage(format!("--profile takes a name of 1 to 64 letters, digits, '-' and '_', not {name:?}")))
        }
    }
}

/// `-H 'Name: value'`: a header name of token characters (RFC 9110 §5.1), a value without line breaks.
fn header_line(line: &str) -> Result<(String, String), Error> {
    let usage = || Error::Usage(format!("-H takes 'Name: value', e.g. -H 'Accept: text/csv', not {line:?}"));
    let (name, value) = line.split_once(':').ok_or_else(usage)?;
    let (name, value) = (name.trim(), value.trim());
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) || value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(usage());
    }
    if name.eq_ignore_ascii_case("authorization") {
        return Err(Error::Usage(
            "api sends the kept token in Authorization itself; for another token use `curl` with \
             `sipgate-oauth token --header`"
                .into(),
        ));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// `-f key=value` (`typed` false: always a string) or `-F key=value` (`typed`: `true`, `false`, `null`
/// and numbers become JSON; anything else stays a string).
fn field(fields: &mut Map<String, Value>, pair: &str, typed: bool) -> Result<(), Error> {
    let option = if typed { "-F" } else { "-f" };
    let Some((key, text)) = pair.split_once('=').filter(|(key, _)| !key.is_empty()) else {
        return Err(Error::Usage(format!("{option} takes key=value, e.g. {option} message=hello, not {pair:?}")));
    };
    let value = match serde_json::from_str::<Value>(text) {
        Ok(value @ (Value::Bool(_) | Value::Null | Value::Number(_))) if typed => value,
        _ => Value::String(text.to_owned()),
    };
    if fields.insert(key.to_owned(), value).is_some() {
        return Err(Error::Usage(format!("the field {key:?} is given twice")));
    }
    Ok(())
}

/// The command whose help is asked for (`COMMAND --help`, `help COMMAND`); `None` for the general help.
fn help_topic(command: Option<&str>) -> Result<Option<String>, Error> {
    match command {
        None | Some("help") => Ok(None),
        Some(name) if COMMANDS.contains(&name) => Ok(Some(name.to_owned())),
        Some(other) => Err(unknown_command(other)),
    }
}

/// The command and its arguments.
fn command(
    words: &[String],
    json: bool,
    header: bool,
    all: bool,
    api_options: &mut ApiOptions,
) -> Result<Command, Error> {
    let no_more = |n: usize, command: Command| match words.get(n) {
        Some(extra) => Err(unexpected(extra, &words[0])),
        None => Ok(command),
    };
    let Some(first) = words.first() else { return Ok(Command::Flow) };
    match first.as_str() {
        "demo" => no_more(1, Command::Demo),
        "login" => no_more(1, Command::Login),
        "token" if json && header => Err(Error::Usage("token takes --json or --header, not both".into())),
        "token" => no_more(1, Command::Token { json, header }),
        "account" => no_more(1, Command::Account),
        "status" => no_more(1, Command::Status { json }),
        "logout" => no_more(1, Command::Logout { all }),
        "help" => no_more(2, Command::Help(help_topic(words.get(1).map(String::as_str))?)),
        "mock" => Ok(Command::Mock(words[1..].to_vec())),
        "mcp" => Ok(Command::Mcp { allow_writes: false, tools: words[1..].to_vec() }),
        "completions" => match &words[1..] {
            [shell] => Ok(Command::Completions(shell.parse()?)),
            [] => Err(Error::Usage("completions needs a shell: bash, zsh, fish or powershell".into())),
            [_, extra, ..] => Err(Error::Usage(format!("unexpected argument {extra:?}"))),
        },
        "scopes" => no_more(2, Command::Scopes { filter: words.get(1).cloned(), json }),
        "api" => api(&words[1..], api_options),
        other => Err(unknown_command(other)),
    }
}

/// `unknown command "lgoin" — did you mean `login`?`
fn unknown_command(word: &str) -> Error {
    match closest(word, COMMANDS) {
        Some(known) => Error::Usage(format!("unknown command {word:?} — did you mean `{known}`?")),
        None => Error::Usage(format!("unknown command {word:?} (commands: {})", COMMANDS.join(", "))),
    }
}

/// `unknown option --jsn — did you mean --json?`, the options of `command` (if any) and the global ones
/// offered.
fn unknown_option(flag: &str, command: Option<&String>) -> Error {
    let own = command.map_or(&[][..], |command| command_options(command));
    let known = GLOBAL_OPTIONS.iter().chain(own).copied();
    let known = known.chain(COMMANDS.iter().flat_map(|command| command_options(command).iter().copied()));
    match closest(flag, known) {
        Some(option) => Error::Usage(format!("unknown option {flag} — did you mean {option}?")),
        None => Error::Usage(format!("unknown option {flag}")),
    }
}

/// `unexpected argument "json" — did you mean --json?`: a word that is an option of `command` without its
/// dashes gets the option offered.
fn unexpected(extra: &str, command: &str) -> Error {
    let dashed = format!("--{extra}");
    let own = command_options(command).iter().chain(&GLOBAL_OPTIONS).copied();
    match own.clone().find(|option| *option == dashed).or_else(|| closest(&dashed, own)) {
        Some(option) => Error::Usage(format!("unexpected argument {extra:?} — did you mean {option}?")),
        None => Error::Usage(format!("unexpected argument {extra:?}")),
    }
}

/// `-X METHOD`: one of the methods `api` sends, in capitals.
fn method(word: &str) -> Result<String, Error> {
    let upper = word.to_ascii_uppercase();
    match METHODS.contains(&upper.as_str()) {
        true => Ok(upper),
        false => Err(Error::Usage(format!("-X takes an HTTP method ({}), not {word:?}", METHODS.join(", ")))),
    }
}

/// `api --list [WORD]`.
fn operations_list(words: &[String], json: bool, api: &ApiOptions) -> Result<Command, Error> {
    if let Some(option) = api.first_given() {
        return Err(Error::Usage(format!("{option} does not go with `api --list`")));
    }
    match words {
        [] | [_] => Ok(Command::Operations { filter: words.first().cloned(), json }),
        [_, extra, ..] => {
            Err(Error::Usage(format!("unexpected argument {extra:?} — usage: sipgate-oauth api --list [WORD]")))
        }
    }
}

/// `api [METHOD] PATH`: the method is checked here, before anything is sent.
fn api(words: &[String], options: &mut ApiOptions) -> Result<Command, Error> {
    let usage = "usage: sipgate-oauth api [METHOD] PATH [OPTIONS], e.g. `sipgate-oauth api /account` \
                 (`sipgate-oauth api --help` lists the options)";
    let body = options.body()?;
    let is_method = |word: &str| METHODS.contains(&word.to_ascii_uppercase().as_str());
    let (method, path) = match (options.method.take(), words) {
        (Some(method), [path]) => (method, path),
        (Some(_), [first, _, ..]) if is_method(first) => {
            return Err(Error::Usage(format!("the method is given twice: -X and {first:?} — {usage}")));
        }
        (Some(_), [] | [_, _, ..]) => return Err(Error::Usage(format!("api -X METHOD takes one PATH — {usage}"))),
        (None, words) => match words {
            [path] if is_method(path) && !path.starts_with('/') => {
                return Err(Error::Usage(format!("api {path} needs a PATH — {usage}")));
            }
            [path] => (if body.is_some() { "POST" } else { "GET" }.to_owned(), path),
            [method, path] if is_method(method) => (method.to_ascii_uppercase(), path),
            [method, _] => {
                return Err(Error::Usage(format!(
                    "{method:?} is not an HTTP method ({}) — {usage}",
                    METHODS.join(", ")
                )));
            }
            [] => return Err(Error::Usage(format!("api needs a PATH — {usage}"))),
            [_, _, extra, ..] => return Err(Error::Usage(format!("unexpected argument {extra:?} — {usage}"))),
        },
    };
    if options.paginate && (method != "GET" || body.is_some() || options.include) {
        return Err(Error::Usage(format!("--paginate goes with GET requests without a body or --include — {usage}")));
    }
    Ok(Command::Api {
        method,
        path: path.clone(),
        body,
        headers: std::mem::take(&mut options.headers),
        include: options.include,
        paginate: options.paginate,
    })
}

#[cfg(test)]
mod tests {
    use super::super::completions::Shell;
    use super::super::help;
    use super::*;

    fn parse(line: &str) -> Result<Cli, Error> {
        Cli::parse(line.split_whitespace().map(OsString::from))
    }

    #[test]
    fn no_command_is_the_examples_flow() {
        let cli = parse("").unwrap();
        assert_eq!(cli.command, Command::Flow);
        assert_eq!(cli.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn options_go_before_or_after_the_command_with_or_without_equals() {
        let cli = parse("--env-file x.env token --json -v --timeout 5 --no-browser").unwrap();
        assert_eq!(cli.command, Command::Token { json: true, header: false });
        assert_eq!(cli.env_file, Some(PathBuf::from("x.env")));
        assert_eq!(cli.timeout, Duration::from_secs(5));
        assert!(cli.verbose && cli.no_browser);
        assert_eq!(
            parse("--env-file=x.env token --timeout=5 --json").unwrap(),
            Cli { verbose: false, no_browser: false, ..cli }
        );
    }

    /// `api` with only method, path and body.
    fn api(method: &str, path: &str, body: Option<Body>) -> Command {
        Command::Api {
            method: method.into(),
            path: path.into(),
            body,
            headers: vec![],
            include: false,
            paginate: false,
        }
    }

    #[test]
    fn api_takes_an_optional_method_and_data() {
        let data = |text: &str| Some(Body::Data(text.into()));
        assert_eq!(parse("api /account").unwrap().command, api("GET", "/account", None));
        assert_eq!(
            parse("api post /sessions/calls --data @call.json").unwrap().command,
            api("POST", "/sessions/calls", data("@call.json"))
        );
        assert_eq!(parse("api /sessions/sms --data={}").unwrap().command, api("POST", "/sessions/sms", data("{}")));
        assert_eq!(parse("api -- -odd-path").unwrap().command, api("GET", "-odd-path", None));
        assert_eq!(
            parse("api --paginate /history").unwrap().command,
            Command::Api {
                method: "GET".into(),
                path: "/history".into(),
                body: None,
                headers: vec![],
                include: false,
                paginate: true
            }
        );
    }

    #[test]
    fn api_takes_headers_input_fields_and_include() {
        let cli = Cli::parse(
            ["api", "-H", "Accept: text/csv", "--header=X-Trace:  1 ", "-i", "/history"].map(OsString::from),
        )
        .unwrap();
        let headers = vec![("Accept".into(), "text/csv".into()), ("X-Trace".into(), "1".into())];
        let expected = Command::Api {
            method: "GET".into(),
            path: "/history".into(),
            body: None,
            headers,
            include: true,
            paginate: false,
        };
        assert_eq!(cli.command, expected);
        assert_eq!(
            parse("api PUT /contacts/1 --input -").unwrap().command,
            api("PUT", "/contacts/1", Some(Body::Input("-".into())))
        );
        let fields = parse("api /sessions/sms -f smsId=s0 -F count=3 -F on=true -f n=3 -F word=hi -f e=").unwrap();
        let Command::Api { method, body: Some(Body::Fields(fields)), .. } = fields.command else { panic!() };
        assert_eq!(method, "POST", "a body makes POST the default");
        assert_eq!(
            Value::Object(fields).to_string(),
            r#"{"count":3,"e":"","n":"3","on":true,"smsId":"s0","word":"hi"}"#
        );
    }

    #[test]
    fn header_is_a_switch_of_token_and_takes_a_value_for_api() {
        assert_eq!(parse("token --header").unwrap().command, Command::Token { json: false, header: true });
        assert_eq!(parse("--header token").unwrap().command, Command::Token { json: false, header: true });
        let before = Cli::parse(["--header", "Accept: text/csv", "api", "/history"].map(OsString::from)).unwrap();
        assert!(matches!(before.command, Command::Api { headers, .. } if headers.len() == 1));
        for line in ["api --header /history", "account --header", "token --json --header"] {
            assert!(matches!(parse(line), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    fn profile_and_logout_all() {
        let cli = parse("--profile work logout --all").unwrap();
        assert_eq!((cli.profile.as_deref(), cli.command), (Some("work"), Command::Logout { all: true }));
        assert_eq!(parse("status --profile=ci-bot_2").unwrap().profile.as_deref(), Some("ci-bot_2"));
        assert!(parse("status --profile=ci.bot").is_err());
        assert_eq!(parse("logout").unwrap().command, Command::Logout { all: false });
        for line in ["--profile ../x status", "--profile .hidden status", "--profile", "status --all"] {
            assert!(matches!(parse(line), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    fn help_is_the_general_one_or_a_commands_own() {
        let topic = |line: &str| match parse(line).unwrap().command {
            Command::Help(topic) => topic,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(topic("--help"), None);
        assert_eq!(topic("help"), None);
        assert_eq!(topic("api --help"), Some("api".into()));
        assert_eq!(topic("-h token --json"), Some("token".into()));
        assert_eq!(topic("help status"), Some("status".into()));
        assert_eq!(topic("help mock"), Some("mock".into()));
        assert_eq!(topic("help --help"), None);
        assert_eq!(parse("mock --help").unwrap().command, Command::Mock(vec!["--help".into()]));
        for command in COMMANDS {
            assert!(help::topic(command).is_some_and(|text| text.contains("sipgate-oauth")), "{command}");
        }
    }

    #[test]
    fn a_slip_gets_the_closest_command_or_option() {
        let message = |line: &str| match parse(line) {
            Err(Error::Usage(message)) => message,
            other => panic!("{line}: {other:?}"),
        };
        assert_eq!(message("lgoin"), "unknown command \"lgoin\" — did you mean `login`?");
        assert_eq!(message("stauts"), "unknown command \"stauts\" — did you mean `status`?");
        assert_eq!(message("help tokn"), "unknown command \"tokn\" — did you mean `token`?");
        assert_eq!(
            message("token --jsno"),
            "unknown option --jsno — did you mean --json? — see `sipgate-oauth token --help`"
        );
        assert_eq!(
            message("api --paginat /history"),
            "unknown option --paginat — did you mean --paginate? — see `sipgate-oauth api --help`"
        );
        assert_eq!(
            message("-json status"),
            "unknown option -json — did you mean --json? — see `sipgate-oauth status --help`"
        );
        assert_eq!(
            message("token json"),
            "unexpected argument \"json\" — did you mean --json? — see `sipgate-oauth token --help`"
        );
        let api = parse("api -X delete /contacts/c0 -d {}").unwrap();
        assert!(matches!(api.command, Command::Api { ref method, .. } if method == "DELETE"), "{api:?}");
        assert_eq!(message("--no-brwoser"), "unknown option --no-brwoser — did you mean --no-browser?");
        assert!(message("fly").starts_with("unknown command \"fly\" (commands: demo, login,"), "{}", message("fly"));
        assert_eq!(message("--frobnicate"), "unknown option --frobnicate");
        assert_eq!(message("-x"), "unknown option -x");
    }

    #[test]
    fn distance_counts_a_swap_as_one_edit() {
        assert_eq!(sipgate_oauth::spelling::distance("login", "login"), 0);
        assert_eq!(sipgate_oauth::spelling::distance("lgoin", "login"), 1);
        assert_eq!(sipgate_oauth::spelling::distance("acount", "account"), 1);
        assert_eq!(sipgate_oauth::spelling::distance("", "abc"), 3);
        assert_eq!(sipgate_oauth::spelling::distance("tokne", "token"), 1);
        assert_eq!(sipgate_oauth::spelling::distance("status", "scopes"), 4);
    }

    #[test]
    fn completions_name_a_shell() {
        assert_eq!(parse("completions bash").unwrap().command, Command::Completions(Shell::Bash));
        for line in ["completions", "completions tcsh", "completions bash zsh"] {
            assert!(matches!(parse(line), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    fn lists_take_an_optional_word_and_json() {
        assert_eq!(parse("api --list").unwrap().command, Command::Operations { filter: None, json: false });
        assert_eq!(
            parse("api --list sms --json").unwrap().command,
            Command::Operations { filter: Some("sms".into()), json: true }
        );
        assert_eq!(parse("scopes").unwrap().command, Command::Scopes { filter: None, json: false });
        assert_eq!(
            parse("--json scopes history").unwrap().command,
            Command::Scopes { filter: Some("history".into()), json: true }
        );
    }

    #[test]
    fn device_goes_with_the_sign_in_commands() {
        for line in ["--device", "login --device", "--device demo"] {
            assert!(parse(line).unwrap().device, "{line}");
        }
        assert!(!parse("login").unwrap().device);
    }

    #[test]
    fn mcp_takes_allow_writes_and_tool_words() {
        let mcp = |allow_writes: bool, tools: &[&str]| Command::Mcp {
            allow_writes,
            tools: tools.iter().map(|word| word.to_string()).collect(),
        };
        assert_eq!(parse("mcp").unwrap().command, mcp(false, &[]));
        assert_eq!(parse("--profile work mcp --allow-writes").unwrap().command, mcp(true, &[]));
        assert_eq!(parse("mcp --tools history sms").unwrap().command, mcp(false, &["history", "sms"]));
        assert_eq!(
            parse("mcp --tools=history,sms --tools fax").unwrap().command,
            mcp(false, &["history", "sms", "fax"])
        );
        for line in
            ["mcp history", "token --allow-writes", "api /x --tools sms", "mcp --tools", "mcp --allow-writes=yes"]
        {
            assert!(matches!(parse(line), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    fn mock_keeps_its_own_options() {
        assert_eq!(
            parse("mock --port 0 --auto-approve").unwrap().command,
            Command::Mock(vec!["--port".into(), "0".into(), "--auto-approve".into()])
        );
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for line in [
            "--timeout",
            "--timeout 0",
            "--timeout soon",
            "--timeout 18446744073709551615",
            "--frobnicate",
            "--no-browser=yes",
            "fly",
            "login now",
            "account --json",
            "api",
            "api POST",
            "api FOO /account",
            "api /account extra",
            "api GET /account extra",
            "demo --data x",
            "token --device",
            "scopes a b",
            "account --list",
            "--paginate",
            "api --list sms extra",
            "api --list --data {}",
            "api --paginate POST /contacts",
            "api --paginate /history --data {}",
            "api /history --json",
            "api /history -i --paginate",
            "api /x --data {} -f a=b",
            "api /x --input - --data {}",
            "api /x -f novalue",
            "api /x -f =v",
            "api /x -f a=1 -f a=2",
            "api /x -H NoColon",
            "api /x -H Bad Name: v",
            "api /x -H Authorization: Bearer x",
            "account -H X: y",
            "status -i",
            "api --list -i",
        ] {
            assert!(matches!(parse(line), Err(Error::Usage(_))), "{line}");
        }
    }

    #[test]
    #[cfg(unix)]
    fn arguments_that_are_not_utf8_are_a_usage_error() {
        use std::os::unix::ffi::OsStringExt;
        let error = Cli::parse([OsString::from("api"), OsString::from_vec(b"/\xff".to_vec())]).unwrap_err();
        assert!(matches!(&error, Error::Usage(message) if message.contains("not valid UTF-8")), "{error}");
    }
}
