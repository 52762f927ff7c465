//! Windows only (`.ci/platforms` runs these under Wine, with the store, session and profile tests): the
//! default store under `%LOCALAPPDATA%`, the browser's command line, the completion scripts of the
//! Windows build.

use crate::common::*;

/// With no `SIPGATE_OAUTH_STORE`, `login` keeps the profile under `%LOCALAPPDATA%\sipgate-oauth`, and
/// `token`, `status` and `logout` find it there.
#[test]
fn the_default_store_is_under_localappdata() {
    let server = mock();
    let sandbox = Sandbox::new();
    let local = sandbox.dir.path().join("Local");
    std::fs::create_dir(&local).unwrap();
    let env = with(with(env_for(&server), "SIPGATE_OAUTH_STORE", ""), "LOCALAPPDATA", &local.display().to_string());
    let mut run = sandbox.spawn(&env, &["login", "--no-browser"]);
    assert_eq!(browse(&run.authorization_url()).0, 200);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let kept = local.join("sipgate-oauth").join("profiles").join("default.json");
    assert!(kept.is_file(), "{} after {}", kept.display(), done.stderr);
    assert!(!sandbox.store().exists(), "nothing in the sandbox's own store");

    let token = sandbox.run(&env, &["token"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    assert!(!token.stdout.trim().is_empty());
    assert_eq!(sandbox.run(&env, &["status"]).code(), Some(0));
    assert_eq!(sandbox.run(&env, &["logout"]).code(), Some(0));
    assert!(!kept.exists(), "logout removed the profile");
    assert_eq!(sandbox.run(&env, &["status"]).code(), Some(4), "sign in needed");
}

/// The URL reaches the `BROWSER` program as one argument, byte for byte: `&`, `^`, `%`, quotes and
/// spaces as they are (no `cmd` parses the line; the Windows command line quotes the argument, and the
/// program's own argument parsing gives it back whole).
/// Needs a program that writes its argument to `BROWSER_ARGUMENT_FILE`: `.ci/platforms` builds one.
#[test]
#[ignore = "needs .ci/platforms' browser.exe: SIPGATE_OAUTH_TEST_BROWSER and BROWSER_ARGUMENT_FILE"]
fn the_browser_program_gets_the_url_as_one_argument() {
    let program = std::env::var("SIPGATE_OAUTH_TEST_BROWSER").expect("SIPGATE_OAUTH_TEST_BROWSER names browser.exe");
    let file = std::env::var("BROWSER_ARGUMENT_FILE").expect("BROWSER_ARGUMENT_FILE names where it writes");
    let _ = std::fs::remove_file(&file);
    let url = "http://127.0.0.1:9/cb?a=1&b=2^3&c=%41%&d=\"x y\"&e=&&calc";
    let browser = sipgate_oauth::Browser::System { program: Some(program.clone()) };
    let opened = sipgate_oauth::internals::open_browser(browser, url).expect("the program starts");
    assert_eq!(opened.as_deref(), Some(program.as_str()));
    // The program exits once it has written the file (and failed to reach port 9); wait for it.
    let deadline = std::time::Instant::now() + PATIENCE;
    let written = loop {
        match std::fs::read(&file) {
            Ok(bytes) if !bytes.is_empty() => break bytes,
            _ if std::time::Instant::now() > deadline => panic!("{program} wrote no {file}"),
            _ => std::thread::yield_now(),
        }
    };
    assert_eq!(String::from_utf8(written).unwrap(), url);
}

#[test]
fn the_windows_build_prints_every_completion_script() {
    let sandbox = Sandbox::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let printed = sandbox.run(&[], &["completions", shell]);
        assert_eq!(printed.code(), Some(0), "{shell}: {}", printed.stderr);
        assert!(printed.stdout.contains("/history"), "{shell} completes api paths");
        assert!(!printed.stdout.contains('\r'), "{shell}: one line ending, as the shells read it");
    }
    let powershell = sandbox.run(&[], &["completions", "powershell"]).stdout;
    assert!(powershell.is_ascii());
    assert!(powershell.contains("Register-ArgumentCompleter -Native"));
    assert!(powershell.contains("$env:LOCALAPPDATA 'sipgate-oauth'"), "the Windows store");
    for shell in ["bash", "zsh"] {
        let script = sandbox.run(&[], &["completions", shell]).stdout;
        assert!(
            script.contains("${LOCALAPPDATA:-$USERPROFILE/AppData/Local}/sipgate-oauth"),
            "{shell}: the Windows store"
        );
    }
}
