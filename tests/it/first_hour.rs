//! What a new user meets in the first hour (issue 23): a broken `.env` caught at once, …

use crate::common::{Sandbox, env_for, mock};

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
