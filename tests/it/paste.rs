//! Signing in where the browser cannot reach the tool's port (SSH, containers): the user pastes the address
//! the browser ended on. The pasted address passes the callback's checks; the real callback still works.

use std::io::Write;

use crate::common::*;

/// An SSH session without a display, with a fake `xdg-open` on PATH that would leave a mark if called.
fn over_ssh(sandbox: &Sandbox, server: &sipgate_oauth::mock::MockServer) -> Vec<(&'static str, String)> {
    let bin = sandbox.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let opener = bin.join("xdg-open");
    std::fs::write(&opener, format!("#!/bin/sh\ntouch {}/opened\n", sandbox.dir.path().display())).unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    with(with(env_for(server), "SSH_CONNECTION", "10.1.2.3 50000 10.9.8.7 22"), "PATH", &path)
}

fn paste(run: &mut Running, line: &str) {
    let stdin = run.child.stdin.as_mut().expect("stdin is piped");
    stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
}

#[test]
fn over_ssh_no_browser_is_started_the_port_forward_is_shown_and_a_pasted_address_signs_in() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn_with_stdin(&over_ssh(&sandbox, &server), &["login"]);
    let url = run.authorization_url();
    let forward = run.line(|line| line.contains("ssh -L"));
    let port = query_of(&url)["redirect_uri"].rsplit(':').next().unwrap().trim_end_matches("/oauth").to_owned();
    assert_eq!(forward.trim(), format!("ssh -L {port}:localhost:{port} 10.9.8.7"));
    paste(&mut run, &approve(&url));
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("SSH session without a display"), "{}", done.stderr);
    assert!(done.stderr.contains("Signed in"), "{}", done.stderr);
    assert!(!sandbox.dir.path().join("opened").exists(), "no browser was started");
}

#[test]
fn a_bare_query_is_enough() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn_with_stdin(&env_for(&server), &["--no-browser", "login"]);
    let callback = approve(&run.authorization_url());
    let query = &callback[callback.find('?').unwrap()..];
    paste(&mut run, query);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

#[test]
fn garbage_and_a_wrong_state_get_help_and_another_chance() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn_with_stdin(&env_for(&server), &["--no-browser", "login"]);
    let callback = approve(&run.authorization_url());
    paste(&mut run, "hello, is this thing on?");
    run.line(|line| line.contains("That did not work") && line.contains("no code="));
    let state = &query_of(&callback)["state"];
    paste(&mut run, &callback.replace(state.as_str(), "0123456789abcdef0123456789abcdef"));
    run.line(|line| line.contains("state does not match"));
    paste(&mut run, &callback.replace("/oauth?", "/elsewhere?"));
    run.line(|line| line.contains("That did not work") && line.contains("REDIRECT_URI"));
    paste(&mut run, &callback);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

#[test]
fn a_pasted_error_is_reported_like_a_callback_error() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn_with_stdin(&env_for(&server), &["--no-browser", "login"]);
    let url = run.authorization_url();
    let state = &query_of(&url)["state"];
    paste(&mut run, &format!("http://127.0.0.1:1/oauth?error=access_denied&state={state}"));
    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("access_denied") && done.stderr.contains("cancelled"), "{}", done.stderr);
}

#[test]
fn end_of_input_keeps_waiting_for_the_real_callback() {
    let server = mock();
    let sandbox = Sandbox::new();
    // stdin is /dev/null: paste mode reads end of input at once.
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser", "login"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}
