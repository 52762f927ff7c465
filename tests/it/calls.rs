//! Simulated calls (`mock call`) against a plain receiver of our own: every answer element, each failure
//! rule, wrong sound files, forward legs, hidden callers, the REST state, and the signature.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use sipgate_oauth::internals::query;
use sipgate_oauth::mock::{MockConfig, WebhookConfig};

use crate::common::stand::{self, Stand};
use crate::common::{PATIENCE, Sandbox};

/// One push as the receiver saw it.
#[derive(Debug, Clone)]
struct Push {
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Push {
    fn fields(&self) -> Vec<(String, String)> {
        query::decode(&self.body).unwrap()
    }

    fn field(&self, key: &str) -> Option<String> {
        self.fields().into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.fields().into_iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect()
    }

    fn event(&self) -> String {
        self.field("event").unwrap_or_default()
    }
}

/// What the receiver answers to a push.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    /// Waits this long before answering (a slow app); the test's channel, not a sleep, ends the wait
    /// early when the test is done.
    delay: Duration,
}

fn xml(body: &str) -> Reply {
    Reply { status: 200, content_type: "application/xml", body: body.to_owned(), delay: Duration::ZERO }
}

type Script = dyn Fn(&Push, &str) -> Reply + Send + Sync;

/// A plain HTTP receiver on 127.0.0.1:0 that records every request and answers by `script`.
struct Receiver_ {
    url: String,
    pushes: Receiver<Push>,
    /// Ends every delayed answer (or, sent once, the one waiting).
    release: Sender<()>,
}

/// `script` gets each push and the receiver's own URL (to subscribe with).
fn receiver(script: impl Fn(&Push, &str) -> Reply + Send + Sync + 'static) -> Receiver_ {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sender, pushes) = mpsc::channel();
    let (stop, stopped) = mpsc::channel::<()>();
    let stopped = Arc::new(Mutex::new(stopped));
    let script: Arc<Script> = Arc::new(script);
    let url_for_script = url.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let (sender, script, stopped) = (sender.clone(), Arc::clone(&script), Arc::clone(&stopped));
            let me = url_for_script.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
                let mut headers = HashMap::new();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    let header = header.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    let (name, value) = header.split_once(':').unwrap();
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                }
                let length: usize = headers.get("content-length").map_or(0, |v| v.parse().unwrap());
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let push = Push { path, headers, body: String::from_utf8(body).unwrap() };
                let reply = script(&push, &me);
                let _ = sender.send(push);
                if !reply.delay.is_zero() {
                    let _ = stopped.lock().unwrap().recv_timeout(reply.delay);
                }
                let head = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.status,
                    reply.content_type,
                    reply.body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(reply.body.as_bytes()));
            });
        }
    });
    Receiver_ { url, pushes, release: stop }
}

impl Receiver_ {
    /// Every push received so far (the call has ended, so all have arrived).
    fn seen(&self) -> Vec<Push> {
        self.pushes.try_iter().collect()
    }
}

fn stand_in(url: Option<&str>, timeout: Duration) -> Stand {
    let webhooks = WebhookConfig { url: url.map(str::to_owned), timeout, key_pem: None };
    stand::start(MockConfig { auto_approve: true, webhooks, ..MockConfig::default() })
}

/// Runs `mock call --json` with `args` against the stand-in: exit code, the JSON document, stderr.
fn call(stand: &Stand, args: &[&str]) -> (Option<i32>, Value, String) {
    let base = stand.server.base_url();
    let mut all = vec!["mock", "call", "--base", base.as_str(), "--json", "--answer-after", "0", "--hangup-after", "0"];
    all.extend_from_slice(args);
    let finished = Sandbox::new().run(&[], &all);
    let document = finished.json_documents().pop().unwrap_or_else(|| panic!("no JSON: {finished:?}"));
    (finished.code(), document, finished.stderr)
}

fn timeline(document: &Value) -> String {
    let events = document["events"].as_array().unwrap();
    events.iter().map(|e| e["text"].as_str().unwrap()).collect::<Vec<_>>().join("\n")
}

fn events(pushes: &[Push]) -> Vec<String> {
    pushes.iter().map(Push::event).collect()
}

/// The stand-in's public key, as ring needs it (the PKCS#1 key inside the served SubjectPublicKeyInfo).
fn verifies(stand: &Stand, push: &Push) -> bool {
    let pem = stand.get(&format!("{}/_stand-in/webhook-public-key", stand.server.base_url())).body;
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let spki = base64::engine::general_purpose::STANDARD.decode(base64).unwrap();
    // SEQUENCE(4) AlgorithmIdentifier(15) BIT STRING header(4) + unused-bits byte(1) for a 2048-bit key.
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, &spki[24..]);
    let signature = push.headers.get("x-sipgate-signature").expect("a signature header");
    let signature = base64::engine::general_purpose::STANDARD.decode(signature).unwrap();
    key.verify(push.body.as_bytes(), &signature).is_ok()
}

#[test]
fn gather_then_forward_pushes_every_event_as_sipgate_does_and_signs_them() {
    let stand = stand_in(None, Duration::from_secs(10));
    let sounds = format!("{}/_stand-in/sounds", stand.server.base_url());
    let app = receiver(move |push, me| match push.event().as_str() {
        "newCall" if push.field("diversion").is_none() => xml(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response onAnswer=\"{me}/answer\" onHangup=\"{me}/hangup\">\
             <Play><Url>{sounds}/silence.wav</Url></Play>\
             <Gather onData=\"{me}/dtmf\" maxDigits=\"3\" timeout=\"60000\"><Play><Url>{sounds}/silence.wav</Url></Play></Gather>\
             </Response>"
        )),
        "dtmf" => xml(
            "<Response><Dial callerId=\"4921100000009\"><Number>4915799912345</Number><Number>4921100000001</Number></Dial></Response>",
        ),
        "newCall" => xml(&format!("<Response onAnswer=\"{me}/answer\" onHangup=\"{me}/hangup\"/>")),
        _ => xml(""),
    });
    set_urls(&stand, &format!("{}/new", app.url), "");

    let (code, document, stderr) = call(
        &stand,
        &["--from", "492111234567", "--to", "4915791234567", "--user", "w0", "--user", "w1", "--press", "123"],
    );
    assert_eq!(code, Some(0), "{stderr}\n{}", timeline(&document));
    let pushes = app.seen();
    assert_eq!(events(&pushes), ["newCall", "dtmf", "hangup", "newCall", "answer", "hangup"], "{pushes:#?}");
    let first = &pushes[0];
    assert_eq!(first.path, "/new");
    assert_eq!(first.headers["content-type"], "application/x-www-form-urlencoded; charset=UTF-8");
    assert_eq!(first.headers["user-agent"], "sipgate.io");
    assert!(first.body.starts_with("event=newCall&direction=in&callId="), "{}", first.body);
    assert!(
        first.body.contains("&user%5B%5D=Alice+Doe&user%5B%5D=Bob+Roe&userId%5B%5D=w0&userId%5B%5D=w1&"),
        "{}",
        first.body
    );
    assert_eq!(first.all("fullUserId[]"), ["1234567w0", "1234567w1"]);
    assert_eq!(
        (first.field("from").unwrap(), first.field("to").unwrap()),
        ("492111234567".into(), "4915791234567".into())
    );
    let leg1 = first.field("callId").unwrap();
    assert_eq!(first.field("origCallId").unwrap(), leg1);
    assert_eq!(pushes[1].path, "/dtmf");
    assert_eq!(
        pushes[1].fields(),
        [("event".into(), "dtmf".into()), ("callId".into(), leg1.clone()), ("dtmf".into(), "123".into())]
    );
    assert_eq!((pushes[2].path.as_str(), pushes[2].field("cause").unwrap().as_str()), ("/hangup", "forwarded"));
    let second = &pushes[3];
    let leg2 = second.field("callId").unwrap();
    assert_ne!(leg2, leg1);
    assert_eq!(second.field("origCallId").unwrap(), leg1);
    assert_eq!(second.field("diversion").unwrap(), "4915791234567");
    assert_eq!(second.field("from").unwrap(), "4921100000009", "callerId is the number shown");
    assert_eq!(second.field("to").unwrap(), "4915799912345");
    assert_eq!(pushes[4].field("answeringNumber").unwrap(), "4915799912345");
    assert_eq!(pushes[4].field("callId").unwrap(), leg2);
    assert_eq!(pushes[5].field("cause").unwrap(), "normalClearing");
    for push in &pushes {
        assert!(verifies(&stand, push), "{push:?}");
    }
    let mut forged = pushes[0].clone();
    forged.body = forged.body.replace("492111234567", "492111234568");
    assert!(!verifies(&stand, &forged));

    let said = timeline(&document);
    assert!(said.contains("Play http") && said.contains("WAV PCM 16 bit mono 8 kHz, 1.0 s"), "{said}");
    assert!(said.contains("caller presses 123"), "{said}");
    assert!(said.contains(&format!("new leg {leg2} (origCallId {leg1})")), "{said}");
    assert_eq!(document["ok"], true);
    let legs = document["legs"].as_array().unwrap();
    assert_eq!(legs.len(), 2);
    assert_eq!((legs[0]["status"].as_str(), legs[1]["status"].as_str()), (Some("FORWARD"), Some("PICKUP")));
}

/// `PUT /settings/sipgateio` as an app would, with a token of the right scope.
fn set_urls(stand: &Stand, incoming: &str, outgoing: &str) {
    let token = stand::token_field(&stand.tokens("settings:sipgateio:write"), "access_token");
    let body = serde_json::json!({"incomingUrl": incoming, "outgoingUrl": outgoing, "log": true});
    let url = format!("{}/v2/settings/sipgateio", stand.server.base_url());
    let answer = stand::read(
        stand
            .agent
            .put(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes()),
    );
    assert!(answer.status < 300, "{answer:?}");
}

fn get_with(stand: &Stand, path: &str, scope: &str) -> stand::Answer {
    let token = stand::token_field(&stand.tokens(scope), "access_token");
    stand.get_bearer(path, &token)
}

fn answering(status: u16, content_type: &'static str, body: &str, delay: Duration) -> Reply {
    Reply { status, content_type, body: body.to_owned(), delay }
}

#[test]
fn reject_hangup_voicemail_busy_and_no_answer_end_with_their_causes() {
    let stand = stand_in(None, Duration::from_secs(10));
    let app = receiver(|push, me| {
        let subscribe = format!("onAnswer=\"{me}/answer\" onHangup=\"{me}/hangup\"");
        match (push.event().as_str(), push.field("to").unwrap_or_default().as_str()) {
            ("newCall", "491001") => xml(&format!("<Response {subscribe}><Reject reason=\"busy\"/></Response>")),
            ("newCall", "491002") => xml(&format!("<Response {subscribe}><Reject/></Response>")),
            ("newCall", "491003") => xml(&format!("<Response {subscribe}><Hangup/></Response>")),
            ("newCall", "491004") => xml(&format!("<Response {subscribe}><Dial><Voicemail/></Dial></Response>")),
            ("newCall", _) => xml(&format!("<Response {subscribe}/>")),
            _ => xml(""),
        }
    });
    set_urls(&stand, &app.url, "");
    for (to, extra, expected, cause) in [
        ("491001", None, vec!["newCall", "hangup"], "busy"),
        ("491002", None, vec!["newCall", "hangup"], "noAnswer"),
        ("491003", None, vec!["newCall", "hangup"], "normalClearing"),
        ("491004", None, vec!["newCall", "answer", "hangup"], "normalClearing"),
        ("491005", Some("--busy"), vec!["newCall", "hangup"], "busy"),
        ("491006", Some("--no-answer"), vec!["newCall", "hangup"], "cancel"),
        ("491007", None, vec!["newCall", "answer", "hangup"], "normalClearing"),
    ] {
        let mut args = vec!["--from", "492111234567", "--to", to];
        args.extend(extra);
        if extra == Some("--busy") || extra == Some("--no-answer") {
            // --answer-after and these exclude each other: run without the helper's default.
            let base = stand.server.base_url();
            let mut all = vec!["mock", "call", "--base", base.as_str(), "--json", "--hangup-after", "0"];
            all.extend_from_slice(&args);
            let finished = Sandbox::new().run(&[], &all);
            assert_eq!(finished.code(), Some(0), "{finished:?}");
        } else {
            let (code, document, stderr) = call(&stand, &args);
            assert_eq!(code, Some(0), "{to}: {stderr} {}", timeline(&document));
        }
        let pushes = app.seen();
        assert_eq!(events(&pushes), expected, "{to}: {pushes:#?}");
        assert_eq!(pushes.last().unwrap().field("cause").unwrap(), cause, "{to}");
        if expected.contains(&"answer") {
            let answer = &pushes[1];
            let by_user = to == "491007";
            assert_eq!(answer.field("userId").is_some(), by_user, "{to}: the voicemail is no user: {answer:?}");
            if by_user {
                assert_eq!(answer.field("user").unwrap(), "Alice Doe");
                assert_eq!(answer.field("fullUserId").unwrap(), "1234567w0");
                assert!(answer.all("user[]").is_empty(), "scalar user in answer");
            }
            assert_eq!(answer.field("answeringNumber").unwrap(), to);
        }
    }
}

#[test]
fn failures_go_on_with_normal_routing_are_logged_like_sipgate_and_never_retried() {
    // Only `/slow` may run into the time limit; the limit leaves the other answers room on a loaded
    // machine (at 300 ms, one of them timed out now and then).
    let stand = stand_in(None, Duration::from_secs(2));
    let app = receiver(|push, _| match push.path.as_str() {
        "/slow" => answering(200, "application/xml", "<Response><Hangup/></Response>", PATIENCE),
        "/html" => answering(200, "text/html", "<Response><Hangup/></Response>", Duration::ZERO),
        "/broken" => xml("<Response><Hangup></Response>"),
        "/unknown" => xml("<Response><Say>hello</Say></Response>"),
        "/error" => answering(500, "application/xml", "<Response><Hangup/></Response>", Duration::ZERO),
        _ => xml(""),
    });
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for (url, reason, status, xml_error) in [
        (format!("{}/slow", app.url), "timed out", "600", "timed out"),
        (closed.clone(), "connection refused", "600", "connection refused"),
        (format!("{}/html", app.url), "content type", "200", "Response does not have content type application/xml"),
        (format!("{}/broken", app.url), "does not close <Hangup>", "200", "does not close"),
        (format!("{}/unknown", app.url), "unknown element <Say>", "200", "unknown element"),
        (format!("{}/error", app.url), "HTTP status 500", "500", "HTTP status 500"),
    ] {
        set_urls(&stand, &url, "");
        let (code, document, stderr) = call(&stand, &["--from", "492111234567", "--to", "4915791234567"]);
        assert_eq!(code, Some(1), "{url}: {}", timeline(&document));
        assert!(stderr.contains(reason), "{url}: {stderr}");
        let said = timeline(&document);
        assert!(said.contains("normal routing: ringing w0") && said.contains("answered by 4915791234567"), "{said}");
        let _ = app.release.send(());
        let log = get_with(&stand, "/v2/log/webhooks", "log:webhooks:read").json();
        let entry = &log["items"][0];
        assert_eq!(entry["url"], url.as_str());
        assert_eq!(entry["status"], status, "{entry}");
        assert!(entry["xmlError"].as_str().unwrap().contains(xml_error), "{entry}");
        assert!(entry["request"].as_str().unwrap().starts_with("event=newCall&direction=in&"), "{entry}");
    }
    // One push per call, whatever went wrong: no retries.
    let paths: Vec<String> = app.seen().into_iter().map(|push| push.path).collect();
    assert_eq!(paths, ["/slow", "/html", "/broken", "/unknown", "/error"]);
}

#[test]
fn a_sound_sipgate_would_not_play_is_a_loud_warning_not_a_failure() {
    let stand = stand_in(None, Duration::from_secs(10));
    let sounds = format!("{}/_stand-in/sounds", stand.server.base_url());
    let app = receiver(move |_, _| {
        xml(&format!(
            "<Response><Play><Url>{sounds}/cd-quality.wav</Url></Play><Play><Url>{sounds}/missing.wav</Url></Play></Response>"
        ))
    });
    set_urls(&stand, &app.url, "");
    let (code, document, _) = call(&stand, &["--from", "492111234567", "--to", "4915791234567"]);
    assert_eq!(code, Some(0));
    let said = timeline(&document);
    assert!(said.contains("WARNING: sipgate would NOT play") && said.contains("44100 Hz instead of 8000"), "{said}");
    assert!(said.contains("missing.wav (HTTP status 404)"), "{said}");
    let log = get_with(&stand, "/v2/log/webhooks", "log:webhooks:read").json();
    let warnings: Vec<&Value> =
        log["items"].as_array().unwrap().iter().filter(|e| e["url"].as_str().unwrap().ends_with(".wav")).collect();
    assert_eq!(warnings.len(), 2, "{log}");
    assert!(warnings[1]["xmlError"].as_str().unwrap().contains("2 channels instead of mono"), "{log}");
}

#[test]
fn hidden_callers_are_anonymous_and_outgoing_calls_go_to_the_outgoing_url() {
    let stand = stand_in(None, Duration::from_secs(10));
    let app = receiver(|push, me| match (push.event().as_str(), push.path.as_str()) {
        ("newCall", "/in") if push.field("diversion").is_none() => {
            xml("<Response><Dial anonymous=\"true\"><Number>4915799912345</Number></Dial></Response>")
        }
        ("newCall", _) => xml(&format!("<Response onAnswer=\"{me}/answer\"/>")),
        _ => xml(""),
    });
    set_urls(&stand, &format!("{}/in", app.url), &format!("{}/out", app.url));
    let (code, _, _) = call(&stand, &["--from", "anonymous", "--to", "4921100000000"]);
    assert_eq!(code, Some(0));
    let pushes = app.seen();
    assert_eq!(pushes[0].field("from").unwrap(), "anonymous");
    assert_eq!(pushes[1].field("from").unwrap(), "anonymous", "the forwarded leg hides the number too");
    assert_eq!(pushes[1].field("diversion").unwrap(), "4921100000000");

    let (code, _, _) = call(
        &stand,
        &["--direction", "out", "--user", "w1", "--user", "w0", "--from", "4921100000000", "--to", "+4915799912345"],
    );
    assert_eq!(code, Some(0));
    let pushes = app.seen();
    assert_eq!(events(&pushes), ["newCall", "answer"]);
    assert_eq!(pushes[0].path, "/out");
    assert_eq!(pushes[0].field("direction").unwrap(), "out");
    assert_eq!(pushes[0].field("to").unwrap(), "4915799912345", "no + on the wire");
    assert_eq!(pushes[0].all("userId[]"), ["w1"], "an outgoing call has one user: the caller");
    assert_eq!(pushes[1].field("userId"), None, "answer names a user only for incoming calls");
    let history = get_with(&stand, "/v2/history", "history:read").json();
    let calls: Vec<&Value> = history["items"].as_array().unwrap().iter().filter(|e| e["callId"].is_string()).collect();
    assert_eq!(calls[0]["direction"], "OUTGOING");
    assert_eq!(calls.last().unwrap()["source"], "anonymous");
    assert_eq!(calls.last().unwrap()["status"], "FORWARD");
}

#[test]
fn nothing_pressed_leaves_dtmf_out_unless_asked_for_empty() {
    let stand = stand_in(None, Duration::from_secs(10));
    let app = receiver(|push, me| match push.event().as_str() {
        "newCall" => xml(&format!("<Response><Gather onData=\"{me}/dtmf\" maxDigits=\"2\" timeout=\"0\"/></Response>")),
        _ => xml(""),
    });
    set_urls(&stand, &app.url, "");
    for (extra, expected) in [
        (vec![], None),
        (vec!["--empty-dtmf"], Some(String::new())),
        (vec!["--press", "7"], Some("7".to_owned())),
        (vec!["--press", "0815"], Some("08".to_owned())),
    ] {
        let mut args = vec!["--from", "492111234567", "--to", "4915791234567"];
        args.extend(extra.iter().copied());
        let (code, _, _) = call(&stand, &args);
        assert_eq!(code, Some(0));
        let dtmf = app.seen().into_iter().find(|push| push.event() == "dtmf").unwrap();
        assert_eq!(dtmf.field("dtmf"), expected, "{extra:?}: {}", dtmf.body);
    }
}

#[test]
fn a_running_call_is_in_calls_and_an_ended_one_in_history_and_the_log_all_scope_checked() {
    let stand = stand_in(None, Duration::from_secs(60));
    let app = receiver(|push, me| match push.event().as_str() {
        "newCall" => xml(&format!("<Response onAnswer=\"{me}/answer\" onHangup=\"{me}/hangup\"/>")),
        "answer" => answering(200, "application/xml", "", PATIENCE),
        _ => xml(""),
    });
    set_urls(&stand, &app.url, "");
    let settings = get_with(&stand, "/v2/settings/sipgateio", "settings:sipgateio:read").json();
    assert_eq!(settings["incomingUrl"], app.url.as_str());
    let base = stand.server.base_url();
    let running = Sandbox::new().spawn(
        &[],
        &[
            "mock",
            "call",
            "--base",
            &base,
            "--from",
            "492111234567",
            "--to",
            "4915791234567",
            "--answer-after",
            "0",
            "--hangup-after",
            "0",
        ],
    );
    let new_call = app.pushes.recv_timeout(PATIENCE).unwrap();
    let answer = app.pushes.recv_timeout(PATIENCE).unwrap();
    assert_eq!(answer.event(), "answer");
    let call_id = new_call.field("callId").unwrap();
    let live = get_with(&stand, "/v2/calls", "rtcm:read").json();
    assert_eq!(live["data"][0]["callId"], call_id.as_str(), "{live}");
    assert_eq!(live["data"][0]["participants"][0]["phoneNumber"], "+492111234567");
    assert_eq!(get_with(&stand, "/v2/calls", "history:read").status, 403);
    app.release.send(()).unwrap();
    let finished = running.finish();
    assert_eq!(finished.code(), Some(0), "{finished:?}");
    assert!(
        finished.stdout.contains("→ POST") && finished.stdout.contains("hangup: normalClearing"),
        "{}",
        finished.stdout
    );
    assert_eq!(get_with(&stand, "/v2/calls", "rtcm:read").json()["data"], serde_json::json!([]));
    let history = get_with(&stand, "/v2/history", "history:read").json();
    let entry = &history["items"][0];
    assert_eq!(entry["callId"], call_id.as_str());
    assert_eq!((entry["direction"].as_str(), entry["status"].as_str()), (Some("INCOMING"), Some("PICKUP")));
    assert_eq!(entry["targetAlias"], "Alice Doe");
    assert!(entry["duration"].is_u64());
    assert_eq!(get_with(&stand, "/v2/history", "account:read").status, 403);
    let log = get_with(&stand, "/v2/log/webhooks", "log:webhooks:read").json();
    let requests: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["request"].as_str().unwrap()).collect();
    assert!(requests[0].starts_with("event=hangup&cause=normalClearing&callId="), "{requests:?}");
    assert!(requests[1].starts_with("event=answer&callId="), "{requests:?}");
    assert!(requests[2].starts_with("event=newCall&"), "{requests:?}");
    assert_eq!(get_with(&stand, "/v2/log/webhooks", "history:read").status, 403);
}

#[test]
fn the_admin_api_and_the_command_say_what_is_wrong() {
    let stand = stand_in(None, Duration::from_secs(10));
    let base = stand.server.base_url();
    let plain = stand.post_raw(&format!("{base}/_stand-in/calls"), "text/plain", b"{}");
    assert_eq!(plain.status, 400);
    assert!(plain.body.contains("application/json"), "{}", plain.body);
    assert_eq!(stand.get(&format!("{base}/_stand-in/calls/nope")).status, 404);
    let finished = Sandbox::new().run(&[], &["mock", "call", "--base", &base, "--to", "49"]);
    assert_eq!(finished.code(), Some(2));
    assert!(finished.stderr.contains("needs --from"), "{}", finished.stderr);
    let finished = Sandbox::new().run(&[], &["mock", "call", "--base", &base, "--from", "49 11", "--to", "49"]);
    assert!(finished.stderr.contains("from must be digits"), "{}", finished.stderr);
    // No URL set: the call runs, nothing is pushed, and the timeline says why.
    let (code, document, _) = call(&stand, &["--from", "492111234567", "--to", "4915791234567"]);
    assert_eq!(code, Some(0));
    assert!(timeline(&document).contains("no incomingUrl set"), "{}", timeline(&document));
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let finished = Sandbox::new().run(&[], &["mock", "call", "--base", &closed, "--from", "49", "--to", "49"]);
    assert_eq!(finished.code(), Some(1));
    assert!(finished.stderr.contains("is `sipgate-oauth mock` running?"), "{}", finished.stderr);
}

#[test]
fn a_long_poll_waits_for_the_next_event_and_the_stand_in_keeps_serving_meanwhile() {
    let stand = stand_in(None, Duration::from_secs(60));
    let app = receiver(|_, _| answering(200, "application/xml", "", PATIENCE));
    set_urls(&stand, &app.url, "");
    let base = stand.server.base_url();
    let started = stand::read(
        stand
            .agent
            .post(format!("{base}/_stand-in/calls"))
            .header("Content-Type", "application/json")
            .send(br#"{"from": "492111234567", "to": "4915791234567", "answerAfterMs": 0, "hangupAfterMs": 0}"#),
    );
    assert_eq!(started.status, 201, "{started:?}");
    let id = started.json()["callId"].as_str().unwrap().to_owned();
    // The app holds the newCall push: the timeline stands still until it is released.
    app.pushes.recv_timeout(PATIENCE).unwrap();
    let now = stand.get(&format!("{base}/_stand-in/calls/{id}")).json();
    let next = now["next"].as_u64().unwrap();
    let (sender, polled) = mpsc::channel();
    let poll_url = format!("{base}/_stand-in/calls/{id}?after={next}&wait=5000");
    let agent = stand.agent.clone();
    std::thread::spawn(move || sender.send(stand::read(agent.get(&poll_url).call())).unwrap());
    // While that request waits, others are answered.
    for _ in 0..5 {
        assert_eq!(stand.get(&format!("{base}/_stand-in/calls")).status, 200);
        assert_eq!(stand.get(&format!("{base}/v2/account")).status, 401);
    }
    assert!(polled.try_recv().is_err(), "the long poll answered before anything happened");
    app.release.send(()).unwrap();
    let answer = polled.recv_timeout(PATIENCE).unwrap().json();
    let events = answer["events"].as_array().unwrap();
    assert!(!events.is_empty(), "{answer}");
    assert!(events[0]["text"].as_str().unwrap().starts_with("← 200"), "{answer}");
}
