//! The fake account's data that never changes: its ids, a value of it for each schema of the table,
//! and the call, voicemail and fax its history always has. All of it is built once (a value for a
//! schema walks the schema, which cost a list operation most of its time) and copied after that.

use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use serde_json::Value;

use crate::operations;

/// The SMS extension of the fake account, the only one `POST /sessions/sms` sends from.
pub(super) const SMS_EXTENSION: &str = "s0";

/// A value of the fake account for `schema`, the same every time for a schema of the table: built once
/// per schema (keyed by its address; the table lives as long as the process), copied after that.
pub(super) fn fake(schema: &'static Value) -> Value {
    static BUILT: OnceLock<RwLock<HashMap<usize, Value>>> = OnceLock::new();
    let built = BUILT.get_or_init(RwLock::default);
    let key = std::ptr::from_ref(schema).addr();
    if let Some(value) = built.read().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return value.clone();
    }
    let value = operations::example_with(schema, &account_ids);
    built.write().unwrap_or_else(PoisonError::into_inner).insert(key, value.clone());
    value
}

/// The fake account's value of an id field, wherever it appears.
fn account_ids(name: &str, schema: &Value) -> Option<Value> {
    if schema.get("type").and_then(Value::as_str) != Some("string") || schema.get("enum").is_some() {
        return None;
    }
    let id = match name {
        "userId" => "w0",
        "smsId" => SMS_EXTENSION,
        "deviceId" => "e0",
        "phonelineId" => "p0",
        "faxlineId" => "f0",
        "groupId" => "g0",
        "voicemailId" => "v0",
        _ => return None,
    };
    Some(Value::String(id.to_owned()))
}

/// A history entry the fake account always has, with its JSON text.
pub(super) struct Fixed {
    pub value: Value,
    pub json: String,
}

/// The call, voicemail and fax in the fake account's history, after the SMS sent and the ended calls.
pub(super) fn fixed_history() -> &'static [Fixed] {
    static FIXED: OnceLock<Vec<Fixed>> = OnceLock::new();
    FIXED.get_or_init(|| {
        static NULL: Value = Value::Null;
        let schema = operations::definition("HistoryEntryResponse").unwrap_or(&NULL);
        let kinds = [("CALL", "INCOMING"), ("VOICEMAIL", "MISSED_INCOMING"), ("FAX", "OUTGOING")];
        (kinds.into_iter().enumerate())
            .map(|(n, (kind, direction))| {
                let mut value = fake(schema);
                value["id"] = Value::String((100_001_234 - n).to_string());
                value["type"] = Value::String(kind.to_owned());
                value["direction"] = Value::String(direction.to_owned());
                value["incoming"] = Value::Bool(direction != "OUTGOING");
                Fixed { json: value.to_string(), value }
            })
            .collect()
    })
}
