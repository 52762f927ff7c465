//! Works from any directory, for several accounts: a profile keeps the configuration it signed in with, so
//! later commands need no `.env`; each profile has its own configuration and tokens; precedence is
//! environment > `.env` > the kept profile > sipgate's defaults.

use sipgate_oauth::mock::{MockClient, MockServer};

use crate::common::*;

/// `env` with the redirect on an ephemeral loopback port.
fn env_of(server: &MockServer, client: &MockClient) -> Vec<(&'static str, String)> {
    with(server.env("third-party", client), "REDIRECT_URI", "http://127.0.0.1:0/oauth")
}

fn sign_in(sandbox: &Sandbox, env: &[(&'static str, String)], args: &[&str]) -> Finished {
    let mut run = sandbox.spawn(env, args);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    done
}

/// A second client registered at the stand-in.
fn customer() -> MockClient {
    MockClient { id: "customer-app".into(), secret: "customer-secret".into(), ..MockClient::demo() }
}

#[test]
fn after_login_token_works_from_an_empty_directory_without_any_configuration() {
    let server = mock();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &env_for(&server), &["login", "--no-browser"]);

    let elsewhere = tempfile::tempdir().unwrap();
    let mut command = sandbox.command(&[], &["token"]);
    command.current_dir(elsewhere.path());
    let output = starting(|| command.output()).unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap();
    let account = sandbox.run(&[], &["account"]);
    assert_eq!(account.code(), Some(0), "the kept client and URLs are used: {}", account.stderr);
    assert!(!token.trim().is_empty());
}

#[test]
fn the_environment_beats_env_file_beats_the_profile() {
    let server = mock();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &env_for(&server), &["login", "--no-browser"]);
    // Other URLs on the server the profile signed in with: the origin rule lets them have the token.
    let userinfo = format!("{}/v2/authorization/userinfo", server.base_url());
    std::fs::write(sandbox.dir.path().join(".env"), format!("TEST_API_ENDPOINT={userinfo}\n")).unwrap();

    let account = sandbox.run(&[], &["account"]);
    assert!(account.stdout.contains("\"sub\""), ".env beats the profile: {} {}", account.stdout, account.stderr);
    let env_account = format!("{}/v2/account?from=environment", server.base_url());
    let account = sandbox.run(&[("TEST_API_ENDPOINT", env_account)], &["account"]);
    assert!(account.stdout.contains("mainProductType"), "the environment beats .env: {}", account.stdout);
    std::fs::remove_file(sandbox.dir.path().join(".env")).unwrap();
    let account = sandbox.run(&[], &["account"]);
    assert!(account.stdout.contains("mainProductType"), "the profile's own endpoint: {}", account.stdout);
}

#[test]
fn sipgates_endpoints_are_built_in_and_realm_switches_them() {
    let sandbox = Sandbox::new();
    // Only the client is given (and a free port instead of the default 8080, which another program may
    // hold; the default redirect URI is pinned by `config::tests`). `--timeout 1`: the URL is all this test
    // needs; nothing is sent anywhere.
    let only_client = [
        ("CLIENT_ID", "mine".to_owned()),
        ("CLIENT_SECRET", "s".to_owned()),
        ("REDIRECT_URI", "http://127.0.0.1:0/oauth".to_owned()),
    ];
    let done = sandbox.run(&only_client, &["login", "--no-browser", "--timeout", "1"]);
    assert!(
        done.stderr.contains("https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth?"),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("scope=account%3Aread"), "{}", done.stderr);
    let mut apps = only_client.to_vec();
    apps.push(("REALM", "sipgate-apps".to_owned()));
    let done = sandbox.run(&apps, &["login", "--no-browser", "--timeout", "1"]);
    assert!(done.stderr.contains("/auth/realms/sipgate-apps/protocol/openid-connect/auth?"), "{}", done.stderr);
}

#[test]
fn two_profiles_keep_two_accounts_apart() {
    let server = mock_with(|config| config.clients.push(customer()));
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &env_for(&server), &["login", "--no-browser"]);
    sign_in(&sandbox, &env_of(&server, &customer()), &["--profile", "customer", "login", "--no-browser"]);

    let own = sandbox.run(&[], &["token"]);
    let theirs = sandbox.run(&[], &["token", "--profile=customer"]);
    let by_env = sandbox.run(&[("SIPGATE_OAUTH_PROFILE", "customer".to_owned())], &["token"]);
    assert_eq!((own.code(), theirs.code()), (Some(0), Some(0)), "{} {}", own.stderr, theirs.stderr);
    assert_ne!(own.stdout, theirs.stdout, "tokens never cross");
    assert_eq!(theirs.stdout, by_env.stdout);

    let status = sandbox.run(&[], &["status", "--json"]);
    let status = &status.json_documents()[0];
    let names: Vec<&str> =
        status["profiles"].as_array().unwrap().iter().map(|p| p["profile"].as_str().unwrap()).collect();
    assert_eq!(names, ["customer", "default"]);
    assert_eq!(status["profiles"][0]["client_id"], "customer-app");
    assert_eq!((status["profile"].as_str(), status["signed_in"].as_bool()), (Some("default"), Some(true)));

    let out = sandbox.run(&[], &["logout", "--profile", "customer"]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
    assert_eq!(sandbox.run(&[], &["token", "--profile", "customer"]).code(), Some(2), "no configuration is left");
    assert_eq!(sandbox.run(&[], &["token"]).stdout, own.stdout, "the other profile is untouched");

    sign_in(&sandbox, &env_of(&server, &customer()), &["--profile", "customer", "login", "--no-browser"]);
    let all = sandbox.run(&[], &["logout", "--all"]);
    assert_eq!(all.code(), Some(0), "{}", all.stderr);
    assert!(all.stderr.contains("profile customer:") && all.stderr.contains("profile default:"), "{}", all.stderr);
    let status = sandbox.run(&[], &["status"]);
    assert_eq!((status.code(), status.stdout.as_str()), (Some(4), "default (selected): not signed in\n"));
}

#[test]
fn a_profile_of_another_client_is_not_used_with_this_clients_configuration() {
    let server = mock_with(|config| config.clients.push(customer()));
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &env_for(&server), &["login", "--no-browser"]);
    let done = sandbox.run(&env_of(&server, &customer()), &["token"]);
    assert_eq!(done.code(), Some(1));
    assert!(done.stderr.contains("profile default is signed in as client sipgate-oauth-demo"), "{}", done.stderr);
    assert!(done.stderr.contains("--profile NAME"), "{}", done.stderr);
    assert!(done.stdout.is_empty());
}

#[test]
fn a_bad_profile_name_is_a_usage_error() {
    let sandbox = Sandbox::new();
    for name in ["../etc", "a b", ""] {
        let done = sandbox.run(&[], &["token", "--profile", name]);
        assert_eq!(done.code(), Some(2), "{name:?}: {}", done.stderr);
    }
}

/// `SIPGATE_OAUTH_STORE` and `BROWSER` are read like every other setting: from `.env` too.
#[test]
#[cfg(unix)]
fn store_and_browser_are_read_from_env_file_too() {
    let server = mock();
    let sandbox = Sandbox::new();
    let elsewhere = sandbox.dir.path().join("kept-here");
    let browser = sandbox.dir.path().join("my-browser");
    std::fs::write(&browser, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let dotenv: String = env_for(&server)
        .iter()
        .map(|(key, value)| format!("{key}={value}\n"))
        .chain([format!("SIPGATE_OAUTH_STORE={}\n", elsewhere.display()), format!("BROWSER={}\n", browser.display())])
        .collect();
    std::fs::write(sandbox.dir.path().join(".env"), dotenv).unwrap();
    // The sandbox sets SIPGATE_OAUTH_STORE in the environment; without it, .env's is the one.
    let mut command = sandbox.command(&[], &["login"]);
    command.env_remove("SIPGATE_OAUTH_STORE");
    let mut run = sandbox.start(command);
    let url = run.authorization_url();
    run.line(|line| line == format!("(opened with {})", browser.display()));
    browse(&url);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(elsewhere.join("profiles").join("default.json").is_file(), "{}", done.stderr);
}

/// A profile whose file cannot be read is reported as such; `status` lists the others all the same.
#[test]
fn status_lists_the_other_profiles_when_one_cannot_be_read() {
    let server = mock();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &env_for(&server), &["login", "--no-browser"]);
    let broken = sandbox.store().join("profiles").join("broken.json");
    std::fs::write(&broken, "{not json").unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&broken, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let status = sandbox.run(&[], &["status"]);
    assert_eq!(status.code(), Some(0), "the selected profile is fine: {}", status.stderr);
    assert!(status.stdout.starts_with("broken: cannot be read — token file"), "{}", status.stdout);
    assert!(status.stdout.contains("default (selected): signed in"), "{}", status.stdout);
    let selected = sandbox.run(&[], &["status", "--profile", "broken"]);
    assert_eq!(selected.code(), Some(1));
    assert!(selected.stderr.contains("is not valid (not JSON"), "{}", selected.stderr);
}
