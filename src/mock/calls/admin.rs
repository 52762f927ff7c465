//! The stand-in's admin API for simulated calls, under `/_stand-in/` (a path no sipgate route uses).
//! The stand-in listens on loopback only, so only this machine reaches it; a `POST` must be
//! `application/json`, which a web page cannot send to it without a CORS preflight the stand-in never
//! grants.
//!
//! - `POST /_stand-in/calls` `{"from", "to", "direction", "users", "press", "answerAfterMs", "noAnswer",
//!   "busy", "hangupAfterMs", "emptyDtmf"}` starts a call: `201 {"callId"}`.
//! - `GET /_stand-in/calls`: every call kept, `{"calls": [{"callId", "ended"}]}`.
//! - `GET /_stand-in/calls/{callId}?after=N&wait=MS`: its timeline from event N on, `{"events", "next",
//!   "ended", "result"}`, waiting up to MS (at most 5 s) for a new event; ask again with `after=next`
//!   until `ended`.
//! - `GET /_stand-in/webhook-public-key`: the key that verifies `X-Sipgate-Signature`, PEM.
//! - `GET /_stand-in/sounds/silence.wav` (1 s, the format sipgate plays) and `…/cd-quality.wav`
//!   (44.1 kHz stereo, which sipgate silently does not play): announcements to point `<Play>` at.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::super::params::Incoming;
use super::super::reply::Reply;
use super::Calls;
use super::run::{self, CallRequest, Pickup};
use super::wav;

/// Default ms until the callee picks up.
const DEFAULT_ANSWER_AFTER_MS: u64 = 1000;

/// Default ms an answered call lasts.
const DEFAULT_HANGUP_AFTER_MS: u64 = 3000;

/// The longest wait one call may ask for (an hour).
const MAX_WAIT_MS: u64 = 3_600_000;

/// Answers a request under `/_stand-in/`.
pub(crate) fn answer(calls: &Arc<Calls>, request: &Incoming<'_>) -> Reply {
    let path = request.path.strip_prefix("/_stand-in").unwrap_or_default();
    match (request.method, path) {
        ("GET", "/webhook-public-key") => {
            let mut reply = Reply::text(200, &calls.signer.public_pem());
            reply.content_type = Some("application/x-pem-file");
            reply
        }
        ("GET", "/sounds/silence.wav") => sound(wav::silence(8000, 1, 16, 8000)),
        ("GET", "/sounds/cd-quality.wav") => sound(wav::silence(44_100, 2, 16, 4410)),
        ("POST", "/calls") => start(calls, request),
        ("GET", "/calls") => {
            let book = calls.book();
            let list: Vec<Value> =
                book.calls().iter().map(|call| json!({"callId": call.id, "ended": call.result.is_some()})).collect();
            Reply::json(200, &json!({"calls": list}))
        }
        (method, path) if path.starts_with("/calls/") => match method {
            "GET" => timeline(calls, &path["/calls/".len()..], request.query),
            _ => Reply::method_not_allowed("GET"),
        },
        (_, "/calls") => Reply::method_not_allowed("GET, POST"),
        (_, "/webhook-public-key") => Reply::method_not_allowed("GET"),
        _ => Reply::not_found(),
    }
}

/// A sound file: one that sipgate plays, one it does not.
fn sound(bytes: Vec<u8>) -> Reply {
    Reply { status: 200, content_type: Some("audio/wav"), body: bytes, headers: Vec::new() }
}

fn bad(message: &str) -> Reply {
    Reply::invalid_request(message)
}

fn start(calls: &Arc<Calls>, request: &Incoming<'_>) -> Reply {
    let json_type = request
        .content_type
        .is_some_and(|value| value.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
    if !json_type {
        return bad("Content-Type must be application/json");
    }
    let Ok(body) = serde_json::from_slice::<Value>(request.body) else { return bad("the body is not JSON") };
    match call_request(&body) {
        Ok(call) => match run::start(calls, call) {
            Ok(id) => Reply::json(201, &json!({"callId": id, "timeline": format!("/_stand-in/calls/{id}")})),
            Err(error) => Reply::text(503, &format!("the call thread could not start: {error}")),
        },
        Err(message) => bad(&message),
    }
}

/// A phone number as sipgate writes it: digits in international form without `+`.
fn number(field: &str, value: Option<&Value>, anonymous_allowed: bool) -> Result<String, String> {
    let text = value.and_then(Value::as_str).ok_or(format!("{field} is missing (a number like 492111234567)"))?;
    if anonymous_allowed && text == "anonymous" {
        return Ok(text.to_owned());
    }
    let digits = text.trim().trim_start_matches('+');
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let hint = if anonymous_allowed { " or anonymous" } else { "" };
        return Err(format!("{field} must be digits in international form (492111234567){hint}"));
    }
    Ok(digits.to_owned())
}

fn millis(body: &Value, field: &str, default: u64) -> Result<u64, String> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_u64()
            .filter(|ms| *ms <= MAX_WAIT_MS)
            .ok_or(format!("{field} must be a whole number of ms up to {MAX_WAIT_MS}")),
    }
}

fn flag(body: &Value, field: &str) -> Result<bool, String> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(format!("{field} must be true or false")),
    }
}

/// Reads and checks the body of `POST /_stand-in/calls`.
pub(crate) fn call_request(body: &Value) -> Result<CallRequest, String> {
    let outgoing = match body.get("direction").and_then(Value::as_str) {
        None | Some("in") => false,
        Some("out") => true,
        Some(other) => return Err(format!("direction must be in or out, not {other:?}")),
    };
    let users: Vec<String> = match body.get("users") {
        None | Some(Value::Null) => vec!["w0".to_owned()],
        Some(Value::Array(users)) => users.iter().map(|u| u.as_str().unwrap_or("").to_owned()).collect(),
        Some(_) => return Err("users must be a list like [\"w0\"]".to_owned()),
    };
    let valid_user = |user: &String| {
        user.len() > 1 && user.len() < 12 && user.starts_with('w') && user[1..].bytes().all(|b| b.is_ascii_digit())
    };
    if users.is_empty() || users.len() > 10 || !users.iter().all(valid_user) {
        return Err("users must be 1 to 10 user ids like w0".to_owned());
    }
    let press = body.get("press").and_then(Value::as_str).unwrap_or_default().to_owned();
    if press.len() > 100 || !press.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#') {
        return Err("press must be up to 100 keys of 0-9, * and #".to_owned());
    }
    let (no_answer, busy) = (flag(body, "noAnswer")?, flag(body, "busy")?);
    let answer_given = body.get("answerAfterMs").is_some_and(|v| !v.is_null());
    if usize::from(no_answer) + usize::from(busy) + usize::from(answer_given) > 1 {
        return Err("answerAfterMs, noAnswer and busy exclude each other".to_owned());
    }
    let pickup = match (no_answer, busy) {
        (true, _) => Pickup::Never,
        (_, true) => Pickup::Busy,
        _ => Pickup::After(millis(body, "answerAfterMs", DEFAULT_ANSWER_AFTER_MS)?),
    };
    Ok(CallRequest {
        from: number("from", body.get("from"), true)?,
        to: number("to", body.get("to"), false)?,
        outgoing,
        users,
        press,
        pickup,
        hangup_after_ms: millis(body, "hangupAfterMs", DEFAULT_HANGUP_AFTER_MS)?,
        empty_dtmf: flag(body, "emptyDtmf")?,
    })
}

/// The longest `wait` a timeline request may ask for.
const MAX_POLL_WAIT: Duration = Duration::from_secs(5);

/// `GET /_stand-in/calls/{id}?after=N[&wait=MS]`: the events from N on; with `wait`, the answer waits
/// (up to 5 s) until there is one or the call has ended, so a client need not poll in a loop. Such a
/// request is answered on a thread of its own (see `intake::may_block`).
fn timeline(calls: &Calls, id: &str, query: &str) -> Reply {
    let pairs = crate::query::decode(query).unwrap_or_default();
    let number =
        |name: &str| pairs.iter().find(|(key, _)| key == name).and_then(|(_, value)| value.parse::<u64>().ok());
    let after = number("after").and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let wait = Duration::from_millis(number("wait").unwrap_or(0)).min(MAX_POLL_WAIT);
    let deadline = Instant::now() + wait;
    let mut book = calls.book();
    loop {
        let Some(call) = book.call(id) else {
            return Reply::oauth_error(404, "not_found", "No simulated call with this id");
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if call.events.len() > after || call.result.is_some() || left.is_zero() {
            break;
        }
        book = calls.wait(book, left);
    }
    let Some(call) = book.call(id) else {
        return Reply::oauth_error(404, "not_found", "No simulated call with this id");
    };
    let events = call.events.get(after..).unwrap_or_default();
    Reply::json(
        200,
        &json!({
            "callId": call.id,
            "events": events,
            "next": after.max(call.events.len()),
            "ended": call.result.is_some(),
            "result": call.result,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_requests_are_checked_field_by_field() {
        let ok = call_request(&json!({"from": "+492111234567", "to": "4915791234567"})).unwrap();
        assert_eq!((ok.from.as_str(), ok.users.as_slice()), ("492111234567", ["w0".to_owned()].as_slice()));
        assert_eq!(ok.pickup, Pickup::After(DEFAULT_ANSWER_AFTER_MS));
        assert_eq!(call_request(&json!({"from": "anonymous", "to": "49", "busy": true})).unwrap().pickup, Pickup::Busy);
        for (body, what) in [
            (json!({"to": "49"}), "from is missing"),
            (json!({"from": "anonymous", "to": "anonymous"}), "to must be digits"),
            (json!({"from": "0211 123", "to": "49"}), "from must be digits"),
            (json!({"from": "49", "to": "49", "direction": "sideways"}), "direction"),
            (json!({"from": "49", "to": "49", "users": ["alice"]}), "users"),
            (json!({"from": "49", "to": "49", "press": "12a"}), "press"),
            (json!({"from": "49", "to": "49", "busy": true, "noAnswer": true}), "exclude"),
            (json!({"from": "49", "to": "49", "hangupAfterMs": -1}), "hangupAfterMs"),
            (json!({"from": "49", "to": "49", "busy": "yes"}), "true or false"),
        ] {
            let error = call_request(&body).unwrap_err();
            assert!(error.contains(what), "{body}: {error}");
        }
    }
}
