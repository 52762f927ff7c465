//! One leg of a simulated call and what it looks like on the wire: the form fields of its `newCall`,
//! `answer` and `hangup` pushes (SIPGATE-IO.md §3, in the order of a captured push), and its entry in
//! `GET /history` once it has ended.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

/// The account number every `fullUserId` starts with (as `masterSipId` in `/authorization/userinfo`).
const ACCOUNT_ID: &str = "1234567";

/// Form fields in order, keys as sipgate writes them.
pub(crate) type Fields = Vec<(&'static str, String)>;

/// The display name of a user of the fake account.
pub(crate) fn user_name(user: &str) -> String {
    match user {
        "w0" => "Alice Doe".to_owned(),
        "w1" => "Bob Roe".to_owned(),
        other => format!("User {other}"),
    }
}

/// `n` random bytes as lower-case hex: a `callId` is 38 bytes (76 hex digits, as in a 2021 capture).
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The OS random generator failing is not something a test server can recover from.
    SystemRandom::new().fill(&mut bytes).expect("the operating system's random generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Now as sipgate writes times (`2016-02-10T14:19:39Z`).
pub(crate) fn now_iso() -> String {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    crate::utc::iso8601(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// One leg: the first of a call, or one a `Dial` started.
#[derive(Debug, Clone)]
pub(crate) struct Leg {
    pub call_id: String,
    pub orig_call_id: String,
    pub xcid: String,
    /// Digits or `anonymous`.
    pub from: String,
    pub to: String,
    /// The number that passed the call on, for a forwarded leg.
    pub diversion: Option<String>,
    /// The account's users involved (`user[]`).
    pub users: Vec<String>,
    /// `in` or `out`.
    pub direction: &'static str,
    pub answered: Option<Instant>,
    pub answering_number: Option<String>,
}

/// How a leg ended: the hangup `cause` and the history `status`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ending {
    pub cause: &'static str,
    pub status: &'static str,
}

impl Leg {
    /// A new leg with fresh ids.
    pub fn new(from: String, to: String, direction: &'static str, users: Vec<String>) -> Leg {
        let call_id = random_hex(38);
        Leg {
            orig_call_id: call_id.clone(),
            call_id,
            xcid: random_hex(16),
            from,
            to,
            diversion: None,
            users,
            direction,
            answered: None,
            answering_number: None,
        }
    }

    /// The leg a forward (`Dial` to numbers) starts: new ids, the first leg's `origCallId`, the number
    /// that forwarded as `diversion`.
    pub fn forwarded(&self, from: String, to: String) -> Leg {
        let mut next = Leg::new(from, to, self.direction, Vec::new());
        next.orig_call_id.clone_from(&self.orig_call_id);
        next.diversion = Some(self.to.clone());
        next
    }

    fn diversion(&self, fields: &mut Fields) {
        if let Some(diversion) = &self.diversion {
            fields.push(("diversion", diversion.clone()));
        }
    }

    /// `newCall`: `user[]`, `userId[]`, `fullUserId[]` repeated, one per user.
    pub fn new_call(&self) -> Fields {
        let mut fields = vec![
            ("event", "newCall".to_owned()),
            ("direction", self.direction.to_owned()),
            ("callId", self.call_id.clone()),
            ("origCallId", self.orig_call_id.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
        ];
        self.diversion(&mut fields);
        fields.extend(self.users.iter().map(|user| ("user[]", user_name(user))));
        fields.extend(self.users.iter().map(|user| ("userId[]", user.clone())));
        fields.extend(self.users.iter().map(|user| ("fullUserId[]", format!("{ACCOUNT_ID}{user}"))));
        fields.push(("xcid", self.xcid.clone()));
        fields
    }

    /// `answer`: the one user who picked up as scalar `user`/`userId`/`fullUserId`, if one did.
    pub fn answer(&self, by: Option<&str>) -> Fields {
        let mut fields = vec![
            ("event", "answer".to_owned()),
            ("callId", self.call_id.clone()),
            ("origCallId", self.orig_call_id.clone()),
        ];
        if let Some(user) = by {
            fields.push(("user", user_name(user)));
            fields.push(("userId", user.to_owned()));
            fields.push(("fullUserId", format!("{ACCOUNT_ID}{user}")));
        }
        fields.extend([
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("direction", self.direction.to_owned()),
            ("answeringNumber", self.answering_number.clone().unwrap_or_default()),
        ]);
        self.diversion(&mut fields);
        fields
    }

    /// `hangup` with its cause; `answeringNumber` once someone answered.
    pub fn hangup(&self, cause: &str) -> Fields {
        let mut fields = vec![
            ("event", "hangup".to_owned()),
            ("cause", cause.to_owned()),
            ("callId", self.call_id.clone()),
            ("origCallId", self.orig_call_id.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("direction", self.direction.to_owned()),
        ];
        if let Some(number) = &self.answering_number {
            fields.push(("answeringNumber", number.clone()));
        }
        self.diversion(&mut fields);
        fields
    }

    /// Its `GET /history` entry (without `id`, which the book gives) and its line in the call's result.
    pub fn ended(&self, ending: Ending) -> (Value, Value) {
        let outgoing = self.direction == "out";
        let duration = self.answered.map_or(0, |at| at.elapsed().as_secs());
        let missed = self.answered.is_none() && ending.status != "FORWARD";
        let direction = match (outgoing, missed) {
            (false, false) => "INCOMING",
            (false, true) => "MISSED_INCOMING",
            (true, false) => "OUTGOING",
            (true, true) => "MISSED_OUTGOING",
        };
        let created = now_iso();
        let plus = |number: &str| if number == "anonymous" { number.to_owned() } else { format!("+{number}") };
        let callee = if outgoing { None } else { self.users.first() };
        let entry = json!({
            "source": plus(&self.from),
            "target": plus(&self.to),
            "sourceAlias": "",
            "targetAlias": callee.map(|user| user_name(user)).unwrap_or_default(),
            "type": "CALL",
            "created": created,
            "lastModified": created,
            "direction": direction,
            "incoming": !outgoing,
            "status": ending.status,
            "connectionIds": self.users,
            "read": false,
            "archived": false,
            "note": "",
            "endpoints": [],
            "starred": false,
            "labels": [],
            "duration": duration,
            "callId": self.call_id,
        });
        let summary = json!({
            "callId": self.call_id,
            "origCallId": self.orig_call_id,
            "from": self.from,
            "to": self.to,
            "diversion": self.diversion,
            "cause": ending.cause,
            "status": ending.status,
            "answered": self.answered.is_some(),
            "durationSeconds": duration,
        });
        (entry, summary)
    }
}
