//! The wire of the Model Context Protocol over stdio: one JSON-RPC 2.0 message per line, read into an
//! [`Incoming`], and the answers written back; which protocol revision a request speaks.
//!
//! Both eras of MCP are spoken ([versioning]): a client that opens with `initialize` (revisions
//! 2024-11-05 to 2025-11-25) gets the handshake and its revision's answers, and a client that names
//! revision 2026-07-28 in each request's `_meta` is served statelessly (`server/discover`,
//! `resultType`, caching hints). Nothing here reads or writes a stream: it turns text into messages and
//! messages into text, so that every rule is a unit test.
//!
//! [versioning]: https://modelcontextprotocol.io/specification/2026-07-28/basic/versioning

use serde_json::{Map, Value, json};

/// The newest revision, stateless: version, capabilities and client in every request's `_meta`.
pub const MODERN: &str = "2026-07-28";

/// The revisions of the `initialize` handshake, newest first.
pub const HANDSHAKE: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// `_meta` key of a modern request's protocol revision.
const VERSION_KEY: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of a modern request's client capabilities.
const CAPABILITIES_KEY: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the server's name and version in a modern result.
const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// JSON-RPC: the line is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC: JSON, but not a request, a notification or a response.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: no such method.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: the method's parameters are wrong.
pub const INVALID_PARAMS: i64 = -32602;
/// MCP 2026-07-28: the request names a revision this server does not speak.
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// One line from the client.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// A request, to be answered with its `id`.
    Request {
        /// The request's id: a string or a number.
        id: Value,
        /// The method, e.g. `tools/call`.
        method: String,
        /// Its parameters: an object (empty when the request has none).
        params: Map<String, Value>,
    },
    /// A notification: never answered.
    Notification {
        /// The method, e.g. `notifications/initialized`.
        method: String,
    },
    /// A response to a request of ours (we send none) or anything else to ignore: never answered.
    Ignored,
    /// Not a usable message: answered with this error (`id` null where none could be read).
    Invalid(Value),
}

/// Reads one line. Blank lines are [`Incoming::Ignored`]; a line that is not JSON is a parse error,
/// JSON that is not a JSON-RPC message an invalid request. Never fails otherwise.
pub fn parse(line: &str) -> Incoming {
    let line = line.trim();
    if line.is_empty() {
        return Incoming::Ignored;
    }
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(error) => {
            return Incoming::Invalid(error_response(&Value::Null, PARSE_ERROR, &format!("parse error: {error}")));
        }
    };
    let Value::Object(mut message) = value else {
        let what = if value.is_array() { "a batch (MCP sends one message per line)" } else { "not an object" };
        return Incoming::Invalid(error_response(&Value::Null, INVALID_REQUEST, &format!("invalid request: {what}")));
    };
    let id = message.remove("id");
    let usable_id = id.as_ref().filter(|id| id.is_string() || id.is_i64() || id.is_u64()).cloned();
    let invalid = |why: &str| {
        let id = usable_id.clone().unwrap_or(Value::Null);
        Incoming::Invalid(error_response(&id, INVALID_REQUEST, &format!("invalid request: {why}")))
    };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid("\"jsonrpc\" must be \"2.0\"");
    }
    let method = match message.remove("method") {
        Some(Value::String(method)) => method,
        Some(_) => return invalid("\"method\" must be a string"),
        None if message.contains_key("result") || message.contains_key("error") => return Incoming::Ignored,
        None => return invalid("no \"method\""),
    };
    let params = match message.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params,
        Some(_) => return invalid("\"params\" must be an object"),
    };
    match id {
        None => Incoming::Notification { method },
        Some(_) if usable_id.is_none() => invalid("\"id\" must be a string or an integer"),
        Some(id) => Incoming::Request { id, method, params },
    }
}

/// Which revision a request speaks, read off its `_meta`.
#[derive(Debug, PartialEq, Eq)]
pub enum Era {
    /// A modern request naming [`MODERN`].
    Modern,
    /// No revision in `_meta`: the handshake's (or none yet).
    Handshake,
    /// A request this server cannot serve as it stands: the error to answer.
    Refused(i64, String, Option<Value>),
}

/// The era of a request's `params`.
pub fn era(params: &Map<String, Value>) -> Era {
    let meta = params.get("_meta").and_then(Value::as_object);
    let Some(version) = meta.and_then(|meta| meta.get(VERSION_KEY)) else { return Era::Handshake };
    match version.as_str() {
        Some(MODERN) if meta.is_some_and(|meta| meta.get(CAPABILITIES_KEY).is_some_and(Value::is_object)) => {
            Era::Modern
        }
        Some(MODERN) => Era::Refused(INVALID_PARAMS, format!("_meta has no \"{CAPABILITIES_KEY}\" object"), None),
        Some(requested) => Era::Refused(
            UNSUPPORTED_VERSION,
            "Unsupported protocol version".to_owned(),
            Some(json!({ "supported": supported(), "requested": requested })),
        ),
        None => Era::Refused(INVALID_PARAMS, format!("\"{VERSION_KEY}\" must be a string"), None),
    }
}

/// Every revision spoken, newest first.
pub fn supported() -> Vec<&'static str> {
    std::iter::once(MODERN).chain(HANDSHAKE).collect()
}

/// The revision `initialize` agrees on: the client's, if it is one of the handshake's, else the newest
/// of them (the client then decides whether it can speak that).
pub fn negotiate(requested: &str) -> &'static str {
    HANDSHAKE.iter().copied().find(|&version| version == requested).unwrap_or(HANDSHAKE[0])
}

/// The server's name and version (MCP `Implementation`).
pub fn server_info() -> Value {
    json!({ "name": "sipgate-oauth", "title": "sipgate (OAuth sign-in of sipgate-oauth)", "version": env!("CARGO_PKG_VERSION") })
}

/// What the server offers: tools only, a list that does not change while it runs.
pub fn capabilities() -> Value {
    json!({ "tools": { "listChanged": false } })
}

/// `result` as the client's era expects it: a modern result carries `resultType` and the server's
/// identity; a `cacheable` one (`tools/list`, `server/discover`) says it is private to this sign-in and
/// fresh for no time, as the list follows the kept sign-in, which a `login` elsewhere can change.
pub fn finish(mut result: Map<String, Value>, era: &Era, cacheable: bool) -> Value {
    if *era == Era::Modern {
        result.insert("resultType".into(), "complete".into());
        result.insert("_meta".into(), json!({ SERVER_INFO_KEY: server_info() }));
        if cacheable {
            result.insert("ttlMs".into(), 0.into());
            result.insert("cacheScope".into(), "private".into());
        }
    }
    Value::Object(result)
}

/// A response line's value with `result`.
pub fn result_response(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// A response line's value with an error.
pub fn error_response(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// [`error_response`] with `data`.
pub fn error_with_data(id: &Value, code: i64, message: &str, data: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message, "data": data } })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_code(incoming: Incoming) -> (Value, i64) {
        match incoming {
            Incoming::Invalid(answer) => (answer["id"].clone(), answer["error"]["code"].as_i64().unwrap()),
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn lines_become_requests_notifications_or_errors() {
        let request = parse(r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}}"#);
        let Incoming::Request { id, method, params } = request else { panic!() };
        assert_eq!((id, method.as_str(), params["cursor"].as_str()), (json!(7), "tools/list", Some("x")));
        assert_eq!(
            parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Incoming::Notification { method: "notifications/initialized".into() }
        );
        assert_eq!(parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#), Incoming::Ignored);
        assert_eq!(parse("   "), Incoming::Ignored);

        assert_eq!(error_code(parse("{not json")), (Value::Null, PARSE_ERROR));
        assert_eq!(error_code(parse(r#"{"jsonrpc":"2.0","id":1,"method":"x""#)), (Value::Null, PARSE_ERROR));
        assert_eq!(error_code(parse("[]")), (Value::Null, INVALID_REQUEST));
        assert_eq!(error_code(parse(r#"{"id":3,"method":"ping"}"#)), (json!(3), INVALID_REQUEST));
        assert_eq!(error_code(parse(r#"{"jsonrpc":"2.0","id":"b","method":5}"#)), (json!("b"), INVALID_REQUEST));
        assert_eq!(error_code(parse(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#)), (Value::Null, INVALID_REQUEST));
        assert_eq!(error_code(parse(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#)), (Value::Null, INVALID_REQUEST));
        assert_eq!(
            error_code(parse(r#"{"jsonrpc":"2.0","id":2,"method":"ping","params":[1]}"#)),
            (json!(2), INVALID_REQUEST)
        );
    }

    #[test]
    fn the_era_is_read_off_each_request() {
        let params = |meta: Value| json!({ "_meta": meta }).as_object().unwrap().clone();
        assert_eq!(era(&Map::new()), Era::Handshake);
        assert_eq!(era(&params(json!({ VERSION_KEY: MODERN, CAPABILITIES_KEY: {} }))), Era::Modern);
        assert!(matches!(era(&params(json!({ VERSION_KEY: MODERN }))), Era::Refused(INVALID_PARAMS, ..)));
        let Era::Refused(code, _, Some(data)) =
            era(&params(json!({ VERSION_KEY: "1900-01-01", CAPABILITIES_KEY: {} })))
        else {
            panic!()
        };
        assert_eq!(code, UNSUPPORTED_VERSION);
        assert_eq!(data["requested"], "1900-01-01");
        assert_eq!(data["supported"][0], MODERN);
    }

    #[test]
    fn initialize_agrees_on_the_clients_revision_or_our_newest() {
        assert_eq!(negotiate("2025-06-18"), "2025-06-18");
        assert_eq!(negotiate("2024-11-05"), "2024-11-05");
        assert_eq!(negotiate("2099-01-01"), "2025-11-25");
        assert_eq!(negotiate(MODERN), "2025-11-25", "the handshake never agrees on a stateless revision");
    }

    #[test]
    fn modern_results_carry_their_type_and_caching_hints() {
        let result = finish(Map::new(), &Era::Modern, true);
        assert_eq!(result["resultType"], "complete");
        assert_eq!(result["_meta"][SERVER_INFO_KEY]["name"], "sipgate-oauth");
        assert_eq!((result["ttlMs"].as_u64(), result["cacheScope"].as_str()), (Some(0), Some("private")));
        assert_eq!(finish(Map::new(), &Era::Handshake, true), json!({}));
    }
}
