//! Tool results (MCP `CallToolResult`): sipgate's answer as JSON text, with `structuredContent` for an
//! object; every failure a result with `isError` that says what to do.
//!
//! Promises: a non-2xx answer is a tool result with sipgate's body, never a protocol error; a 403
//! names the scopes the operation accepts and the `login` command that adds one; a dead sign-in says
//! "sign in again" with the profile's command; a list longer than [`LIMIT`] is cut to whole items with a
//! note on how to page. The kept tokens never appear in a result: were the API to echo one, it is
//! replaced by `[redacted]`.

use serde_json::{Map, Value, json};

use crate::api::ApiResponse;
use crate::error::Error;
use crate::operations::Operation;
use crate::redact::REDACTED;

/// The most text a result carries (about 10,000 tokens of an agent's context).
pub const LIMIT: usize = 40_000;

/// A result of one text.
pub fn text(text: String, is_error: bool) -> Map<String, Value> {
    let mut result = Map::new();
    result.insert("content".into(), json!([{ "type": "text", "text": text }]));
    if is_error {
        result.insert("isError".into(), true.into());
    }
    result
}

/// A result with a JSON value: as compact text, and as `structuredContent` when it is an object.
pub fn value(value: Value) -> Map<String, Value> {
    let mut result = text(value.to_string(), false);
    if value.is_object() {
        result.insert("structuredContent".into(), value);
    }
    result
}

/// What a result needs to know of its call.
#[derive(Debug)]
pub struct Call<'a> {
    /// The operation called.
    pub op: &'a Operation,
    /// The `offset` it asked for (0 if none), for the paging note.
    pub offset: u64,
    /// The scopes the sign-in was granted, space-separated, for the 403 note.
    pub granted: &'a str,
    /// The profile, for the `login` command.
    pub profile: &'a str,
    /// The kept tokens' values: never shown.
    pub secrets: Vec<String>,
}

/// What a call's sipgate answer becomes.
pub fn answer(answer: ApiResponse, call: &Call) -> Map<String, Value> {
    let (op, granted, profile) = (call.op, call.granted, call.profile);
    let status = answer.response.status;
    let mut body = answer.response.body;
    for secret in call.secrets.iter().filter(|secret| !secret.is_empty()) {
        body = body.replace(secret.as_str(), REDACTED);
    }
    if (200..300).contains(&status) {
        if body.trim().is_empty() {
            return text(format!("done: sipgate answered HTTP {status} without a body"), false);
        }
        return match serde_json::from_str::<Value>(&body) {
            Ok(json) => cut(json, op, call.offset),
            Err(_) => text(cut_text(body), false),
        };
    }
    let mut said = format!("sipgate answered HTTP {status} to {} {}", op.method, op.path);
    if status == 403 {
        said.push_str(&forbidden(op, granted, profile));
    }
    if !body.trim().is_empty() {
        said.push_str(&format!(": {}", cut_text(body)));
    }
    text(said, true)
}

/// The 403 note: the scopes the operation accepts, and the command that signs in with one more.
pub fn forbidden(op: &Operation, granted: &str, profile: &str) -> String {
    let needed: Vec<&str> = op.narrow_scopes().collect();
    let add = needed.first().copied().unwrap_or("all");
    let scope = [granted.trim(), add].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ");
    let one_of = needed.iter().chain(["all"].iter()).map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
    let granted = if granted.trim().is_empty() { "none" } else { granted.trim() };
    format!(
        " — the sign-in lacks the scope: it was granted {granted}, and {} needs one of {one_of}; add it to \
         OAUTH_SCOPE (and to your client at console.sipgate.com) and sign in again: \
         `OAUTH_SCOPE='{scope}' sipgate-oauth login --profile {profile}`",
        super::tools::name(op)
    )
}

/// A JSON answer, a paged list cut to whole items that fit [`LIMIT`], with a note on the next page.
fn cut(json: Value, op: &Operation, offset: u64) -> Map<String, Value> {
    let full = json.to_string();
    if full.len() <= LIMIT {
        return value(json);
    }
    let Some(items) = json.get("items").and_then(Value::as_array).filter(|_| json.is_object()) else {
        return text(cut_text(full), false);
    };
    let mut kept = json.clone();
    let mut count = items.len();
    while count > 0 {
        count = count.saturating_sub((count / 4).max(1));
        kept["items"] = Value::Array(items[..count].to_vec());
        if kept.to_string().len() <= LIMIT {
            break;
        }
    }
    let total = json.get("totalCount").and_then(Value::as_u64).map_or(String::new(), |t| format!(" of {t}"));
    let mut result = value(kept);
    let page = if op.is_paged() {
        format!(
            "call {} again with offset={} (and limit={count}, or less) for the next items",
            super::tools::name(op),
            offset + count as u64
        )
    } else {
        "this operation has no paging: ask for fewer items with its filters".to_owned()
    };
    let note = format!(
        "The answer was cut to fit: {count}{total} items are shown, {} were left out; {page}.",
        items.len() - count
    );
    if let Some(Value::Array(content)) = result.get_mut("content") {
        content.push(json!({ "type": "text", "text": note }));
    }
    result
}

/// Text cut at [`LIMIT`] bytes (on a character boundary), with a note.
fn cut_text(text: String) -> String {
    if text.len() <= LIMIT {
        return text;
    }
    let mut end = LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [cut: {} of {} bytes shown]", &text[..end], end, text.len())
}

/// A call that failed before or without a sipgate answer: a dead sign-in (`sign_in_again`, from the
/// session) or any other error, as its message with its causes.
pub fn failure(error: &Error, sign_in_again: Option<String>) -> Map<String, Value> {
    if let Some(message) = sign_in_again {
        return text(message, true);
    }
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text(message, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Response;

    fn op(id: &str) -> &'static Operation {
        crate::operations::operations().iter().find(|op| op.id == id).unwrap()
    }

    fn call<'a>(id: &str, granted: &'a str, profile: &'a str) -> Call<'a> {
        Call { op: op(id), offset: 0, granted, profile, secrets: vec!["eyJtoken".into()] }
    }

    fn sipgate(status: u16, body: &str) -> ApiResponse {
        let response = Response { status, www_authenticate: None, content_type: None, body: body.to_owned() };
        ApiResponse { response, status_line: String::new(), headers: Vec::new(), error: None }
    }

    #[test]
    fn objects_are_text_and_structured_content() {
        let result = answer(sipgate(200, r#"{"company":"x"}"#), &call("getAccount", "account:read", "default"));
        assert_eq!(result["content"][0]["text"], r#"{"company":"x"}"#);
        assert_eq!(result["structuredContent"]["company"], "x");
        assert!(result.get("isError").is_none());
        let list = answer(sipgate(200, "[1,2]"), &call("getAccount", "", "default"));
        assert!(list.get("structuredContent").is_none(), "structuredContent only for objects");
        let done = answer(sipgate(204, ""), &call("deleteHistoryEntry", "", "default"));
        assert_eq!(done["content"][0]["text"], "done: sipgate answered HTTP 204 without a body");
    }

    #[test]
    fn a_403_names_the_scope_and_the_login_command() {
        let result = answer(sipgate(403, "Forbidden"), &call("getHistory", "account:read", "work"));
        assert_eq!(result["isError"], true);
        assert_eq!(
            result["content"][0]["text"],
            "sipgate answered HTTP 403 to GET /history — the sign-in lacks the scope: it was granted account:read, \
             and get_history needs one of `history:read`, `all`; add it to OAUTH_SCOPE (and to your client at \
             console.sipgate.com) and sign in again: `OAUTH_SCOPE='account:read history:read' sipgate-oauth login \
             --profile work`: Forbidden"
        );
        let other = answer(sipgate(404, r#"{"error":"no"}"#), &call("getHistoryById", "", "default"));
        assert_eq!(
            other["content"][0]["text"],
            r#"sipgate answered HTTP 404 to GET /history/{entryId}: {"error":"no"}"#
        );
    }

    #[test]
    fn long_lists_are_cut_to_whole_items_with_a_paging_note() {
        let items: Vec<Value> = (0..2000).map(|i| json!({"id": i, "note": "x".repeat(40)})).collect();
        let body = json!({"items": items, "totalCount": 5000}).to_string();
        let result = answer(sipgate(200, &body), &Call { offset: 10, ..call("getHistory", "", "default") });
        let shown = result["structuredContent"]["items"].as_array().unwrap().len();
        assert!(shown > 0 && shown < 2000, "{shown}");
        assert!(result["content"][0]["text"].as_str().unwrap().len() <= LIMIT);
        let note = result["content"][1]["text"].as_str().unwrap();
        assert!(note.contains(&format!("{shown} of 5000 items are shown")), "{note}");
        assert!(note.contains(&format!("call get_history again with offset={}", 10 + shown)), "{note}");
    }

    #[test]
    fn a_kept_token_echoed_by_the_api_is_redacted() {
        let result = answer(sipgate(200, r#"{"echo":"eyJtoken"}"#), &call("getAccount", "", "d"));
        assert_eq!(result["structuredContent"]["echo"], REDACTED);
    }
}
