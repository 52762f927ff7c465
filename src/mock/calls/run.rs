//! One simulated call, on a thread of its own: the pushes, the app's answers followed as sipgate
//! follows them, the caller and callee played by the stand-in (`--press`, `--answer-after`, `--busy`,
//! …), and the timeline written to the book as it happens.
//!
//! Time is real: `--answer-after`, `--hangup-after` and a `Gather`'s `timeout` are waited out; a
//! `Play` is checked but its length is not (the timeline says how long it would last).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Calls;
use super::answer::{Action, Instructions, Subscriptions};
use super::book::Live;
use super::leg::{Ending, Fields, Leg, now_iso};
use super::push::{self, Exchange};
use super::wav;

/// How many legs one call may have (each `Dial` to numbers starts one); a forward loop stops there.
const MAX_LEGS: usize = 10;

/// What the simulated callee does when the call rings it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pickup {
    /// Picks up after this many ms.
    After(u64),
    /// Never picks up; the caller gives up after `hangup_after_ms` (`cancel`).
    Never,
    /// Is busy (`busy`).
    Busy,
}

/// A call to simulate, as the admin API takes it.
#[derive(Debug, Clone)]
pub(crate) struct CallRequest {
    /// The caller: digits, or `anonymous`.
    pub from: String,
    /// The callee: digits.
    pub to: String,
    /// Started by a user of the account (`direction=out`).
    pub outgoing: bool,
    /// The account's users involved (`w0`, …): the caller for `out`, those it rings for `in`.
    pub users: Vec<String>,
    /// Keys the caller presses, consumed by each `Gather` in turn.
    pub press: String,
    /// What the callee does.
    pub pickup: Pickup,
    /// How long an answered call lasts (or how long the caller waits for an answer).
    pub hangup_after_ms: u64,
    /// Send `dtmf=` (empty) when nothing was pressed, instead of leaving the field out.
    pub empty_dtmf: bool,
}

/// Starts a call on its own thread and returns its id (the first leg's callId).
pub(crate) fn start(calls: &Arc<Calls>, request: CallRequest) -> std::io::Result<String> {
    let direction = if request.outgoing { "out" } else { "in" };
    let users = if request.outgoing { request.users[..1].to_vec() } else { request.users.clone() };
    let first = Leg::new(request.from.clone(), request.to.clone(), direction, users);
    let id = first.call_id.clone();
    calls.book().open(&id);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(calls.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .build()
        .into();
    let mut run = Run {
        calls: Arc::clone(calls),
        id: id.clone(),
        first: Some(first),
        press: request.press.chars().collect(),
        request,
        agent,
        problems: Vec::new(),
        legs: Vec::new(),
        pushes: 0,
    };
    std::thread::Builder::new().name("sipgate-stand-in-call".into()).spawn(move || run.run())?;
    Ok(id)
}

struct Run {
    calls: Arc<Calls>,
    id: String,
    /// The first leg, until the call starts.
    first: Option<Leg>,
    request: CallRequest,
    press: VecDeque<char>,
    agent: ureq::Agent,
    /// Why `mock call` fails (exit 1): pushes without an answer, answers sipgate would reject.
    problems: Vec<String>,
    legs: Vec<Value>,
    pushes: usize,
}

impl Run {
    fn run(&mut self) {
        let direction = if self.request.outgoing { "out" } else { "in" };
        let mut leg = self.first.take();
        let first = leg.as_ref().map(|l| format!("{} → {}", l.from, l.to)).unwrap_or_default();
        self.say(
            &self.id.clone(),
            "call",
            format!("{direction} call {first}, users {}", self.request.users.join(", ")),
            json!({}),
        );
        while let Some(current) = leg.take() {
            if self.legs.len() >= MAX_LEGS {
                self.problem(&current.call_id, format!("more than {MAX_LEGS} legs: forward loop stopped"));
                break;
            }
            if !self.legs.is_empty() {
                let text = format!(
                    "new leg {} (origCallId {}): {} → {}, diversion {}",
                    current.call_id,
                    current.orig_call_id,
                    current.from,
                    current.to,
                    current.diversion.as_deref().unwrap_or("-")
                );
                self.say(&current.call_id, "leg", text, json!({}));
            }
            leg = self.leg(current);
        }
        let ok = self.problems.is_empty();
        let summary = if ok {
            "call ended".to_owned()
        } else {
            format!("call ended with problems: {}", self.problems.join("; "))
        };
        self.say(&self.id.clone(), "end", summary, json!({}));
        let result = json!({
            "callId": self.id,
            "ok": ok,
            "problems": self.problems,
            "pushes": self.pushes,
            "legs": self.legs,
        });
        if let Some(call) = self.calls.book().call_mut(&self.id) {
            call.result = Some(result);
            self.calls.changed.notify_all();
        }
    }

    /// Adds an event to the timeline.
    fn say(&self, call_id: &str, kind: &str, text: String, extra: Value) {
        let mut book = self.calls.book();
        let Some(call) = book.call_mut(&self.id) else { return };
        let at = u64::try_from(call.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let text = crate::redact::terminal_safe(&text);
        let mut event = json!({"atMs": at, "callId": call_id, "kind": kind, "text": text});
        if let (Value::Object(event), Value::Object(extra)) = (&mut event, extra) {
            event.extend(extra);
        }
        call.events.push(event);
        self.calls.changed.notify_all();
    }

    fn problem(&mut self, call_id: &str, text: String) {
        self.say(call_id, "error", text.clone(), json!({}));
        self.problems.push(text);
    }

    fn wait(&self, ms: u64) {
        if ms > 0 {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }

    /// Runs one leg; a forward returns the next.
    fn leg(&mut self, mut leg: Leg) -> Option<Leg> {
        let settings = self.calls.book().settings.clone();
        let url = if self.request.outgoing { settings.outgoing_url } else { settings.incoming_url };
        let mut subscriptions = Subscriptions::default();
        let mut actions: VecDeque<Action> = VecDeque::new();
        if url.is_empty() {
            let which = if self.request.outgoing { "outgoingUrl" } else { "incomingUrl" };
            self.say(
                &leg.call_id,
                "note",
                format!("no {which} set (PUT /settings/sipgateio or mock --webhook-url): nothing pushed"),
                json!({}),
            );
        } else {
            let pairs = leg.new_call();
            if let Some(read) = self.push_and_read(&leg, &url, &pairs) {
                subscriptions.update(&read);
                actions.extend(read.actions);
            }
        }
        while let Some(action) = actions.pop_front() {
            match action {
                Action::Play { url } => self.play(&leg, &url),
                Action::Gather { on_data, max_digits, timeout_ms, play } => {
                    if let Some(url) = play {
                        self.play(&leg, &url);
                    }
                    let digits: String = (0..max_digits).map_while(|_| self.press.pop_front()).collect();
                    if digits.chars().count() < max_digits {
                        self.say(
                            &leg.call_id,
                            "caller",
                            format!(
                                "caller presses {:?}, then nothing: Gather waits its timeout of {timeout_ms} ms",
                                digits
                            ),
                            json!({}),
                        );
                        self.wait(timeout_ms);
                    } else {
                        self.say(&leg.call_id, "caller", format!("caller presses {digits}"), json!({}));
                    }
                    let mut pairs = vec![("event", "dtmf".to_owned()), ("callId", leg.call_id.clone())];
                    if !digits.is_empty() || self.request.empty_dtmf {
                        pairs.push(("dtmf", digits));
                    }
                    if let Some(read) = self.push_and_read(&leg, &on_data, &pairs) {
                        subscriptions.update(&read);
                        if !read.actions.is_empty() {
                            actions = read.actions.into();
                        }
                    }
                }
                Action::Dial { numbers, voicemail: true, .. } if numbers.is_empty() => {
                    self.say(
                        &leg.call_id,
                        "action",
                        "Dial: to the voicemail, which answers at once".to_owned(),
                        json!({}),
                    );
                    leg.answering_number = Some(leg.to.clone());
                    self.answered(&mut leg, &subscriptions, false);
                    self.wait(self.request.hangup_after_ms);
                    self.end(&leg, &subscriptions, Ending { cause: "normalClearing", status: "PICKUP" });
                    return None;
                }
                Action::Dial { numbers, caller_id, anonymous, .. } => {
                    let shown =
                        if anonymous { "anonymous".to_owned() } else { caller_id.clone().unwrap_or(leg.from.clone()) };
                    self.say(
                        &leg.call_id,
                        "action",
                        format!("Dial: forwarded to {} (shown as {shown}); a new leg starts", numbers.join(", ")),
                        json!({}),
                    );
                    self.end(&leg, &subscriptions, Ending { cause: "forwarded", status: "FORWARD" });
                    return Some(leg.forwarded(shown, numbers.first().cloned().unwrap_or_default()));
                }
                Action::Reject { busy } => {
                    let (cause, status) = if busy { ("busy", "BUSY") } else { ("noAnswer", "NOPICKUP") };
                    self.say(
                        &leg.call_id,
                        "action",
                        format!("Reject ({})", if busy { "busy" } else { "rejected" }),
                        json!({}),
                    );
                    self.end(&leg, &subscriptions, Ending { cause, status });
                    return None;
                }
                Action::Hangup => {
                    self.say(&leg.call_id, "action", "Hangup".to_owned(), json!({}));
                    self.end(&leg, &subscriptions, Ending { cause: "normalClearing", status: "NOPICKUP" });
                    return None;
                }
            }
        }
        self.ring(leg, &subscriptions);
        None
    }

    /// Normal routing: the call rings the callee, who does what `pickup` says.
    fn ring(&mut self, mut leg: Leg, subscriptions: &Subscriptions) {
        let who = if leg.users.is_empty() || self.request.outgoing { leg.to.clone() } else { leg.users.join(", ") };
        self.say(&leg.call_id, "state", format!("normal routing: ringing {who}"), json!({}));
        match self.request.pickup {
            Pickup::Busy => {
                self.say(&leg.call_id, "state", "busy".to_owned(), json!({}));
                self.end(&leg, subscriptions, Ending { cause: "busy", status: "BUSY" });
            }
            Pickup::Never => {
                self.wait(self.request.hangup_after_ms);
                self.say(&leg.call_id, "state", "nobody answered; the caller gives up".to_owned(), json!({}));
                self.end(&leg, subscriptions, Ending { cause: "cancel", status: "NOPICKUP" });
            }
            Pickup::After(ms) => {
                self.wait(ms);
                leg.answering_number = Some(leg.to.clone());
                let by_user = !self.request.outgoing && !leg.users.is_empty();
                self.answered(&mut leg, subscriptions, by_user);
                self.wait(self.request.hangup_after_ms);
                self.end(&leg, subscriptions, Ending { cause: "normalClearing", status: "PICKUP" });
            }
        }
    }

    /// The callee (or the voicemail) picked up: the leg is established, `answer` is pushed if asked for.
    fn answered(&mut self, leg: &mut Leg, subscriptions: &Subscriptions, by_user: bool) {
        leg.answered = Some(Instant::now());
        self.calls.book().live.push(Live { call_id: leg.call_id.clone(), from: leg.from.clone(), to: leg.to.clone() });
        let number = leg.answering_number.clone().unwrap_or_default();
        self.say(&leg.call_id, "state", format!("answered by {number}"), json!({}));
        let Some(url) = subscriptions.on_answer.clone() else { return };
        let by = if by_user { leg.users.first().cloned() } else { None };
        let pairs = leg.answer(by.as_deref());
        self.push(leg, &url, &pairs);
    }

    /// The leg ends: `hangup` if asked for, a history entry.
    fn end(&mut self, leg: &Leg, subscriptions: &Subscriptions, ending: Ending) {
        self.calls.book().live.retain(|live| live.call_id != leg.call_id);
        self.say(&leg.call_id, "state", format!("hangup: {}", ending.cause), json!({}));
        if let Some(url) = subscriptions.on_hangup.clone() {
            self.push(leg, &url, &leg.hangup(ending.cause));
        }
        let (entry, summary) = leg.ended(ending);
        self.calls.book().history(entry);
        self.legs.push(summary);
    }

    /// Sends one push, records it in the timeline and the log; a push without answer is a problem.
    fn push(&mut self, leg: &Leg, url: &str, pairs: &Fields) -> Exchange {
        let event = pairs.first().map(|(_, value)| value.clone()).unwrap_or_default();
        let body = push::form(pairs);
        self.pushes += 1;
        self.say(
            &leg.call_id,
            "push",
            format!("→ POST {url} {event}"),
            json!({"event": event, "url": url, "body": body}),
        );
        let exchange = push::send(&self.agent, &self.calls.signer, url, body);
        self.record(leg, &event, &exchange);
        exchange
    }

    /// Sends a push whose answer sipgate reads (`newCall`, `dtmf`) and reads it.
    fn push_and_read(&mut self, leg: &Leg, url: &str, pairs: &Fields) -> Option<Instructions> {
        let mut exchange = self.push(leg, url, pairs);
        let read = push::instructions(&mut exchange, self.request.outgoing);
        let event = pairs.first().map(|(_, value)| value.clone()).unwrap_or_default();
        self.log(&exchange);
        match read {
            Ok(None) => {
                self.say(&leg.call_id, "answer", "empty answer: no instructions, normal routing".to_owned(), json!({}));
                None
            }
            Ok(Some(read)) => {
                for warning in &read.warnings {
                    self.say(&leg.call_id, "warning", format!("warning: {warning}"), json!({}));
                }
                let mut parts = Vec::new();
                if let Some(url) = &read.on_answer {
                    parts.push(format!("onAnswer {url}"));
                }
                if let Some(url) = &read.on_hangup {
                    parts.push(format!("onHangup {url}"));
                }
                parts.extend(read.actions.iter().map(Action::describe));
                let said = if parts.is_empty() { "<Response/>: no instructions".to_owned() } else { parts.join("; ") };
                self.say(&leg.call_id, "instructions", said, json!({}));
                Some(read)
            }
            Err(error) => {
                let failed = exchange.failure.is_none();
                if failed {
                    self.problem(
                        &leg.call_id,
                        format!(
                            "{event} answer rejected as sipgate would: {error}; the call goes on with normal routing"
                        ),
                    );
                }
                None
            }
        }
    }

    /// The timeline lines of an exchange; a push without an answer is a problem. (`push_and_read`
    /// logs after reading; other pushes are logged here.)
    fn record(&mut self, leg: &Leg, event: &str, exchange: &Exchange) {
        match (&exchange.failure, exchange.http_status) {
            (Some(failure), _) => {
                let text =
                    format!("{event} push to {} failed ({}): {failure}; no retry", exchange.url, exchange.status);
                self.problem(&leg.call_id, text);
            }
            (None, Some(status)) => {
                let kind = exchange.content_type.as_deref().unwrap_or("no content type");
                let text = format!("← {status} {kind}, {} bytes, {} ms", exchange.body.len(), exchange.millis);
                self.say(
                    &leg.call_id,
                    "reply",
                    text,
                    json!({"status": status, "body": String::from_utf8_lossy(&exchange.body)}),
                );
            }
            (None, None) => {}
        }
        if event == "answer" || event == "hangup" {
            self.log(exchange);
        }
    }

    fn log(&self, exchange: &Exchange) {
        let entry = push::log_entry(exchange, &now_iso());
        self.calls.book().log(entry);
    }

    /// Fetches a sound and checks it as sipgate needs it; says loudly when sipgate would not play it.
    fn play(&mut self, leg: &Leg, url: &str) {
        let verdict = wav::fetch(&self.agent, url);
        match verdict {
            Ok(seconds) => {
                // Tenths by integer arithmetic: one float format would cost the binary its float printer.
                let tenths = (seconds * 10.0).round() as u64;
                self.say(
                    &leg.call_id,
                    "play",
                    format!("Play {url}: WAV PCM 16 bit mono 8 kHz, {}.{} s", tenths / 10, tenths % 10),
                    json!({}),
                );
            }
            Err(problem) => {
                let text = format!(
                    "WARNING: sipgate would NOT play {url} ({problem}) and would say nothing about it; \
                     announcements must be WAV, PCM 16 bit, mono, 8 kHz"
                );
                self.say(&leg.call_id, "warning", text.clone(), json!({}));
                let entry = json!({
                    "created": now_iso(),
                    "url": url,
                    "request": format!("GET {url}"),
                    "response": "",
                    "xmlError": text,
                    "status": "",
                });
                self.calls.book().log(entry);
            }
        }
    }
}
