//! The sipgate REST operations the simulated calls feed: `GET`/`PUT /settings/sipgateio`, `GET /calls`,
//! `GET /log/webhooks`, and the call entries of `GET /history`. The REST layer (`mock::rest`) checks the
//! token and its scope first, as for every operation.

use serde_json::{Value, json};

use super::super::reply::Reply;
use super::Calls;

/// `GET /settings/sipgateio`.
pub(crate) fn settings(calls: &Calls) -> Reply {
    Reply::json(200, &calls.book().settings.json())
}

/// `PUT /settings/sipgateio` with a body the schema check passed; `success` is the operation's status.
/// A URL must be empty or start with `http://` or `https://` (as sipgate's Node library checks).
pub(crate) fn set_settings(calls: &Calls, body: &Value, success: u16) -> Reply {
    let url = |field: &str| -> Result<String, Reply> {
        let value = body.get(field).and_then(Value::as_str).unwrap_or_default().trim().to_owned();
        if value.is_empty() || value.starts_with("http://") || value.starts_with("https://") {
            Ok(value)
        } else {
            let description = format!("`{field}` must be empty or start with http:// or https://");
            Err(Reply::json(
                400,
                &json!({"error": "invalid_request", "error_description": description, "field": field}),
            ))
        }
    };
    let (incoming, outgoing) = match (url("incomingUrl"), url("outgoingUrl")) {
        (Ok(incoming), Ok(outgoing)) => (incoming, outgoing),
        (Err(reply), _) | (_, Err(reply)) => return reply,
    };
    let mut book = calls.book();
    book.settings.incoming_url = incoming;
    book.settings.outgoing_url = outgoing;
    book.settings.log = body.get("log").and_then(Value::as_bool).unwrap_or(false);
    book.settings.whitelist = body
        .get("whitelist")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect());
    Reply::empty(success)
}

/// `GET /calls`: the simulated legs that are established (sipgate lists no ringing calls).
pub(crate) fn live_calls(calls: &Calls) -> Reply {
    let book = calls.book();
    let plus = |number: &str| if number == "anonymous" { String::new() } else { format!("+{number}") };
    let data: Vec<Value> = book
        .live
        .iter()
        .map(|live| {
            let participant = |id: &str, number: &str, owner: bool| {
                json!({"participantId": id, "phoneNumber": plus(number), "muted": false, "hold": false, "owner": owner})
            };
            json!({
                "callId": live.call_id,
                "muted": false,
                "recording": false,
                "hold": false,
                "participants": [participant("0", &live.from, false), participant("1", &live.to, true)],
            })
        })
        .collect();
    Reply::json(200, &json!({"data": data}))
}

/// `GET /log/webhooks`: every push and sound check, newest first.
pub(crate) fn log(calls: &Calls) -> Reply {
    Reply::json(200, &json!({"items": calls.book().log}))
}

/// The history entries of ended legs, newest first.
pub(crate) fn history_entries(calls: &Calls) -> Vec<Value> {
    calls.book().history.clone()
}
