//! What the stand-in remembers of sipgate.io: the account's push settings (`/settings/sipgateio`), every
//! simulated call with its timeline, the legs that are established (`GET /calls`), the history entries
//! of ended legs (`GET /history`) and the push log (`GET /log/webhooks`). One mutex, held only to read or
//! change a table, never during a push.

use std::time::Instant;

use serde_json::{Value, json};

/// How many calls, history entries and log entries are kept; older ones are dropped.
const KEEP: usize = 200;

/// The account's sipgate.io settings, as `PUT /settings/sipgateio` sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Where `newCall` of incoming calls goes; empty = nowhere.
    pub incoming_url: String,
    /// Where `newCall` of outgoing calls goes; empty = nowhere.
    pub outgoing_url: String,
    /// The `log` flag (kept and shown; the stand-in logs every push whatever it says).
    pub log: bool,
    /// The `whitelist` (kept and shown; not applied: the fake account's one line is always on it).
    pub whitelist: Option<Vec<String>>,
}

impl Settings {
    /// As `GET /settings/sipgateio` answers.
    pub fn json(&self) -> Value {
        let mut settings = json!({"incomingUrl": self.incoming_url, "outgoingUrl": self.outgoing_url, "log": self.log});
        // No list (no restriction) is left out rather than `null`, which the schema does not allow.
        if let Some(whitelist) = &self.whitelist {
            settings["whitelist"] = json!(whitelist);
        }
        settings
    }
}

/// One leg that is established (answered), for `GET /calls`.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    /// The leg's callId.
    pub call_id: String,
    /// The caller, digits or `anonymous`.
    pub from: String,
    /// The callee, digits.
    pub to: String,
}

/// A simulated call: its timeline and, once it has ended, its result.
#[derive(Debug)]
pub(crate) struct Call {
    /// The first leg's callId, also the call's id in the admin API.
    pub id: String,
    /// When it started.
    pub started: Instant,
    /// The timeline so far (JSON objects, see `run`).
    pub events: Vec<Value>,
    /// The result, once it has ended.
    pub result: Option<Value>,
}

/// The tables.
#[derive(Debug, Default)]
pub(crate) struct Book {
    /// The push settings.
    pub settings: Settings,
    calls: Vec<Call>,
    /// Established legs.
    pub live: Vec<Live>,
    /// History entries of ended legs, newest first.
    pub history: Vec<Value>,
    /// Log entries, newest first.
    pub log: Vec<Value>,
    /// The last history id handed out.
    last_entry: u64,
}

impl Book {
    /// Starts a call's record.
    pub fn open(&mut self, id: &str) {
        if self.calls.len() >= KEEP
            && let Some(oldest_ended) = self.calls.iter().position(|call| call.result.is_some())
        {
            self.calls.remove(oldest_ended);
        }
        self.calls.push(Call { id: id.to_owned(), started: Instant::now(), events: Vec::new(), result: None });
    }

    /// The call with this id.
    pub fn call(&self, id: &str) -> Option<&Call> {
        self.calls.iter().find(|call| call.id == id)
    }

    /// Every call, oldest first.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The call with this id, to change.
    pub fn call_mut(&mut self, id: &str) -> Option<&mut Call> {
        self.calls.iter_mut().find(|call| call.id == id)
    }

    /// Adds a log entry.
    pub fn log(&mut self, entry: Value) {
        self.log.insert(0, entry);
        self.log.truncate(KEEP);
    }

    /// Adds a history entry, giving it an id.
    pub fn history(&mut self, mut entry: Value) {
        self.last_entry += 1;
        entry["id"] = Value::String((300_000_000 + self.last_entry).to_string());
        self.history.insert(0, entry);
        self.history.truncate(KEEP);
    }
}
