//! What a new user meets in the first hour (issue 23): a broken `.env` caught at once, …

use crate::common::{Sandbox, env_for, mock, mock_with};

#[test]
fn a_env_copied_from_a_table_stops_at_once_naming_file_line_and_key() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut text = String::new();
    for (key, value) in env_for(&server) {
        text.push_str(&format!("{key}=\"{value}\",\n"));
    }
    std::fs::write(sandbox.dir.path().join(".env"), text).unwrap();
    let run = sandbox.run(&[], &["login", "--no-browser", "--timeout", "5"]);
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains(".env: line 1 (AUTH_URL): a comma follows the closing quote"), "{}", run.stderr);
    assert!(!run.stderr.contains("demo-secret") && !run.stderr.contains("http://"), "{}", run.stderr);
}

#[test]
fn a_misspelt_setting_is_a_warning_and_the_run_goes_on() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut text: String = env_for(&server).iter().map(|(key, value)| format!("{key}={value}\n")).collect();
    text.push_str("CLIENT_SECERT=oops\n");
    std::fs::write(sandbox.dir.path().join(".env"), text).unwrap();
    let run = sandbox.run(&[], &["token"]);
    assert!(
        run.stderr.contains(
            ".env line 8: CLIENT_SECERT is no setting of sipgate-oauth (ignored) — did you mean CLIENT_SECRET?"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_stand_ins_pages_send_cache_control_once() {
    let server = mock_with(|config| config.auto_approve = false);
    let url = format!(
        "{}/auth/realms/third-party/protocol/openid-connect/auth?client_id=sipgate-oauth-demo&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Foauth&scope=account%3Aread&state=s",
        server.base_url()
    );
    let (status, body, headers) = crate::common::get(&url);
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers.get_all("cache-control").iter().count(), 1, "{headers:?}");
    assert!(body.contains("not sipgate") && body.contains("back to <code>http://127.0.0.1:5/oauth</code>"), "{body}");
}

#[test]
fn login_via_http_signs_in_at_a_stand_in_without_a_browser_and_never_elsewhere() {
    let server = mock();
    let sandbox = Sandbox::new();
    let done = sandbox.run(&env_for(&server), &["login", "--via-http", "--profile", "ci"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("Signed in"), "{}", done.stderr);
    let token = sandbox.run(&env_for(&server), &["token", "--profile", "ci"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);

    let asking = mock_with(|config| config.auto_approve = false);
    let done = sandbox.run(&env_for(&asking), &["login", "--via-http", "--timeout", "60"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(done.stderr.contains("start it with --auto-approve"), "{}", done.stderr);

    let real = crate::common::with(
        env_for(&server),
        "AUTH_URL",
        "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth",
    );
    let done = sandbox.run(&real, &["login", "--via-http"]);
    assert_eq!(done.code(), Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("only at a stand-in on a loopback address"), "{}", done.stderr);
}

#[test]
fn mock_in_the_background_returns_once_it_answers_and_names_its_process() {
    let sandbox = Sandbox::new();
    let started = sandbox.run(&[], &["mock", "--port", "0", "--auto-approve", "--quiet", "--background"]);
    assert_eq!(started.code(), Some(0), "{}", started.stderr);
    let line = |key: &str| {
        let prefix = format!("{key}=");
        started.stdout.lines().find_map(|line| line.strip_prefix(&prefix).map(str::to_owned)).expect(key)
    };
    let pid = line("SIPGATE_MOCK_PID");
    // No waiting: it answers by the time the command has returned.
    let (status, body, _) = crate::common::get(&line("TEST_API_ENDPOINT"));
    assert_eq!(status, 401, "{body}");
    assert!(started.stderr.contains(&format!("stop it with: kill {pid}")), "{}", started.stderr);
    let env_file = sandbox.dir.path().join("mock.env");
    std::fs::write(&env_file, &started.stdout).unwrap();
    let env = [("REDIRECT_URI", "http://127.0.0.1:0/oauth".to_owned())];
    let login = sandbox.run(&env, &["--env-file", env_file.to_str().unwrap(), "login", "--via-http"]);
    let killed = std::process::Command::new("kill").arg(&pid).status().unwrap();
    assert_eq!(login.code(), Some(0), "{}", login.stderr);
    assert!(killed.success());

    let slip = sandbox.run(&[], &["mock", "--auto-aprove"]);
    assert_eq!(slip.code(), Some(2));
    assert!(slip.stderr.contains("did you mean --auto-approve?"), "{}", slip.stderr);
}
