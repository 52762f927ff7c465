//! `BROWSER` as a command line (Python's webbrowser and git conventions): arguments, `%s` for the URL,
//! a `:`-separated list tried in turn, no shell; a program that cannot start is named. The real binary
//! against the stand-in, the "browser" being a script that records the arguments it got.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

/// A script named `name` that writes its arguments, each ended by NUL, into a FIFO; and the receiver
/// of what it wrote (the FIFO is read on a thread, so the test waits on a channel).
fn recording_browser(sandbox: &Sandbox, name: &str) -> (std::path::PathBuf, std::sync::mpsc::Receiver<String>) {
    let fifo = sandbox.dir.path().join("argv.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", fifo.display());
    let script = sandbox.dir.path().join(name);
    let body = format!("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{}'\n", fifo.display());
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (sender, handed) = std::sync::mpsc::channel();
    std::thread::spawn(move || sender.send(std::fs::read_to_string(fifo).expect("the FIFO is readable")));
    (script, handed)
}

#[test]
fn browser_with_arguments_and_percent_s_after_a_missing_one_gets_the_start_address_as_one_argument() {
    let server = mock();
    let sandbox = Sandbox::new();
    let (script, handed) = recording_browser(&sandbox, "my browser");
    let list = format!("no-such-browser-sipgate-oauth --new-window:'{}' --new-window \"--url=%s\"", script.display());
    let mut run = sandbox.spawn(&with(env_for(&server), "BROWSER", &list), &["login"]);
    let url = run.authorization_url();
    let opened = run.line(|line| line.starts_with("(opened with"));
    assert_eq!(opened, format!("(opened with {})", script.display()));
    let argv = handed.recv_timeout(PATIENCE).expect("the second candidate was started");
    let argv: Vec<&str> = argv.split_terminator('\0').collect();
    assert_eq!(argv.len(), 2, "{argv:?}");
    assert_eq!(argv[0], "--new-window");
    let start = argv[1].strip_prefix("--url=").unwrap_or_else(|| panic!("{argv:?}"));
    let (status, _, headers) = get(start);
    assert_eq!(status, 302, "{start} is the start address");
    assert_eq!(headers.get("location").and_then(|v| v.to_str().ok()), Some(url.as_str()));
    let (status, page) = browse(&url);
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(!done.stderr.contains("could not open a browser"), "{}", done.stderr);
}

/// `login` with `BROWSER=browser`: the warning it printed, once the sign-in went on without a browser.
fn warning_for(browser: &str) -> String {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&with(env_for(&server), "BROWSER", browser), &["login"]);
    let url = run.authorization_url();
    let warning = run.line(|line| line.starts_with("warning: could not open a browser"));
    let (status, page) = browse(&url);
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    warning
}

#[test]
fn a_browser_that_cannot_start_is_named_and_the_sign_in_goes_on() {
    let warning = warning_for("no-such-browser-sipgate-oauth --new-window");
    let named =
        "warning: could not open a browser (BROWSER program \"no-such-browser-sipgate-oauth\" could not be started: ";
    assert!(warning.starts_with(named) && warning.ends_with("); open the URL above yourself"), "{warning}");
}

#[test]
fn an_unclosed_quote_in_browser_is_named_and_the_sign_in_goes_on() {
    let warning = warning_for("'firefox --new-window");
    let named = "BROWSER entry \"'firefox --new-window\" is not a command line: a ' quote is not closed";
    assert!(warning.contains(named), "{warning}");
}
