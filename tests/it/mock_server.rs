//! The stand-in's server under hostile or careless clients, as a user of `sipgate-oauth mock` sees it:
//! clients that announce a body and never send it, a listener that runs out of file descriptors, bodies
//! and headers beyond the caps. Each test runs the real binary on 127.0.0.1 with a free port and talks
//! raw HTTP/1.1 to it over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// Longest a test waits for an answer, a line or an exit before it fails (it waits on a socket or a
/// channel, never sleeps).
const PATIENCE: Duration = Duration::from_secs(20);

const DISCOVERY: &str = "/auth/realms/third-party/.well-known/openid-configuration";
const TOKEN: &str = "/auth/realms/third-party/protocol/openid-connect/token";

/// `sipgate-oauth mock --port 0 --quiet`, optionally under `prlimit` with an open-files limit.
struct Stand {
    pid: u32,
    addr: SocketAddr,
    stderr: Receiver<String>,
    /// The exit status, from the thread that waits for the process.
    exit: Receiver<ExitStatus>,
}

impl Stand {
    fn start(nofile: Option<&str>) -> Stand {
        let binary = env!("CARGO_BIN_EXE_sipgate-oauth");
        let mut command = match nofile {
            Some(limit) => {
                let mut command = Command::new("prlimit");
                command.arg(format!("--nofile={limit}")).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        let dir = tempfile::tempdir().expect("a temp dir");
        command
            .args(["mock", "--port", "0", "--quiet"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the binary starts (prlimit is in util-linux)");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (lines_out, stdout_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_out.send(line);
            }
        });
        let (lines_err, stderr_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines_err.send(line);
            }
        });
        // The first line on stdout is `AUTH_URL=http://127.0.0.1:PORT/…`.
        let first = stdout_lines.recv_timeout(PATIENCE).expect("the stand-in prints its .env lines");
        let url = first.strip_prefix("AUTH_URL=http://").expect("AUTH_URL first");
        let addr = url.split('/').next().and_then(|host| host.parse().ok()).expect("an address in AUTH_URL");
        let pid = child.id();
        let (exited, exit) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = exited.send(status);
            }
        });
        Stand { pid, addr, stderr: stderr_lines, exit }
    }

    /// Waits for the process to end; `None` if it is still running after [`PATIENCE`].
    fn wait_for_exit(&self) -> Option<ExitStatus> {
        self.exit.recv_timeout(PATIENCE).ok()
    }

    /// Everything it has written to stderr so far.
    fn stderr(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    /// Everything it wrote to stderr, once it has ended: the reader gives the last lines after the exit
    /// is seen, so this waits for the pipe to close.
    fn stderr_to_end(&self) -> String {
        let mut lines = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(PATIENCE) {
            lines.push(line);
        }
        lines.join("\n")
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("the stand-in accepts");
        stream.set_read_timeout(Some(PATIENCE)).expect("a read timeout");
        stream
    }

    /// A GET of the discovery document on a fresh connection: the status line and the headers.
    fn discovery_status(&self) -> String {
        let mut stream = self.connect();
        let request = format!("GET {DISCOVERY} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        stream.write_all(request.as_bytes()).expect("the request is sent");
        answer_head(&mut stream)
    }
}

impl Drop for Stand {
    fn drop(&mut self) {
        // Still running (the waiting thread has not reported an exit): end it, by its id.
        if self.exit.try_recv().is_err() {
            let _ = Command::new("kill").arg(self.pid.to_string()).status();
        }
    }
}

/// Reads an answer's head (status line and headers) from `stream`; what was read if it ends early or
/// the deadline passes.
fn answer_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

#[test]
fn fifty_clients_that_announce_a_body_and_never_send_it_do_not_stop_the_stand_in() {
    let stand = Stand::start(None);
    let mut silent = Vec::new();
    for n in 1..=50 {
        // `Expect: 100-continue`: the stand-in says when it starts reading the body, which never comes.
        let mut stream = stand.connect();
        let request = format!(
            "POST {TOKEN} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 4000\r\nExpect: 100-continue\r\n\r\n",
            stand.addr
        );
        stream.write_all(request.as_bytes()).expect("the head is sent");
        let interim = answer_head(&mut stream);
        // Today's fixed pool of 8 threads stopped taking requests at the 9th.
        assert!(interim.starts_with("HTTP/1.1 100 "), "body {n} is not being read: {interim:?}");
        silent.push(stream);
        let head = stand.discovery_status();
        assert!(head.starts_with("HTTP/1.1 200 "), "no answer with {n} bodies pending: {head:?}");
    }
}

#[test]
fn the_stand_in_exits_non_zero_with_a_message_when_its_listener_dies() {
    // Soft and hard limit 16: after a handful of connections (tiny_http takes two descriptors for each)
    // `accept` fails with EMFILE, which ends tiny_http's accept loop for good.
    let stand = Stand::start(Some("16:16"));
    let mut open = Vec::new();
    for _ in 0..40 {
        match TcpStream::connect(stand.addr) {
            Ok(stream) => open.push(stream),
            // Refused: the process has gone.
            Err(_) => break,
        }
    }
    let Some(status) = stand.wait_for_exit() else {
        panic!("still running after {} connections:\n{}", open.len(), stand.stderr());
    };
    assert_eq!(status.code(), Some(1), "{status}");
    let stderr = stand.stderr_to_end();
    assert!(stderr.contains("the stand-in stopped taking connections"), "{stderr}");
    // From the stand-in's message, or from tiny_http's accept thread where it panicked.
    assert!(stderr.contains("Too many open files"), "{stderr}");
    drop(open);
}

#[test]
fn connections_beyond_the_soft_open_files_limit_are_answered() {
    // A soft limit of 32 would end the accept loop after about 14 connections; the stand-in raises it to
    // the hard limit at start.
    let stand = Stand::start(Some("32:4096"));
    let mut open = Vec::new();
    for n in 0..60 {
        let mut stream = stand.connect();
        let request = format!("GET {DISCOVERY} HTTP/1.1\r\nHost: {}\r\n\r\n", stand.addr);
        stream.write_all(request.as_bytes()).expect("the request is sent");
        let head = answer_head(&mut stream);
        assert!(head.starts_with("HTTP/1.1 200 "), "connection {n}: {head:?}\n{}", stand.stderr());
        // Read the body so the connection could be reused; keep it open.
        open.push(stream);
    }
}

#[test]
fn a_body_claimed_beyond_the_cap_is_answered_413_at_once() {
    let stand = Stand::start(None);
    // 100 MiB announced, nothing sent: the answer must not wait for the body.
    let mut stream = stand.connect();
    let request = format!(
        "POST {TOKEN} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 104857600\r\n\r\n",
        stand.addr
    );
    stream.write_all(request.as_bytes()).expect("the head is sent");
    let head = answer_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 413 "), "{head:?}");

    // A chunked body that grows past the cap.
    let mut stream = stand.connect();
    let chunk = "a".repeat(8192);
    let mut request = format!(
        "POST {TOKEN} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        stand.addr
    );
    for _ in 0..10 {
        request.push_str(&format!("2000\r\n{chunk}\r\n"));
    }
    request.push_str("0\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let head = answer_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 413 "), "{head:?}");

    assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "));
}

#[test]
fn a_huge_header_is_answered_431_with_connection_close() {
    let stand = Stand::start(None);
    let mut stream = stand.connect();
    let filler = "a".repeat(1024 * 1024);
    let request = format!("GET {DISCOVERY} HTTP/1.1\r\nHost: {}\r\nX-Filler: {filler}\r\n\r\n", stand.addr);
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let head = answer_head(&mut stream);
    assert!(head.starts_with("HTTP/1.1 431 "), "{:?}", head.lines().next());
    assert!(head.to_ascii_lowercase().contains("\r\nconnection: close\r\n"), "{head:?}");

    assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "));
}

/// How many descriptors and threads process `pid` has open (Linux: `/proc/PID/fd`, `/proc/PID/task`).
#[cfg(target_os = "linux")]
fn descriptors_and_threads(pid: u32) -> (usize, usize) {
    let count = |what: &str| std::fs::read_dir(format!("/proc/{pid}/{what}")).map_or(0, Iterator::count);
    (count("fd"), count("task"))
}

#[cfg(target_os = "linux")]
#[test]
fn a_flood_of_huge_body_claims_leaks_no_descriptor() {
    // Soft and hard limit 256, so the stand-in cannot raise it; each connection takes two descriptors.
    const LIMIT: usize = 256;
    let stand = Stand::start(Some(&format!("{LIMIT}:{LIMIT}")));
    assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "));
    let (baseline, _) = descriptors_and_threads(stand.pid);

    // Three times as many clients as descriptors: each claims a body far beyond what could be allocated
    // (4 GB, u64::MAX, a chunk of u64::MAX bytes), sends a few bytes of it and goes away.
    let heads = ["Content-Length: 4000000000\r\n", "Content-Length: 18446744073709551615\r\n"];
    for n in 0..3 * LIMIT {
        let mut stream = stand.connect();
        let chunked = n % 3 == 2;
        let framing = if chunked { "Transfer-Encoding: chunked\r\n" } else { heads[n % 3] };
        let request = format!(
            "POST {TOKEN} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n{framing}\r\n{}",
            stand.addr,
            if chunked { "ffffffffffffffff\r\ngrant_type=" } else { "grant_type=" },
        );
        stream.write_all(request.as_bytes()).expect("the request is sent");
        if chunked {
            // The body ends where the client stops sending: the stand-in reads what came and answers.
            stream.shutdown(std::net::Shutdown::Write).expect("half-close");
        }
        let head = answer_head(&mut stream);
        let expected = if chunked { "HTTP/1.1 400 " } else { "HTTP/1.1 413 " };
        assert!(head.starts_with(expected), "client {n}: {head:?}\n{}", stand.stderr());
    }
    assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "), "{}", stand.stderr());

    // A connection's descriptors are closed once its thread has seen the client go, which may come just
    // after the client's answer: each round trip below gives those threads time, and no round needs more.
    let mut now = descriptors_and_threads(stand.pid);
    for _ in 0..200 {
        if now.0 <= baseline + 8 {
            break;
        }
        assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "));
        now = descriptors_and_threads(stand.pid);
    }
    let (descriptors, threads) = now;
    assert!(descriptors <= baseline + 8, "{descriptors} descriptors open, {baseline} before the flood");
    // tiny_http keeps idle connection threads a few seconds; one per client would be hundreds.
    assert!(threads < 32, "{threads} threads after the flood");
}

/// The stand-in's peak resident memory in KiB (Linux: `VmHWM` in `/proc/PID/status`).
#[cfg(target_os = "linux")]
fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).expect("a VmHWM line");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmHWM in kB")
}

#[cfg(target_os = "linux")]
#[test]
fn endless_request_lines_and_chunk_sizes_are_cut_off_and_memory_stays_bounded() {
    const SENT: usize = 64 * 1024 * 1024;
    let stand = Stand::start(None);
    let filler = vec![b'f'; 1024 * 1024];
    // A request line that never ends; then a chunked body whose first chunk-size line never ends.
    let openings = [
        format!("GET {DISCOVERY}?"),
        format!("POST {TOKEN} HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n", stand.addr),
    ];
    for (opening, expected) in openings.iter().zip(["HTTP/1.1 431 ", "HTTP/1.1 400 "]) {
        let mut stream = stand.connect();
        stream.write_all(opening.as_bytes()).expect("the opening is sent");
        // The stand-in answers after what it reads at most and drops the rest: every write goes through.
        for _ in 0..SENT / filler.len() {
            stream.write_all(&filler).expect("the stand-in keeps reading");
        }
        let head = answer_head(&mut stream);
        assert!(head.starts_with(expected), "{head:?}\n{}", stand.stderr());
    }
    let peak = peak_memory_kib(stand.pid);
    assert!(peak < 32 * 1024, "the stand-in's memory peaked at {peak} KiB after 2 × 64 MiB without a line end");
    assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "), "{}", stand.stderr());
}

#[test]
fn a_head_cut_off_after_a_bare_line_feed_closes_the_connection() {
    let stand = Stand::start(None);
    for cut in ["GET / HTTP/1.1\n", "GET / HTTP/1.1\r\nHost: x\n", "GET / HTTP/1.1\r\nHost: x\r"] {
        let mut stream = stand.connect();
        stream.write_all(cut.as_bytes()).expect("the head is sent");
        stream.shutdown(std::net::Shutdown::Write).expect("half-close");
        // The stand-in sees the end and closes its side: the read ends (and does not wait for PATIENCE).
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(read.is_ok(), "{cut:?}: the connection was not closed ({read:?})");
    }
    assert!(stand.discovery_status().starts_with("HTTP/1.1 200 "), "{}", stand.stderr());
}
