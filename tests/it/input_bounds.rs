//! Hostile input from outside, bounded: pasted lines that are no text, too long or endless; token answers
//! whose tokens could inject a header line or terminal escapes; device answers whose timing would outlast
//! the code; `--paginate` against pages that never advance.

use std::io::Write;

use crate::common::*;

fn paste_bytes(run: &mut Running, bytes: &[u8]) {
    let stdin = run.child.stdin.as_mut().expect("stdin is piped");
    stdin.write_all(bytes).unwrap();
    stdin.flush().unwrap();
}

#[test]
fn a_pasted_line_that_is_no_text_or_too_long_gets_help_and_another_chance() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn_with_stdin(&env_for(&server), &["--no-browser", "login"]);
    let callback = approve(&run.authorization_url());
    paste_bytes(&mut run, b"http://localhost/oauth?code=\xff\xfe\n");
    run.line(|line| line.contains("That did not work") && line.contains("not text"));
    let mut long = vec![b'a'; 20 * 1024];
    long.push(b'\n');
    paste_bytes(&mut run, &long);
    run.line(|line| line.contains("That did not work") && line.contains("longer than 16 KiB"));
    paste_bytes(&mut run, format!("{callback}\n").as_bytes());
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "the address after the bad lines signs in: {}", done.stderr);
    assert!(done.stderr.contains("Signed in"), "{}", done.stderr);
}

/// `cat /dev/zero | sipgate-oauth login`: paste mode reads a bounded amount, says so, and the sign-in in
/// the browser still completes; the process never holds more than a few MiB.
#[cfg(target_os = "linux")]
#[test]
fn endless_pasted_input_is_cut_off_and_the_browser_still_completes() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut command = sandbox.command(&env_for(&server), &["--no-browser", "login"]);
    command.stdin(std::fs::File::open("/dev/zero").unwrap());
    let mut run = sandbox.start(command);
    let url = run.authorization_url();
    run.line(|line| line.contains("That did not work") && line.contains("no more is read"));
    let status = std::fs::read_to_string(format!("/proc/{}/status", run.child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    assert!(peak_kib < 64 * 1024, "paste mode held {peak_kib} KiB");
    assert_eq!(browse(&url).0, 200);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

/// A device endpoint asking for polls 100000 s apart for a code that lives 2 s: the wait ends as the code
/// expires, not a day later.
#[test]
fn a_device_interval_longer_than_the_code_ends_with_the_code() {
    let server = mock();
    let crafted = Server::start(|n| {
        let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
        let (status, body) = match n {
            0 => (
                200,
                r#"{"device_code":"D-1","user_code":"WXYZ-1234","verification_uri":"http://127.0.0.1:1/device",
                   "expires_in":2,"interval":100000}"#,
            ),
            _ => (400, r#"{"error":"authorization_pending"}"#),
        };
        tiny_http::Response::from_string(body).with_status_code(status).with_header(json).boxed()
    });
    let env = with(env_for(&server), "DEVICE_AUTH_URL", &crafted.url("/device"));
    let env = with(env, "TOKEN_URL", &crafted.url("/token"));
    let sandbox = Sandbox::new();
    let started = std::time::Instant::now();
    let mut run = sandbox.spawn(&env, &["login", "--device"]);
    run.line(|line| line.contains("expired after 2 s"));
    let done = run.finish();
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "waited {:?}", started.elapsed());
    assert_eq!(crafted.hits(), 2, "one device request, one poll as the code expired");
}

/// Token endpoints whose tokens hold a line break, an escape or non-ASCII: refused at sign-in and at
/// refresh, the value never shown, nothing kept that `token --header` could print.
#[test]
fn tokens_that_are_no_tokens_are_refused_without_showing_them() {
    let server = mock();
    let bodies = [
        r#"{"access_token":"AT-EVIL\r\nX-Injected: yes","token_type":"bearer","refresh_token":"RT-1"}"#,
        r#"{"access_token":"AT-EVIL\u001b]0;pwned\u0007","token_type":"bearer"}"#,
        r#"{"access_token":"AT-GOOD","token_type":"bearer","refresh_token":"RT-EVIL\u00e9\n"}"#,
    ];
    for body in bodies {
        let crafted = Server::start(move |_| {
            let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
            tiny_http::Response::from_string(body).with_header(json).boxed()
        });
        let env = with(env_for(&server), "TOKEN_URL", &crafted.url("/token"));
        let sandbox = Sandbox::new();
        let mut run = sandbox.spawn(&env, &["login", "--no-browser"]);
        browse(&run.authorization_url());
        let done = run.finish();
        assert_eq!(done.code(), Some(1), "{body}: {}", done.stderr);
        assert!(done.stderr.contains("RFC 67") && done.stderr.contains("TOKEN_URL"), "{}", done.stderr);
        assert!(!done.stderr.contains("EVIL") && !done.stderr.contains('\u{1b}'), "{:?}", done.stderr);
        assert!(!sandbox.store().join("profiles/default.json").exists(), "nothing is kept");
    }

    // At refresh: a good sign-in, then a refresh answer with an injected header line.
    let crafted = Server::start(|n| {
        let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
        let body = match n {
            0 => r#"{"access_token":"AT-1","token_type":"bearer","refresh_token":"RT-1","expires_in":300}"#,
            _ => r#"{"access_token":"AT-EVIL\nX-Injected: yes","token_type":"bearer","expires_in":300}"#,
        };
        tiny_http::Response::from_string(body).with_header(json).boxed()
    });
    let env = with(env_for(&server), "TOKEN_URL", &crafted.url("/token"));
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env, &["login", "--no-browser"]);
    browse(&run.authorization_url());
    assert_eq!(run.finish().code(), Some(0));
    expire_kept_access_token(&sandbox.store());
    let header = sandbox.run(&env, &["token", "--header"]);
    assert_eq!(header.code(), Some(1), "{}", header.stderr);
    assert!(header.stdout.is_empty() && !header.stderr.contains("EVIL"), "{header:?}");
    assert!(header.stderr.contains("RFC 6750"), "{}", header.stderr);
}

/// `--paginate` against lists that never end: the same page again, or new items for ever below a
/// `totalCount` never reached. It stops, prints what came, says why, exits 1.
#[test]
fn paginate_stops_on_pages_that_do_not_advance_or_never_end() {
    let server = mock();
    let same =
        Server::start(|_| tiny_http::Response::from_string(r#"{"items":[{"id":1}],"totalCount":1000000}"#).boxed());
    let endless = Server::start(|n| {
        tiny_http::Response::from_string(format!(r#"{{"items":[{{"id":{n}}}],"totalCount":18446744073709551615}}"#))
            .boxed()
    });
    let cases = [(&same, "repeats an earlier page", 2, 1), (&endless, "1000 pages", 1000, 1000)];
    for (api, reason, requests, items) in cases {
        let env = with(env_for(&server), "API_BASE_URL", &api.url("/v2"));
        let sandbox = Sandbox::new();
        let mut run = sandbox.spawn(&env, &["login", "--no-browser"]);
        browse(&run.authorization_url());
        assert_eq!(run.finish().code(), Some(0));
        let done = sandbox.run(&env, &["api", "--paginate", "/history"]);
        assert_eq!(done.code(), Some(1), "{}", done.stderr);
        assert!(done.stderr.contains("--paginate stopped") && done.stderr.contains(reason), "{}", done.stderr);
        assert_eq!(api.hits(), requests);
        let printed = done.json_documents();
        assert_eq!(printed[0].as_array().map(Vec::len), Some(items), "what came is printed");
    }
}

/// The stand-in's request log shows a hostile method and path with its escapes defused.
#[test]
fn the_stand_in_log_defuses_terminal_escapes() {
    use std::io::Read;
    let (sink, lines) = std::sync::mpsc::channel();
    let config = sipgate_oauth::mock::MockConfig { log: true, ..sipgate_oauth::mock::MockConfig::default() };
    let server =
        sipgate_oauth::mock::MockServer::start_with_events(config, "127.0.0.1:0".parse().unwrap(), sink).unwrap();
    let addr = server.base_url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.write_all(b"G\x1b[2JET /v2/\x1b]0;pwned\x07x\x08 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let line = loop {
        match lines.recv_timeout(PATIENCE).expect("a log line") {
            sipgate_oauth::mock::MockEvent::Request(line) => break line,
            _ => continue,
        }
    };
    assert!(line.contains("pwned"), "{line:?}");
    assert!(!line.chars().any(char::is_control), "{line:?}");
    server.shutdown();
}
