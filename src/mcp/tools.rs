//! The tools of the MCP server: one per operation of sipgate's API (from the operation table), plus
//! `whoami` and `scopes`; which of them a sign-in is offered; and a tool call's arguments turned into
//! the API request.
//!
//! Promises: a tool's name is its operation's `operationId` in snake_case (`getHistory` →
//! `get_history`), so it stays the same from run to run and release to release while sipgate keeps
//! the id. Its input schema is made of the operation's path and query parameters (JSON Schema, required
//! ones marked) and, if it takes one, its JSON body as `body`; header parameters are never offered (the
//! server sends `Authorization` itself). `{userId}` is the signed-in user's unless given. Only GET is
//! offered unless writes are allowed. Descriptions are written here from the table's data (sipgate's
//! texts are not copied, as for every text of this tool).

use serde_json::{Map, Value, json};

use crate::api::ApiRequest;
use crate::error::Error;
use crate::operations::{self, Location, Operation, Param};
use crate::query;

/// The path parameter filled with the signed-in user's id when a call leaves it out.
const USER_ID: &str = "userId";

/// The name under which an operation's JSON body is passed.
const BODY: &str = "body";

/// How deep `$ref`s are written out into an input schema; deeper parts accept any value.
const REF_DEPTH: usize = 6;

/// Which tools the server offers, besides what the sign-in's scopes allow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// `--allow-writes`: POST, PUT and DELETE too, not only GET.
    pub allow_writes: bool,
    /// `--tools WORD…`: only operations whose tool name, path or scopes contain one of these (any case).
    pub words: Vec<String>,
}

/// What a tool does.
#[derive(Debug, Clone, Copy)]
pub enum Tool {
    /// Who is signed in: profile, user id, granted scopes, account.
    Whoami,
    /// sipgate's scopes and what each allows.
    Scopes,
    /// One operation of the API.
    Operation(&'static Operation),
}

/// Why a tool that exists is not offered to this sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The granted scopes do not allow the operation.
    Scope,
    /// It changes something, and writes are not allowed.
    Write,
    /// `--tools` left it out.
    Narrowed,
}

/// The tool name of an operation: its `operationId` in snake_case (`getHistoryById` →
/// `get_history_by_id`, `getHistoryCSV` → `get_history_csv`).
pub fn name(op: &Operation) -> String {
    let chars: Vec<char> = op.id.chars().collect();
    let mut name = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let after_lower = i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
        let ends_caps =
            i > 0 && chars[i - 1].is_ascii_uppercase() && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
        if c.is_ascii_uppercase() && (after_lower || ends_caps) {
            name.push('_');
        }
        name.push(if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' });
    }
    name
}

impl Tool {
    /// Every tool, in a fixed order: `whoami`, `scopes`, then the operations as sipgate's description
    /// lists them.
    pub fn all() -> impl Iterator<Item = Tool> {
        [Tool::Whoami, Tool::Scopes].into_iter().chain(operations::operations().iter().map(Tool::Operation))
    }

    /// The tool called `name`.
    pub fn find(wanted: &str) -> Option<Tool> {
        Tool::all().find(|tool| tool.name() == wanted)
    }

    /// Its name.
    pub fn name(&self) -> String {
        match self {
            Tool::Whoami => "whoami".to_owned(),
            Tool::Scopes => "scopes".to_owned(),
            Tool::Operation(op) => name(op),
        }
    }

    /// Why this sign-in (its `granted` scopes, space-separated) is not offered it; `None` if it is.
    pub fn refusal(&self, granted: &str, offer: &Offer) -> Option<Refusal> {
        let Tool::Operation(op) = self else { return None };
        if !op.accepts(granted) {
            return Some(Refusal::Scope);
        }
        if op.method != "GET" && !offer.allow_writes {
            return Some(Refusal::Write);
        }
        let name = self.name();
        let matches = |word: &String| {
            let word = word.to_ascii_lowercase();
            name.contains(&word)
                || op.path.to_ascii_lowercase().contains(&word)
                || op.scopes.iter().any(|s| s.contains(&word))
        };
        match offer.words.is_empty() || offer.words.iter().any(matches) {
            true => None,
            false => Some(Refusal::Narrowed),
        }
    }

    /// The MCP `Tool` object: name, title, description, input schema, annotations.
    pub fn describe(&self) -> Value {
        let no_arguments = json!({ "type": "object", "properties": {}, "additionalProperties": false });
        let read_only =
            json!({ "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false });
        let (title, description, schema, annotations) = match self {
            Tool::Whoami => (
                "Who is signed in".to_owned(),
                "Who this server acts as: the profile, the sipgate user id, the scopes the sign-in was granted, and \
                 the account (if account:read is granted). Call it first to see what the other tools may do."
                    .to_owned(),
                no_arguments,
                read_only,
            ),
            Tool::Scopes => (
                "sipgate's scopes".to_owned(),
                "sipgate's OAuth scopes, each with what it allows, and whether this sign-in was granted it. A tool \
                 missing from the list needs a scope that was not granted."
                    .to_owned(),
                json!({ "type": "object", "properties": { "word": { "type": "string",
                    "description": "only scopes whose name or meaning contains this (any case)" } },
                    "additionalProperties": false }),
                read_only,
            ),
            Tool::Operation(op) => (title(op), description(op), input_schema(op), annotations(op)),
        };
        let mut annotations = annotations;
        annotations["title"] = Value::from(title.clone());
        json!({ "name": self.name(), "title": title, "description": description, "inputSchema": schema,
                "annotations": annotations })
    }
}

/// `getHistoryById` → `Get history by id`.
fn title(op: &Operation) -> String {
    let words = name(op).replace('_', " ");
    let mut chars = words.chars();
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// What the tool does and needs, in our words, from the table's data.
fn description(op: &Operation) -> String {
    let mut text = format!("{}: {} {} of sipgate's REST API.", title(op), op.method, op.path);
    let narrow: Vec<&str> = op.narrow_scopes().collect();
    if narrow.is_empty() && op.scopes.is_empty() {
        text.push_str(" Any signed-in user may call it.");
    } else {
        let meanings: Vec<String> = narrow
            .iter()
            .map(|scope| match operations::scopes().find(|(known, _)| known == scope) {
                Some((_, meaning)) => format!("`{scope}` ({meaning})"),
                None => format!("`{scope}`"),
            })
            .collect();
        let any = if meanings.is_empty() { String::new() } else { format!("{} or ", meanings.join(" or ")) };
        text.push_str(&format!(" Needs the scope {any}`all`."));
    }
    text.push_str(match op.method.as_str() {
        "GET" => " Reads only.",
        "DELETE" => " Deletes something in the sipgate account.",
        "POST" => " Creates or starts something in the sipgate account (an SMS or a call may cost money).",
        _ => " Changes something in the sipgate account.",
    });
    if op.params.iter().any(|p| p.name == USER_ID && p.location == Location::Path) {
        text.push_str(" `userId` is the signed-in user's unless given.");
    }
    if op.is_paged() {
        text.push_str(
            " The answer is one page of a list: `offset` (from 0) and `limit` choose it; `totalCount` counts all.",
        );
    }
    if op.body.is_some() {
        text.push_str(" The JSON request body goes in `body`.");
    }
    if op.deprecated {
        text.push_str(" sipgate marks it as deprecated.");
    }
    text
}

/// The offered parameters: path and query, never headers.
fn offered_params(op: &Operation) -> impl Iterator<Item = &Param> {
    op.params.iter().filter(|p| p.location != Location::Header)
}

/// The JSON Schema of the tool's arguments.
fn input_schema(op: &Operation) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for param in offered_params(op) {
        let mut schema = inline(&param.schema, 0);
        let is_user_id = param.name == USER_ID && param.location == Location::Path;
        let place = match param.location {
            Location::Path if is_user_id => "path parameter; the signed-in user's id unless given".to_owned(),
            Location::Path => format!("path parameter {{{}}}", param.name),
            _ => "query parameter".to_owned(),
        };
        schema["description"] = Value::from(place);
        if let Some(example) = &param.example {
            schema["examples"] = json!([example]);
        }
        if param.required && !is_user_id {
            required.push(Value::from(param.name.clone()));
        }
        properties.insert(param.name.clone(), schema);
    }
    if let Some(body) = &op.body {
        let mut schema = inline(body, 0);
        schema["description"] = Value::from("the JSON request body");
        properties.insert(BODY.to_owned(), schema);
        if body_needed(op) {
            required.push(Value::from(BODY));
        }
    }
    let mut schema = json!({ "type": "object", "properties": properties, "additionalProperties": false });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// `schema` with every `$ref` to the table's definitions written out, so that the schema stands alone.
fn inline(schema: &Value, depth: usize) -> Value {
    match schema {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str) {
                return match operations::definition(name) {
                    Some(target) if depth < REF_DEPTH => inline(target, depth + 1),
                    _ => json!({}),
                };
            }
            // Extended, not collected: a map's `collect` sorts its entries first (docs/performance.md).
            let mut inlined = Map::new();
            inlined.extend(map.iter().map(|(key, value)| (key.clone(), inline(value, depth))));
            Value::Object(inlined)
        }
        Value::Array(items) => Value::Array(items.iter().map(|item| inline(item, depth)).collect()),
        other => other.clone(),
    }
}

/// MCP tool annotations from the HTTP method's semantics (RFC 9110 §9.2).
fn annotations(op: &Operation) -> Value {
    let (read_only, destructive, idempotent) = match op.method.as_str() {
        "GET" => (true, false, true),
        "DELETE" => (false, true, true),
        "PUT" => (false, true, true),
        _ => (false, false, false),
    };
    json!({ "readOnlyHint": read_only, "destructiveHint": destructive, "idempotentHint": idempotent,
            "openWorldHint": false })
}

/// Whether a call must pass `body`: the description says so, or its schema requires fields (sipgate's
/// description marks few bodies as required that its API needs).
fn body_needed(op: &Operation) -> bool {
    let requires_fields = op.body.as_ref().map(operations::resolve).and_then(|schema| schema.get("required"));
    op.body_required || requires_fields.and_then(Value::as_array).is_some_and(|fields| !fields.is_empty())
}

/// Why a call could not be sent.
#[derive(Debug)]
pub enum CallError {
    /// The arguments do not fit the tool: what to change, for the agent.
    Arguments(String),
    /// Finding the user id failed.
    Api(Error),
}

/// The API request a call of `op` with `args` stands for. `user_id` is asked for the signed-in user's
/// id when the path has `{userId}` and the call leaves it out.
pub fn request(
    op: &Operation,
    args: &Map<String, Value>,
    user_id: &dyn Fn() -> Result<String, Error>,
) -> Result<ApiRequest, CallError> {
    let invalid = |text: String| CallError::Arguments(text);
    let takes = || {
        let mut names: Vec<&str> = offered_params(op).map(|p| p.name.as_str()).collect();
        if op.body.is_some() {
            names.push(BODY);
        }
        if names.is_empty() { "no arguments".to_owned() } else { format!("the arguments {}", names.join(", ")) }
    };
    for key in args.keys() {
        let known = offered_params(op).any(|p| &p.name == key) || (op.body.is_some() && key == BODY);
        if !known {
            return Err(invalid(format!("unknown argument `{key}`: {} takes {}", name(op), takes())));
        }
    }
    let mut path = op.path.clone();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for param in offered_params(op) {
        let value = match args.get(&param.name) {
            Some(value) => value.clone(),
            None if param.location == Location::Path && param.name == USER_ID => {
                Value::from(user_id().map_err(CallError::Api)?)
            }
            None if param.required => return Err(invalid(format!("`{}` is missing", param.name))),
            None => continue,
        };
        check(&value, &param.schema, &param.name).map_err(invalid)?;
        match param.location {
            Location::Path => {
                let text = scalar(&value);
                if text.is_empty() {
                    return Err(invalid(format!("`{}` must not be empty", param.name)));
                }
                path = path.replace(&format!("{{{}}}", param.name), &query::encode_component(&text));
            }
            _ => match &value {
                Value::Array(items) => pairs.extend(items.iter().map(|item| (param.name.clone(), scalar(item)))),
                other => pairs.push((param.name.clone(), scalar(other))),
            },
        }
    }
    let body = match (&op.body, args.get(BODY)) {
        (Some(schema), Some(body)) => {
            // sipgate checks the body's fields and names the one that is wrong; here only its shape.
            if operations::resolve(schema).get("type").and_then(Value::as_str) == Some("object") && !body.is_object() {
                return Err(invalid(format!("`{BODY}` must be a JSON object")));
            }
            Some(body.to_string().into_bytes())
        }
        (Some(_), None) if body_needed(op) => return Err(invalid(format!("`{BODY}` is missing"))),
        _ => None,
    };
    if !pairs.is_empty() {
        path = format!("{path}?{}", query::encode(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    }
    Ok(ApiRequest { method: op.method.clone(), path, headers: Vec::new(), body })
}

/// Checks a path or query parameter's value (`at` names it) against its schema: its type (a list's
/// items too), `enum`, `minimum` and `maximum`. What it says names the parameter, never the value.
fn check(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let kind = schema.get("type").and_then(Value::as_str);
    let (fits, a_kind) = match kind {
        Some("integer") => (value.is_i64() || value.is_u64(), "an integer"),
        Some("number") => (value.is_number(), "a number"),
        Some("boolean") => (value.is_boolean(), "true or false"),
        Some("string") => (value.is_string(), "a string"),
        Some("array") => (value.is_array(), "a list"),
        _ => (value.is_string() || value.is_number() || value.is_boolean(), "a string, number or boolean"),
    };
    if !fits {
        return Err(format!("`{at}` must be {a_kind}"));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array).filter(|allowed| !allowed.contains(value)) {
        let allowed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(format!("`{at}` must be one of {}", allowed.join(", ")));
    }
    // The bounds are shown as the schema writes them (a JSON number), not as a formatted f64.
    let number = value.as_f64();
    if let (Some(number), Some(least)) = (number, schema.get("minimum"))
        && least.as_f64().is_some_and(|least| number < least)
    {
        return Err(format!("`{at}` must be at least {least}"));
    }
    if let (Some(number), Some(most)) = (number, schema.get("maximum"))
        && most.as_f64().is_some_and(|most| number > most)
    {
        return Err(format!("`{at}` must be at most {most}"));
    }
    if let (Value::Array(values), Some(items)) = (value, schema.get("items")) {
        for (i, item) in values.iter().enumerate() {
            check(item, items, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// A scalar as it goes into a URL: strings as they are, numbers and booleans as JSON writes them.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: &str) -> &'static Operation {
        operations::operations().iter().find(|op| op.id == id).unwrap()
    }

    fn no_user() -> Result<String, Error> {
        panic!("the user id is not needed")
    }

    #[test]
    fn names_are_the_operation_ids_in_snake_case_and_unique() {
        assert_eq!(name(op("getHistory")), "get_history");
        assert_eq!(name(op("getHistoryById")), "get_history_by_id");
        assert_eq!(name(op("getHistoryCSV")), "get_history_csv");
        let mut names: Vec<String> = Tool::all().map(|tool| tool.name()).collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "tool names are unique");
        let fits = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        assert!(names.iter().all(|n| (1..=128).contains(&n.len()) && n.chars().all(fits)), "{names:?}");
    }

    #[test]
    fn only_what_the_scopes_allow_and_only_reads_unless_writes_are_allowed() {
        let read_only = Offer::default();
        let get = Tool::Operation(op("getHistory"));
        let put = Tool::Operation(op("updateHistoryEntries"));
        assert_eq!(get.refusal("history:read", &read_only), None);
        assert_eq!(get.refusal("account:read", &read_only), Some(Refusal::Scope));
        assert_eq!(get.refusal("all", &read_only), None);
        assert_eq!(put.refusal("history:write", &read_only), Some(Refusal::Write));
        assert_eq!(put.refusal("history:write", &Offer { allow_writes: true, ..Offer::default() }), None);
        let narrowed = Offer { allow_writes: false, words: vec!["SMS".into()] };
        assert_eq!(get.refusal("all", &narrowed), Some(Refusal::Narrowed));
        assert_eq!(Tool::Operation(op("getSmsExtensions")).refusal("all", &narrowed), None);
        assert_eq!(Tool::Whoami.refusal("", &narrowed), None);
    }

    #[test]
    fn schemas_come_from_path_query_and_body_with_required_marked() {
        let history = Tool::Operation(op("getHistoryById")).describe();
        assert_eq!(history["inputSchema"]["required"], json!(["entryId"]));
        assert_eq!(history["annotations"]["readOnlyHint"], true);
        let list = Tool::Operation(op("getHistory")).describe();
        assert_eq!(list["inputSchema"]["properties"]["limit"]["type"], "integer");
        assert_eq!(list["inputSchema"]["properties"]["types"]["items"]["enum"][0], "CALL");
        assert!(list["inputSchema"].get("required").is_none());
        assert!(list["description"].as_str().unwrap().contains("`history:read`"), "{}", list["description"]);

        let sms = Tool::Operation(op("sendWebSms")).describe();
        let body = &sms["inputSchema"]["properties"]["body"];
        assert_eq!(body["type"], "object", "the body's $ref is written out: {body}");
        assert!(body["required"].as_array().is_some_and(|r| r.contains(&json!("recipient"))), "{body}");
        assert_eq!(
            sms["annotations"],
            json!({"readOnlyHint": false, "destructiveHint": false,
            "idempotentHint": false, "openWorldHint": false, "title": "Send web sms"})
        );
        let user = Tool::Operation(op("getSmsExtensions")).describe();
        assert!(user["inputSchema"].get("required").is_none(), "userId is filled in: {user}");
        let userinfo = Tool::Operation(op("userinfo")).describe();
        assert_eq!(userinfo["inputSchema"]["properties"], json!({}), "no header parameter is offered");
        assert_eq!(Tool::Operation(op("deleteHistoryEntry")).describe()["annotations"]["destructiveHint"], true);
        let text = Tool::all().map(|tool| tool.describe().to_string()).collect::<String>();
        assert!(!text.contains("$ref"), "every schema stands alone");
    }

    #[test]
    fn arguments_become_the_request() {
        let args = |value: Value| value.as_object().unwrap().clone();
        let history =
            request(op("getHistory"), &args(json!({"limit": 5, "types": ["CALL", "SMS"]})), &no_user).unwrap();
        assert_eq!((history.method.as_str(), history.path.as_str()), ("GET", "/history?types=CALL&types=SMS&limit=5"));
        let entry = request(op("getHistoryById"), &args(json!({"entryId": "a/b"})), &no_user).unwrap();
        assert_eq!(entry.path, "/history/a%2Fb");
        let mine = request(op("getSmsExtensions"), &Map::new(), &|| Ok("w0".into())).unwrap();
        assert_eq!(mine.path, "/w0/sms");
        let theirs = request(op("getSmsExtensions"), &args(json!({"userId": "w7"})), &no_user).unwrap();
        assert_eq!(theirs.path, "/w7/sms");
        let sms = json!({"body": {"smsId": "s0", "recipient": "+4915790000000", "message": "hi"}});
        let sent = request(op("sendWebSms"), &args(sms), &no_user).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&sent.body.unwrap()).unwrap()["smsId"], "s0");
    }

    #[test]
    fn wrong_arguments_say_what_to_change() {
        let args = |value: Value| value.as_object().unwrap().clone();
        let message = |op: &Operation, value: Value| match request(op, &args(value), &no_user) {
            Err(CallError::Arguments(text)) => text,
            other => panic!("{other:?}"),
        };
        assert_eq!(message(op("getHistoryById"), json!({})), "`entryId` is missing");
        assert!(message(op("getHistory"), json!({"limit": "many"})).starts_with("`limit` must be"));
        assert!(message(op("getHistory"), json!({"types": ["NOPE"]})).starts_with("`types[0]` "));
        assert_eq!(message(op("getAccount"), json!({"x": 1})), "unknown argument `x`: get_account takes no arguments");
        assert_eq!(message(op("sendWebSms"), json!({"body": "hi"})), "`body` must be a JSON object");
        assert_eq!(message(op("getHistory"), json!({"limit": 5000})), "`limit` must be at most 1000");
        assert_eq!(message(op("sendWebSms"), json!({})), "`body` is missing");
    }
}
