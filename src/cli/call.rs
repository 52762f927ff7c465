//! `sipgate-oauth mock call`: starts a simulated call on a running stand-in through its admin API
//! (`POST /_stand-in/calls`), prints the timeline as it happens (or, with `--json`, one JSON document at
//! the end), and fails (exit 1) when the app was unreachable or answered something sipgate would reject.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value, json};
use sipgate_oauth::Error;

/// How long one timeline request waits at the stand-in for the next event (a long poll).
const WAIT_MS: u64 = 2000;

/// The help text of `sipgate-oauth mock call --help`.
pub const HELP: &str = "\
sipgate-oauth mock call: ring your sipgate.io app from a running stand-in (`sipgate-oauth mock`)

Usage: sipgate-oauth mock call --from NUMBER --to NUMBER [OPTIONS]

The stand-in pushes newCall to the URL set with `mock --webhook-url` or PUT /settings/sipgateio, follows
the app's XML answer as sipgate does (Dial, Play, Gather, Reject, Hangup), pushes answer, hangup and dtmf
where the answer subscribed, and signs every push (X-Sipgate-Signature). The timeline goes to stdout as
it happens. Exit 0 when the call ran, whatever the app answered; 1 when a push found the app
unreachable or the app answered something sipgate would reject.

Options:
  --from NUMBER          the caller, digits like 492111234567 (a leading + is dropped), or anonymous
  --to NUMBER            the callee, digits
  --direction in|out     in: a call to the account (default); out: a user of the account calls
  --user ID              the account's user the call rings (in) or who calls (out); repeatable (default w0)
  --press KEYS           keys the caller presses (0-9 * #), used by each Gather in turn
  --answer-after MS      the callee picks up after MS (default 1000)
  --no-answer            nobody picks up; the caller gives up after --hangup-after (cause cancel)
  --busy                 the callee is busy (cause busy)
  --hangup-after MS      an answered call ends after MS (default 3000)
  --empty-dtmf           when nothing was pressed, send dtmf= (empty) instead of leaving the field out
  --base URL             the stand-in (default: the origin of AUTH_URL from the environment or .env,
                         else http://127.0.0.1:8089)
  --json                 print one JSON document at the end instead of the timeline
";

/// The options of `mock call`, as [`HELP`] lists them: what did-you-mean and the completion scripts offer.
pub fn flags() -> Vec<&'static str> {
    sipgate_oauth::spelling::flags_in(HELP)
}

/// `unknown option --hangup-afte for `sipgate-oauth mock call` — did you mean --hangup-after?`.
fn unknown_option(flag: &str) -> String {
    match sipgate_oauth::spelling::closest(flag, flags()) {
        Some(option) => format!("unknown option {flag} for `sipgate-oauth mock call` — did you mean {option}?"),
        None => format!("unknown option {flag} for `sipgate-oauth mock call`"),
    }
}

/// Runs `mock call` with the arguments after `call`.
pub fn run(args: &[String], env_file: Option<&Path>, out: &mut dyn Write) -> Result<(), Error> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        return out.write_all(HELP.as_bytes()).map_err(|source| Error::Output { source });
    }
    let (base, body, as_json) = parse(args, env_file).map_err(|error| match error {
        Error::Usage(message) => Error::Usage(format!("{message} — see `sipgate-oauth mock call --help`")),
        error => error,
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .into();
    let start_url = format!("{base}/_stand-in/calls");
    let what = format!("POST {start_url}");
    let mut answer = agent
        .post(&start_url)
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .map_err(|source| Error::Http { what: format!("{what} (is `sipgate-oauth mock` running?)"), source })?;
    let started = read_json(&what, &mut answer)?;
    if answer.status().as_u16() != 201 {
        let reason = started["error_description"].as_str().unwrap_or("it did not start the call").to_owned();
        return Err(Error::Usage(format!("the stand-in refused the call: {reason}")));
    }
    let id = started["callId"].as_str().unwrap_or_default().to_owned();
    let mut next = 0;
    let mut events = Vec::new();
    let result = loop {
        let url = format!("{base}/_stand-in/calls/{id}?after={next}&wait={WAIT_MS}");
        let mut answer = agent.get(&url).call().map_err(|source| Error::Http { what: format!("GET {url}"), source })?;
        let page = read_json(&format!("GET {url}"), &mut answer)?;
        for event in page["events"].as_array().into_iter().flatten() {
            if !as_json {
                let at = event["atMs"].as_u64().unwrap_or_default();
                let text = event["text"].as_str().unwrap_or_default();
                // The text comes from a server: no control characters reach the terminal.
                let text: String = text.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
                writeln!(out, "{at:>6} ms  {text}").map_err(|source| Error::Output { source })?;
            }
            events.push(event.clone());
        }
        out.flush().map_err(|source| Error::Output { source })?;
        next = page["next"].as_u64().unwrap_or(0);
        if page["ended"].as_bool() == Some(true) {
            break page["result"].clone();
        }
    };
    if as_json {
        let mut document = result.as_object().cloned().unwrap_or_default();
        document.insert("events".to_owned(), Value::Array(events));
        writeln!(out, "{}", Value::Object(document)).map_err(|source| Error::Output { source })?;
    }
    let problems: Vec<String> =
        result["problems"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    if problems.is_empty() { Ok(()) } else { Err(Error::CallFailed { problems }) }
}

fn read_json(what: &str, answer: &mut ureq::http::Response<ureq::Body>) -> Result<Value, Error> {
    let text = answer.body_mut().read_to_string().map_err(|source| Error::Http { what: what.to_owned(), source })?;
    serde_json::from_str(&text).map_err(|_| Error::BadApiAnswer {
        what: what.to_owned(),
        reason: "the answer is not JSON — is --base a sipgate-oauth stand-in?".to_owned(),
    })
}

/// The stand-in's origin, the call to start, and `--json`.
fn parse(args: &[String], env_file: Option<&Path>) -> Result<(String, Value, bool), Error> {
    let mut body = Map::new();
    let mut users = Vec::new();
    let mut base = None;
    let mut as_json = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or(Error::Usage(format!("mock call: {flag} needs a value")))
        };
        let millis = |text: String| {
            text.parse::<u64>().map_err(|_| Error::Usage(format!("mock call: {flag} needs a whole number of ms")))
        };
        match flag {
            "--from" => drop(body.insert("from".into(), json!(value()?))),
            "--to" => drop(body.insert("to".into(), json!(value()?))),
            "--direction" => drop(body.insert("direction".into(), json!(value()?))),
            "--user" => users.push(value()?),
            "--press" => drop(body.insert("press".into(), json!(value()?))),
            "--answer-after" => drop(body.insert("answerAfterMs".into(), json!(millis(value()?)?))),
            "--hangup-after" => drop(body.insert("hangupAfterMs".into(), json!(millis(value()?)?))),
            "--no-answer" => drop(body.insert("noAnswer".into(), json!(true))),
            "--busy" => drop(body.insert("busy".into(), json!(true))),
            "--empty-dtmf" => drop(body.insert("emptyDtmf".into(), json!(true))),
            "--base" => base = Some(value()?.trim_end_matches('/').to_owned()),
            "--json" => as_json = true,
            _ => return Err(Error::Usage(unknown_option(flag))),
        }
    }
    for required in ["from", "to"] {
        if !body.contains_key(required) {
            return Err(Error::Usage(format!("mock call needs --{required} NUMBER")));
        }
    }
    if !users.is_empty() {
        body.insert("users".into(), json!(users));
    }
    let base = match base {
        Some(base) => base,
        None => stand_in_from_env(env_file),
    };
    Ok((base, Value::Object(body), as_json))
}

/// The origin of `AUTH_URL` (the stand-in prints it among its `.env` lines) from the environment or the
/// env file, if it is a loopback http URL; else the default port.
fn stand_in_from_env(env_file: Option<&Path>) -> String {
    let from_file = || {
        let path = env_file.unwrap_or(Path::new(".env"));
        dotenvy::from_path_iter(path)
            .ok()?
            .filter_map(Result::ok)
            .find(|(key, _)| key == "AUTH_URL")
            .map(|(_, value)| value)
    };
    let auth_url = std::env::var("AUTH_URL").ok().or_else(from_file).unwrap_or_default();
    let origin = auth_url.strip_prefix("http://").and_then(|rest| rest.split('/').next()).unwrap_or_default();
    let loopback = origin.starts_with("127.") || origin.starts_with("[::1]") || origin.starts_with("localhost");
    if loopback {
        format!("http://{origin}")
    } else {
        format!("http://127.0.0.1:{}", sipgate_oauth::mock::DEFAULT_PORT)
    }
}
