//! `sipgate-oauth mcp`: a Model Context Protocol server on stdin/stdout, so that an AI agent uses the
//! sipgate API through the kept OAuth sign-in of one profile.
//!
//! Promises: the output carries protocol messages only, one a line; the log gets one line per request
//! (method, tool, outcome, time), never an argument, a token or a body. A line that is not a message
//! is answered with the JSON-RPC error and the server goes on; the end of the input ends it (a last
//! line without its newline is not a message and is dropped). Every call reads the kept sign-in anew:
//! tokens are refreshed under the store's lock before they expire and once after a 401, and a dead
//! sign-in answers each call with "sign in again" while the server keeps running, so a `login` in
//! another terminal mends it. The tools offered follow the scopes the sign-in was granted; only reads
//! unless the user allowed writes.

pub mod protocol;
mod results;
mod tools;

use std::io::{BufRead, Read, Write};
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::session::Session;
use protocol::{Era, Incoming};
use results::Call;
use tools::{Refusal, Tool};

pub use tools::Offer;

/// Tools per page of `tools/list`: the read-only list of a sign-in with every scope fits one page.
const PAGE: usize = 100;

/// The longest line read as a message; a longer one is answered with a parse error and skipped.
const MAX_LINE: usize = 4 * 1024 * 1024;

/// Serves MCP for `session` until `input` ends. `requested_scope` (OAUTH_SCOPE) stands in for the
/// granted scopes when the server did not report them. Fails only when `output` cannot be written.
pub fn serve(
    session: &Session,
    requested_scope: &str,
    offer: Offer,
    mut input: impl BufRead,
    output: &mut dyn Write,
    log: &mut dyn Write,
) -> std::io::Result<()> {
    let mut server = Server { session, requested_scope, offer, log };
    let offered = Tool::all().filter(|tool| tool.refusal(&server.granted(), &server.offer).is_none()).count();
    let mode = if server.offer.allow_writes { "reads and writes" } else { "read-only" };
    server.note(&format!(
        "sipgate-oauth mcp: serving profile {} over stdio (MCP {} and {}…{}), {offered} tools, {mode}",
        session.profile(),
        protocol::MODERN,
        protocol::HANDSHAKE[0],
        protocol::HANDSHAKE[protocol::HANDSHAKE.len() - 1]
    ));
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut input).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            if line.len() > MAX_LINE {
                skip_line(&mut input)?;
                let answer =
                    protocol::error_response(&Value::Null, protocol::PARSE_ERROR, "parse error: line too long");
                send(output, &answer)?;
                continue;
            }
            server.note("mcp: the input ended in the middle of a message; it is dropped");
            break;
        }
        let incoming = match std::str::from_utf8(&line) {
            Ok(text) => protocol::parse(text),
            Err(_) => Incoming::Invalid(protocol::error_response(
                &Value::Null,
                protocol::PARSE_ERROR,
                "parse error: not UTF-8",
            )),
        };
        if let Some(answer) = server.handle(incoming) {
            send(output, &answer)?;
        }
    }
    server.note("sipgate-oauth mcp: the input ended; stopping");
    Ok(())
}

/// Reads and drops the rest of an overlong line.
fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    let mut rest = Vec::new();
    loop {
        rest.clear();
        let read = input.take(MAX_LINE as u64).read_until(b'\n', &mut rest)?;
        if read == 0 || rest.last() == Some(&b'\n') {
            return Ok(());
        }
    }
}

/// Writes one message as one line.
fn send(output: &mut dyn Write, message: &Value) -> std::io::Result<()> {
    let mut line = message.to_string();
    line.push('\n');
    output.write_all(line.as_bytes())?;
    output.flush()
}

/// The state of one run: nothing the protocol keeps between requests but what the store holds.
struct Server<'s, 'a, 'l> {
    session: &'s Session<'a>,
    requested_scope: &'s str,
    offer: Offer,
    log: &'l mut dyn Write,
}

impl Server<'_, '_, '_> {
    /// A line on the log; a closed log is no reason to stop.
    fn note(&mut self, text: &str) {
        let _ = writeln!(self.log, "{text}");
    }

    /// The scopes the kept sign-in was granted (what it asked for, if the server did not say); empty
    /// when nothing is kept.
    fn granted(&self) -> String {
        match self.session.stored() {
            Ok(Some(tokens)) => tokens.scope.unwrap_or_else(|| self.requested_scope.to_owned()),
            _ => String::new(),
        }
    }

    /// The answer to one message; `None` for notifications and whatever else is not answered.
    fn handle(&mut self, incoming: Incoming) -> Option<Value> {
        let (id, method, params) = match incoming {
            Incoming::Request { id, method, params } => (id, method, params),
            Incoming::Invalid(answer) => {
                self.note(&format!("mcp: refused a line: {}", answer["error"]["message"].as_str().unwrap_or("")));
                return Some(answer);
            }
            Incoming::Notification { .. } | Incoming::Ignored => return None,
        };
        let started = Instant::now();
        let era = protocol::era(&params);
        let answer = match &era {
            Era::Refused(code, message, data) => Err((*code, message.clone(), data.clone())),
            _ => self.dispatch(&method, &params, &era),
        };
        let (shown, outcome) = match answer {
            Ok((result, what)) => (protocol::result_response(&id, result), what),
            Err((code, message, data)) => {
                let outcome = format!("error {code}: {message}");
                let answer = match data {
                    Some(data) => protocol::error_with_data(&id, code, &message, data),
                    None => protocol::error_response(&id, code, &message),
                };
                (answer, outcome)
            }
        };
        self.note(&format!("mcp: {method}{outcome} ({} ms)", started.elapsed().as_millis()));
        Some(shown)
    }

    /// The result of a request and what the log says of it, or the protocol error.
    fn dispatch(
        &mut self,
        method: &str,
        params: &Map<String, Value>,
        era: &Era,
    ) -> Result<(Value, String), (i64, String, Option<Value>)> {
        let invalid = |message: &str| Err((protocol::INVALID_PARAMS, message.to_owned(), None));
        let done = |result: Map<String, Value>, cacheable: bool| protocol::finish(result, era, cacheable);
        match method {
            "initialize" => {
                let Some(requested) = params.get("protocolVersion").and_then(Value::as_str) else {
                    return invalid("initialize needs params.protocolVersion");
                };
                let version = protocol::negotiate(requested);
                let result = json!({ "protocolVersion": version, "capabilities": protocol::capabilities(),
                    "serverInfo": protocol::server_info(), "instructions": self.instructions() });
                Ok((result, format!(" {version}")))
            }
            "server/discover" => {
                let result = json!({ "supportedVersions": protocol::supported(),
                    "capabilities": protocol::capabilities(), "instructions": self.instructions() });
                let Value::Object(result) = result else { unreachable!("a JSON object literal") };
                Ok((protocol::finish(result, &Era::Modern, true), String::new()))
            }
            "ping" if *era == Era::Handshake => Ok((json!({}), String::new())),
            "tools/list" => {
                let start = match params.get("cursor") {
                    None | Some(Value::Null) => 0,
                    Some(Value::String(cursor)) => match cursor.parse::<usize>() {
                        Ok(start) => start,
                        Err(_) => return invalid("invalid cursor: pass the nextCursor of the last tools/list"),
                    },
                    Some(_) => return invalid("the cursor must be a string"),
                };
                let granted = self.granted();
                let offered: Vec<Tool> =
                    Tool::all().filter(|tool| tool.refusal(&granted, &self.offer).is_none()).collect();
                let page: Vec<Value> = offered.iter().skip(start).take(PAGE).map(Tool::describe).collect();
                let mut result = Map::new();
                let shown = format!(" {} of {}", page.len(), offered.len());
                result.insert("tools".into(), Value::Array(page));
                if start + PAGE < offered.len() {
                    result.insert("nextCursor".into(), Value::from((start + PAGE).to_string()));
                }
                Ok((done(result, true), shown))
            }
            "tools/call" => {
                let Some(name) = params.get("name").and_then(Value::as_str) else {
                    return invalid("tools/call needs params.name, a string");
                };
                let arguments = match params.get("arguments") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(arguments)) => arguments.clone(),
                    Some(_) => return invalid("params.arguments must be an object"),
                };
                let Some(tool) = Tool::find(name) else {
                    return Err((protocol::INVALID_PARAMS, format!("unknown tool: {name}"), None));
                };
                let result = self.call(tool, &arguments);
                let outcome = if result.contains_key("isError") { "tool error" } else { "ok" };
                Ok((done(result, false), format!(" {name}: {outcome}")))
            }
            _ => Err((protocol::METHOD_NOT_FOUND, format!("method not found: {method}"), None)),
        }
    }

    /// What the server tells the agent about itself.
    fn instructions(&self) -> String {
        let writes = match self.offer.allow_writes {
            true => "The user allowed writes: tools that send an SMS, start a call or change settings are offered; \
                     they act at once and may cost money."
                .to_owned(),
            false => "Read-only: only tools that read are offered (the user can start the server with \
                      --allow-writes for the others)."
                .to_owned(),
        };
        format!(
            "sipgate's REST API, signed in with OAuth as the user of profile {} (sipgate-oauth). The tools offered \
             are those the sign-in's scopes allow; call `whoami` first to see who is signed in and what was granted. \
             {writes}",
            self.session.profile()
        )
    }

    /// Runs one tool.
    fn call(&mut self, tool: Tool, arguments: &Map<String, Value>) -> Map<String, Value> {
        let granted = self.granted();
        let profile = self.session.profile().to_owned();
        if let Some(refusal) = tool.refusal(&granted, &self.offer) {
            return results::text(self.refused(tool, refusal, &granted), true);
        }
        match tool {
            Tool::Whoami => self.whoami(&granted),
            Tool::Scopes => scopes(arguments, &granted),
            Tool::Operation(op) => {
                let session = self.session;
                let request = match tools::request(op, arguments, &|| session.user_id()) {
                    Ok(request) => request,
                    Err(tools::CallError::Arguments(text)) => return results::text(text, true),
                    Err(tools::CallError::Api(error)) => return self.failure(&error),
                };
                let answer = match session.send(&request) {
                    Ok(answer) => answer,
                    Err(error) => return self.failure(&error),
                };
                if let Some(error) = answer.error.as_ref().filter(|error| error.needs_sign_in()) {
                    return self.failure(error);
                }
                let offset = arguments.get("offset").and_then(Value::as_u64).unwrap_or(0);
                let call = Call { op, offset, granted: &granted, profile: &profile, secrets: self.secrets() };
                results::answer(answer, &call)
            }
        }
    }

    /// The kept tokens' values, which no result may show.
    fn secrets(&self) -> Vec<String> {
        let Ok(Some(tokens)) = self.session.stored() else { return Vec::new() };
        let mut secrets = vec![tokens.access_token.secret().to_owned()];
        secrets.extend(tokens.refresh_token.map(|token| token.secret().to_owned()));
        secrets
    }

    /// A failed call as a tool result; the log says why, in one line.
    fn failure(&mut self, error: &Error) -> Map<String, Value> {
        let again = self.session.sign_in_again(error);
        if again.is_some() {
            self.note(&format!("mcp: the sign-in of profile {} is dead: {error}", self.session.profile()));
        }
        results::failure(error, again)
    }

    /// Why `tool` is not offered, for the agent.
    fn refused(&self, tool: Tool, refusal: Refusal, granted: &str) -> String {
        let (name, profile) = (tool.name(), self.session.profile());
        let Tool::Operation(op) = tool else { return format!("{name} is not offered") };
        match refusal {
            Refusal::Scope => format!("{name} is not offered{}", results::forbidden(op, granted, profile)),
            Refusal::Write => format!(
                "{name} is not offered: it changes the sipgate account ({} {}), and this server is read-only. Only \
                 the user can allow it, by starting the server with --allow-writes (`sipgate-oauth mcp --profile \
                 {profile} --allow-writes`)",
                op.method, op.path
            ),
            Refusal::Narrowed => format!(
                "{name} is not offered: the server was started with --tools {}, which leaves it out",
                self.offer.words.join(" ")
            ),
        }
    }

    /// `whoami`: profile, user id, granted scopes and, if `account:read` allows it, the account.
    fn whoami(&mut self, granted: &str) -> Map<String, Value> {
        let user_id = match self.session.user_id() {
            Ok(user_id) => user_id,
            Err(error) => return self.failure(&error),
        };
        let account_op = crate::operations::operations().iter().find(|op| op.id == "getAccount");
        let account = account_op
            .filter(|op| op.accepts(granted))
            .and_then(|_| self.session.call("GET", "/account", None).ok())
            .and_then(|answer| serde_json::from_str::<Value>(&answer.body).ok());
        let scopes: Vec<&str> = granted.split_whitespace().collect();
        results::value(json!({ "profile": self.session.profile(), "userId": user_id, "scopes": scopes,
            "account": account, "writesAllowed": self.offer.allow_writes }))
    }
}

/// `scopes`: sipgate's scopes with what each allows and whether this sign-in has it.
fn scopes(arguments: &Map<String, Value>, granted: &str) -> Map<String, Value> {
    let word = match arguments.get("word") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(word)) => word.to_ascii_lowercase(),
        Some(_) => return results::text("`word` must be a string".to_owned(), true),
    };
    if let Some(other) = arguments.keys().find(|key| *key != "word") {
        return results::text(format!("unknown argument `{other}`: scopes takes only `word`"), true);
    }
    let has = |scope: &str| granted.split_whitespace().any(|g| g == scope || g == "all");
    let list: Vec<Value> = crate::operations::scopes()
        .filter(|(scope, meaning)| scope.contains(&word) || meaning.to_ascii_lowercase().contains(&word))
        .map(|(scope, meaning)| json!({ "scope": scope, "meaning": meaning, "granted": has(scope) }))
        .collect();
    results::value(json!({ "scopes": list }))
}
