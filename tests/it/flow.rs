//! The example's flow, end to end: the real binary against the in-repo stand-in on 127.0.0.1:0, with
//! the test playing the browser.

use std::net::TcpListener;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use crate::common::*;

#[test]
fn happy_path_prints_the_account_twice_and_no_secret() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser"]);
    let url = run.authorization_url();
    let params = query_of(&url);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert_eq!(params["state"].len(), 32);
    assert!(!url.contains("demo-secret") && !url.contains("client_secret"));

    let callback = approve(&url);
    let code = query_of(&callback)["code"].clone();
    let (status, page, headers) = get(&callback);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Sign-in completed: the profile default is signed in with the scopes account:read"),
        "{page}"
    );
    assert_eq!(page.matches("close this tab").count(), 1, "{page}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let documents = done.json_documents();
    assert_eq!(documents.len(), 2, "{}", done.stdout);
    for account in &documents {
        assert_eq!(account["mainProductType"], "BASIC");
        assert_eq!(account["verified"], true);
    }
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sandbox.store().join("profiles").join("default.json")).unwrap())
            .unwrap();
    let tokens = [kept["access_token"].as_str().unwrap(), kept["refresh_token"].as_str().unwrap()];
    for stream in [&done.stdout, &done.stderr] {
        assert!(!has_jwt_like(stream), "a token leaked:\n{stream}");
        assert!(!tokens.iter().any(|token| stream.contains(token)), "a token leaked:\n{stream}");
        assert!(!stream.contains("demo-secret"), "the client secret leaked:\n{stream}");
        assert!(!stream.contains(&code), "the code leaked:\n{stream}");
    }
    let account = sandbox.run(&env_for(&server), &["account"]);
    assert_eq!(account.code(), Some(0), "the newest tokens are kept: {}", account.stderr);
}

#[test]
fn demo_runs_offline_without_an_env_file() {
    let done = Sandbox::new().run(&[], &["demo"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert_eq!(done.json_documents().len(), 2, "{}", done.stdout);
    assert!(!has_jwt_like(&done.stdout) && !has_jwt_like(&done.stderr), "{}", done.stderr);
}

#[test]
fn a_wrong_state_is_turned_away_and_the_right_callback_still_completes() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser"]);
    let url = run.authorization_url();
    let callback = approve(&url);
    let state = query_of(&callback)["state"].clone();

    let forged = callback.replace(&format!("state={state}"), "state=0123456789abcdef0123456789abcdef");
    let (status, page, _) = get(&forged);
    assert_eq!(status, 400);
    assert!(page.contains("does not match the state of this sign-in"), "{page}");
    assert!(page.contains("restarted") && page.contains("refreshed"), "{page}");
    assert!(page.contains("Still waiting for the sign-in") && !page.contains("Sign-in failed"), "{page}");
    run.line(|line| line.contains("state does not match"));

    let (status, _, _) = get(&callback.replace(&format!("state={state}"), ""));
    assert_eq!(status, 400, "a missing state is turned away too");

    assert_eq!(get(&callback).0, 200);
    assert_eq!(run.finish().code(), Some(0));
}

#[test]
fn favicon_and_other_paths_get_404_and_the_wait_goes_on() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser"]);
    let url = run.authorization_url();
    let callback = approve(&url);
    let origin = callback.split("/oauth").next().unwrap().to_owned();

    assert_eq!(get(&format!("{origin}/favicon.ico")).0, 404);
    assert_eq!(get(&format!("{origin}/")).0, 404);
    let post = agent().post(&callback).send("").unwrap();
    assert_eq!(post.status(), 405);

    assert_eq!(get(&callback).0, 200);
    assert_eq!(run.finish().code(), Some(0));
}

#[test]
fn access_denied_ends_the_run_with_the_servers_words() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser"]);
    let url = run.authorization_url();
    let params = query_of(&url);
    let denied = format!(
        "{}?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state={}&session_state=x",
        params["redirect_uri"], params["state"]
    );
    let (status, page, _) = get(&denied);
    assert_eq!(status, 400);
    assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"), "{page}");

    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("access_denied: <script>alert(1)</script>"), "{}", done.stderr);
    assert!(done.stderr.contains("cancelled or consent was denied"), "{}", done.stderr);
    assert!(done.stdout.is_empty());
}

#[test]
fn port_in_use_says_so() {
    let server = mock();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let env = with(env_for(&server), "REDIRECT_URI", &format!("http://127.0.0.1:{port}/oauth"));
    let done = Sandbox::new().run(&env, &["--no-browser"]);
    assert_eq!(done.code(), Some(1));
    assert!(
        done.stderr.contains(&format!("port {port} is already in use — is another sipgate-oauth running?")),
        "{}",
        done.stderr
    );
}

#[test]
fn port_differing_from_the_redirect_uri_is_a_configuration_error() {
    let server = mock();
    let env = with(with(env_for(&server), "REDIRECT_URI", "http://localhost:8080/oauth"), "PORT", "9090");
    let done = Sandbox::new().run(&env, &[]);
    assert_eq!(done.code(), Some(2));
    assert!(done.stderr.contains("PORT: is 9090 but REDIRECT_URI uses port 8080"), "{}", done.stderr);
}

#[test]
fn missing_client_id_points_to_the_console() {
    let server = mock();
    let env = with(env_for(&server), "CLIENT_ID", "");
    let done = Sandbox::new().run(&env, &[]);
    assert_eq!(done.code(), Some(2));
    assert!(done.stderr.contains("CLIENT_ID: is not set"), "{}", done.stderr);
    assert!(done.stderr.contains("console.sipgate.com"), "{}", done.stderr);
}

#[test]
fn the_python_examples_env_file_works_unchanged() {
    let server = mock();
    let sandbox = Sandbox::new();
    let lines: Vec<String> = env_for(&server).iter().map(|(k, v)| format!("{k}={v}")).collect();
    std::fs::write(sandbox.dir.path().join("example.env"), lines.join("\n") + "\nPORT=0\n").unwrap();
    let mut run = sandbox.spawn(&[], &["--env-file", "example.env", "--no-browser"]);
    let (status, _) = browse(&run.authorization_url());
    assert_eq!(status, 200);
    assert_eq!(run.finish().json_documents().len(), 2);
}

#[test]
fn wrong_client_secret_names_the_variables() {
    let server = mock();
    let env = with(env_for(&server), "CLIENT_SECRET", "not-the-secret");
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env, &["--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 400);
    assert!(page.contains("token exchange failed"), "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("unauthorized_client"), "{}", done.stderr);
    assert!(done.stderr.contains("check CLIENT_ID and CLIENT_SECRET"), "{}", done.stderr);
    assert!(!done.stderr.contains("not-the-secret"));
}

#[test]
fn unregistered_redirect_uri_times_out_with_the_hint() {
    let server = mock();
    let env = with(env_for(&server), "REDIRECT_URI", "http://127.0.0.1:0/not-registered");
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env, &["--no-browser", "--timeout", "1"]);
    let (status, page, _) = get(&run.authorization_url());
    assert_eq!(status, 400);
    assert!(page.contains("Invalid parameter: redirect_uri"), "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("no sign-in arrived within 1 s"), "{}", done.stderr);
    assert!(done.stderr.contains("\"Invalid parameter: redirect_uri\""), "{}", done.stderr);
}

#[test]
fn the_flow_runs_against_mock_started_by_hand() {
    let sandbox = Sandbox::new();
    let mut mock = sandbox.command(&[], &["mock", "--port", "0", "--auto-approve", "--quiet"]).spawn().unwrap();
    let stdout = std::io::BufReader::new(mock.stdout.take().unwrap());
    let mut env: Vec<(&'static str, String)> = Vec::new();
    for line in std::io::BufRead::lines(stdout).map_while(Result::ok) {
        let (key, value) = line.split_once('=').expect("the stand-in prints KEY=VALUE lines");
        let key = ["AUTH_URL", "TOKEN_URL", "TEST_API_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET", "OAUTH_SCOPE"]
            .into_iter()
            .find(|k| *k == key);
        match key {
            Some(key) => env.push((key, value.to_owned())),
            None => break, // REDIRECT_URI, the last line
        }
    }
    env.push(("REDIRECT_URI", "http://127.0.0.1:0/oauth".into()));
    let mut run = sandbox.spawn(&env, &["--no-browser"]);
    assert_eq!(browse(&run.authorization_url()).0, 200);
    let done = run.finish();
    mock.kill().unwrap();
    mock.wait().unwrap();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert_eq!(done.json_documents().len(), 2);
}

#[test]
#[cfg(unix)]
fn ctrl_c_ends_the_wait_and_closes_the_port() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--no-browser"]);
    let url = run.authorization_url();
    let callback = query_of(&url)["redirect_uri"].clone();
    assert_eq!(get(&format!("{callback}/elsewhere")).0, 404, "the callback server is up");

    let interrupted = std::process::Command::new("kill").args(["-INT", &run.child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let done = run.finish();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&done.status), Some(2), "ended by SIGINT");
    assert!(agent().get(&callback).call().is_err(), "the port is closed");
    assert!(done.stdout.is_empty());
    assert!(!sandbox.store().exists(), "nothing was kept");
}

/// `$BROWSER` gets a one-time loopback address, not the authorization URL (whose `state` would show in
/// the browser's command line); the address redirects once to the URL printed on stderr.
#[test]
#[cfg(unix)]
fn the_browser_gets_a_one_time_start_address_that_redirects_to_the_authorization_url() {
    let server = mock();
    let sandbox = Sandbox::new();
    let fifo = sandbox.dir.path().join("browser.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", fifo.display());
    let browser = sandbox.dir.path().join("browser");
    std::fs::write(&browser, format!("#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}'\n", fifo.display())).unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Opening the FIFO blocks until the browser opens it: read on a thread, wait on a channel.
    let (sender, handed) = std::sync::mpsc::channel();
    let reading = fifo.clone();
    std::thread::spawn(move || sender.send(std::fs::read_to_string(reading)));

    let env = with(env_for(&server), "BROWSER", &browser.to_string_lossy());
    let mut run = sandbox.spawn(&env, &[]);
    let url = run.authorization_url();
    let handed = handed.recv_timeout(PATIENCE).expect("the browser was started").expect("the FIFO is readable");
    let handed = handed.trim_end();
    let redirect_uri = query_of(&url)["redirect_uri"].clone();
    let origin = redirect_uri.strip_suffix("/oauth").expect("the redirect URI of env_for");
    let random = handed.strip_prefix(&format!("{origin}/start-")).unwrap_or_else(|| panic!("{handed} is on {origin}"));
    assert!(random.len() == 32 && random.bytes().all(|b| b.is_ascii_hexdigit()), "{handed}");
    assert!(!handed.contains("state="), "{handed}");

    let (status, _, headers) = get(handed);
    assert_eq!(status, 302, "the start address redirects");
    assert_eq!(headers.get("location").and_then(|v| v.to_str().ok()), Some(url.as_str()), "to the printed URL");
    let (status, _, _) = get(handed);
    assert_eq!(status, 404, "once");

    let (status, page) = browse(&url);
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert_eq!(done.json_documents().len(), 2, "{}", done.stdout);
}

/// The lowest port an unprivileged process may bind (`net.ipv4.ip_unprivileged_port_start`, 1024 unless
/// changed; containers often set 0). `None` where the file cannot be read.
#[cfg(unix)]
fn unprivileged_port_start() -> Option<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").ok()?.trim().parse().ok()
}

/// A port below the unprivileged ones as an unprivileged user: as root, the test drops to `nobody` with
/// `setpriv`, running a copy of the binary that `nobody` may execute. Where every port is free to bind
/// (the limit is 0 or 1), there is nothing to test.
#[test]
#[cfg(unix)]
fn a_privileged_port_without_privileges_says_so() {
    let Some(start) = unprivileged_port_start() else {
        eprintln!("note: skipped, /proc/sys/net/ipv4/ip_unprivileged_port_start is not readable");
        return;
    };
    let Some(port) = start.checked_sub(1).filter(|port| *port > 0).map(|port| port.min(81)) else {
        eprintln!("note: skipped, unprivileged ports start at {start} here: every port may be bound");
        return;
    };
    let server = mock();
    let env = with(env_for(&server), "REDIRECT_URI", &format!("http://127.0.0.1:{port}/oauth"));
    let is_root = std::process::Command::new("id").arg("-u").output().unwrap().stdout.starts_with(b"0\n");
    let sandbox = Sandbox::new();
    let shared = std::env::temp_dir().join(format!("sipgate-oauth-nobody-{}", std::process::id()));
    let mut command = if is_root {
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        let binary = shared.join("sipgate-oauth");
        std::fs::copy(env!("CARGO_BIN_EXE_sipgate-oauth"), &binary).unwrap();
        let mut command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(&binary).current_dir(&shared);
        command
    } else {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sipgate-oauth"));
        command.current_dir(sandbox.dir.path());
        command
    };
    command.env_clear().env("SIPGATE_OAUTH_STORE", "/nonexistent").arg("--no-browser");
    for (key, value) in &env {
        command.env(key, value);
    }
    // A copy just written can't be run while a child forked meanwhile by another test still holds it
    // open for writing (until that child's exec): "Text file busy" (from setpriv's exec, or ours) ends
    // once those children exec.
    let busy = |output: &std::io::Result<std::process::Output>| match output {
        Err(error) => error.kind() == std::io::ErrorKind::ExecutableFileBusy,
        Ok(output) => String::from_utf8_lossy(&output.stderr).contains("Text file busy"),
    };
    let output = (0..50).map(|_| command.output()).find(|output| !busy(output)).unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&shared);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("permission denied to listen on port {port} — ")), "{stderr}");
    assert!(stderr.contains("need privileges here (usually those below 1024); use a port above"), "{stderr}");
}

#[test]
fn fault_flags_reach_the_user_as_documented() {
    let cases = [
        (mock_with(|config| config.faults.token_503 = 1), "the token exchange failed with HTTP 503"),
        (mock_with(|config| config.faults.token_502 = 1), "the token exchange failed with HTTP 502: <"),
    ];
    for (server, expected) in cases {
        let sandbox = Sandbox::new();
        let mut run = sandbox.spawn(&env_for(&server), &["--no-browser"]);
        browse(&run.authorization_url());
        let done = run.finish();
        assert_eq!(done.code(), Some(1));
        assert!(done.stderr.contains(expected), "{}", done.stderr);
    }
}

#[test]
fn a_token_without_the_scope_is_told_apart_from_a_bad_token() {
    let server = mock();
    let env = with(env_for(&server), "OAUTH_SCOPE", "history:read");
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env, &["--no-browser"]);
    browse(&run.authorization_url());
    let done = run.finish();
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("refused the call (HTTP 403): the token lacks the scope it needs"), "{}", done.stderr);
    assert!(done.stderr.contains("(granted: history:read)"), "{}", done.stderr);
    assert!(done.stdout.is_empty());
}
