//! The proxy at its edges: a redirect to another host goes back to the client and the token stays
//! home; slow clients hold up nobody else; Ctrl-C through `exec` ends the child and the proxy with it.

#[cfg(unix)]
use std::io::{BufRead, BufReader};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use std::time::Duration;

use crate::common::*;
#[cfg(unix)]
use crate::proxy::login;
use crate::proxy::{login_with, signed_in_proxy, start_proxy_with};

#[test]
fn a_redirect_to_another_host_is_passed_back_and_the_token_goes_nowhere() {
    let server = mock();
    let foreign = TcpListener::bind("127.0.0.1:0").expect("a port for the foreign host");
    foreign.set_nonblocking(true).unwrap();
    let elsewhere = format!("http://{}/collect?from=proxy", foreign.local_addr().unwrap());
    let moved = elsewhere.clone();
    let upstream = Server::start(move |_| {
        let location = tiny_http::Header::from_bytes("Location", moved.as_bytes()).unwrap();
        tiny_http::Response::empty(302).with_header(location).boxed()
    });
    let env = with(env_for(&server), "API_BASE_URL", &upstream.url("/v2"));
    let sandbox = Sandbox::new();
    login_with(&sandbox, &env);
    let (mut proxy, base) = start_proxy_with(&sandbox, &env);

    let answer = agent().get(&format!("{base}/account")).call().expect("the proxy answers");
    assert_eq!(answer.status(), 302, "the redirect comes back to the client");
    assert_eq!(answer.headers()["location"], elsewhere.as_str(), "pointing where upstream said, untouched");
    assert_eq!(upstream.hits(), 1, "upstream was asked once");
    match foreign.accept() {
        Err(error) if error.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the proxy connected to the foreign host: {other:?}"),
    }

    let _ = proxy.child.kill();
    let done = proxy.finish();
    let kept = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).unwrap();
    let kept: serde_json::Value = serde_json::from_str(&kept).unwrap();
    let token = kept["access_token"].as_str().unwrap();
    let shown: String = answer.headers().iter().map(|(name, value)| format!("{name}: {value:?}\n")).collect();
    assert!(!shown.contains(token), "no token in the answer's headers: {shown}");
    assert!(!done.stderr.contains(token) && !done.stdout.contains(token));
}

/// Reads from `stream` until `wanted` has come (or the connection ends); what came.
fn read_until(stream: &mut TcpStream, wanted: &str) -> String {
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains(wanted) {
        match stream.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            other => panic!("{wanted:?} never came ({other:?}); got {:?}", String::from_utf8_lossy(&seen)),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn slow_clients_hold_up_nobody_else() {
    let (server, _sandbox, mut proxy, base) = signed_in_proxy();
    let before = server.requests();
    let url: http::Uri = base.parse().unwrap();
    let (authority, path) = (url.authority().unwrap().to_string(), url.path().to_owned());

    // One client stops in the middle of its request head.
    let mut half_head = TcpStream::connect(&authority).unwrap();
    write!(half_head, "GET {path}/account HTTP/1.1\r\nHost: {authority}\r\nAcc").unwrap();
    // More clients than the proxy keeps threads waiting stop in the middle of their body, each while
    // the proxy reads it: the `100 Continue` says a thread of the proxy has taken the request.
    let slow_bodies: Vec<TcpStream> = (0..12)
        .map(|_| {
            let mut slow = TcpStream::connect(&authority).unwrap();
            write!(
                slow,
                "POST {path}/sessions/sms HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n"
            )
            .unwrap();
            assert!(read_until(&mut slow, "\r\n\r\n").starts_with("HTTP/1.1 100 Continue\r\n"));
            slow.write_all(br#"{"smsId":"#).unwrap();
            slow
        })
        .collect();
    // One client asks for the account and reads nothing of the answer.
    let mut not_reading = TcpStream::connect(&authority).unwrap();
    write!(not_reading, "GET {path}/account HTTP/1.1\r\nHost: {authority}\r\n\r\n").unwrap();

    let (status, body, _) = get(&format!("{base}/account"));
    assert_eq!((status, body.contains("verified")), (200, true), "a fast client is answered: {body}");
    assert!(read_until(&mut not_reading, "\r\n\r\n").starts_with("HTTP/1.1 200 "), "and the one that reads late");

    // The slow ones are answered once they end (their bodies cut short: 400 from the proxy, nothing sent).
    for mut slow in slow_bodies {
        slow.shutdown(std::net::Shutdown::Write).unwrap();
        let answer = read_until(&mut slow, "\r\n\r\n");
        assert!(answer.contains("HTTP/1.1 400 "), "{answer}");
    }
    assert_eq!(server.requests() - before, 2, "the two whole requests reached upstream, no cut-short body");
    drop(half_head);
    let _ = proxy.child.kill();
    let done = proxy.finish();
    assert!(done.stderr.contains("GET /v2/account 200 "), "{}", done.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_request_head_from_another_local_user_is_cut_off() {
    let (_server, _sandbox, mut proxy, base) = signed_in_proxy();
    let authority = base.parse::<http::Uri>().unwrap().authority().unwrap().to_string();
    // Anyone on the machine can reach the port; this one knows no secret path and never ends a line.
    let mut endless = TcpStream::connect(&authority).unwrap();
    endless.write_all(b"GET /").unwrap();
    let filler = vec![b'a'; 1024 * 1024];
    for _ in 0..64 {
        endless.write_all(&filler).expect("the proxy reads on and drops it");
    }
    let answer = read_until(&mut endless, "\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");

    let status = std::fs::read_to_string(format!("/proc/{}/status", proxy.child.id())).unwrap();
    let peak: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches(" kB").parse().ok())
        .unwrap();
    assert!(peak < 32 * 1024, "the proxy's memory peaked at {peak} KiB after 64 MiB without a line end");
    assert_eq!(get(&format!("{base}/account")).0, 200, "and it goes on serving");
    let _ = proxy.child.kill();
    proxy.finish();
}

/// Runs `exec -- sh -c 'setup; echo ready …; script'` in a process group of its own; waits for the
/// child's `ready` line and the proxy address it printed, sends SIGINT to the whole group as a terminal's
/// Ctrl-C does, and returns exec's exit code and the proxy's address. (A trap goes in `setup`: set
/// before `ready`, it is there when the signal comes.)
#[cfg(unix)]
fn ctrl_c_through_exec(setup: &str, script: &str) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let script = format!("{setup}\necho \"ready $SIPGATE_API_BASE_URL\"\n{script}");
    let mut command = sandbox.command(&env_for(&server), &["exec", "--", "sh", "-c", &script]);
    command.process_group(0);
    let mut exec = command.spawn().expect("exec starts");
    let mut stdout = BufReader::new(exec.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("ready ").unwrap_or_else(|| panic!("{line:?}")).to_owned();
    let authority = base.parse::<http::Uri>().unwrap().authority().unwrap().to_string();
    assert_eq!(get(&format!("{base}/account")).0, 200, "the proxy serves the child");
    let group = format!("-{}", exec.id());
    let kill = std::process::Command::new("kill").args(["-INT", "--", &group]).status().unwrap();
    assert!(kill.success());
    let status = exec.wait().unwrap();
    (status.code(), authority)
}

#[cfg(unix)]
#[test]
fn ctrl_c_reaches_the_child_through_exec_and_ends_the_proxy_with_it() {
    // The child dies of the signal: exec exits 128 + 2, as a shell does.
    let (code, proxy) = ctrl_c_through_exec("", "sleep 60");
    assert_eq!(code, Some(130));
    let refused = TcpStream::connect_timeout(&proxy.parse().unwrap(), Duration::from_secs(5));
    assert!(refused.is_err(), "no proxy left behind");

    // The child handles Ctrl-C itself and exits 3: exec waited for it and exits 3.
    let (code, proxy) = ctrl_c_through_exec("trap 'kill $!; exit 3' INT", "sleep 60 &\nwait");
    assert_eq!(code, Some(3));
    let refused = TcpStream::connect_timeout(&proxy.parse().unwrap(), Duration::from_secs(5));
    assert!(refused.is_err(), "no proxy left behind");
}
