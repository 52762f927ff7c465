//! The words of `proxy` and `exec`: both read their own options, as `mock` does, so that `exec`'s
//! COMMAND keeps its own.

use sipgate_oauth::Error;

use super::command::{Cli, Command, ExecArgs, ProxyArgs};

/// Parses the words after `proxy` or `exec` (the command word first), taking the global options
/// `--profile`, `--env-file` and `-v` into `cli`.
pub(super) fn parse(
    words: &[String],
    cli: &mut Cli,
    profile: impl Fn(&str) -> Result<String, Error>,
) -> Result<Command, Error> {
    let exec = words.first().is_some_and(|w| w == "exec");
    let (mut args, mut proxy, mut no_proxy) = (words[1..].iter(), ProxyArgs::default(), false);
    let mut command = Vec::new();
    while let Some(word) = args.next() {
        let (name, inline) = match word.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (word.as_str(), None),
        };
        let mut value = || {
            inline.clone().or_else(|| args.next().cloned()).ok_or_else(|| Error::Usage(format!("{name} needs a value")))
        };
        match name {
            "--" if exec => {
                command.extend(args.by_ref().cloned());
            }
            "-h" | "--help" => return Ok(Command::Help(Some(words[0].clone()))),
            "-v" | "--verbose" => cli.verbose = true,
            "--profile" => cli.profile = Some(profile(&value()?)?),
            "--env-file" => cli.env_file = Some(value()?.into()),
            "--port" => {
                let text = value()?;
                proxy.port = text
                    .parse()
                    .map_err(|_| Error::Usage(format!("--port takes a port number from 0 to 65535, not {text:?}")))?;
            }
            "--allow-origin" => proxy.allow_origins.push(origin(&value()?)?),
            "--no-secret-path" if !exec => proxy.no_secret_path = true,
            "--background" if !exec => proxy.background = true,
            "--no-proxy" if exec => no_proxy = true,
            flag if flag.starts_with('-') => {
                let usage = if exec { "sipgate-oauth exec --help" } else { "sipgate-oauth proxy --help" };
                return Err(Error::Usage(format!("unknown option {flag} of `{}` (see `{usage}`)", words[0])));
            }
            _ if exec => {
                command.push(word.clone());
                command.extend(args.by_ref().cloned());
            }
            other => return Err(Error::Usage(format!("unexpected argument {other:?}"))),
        }
    }
    if !exec {
        return Ok(Command::Proxy(proxy));
    }
    if command.is_empty() {
        return Err(Error::Usage("exec needs a command: sipgate-oauth exec -- COMMAND [ARGS…]".into()));
    }
    Ok(Command::Exec(ExecArgs { no_proxy, proxy, command }))
}

/// `--allow-origin ORIGIN`: `scheme://host[:port]`, as a browser sends it.
fn origin(text: &str) -> Result<String, Error> {
    let origin = text.trim_end_matches('/');
    let fits = origin.split_once("://").is_some_and(|(scheme, host)| {
        matches!(scheme, "http" | "https") && !host.is_empty() && !host.contains(['/', '?', '#', ' ', '@'])
    });
    match fits {
        true => Ok(origin.to_owned()),
        false => {
            Err(Error::Usage(format!("--allow-origin takes an origin like https://app.example.com, not {text:?}")))
        }
    }
}
