//! Kept tokens: `login`, then `token`, `account`, `api`, `status`, `logout` without a browser, against
//! the stand-in with short token lifetimes.

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::common::*;
use sipgate_oauth::mock::MockServer;

/// Signs in with `login`, the test playing the browser.
fn login(sandbox: &Sandbox, server: &MockServer) -> Finished {
    login_with(sandbox, &env_for(server))
}

fn login_with(sandbox: &Sandbox, env: &[(&'static str, String)]) -> Finished {
    let mut run = sandbox.spawn(env, &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    done
}

/// The single token file of the sandbox's store.
fn token_file(sandbox: &Sandbox) -> std::path::PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(sandbox.store().join("profiles"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

fn stored(sandbox: &Sandbox) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(token_file(sandbox)).unwrap()).unwrap()
}

/// Makes the kept access token expired, as if its time had passed: the next use refreshes it.
fn expire(sandbox: &Sandbox) {
    expire_kept_access_token(&sandbox.store());
}

#[test]
fn login_keeps_tokens_private_and_token_prints_only_the_token() {
    let server = mock();
    let sandbox = Sandbox::new();
    let done = login(&sandbox, &server);
    assert!(done.stderr.contains("Signed in (BASIC account)"), "{}", done.stderr);
    assert!(done.stdout.is_empty());

    #[cfg(unix)]
    {
        let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&sandbox.store()), 0o700);
        assert_eq!(mode(&sandbox.store().join("profiles")), 0o700);
        assert_eq!(mode(&token_file(&sandbox)), 0o600);
    }
    let file = stored(&sandbox);
    // The profile keeps its configuration, the client secret too, in the private file and nowhere else.
    assert_eq!(file["config"]["CLIENT_SECRET"], "demo-secret");
    assert_eq!(file["config"]["CLIENT_ID"], "sipgate-oauth-demo");

    let token = sandbox.run(&env_for(&server), &["token"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    assert_eq!(token.stdout, format!("{}\n", file["access_token"].as_str().unwrap()));
    assert!(token.stderr.is_empty(), "{}", token.stderr);

    let json = sandbox.run(&env_for(&server), &["token", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["access_token"], file["access_token"]);
    assert_eq!(json["scope"], "account:read");
    assert!(json["access_expires_at"].as_u64().unwrap() > 0);
    assert_eq!(json["profile"], "default");
}

#[test]
fn account_and_api_use_the_kept_tokens() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);

    let account = sandbox.run(&env_for(&server), &["account"]);
    assert_eq!(account.code(), Some(0), "{}", account.stderr);
    assert_eq!(account.json_documents()[0]["mainProductType"], "BASIC");

    let userinfo = sandbox.run(&env_for(&server), &["api", "/authorization/userinfo"]);
    assert_eq!(userinfo.code(), Some(0), "{}", userinfo.stderr);
    assert_eq!(userinfo.json_documents()[0]["domain"], "sipgate.de");

    let missing = sandbox.run(&env_for(&server), &["api", "GET", "/no/such/thing"]);
    assert_eq!(missing.code(), Some(1));
    assert!(missing.stderr.contains("failed with HTTP 404"), "{}", missing.stderr);
    assert!(!missing.stdout.is_empty(), "the 404's body is on stdout, as `gh api` prints it");
}

#[test]
fn an_expiring_token_is_refreshed_and_the_rotated_refresh_token_kept() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    expire(&sandbox);
    let before = stored(&sandbox);

    let token = sandbox.run(&env_for(&server), &["token"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    let after = stored(&sandbox);
    assert_ne!(after["refresh_token"], before["refresh_token"], "the rotated refresh token is on disk");
    assert_eq!(token.stdout.trim(), after["access_token"].as_str().unwrap());

    // The old refresh token is dead at the server: only the kept one works.
    let again = sandbox.run(&env_for(&server), &["account"]);
    assert_eq!(again.code(), Some(0), "{}", again.stderr);
}

#[test]
fn thirty_processes_asking_for_a_token_at_once_all_succeed_with_one_refresh() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    expire(&sandbox);
    let env = env_for(&server);
    let before = server.requests();
    let children: Vec<_> = (0..30).map(|_| sandbox.spawn(&env, &["token"])).collect();
    let results: Vec<Finished> = children.into_iter().map(Running::finish).collect();
    let failures: Vec<&Finished> = results.iter().filter(|r| r.code() != Some(0)).collect();
    assert!(failures.is_empty(), "{} of 30 failed, first: {}", failures.len(), failures[0].stderr);
    // `token` sends nothing but a refresh: one process refreshed, the 29 others used what it kept.
    assert_eq!(server.requests() - before, 1, "the stand-in saw one refresh");
    let printed: std::collections::HashSet<&str> = results.iter().map(|r| r.stdout.trim()).collect();
    assert_eq!(printed.len(), 1, "all 30 printed the same fresh token");

    let account = sandbox.run(&env, &["account"]);
    assert_eq!(account.code(), Some(0), "the store ends valid: {}", account.stderr);
}

#[test]
fn a_rejected_token_is_refreshed_once_and_the_call_retried() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let path = token_file(&sandbox);
    let mut file = stored(&sandbox);
    let old_refresh = file["refresh_token"].clone();
    file["access_token"] = "revoked-elsewhere".into();
    std::fs::write(&path, file.to_string()).unwrap();

    let account = sandbox.run(&env_for(&server), &["account"]);
    assert_eq!(account.code(), Some(0), "{}", account.stderr);
    assert_ne!(stored(&sandbox)["refresh_token"], old_refresh);
}

#[test]
fn a_second_401_is_a_clear_error() {
    let server = mock_with(|config| config.faults.expire_access_tokens = true);
    let sandbox = Sandbox::new();
    let signed_in = login(&sandbox, &server);
    assert!(signed_in.stderr.contains("Signed in. Tokens kept in"), "no greeting, no failure: {}", signed_in.stderr);
    let done = sandbox.run(&env_for(&server), &["account"]);
    assert_eq!(done.code(), Some(4), "sign-in needed: {}", done.stderr);
    assert!(done.stderr.contains("the API rejects its token even after a refresh"), "{}", done.stderr);
    assert!(done.stderr.contains("sipgate-oauth login"), "{}", done.stderr);
}

#[test]
fn without_tokens_the_commands_ask_for_login() {
    let server = mock();
    let sandbox = Sandbox::new();
    for command in ["token", "account"] {
        let done = sandbox.run(&env_for(&server), &[command]);
        assert_eq!(done.code(), Some(4));
        assert_eq!(
            done.stderr.trim(),
            "error: profile default is not signed in: nothing is kept for it — sign in again: \
             `sipgate-oauth login --profile default`"
        );
        let work = sandbox.run(&env_for(&server), &["--profile", "work", command]);
        assert_eq!(work.code(), Some(4));
        assert!(
            work.stderr.contains("`sipgate-oauth login --profile work`"),
            "the hint keeps --profile: {}",
            work.stderr
        );
    }
    let status = sandbox.run(&env_for(&server), &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["signed_in"], false);
}

#[test]
fn a_dead_refresh_token_asks_for_login() {
    let server = mock_with(|config| config.faults.refresh_invalid_grant = true);
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    expire(&sandbox);
    let done = sandbox.run(&env_for(&server), &["token"]);
    assert_eq!(done.code(), Some(4));
    assert!(done.stderr.contains("invalid_grant"), "{}", done.stderr);
    assert!(done.stderr.contains("sign in again: `sipgate-oauth login --profile default`"), "{}", done.stderr);
    assert!(done.stdout.is_empty());
}

#[test]
fn status_shows_expiry_and_no_secret() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let file = stored(&sandbox);
    let status = sandbox.run(&env_for(&server), &["status"]);
    assert_eq!(status.code(), Some(0));
    let fresh = ["access token expires: in 5 min 0 s\n", "access token expires: in 4 min 59 s\n"];
    assert!(
        status
            .stdout
            .starts_with("default (selected): signed in\n  client: sipgate-oauth-demo\n  scope: account:read\n"),
        "{}",
        status.stdout
    );
    assert!(fresh.iter().any(|line| status.stdout.contains(line)), "{}", status.stdout);
    assert!(
        status.stdout.contains("refresh token expires: in 29 d") || status.stdout.contains("in 30 d"),
        "{}",
        status.stdout
    );
    for secret in [&file["access_token"], &file["refresh_token"]] {
        assert!(!status.stdout.contains(secret.as_str().unwrap()));
    }
}

#[test]
fn logout_revokes_at_the_server_and_deletes_the_file() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let refresh_token = stored(&sandbox)["refresh_token"].as_str().unwrap().to_owned();

    let done = sandbox.run(&env_for(&server), &["logout"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("revoked at the server and deleted here"), "{}", done.stderr);
    assert!(!token_file_exists(&sandbox));

    let env = env_for(&server);
    let token_url = &env.iter().find(|(k, _)| *k == "TOKEN_URL").unwrap().1;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("client_id", "sipgate-oauth-demo"),
        ("client_secret", "demo-secret"),
    ];
    let mut response = agent().post(token_url).send_form(form).unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.body_mut().read_to_string().unwrap().contains("invalid_grant"));
}

#[test]
fn logout_without_the_server_still_deletes_and_warns() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = with(env_for(&server), "REVOKE_URL", "http://127.0.0.1:9/revoke");
    login_with(&sandbox, &env);
    let done = sandbox.run(&env, &["logout"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("may stay valid until it expires"), "{}", done.stderr);
    assert!(!token_file_exists(&sandbox));
}

fn token_file_exists(sandbox: &Sandbox) -> bool {
    std::fs::read_dir(sandbox.store().join("profiles"))
        .unwrap()
        .any(|e| e.unwrap().path().extension().is_some_and(|x| x == "json"))
}

/// SIGKILL lands at different points of a refresh (the stand-in's latency holds the answer back after it
/// has rotated the tokens). The token file must always be a complete one; when the kill came after the
/// server rotated, the kept refresh token is dead and the tool says to sign in again — nothing worse.
#[test]
fn killing_token_while_it_refreshes_never_breaks_the_store() {
    let server = mock_with(|config| config.faults.latency = Duration::from_millis(30));
    let sandbox = Sandbox::new();
    let env = env_for(&server);
    login(&sandbox, &server);
    let (mut killed, mut lost) = (0, 0);
    for round in 0..20u64 {
        expire(&sandbox);
        let before = server.requests();
        let mut run = sandbox.spawn(&env, &["token"]);
        let deadline = std::time::Instant::now() + PATIENCE;
        while server.requests() == before && std::time::Instant::now() < deadline {
            std::thread::yield_now();
        }
        // Not a wait for anything: it moves the kill to 0, 10, 20, 30 or 40 ms into the refresh.
        std::thread::sleep(Duration::from_millis(round % 5 * 10));
        let _ = run.child.kill();
        if run.finish().code() != Some(0) {
            killed += 1;
        }

        let status = sandbox.run(&env, &["status", "--json"]);
        assert_eq!(status.code(), Some(0), "round {round}: {}", status.stderr);
        let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(status["signed_in"], true, "round {round}");

        let token = sandbox.run(&env, &["token"]);
        if token.code() != Some(0) {
            assert!(token.stderr.contains("sign in again: `sipgate-oauth login"), "round {round}: {}", token.stderr);
            login(&sandbox, &server);
            lost += 1;
        }
    }
    eprintln!("20 rounds: {killed} killed mid-refresh, {lost} sign-ins lost to a kill after the server rotated");
    assert!(killed > 0, "some kills landed during the refresh");
}

#[test]
fn status_is_signed_out_with_exit_4_when_both_tokens_have_expired_or_none_are_kept() {
    let server = mock();
    let sandbox = Sandbox::new();
    let none = sandbox.run(&env_for(&server), &["status"]);
    assert_eq!(none.code(), Some(4));
    assert_eq!(none.stdout, "default (selected): not signed in\n");

    login(&sandbox, &server);
    assert_eq!(sandbox.run(&env_for(&server), &["status"]).code(), Some(0));
    let mut file = stored(&sandbox);
    file["access_expires_at"] = 0.into();
    file["refresh_expires_at"] = 1.into();
    std::fs::write(token_file(&sandbox), file.to_string()).unwrap();
    let status = sandbox.run(&env_for(&server), &["status"]);
    assert_eq!(status.code(), Some(4), "{}", status.stderr);
    assert!(
        status.stdout.starts_with("default (selected): signed out: the kept tokens have expired\n"),
        "{}",
        status.stdout
    );
    let json = sandbox.run(&env_for(&server), &["status", "--json"]);
    assert_eq!((json.code(), json.json_documents()[0]["signed_in"].clone()), (Some(4), false.into()));
}

/// A client without `account:read` signs in all the same: the greeting is left out, nothing fails.
#[test]
fn login_succeeds_whatever_the_scope() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = with(env_for(&server), "OAUTH_SCOPE", "history:read");
    let mut run = sandbox.spawn(&env, &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("Signed in. Tokens kept in"), "{}", done.stderr);
    assert!(!done.stderr.contains("HTTP 403") && !done.stderr.contains("error:"), "{}", done.stderr);
}

/// A sign-in kept by the first version (`tokens-<hash>.json` in the store directory, format 1) is carried
/// over into the profile on first use: no new sign-in needed after an upgrade.
#[test]
fn a_sign_in_of_the_first_version_is_carried_over_into_the_profile() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let kept = stored(&sandbox);
    std::fs::remove_file(token_file(&sandbox)).unwrap();
    let env = env_for(&server);
    let value = |key: &str| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap();
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}\n{}", value("TOKEN_URL"), value("CLIENT_ID")).as_bytes(),
    );
    let name: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let legacy = sandbox.store().join(format!("tokens-{name}.json"));
    let old = serde_json::json!({
        "version": 1, "token_url": value("TOKEN_URL"), "client_id": value("CLIENT_ID"), "token_type": "bearer",
        "access_token": kept["access_token"], "access_expires_at": kept["access_expires_at"],
        "refresh_token": kept["refresh_token"], "refresh_expires_at": kept["refresh_expires_at"], "scope": null,
    });
    std::fs::write(&legacy, old.to_string()).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&legacy, std::fs::Permissions::from_mode(0o600)).unwrap();

    let token = sandbox.run(&env, &["token"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    assert_eq!(token.stdout.trim(), kept["access_token"].as_str().unwrap());
    assert!(!legacy.exists(), "the old file is gone once the profile holds its tokens");
    assert_eq!(stored(&sandbox)["refresh_token"], kept["refresh_token"]);
}
