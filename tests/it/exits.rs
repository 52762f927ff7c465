//! The exit codes of `status` and `logout` (issue 23): 4 "sign in needed" when the profile keeps
//! nothing, with the `login --profile NAME` of the profile the user named; 1 when the `.env` here is for
//! another client than the profile signed in with; `logout --all` with nothing kept is no failure.

use crate::common::*;

fn not_signed_in(profile: &str) -> String {
    format!(
        "error: profile {profile} is not signed in: nothing is kept for it — sign in again: \
         `sipgate-oauth login --profile {profile}`\n"
    )
}

#[test]
fn status_and_logout_with_nothing_kept_both_exit_4_naming_the_users_profile() {
    let server = mock();
    let sandbox = Sandbox::new();
    for env in [Vec::new(), env_for(&server)] {
        for args in
            [&["status", "--profile", "work"][..], &["logout", "--profile", "work"], &["--profile=work", "logout"]]
        {
            let done = sandbox.run(&env, args);
            assert_eq!((done.code(), done.stderr.as_str()), (Some(4), not_signed_in("work").as_str()), "{args:?}");
        }
        let done = sandbox.run(&env, &["logout"]);
        assert_eq!((done.code(), done.stderr.as_str()), (Some(4), not_signed_in("default").as_str()));
        let all = sandbox.run(&env, &["logout", "--all"]);
        assert_eq!((all.code(), all.stderr.as_str()), (Some(0), "No profile is kept: nothing to do.\n"));
    }
    let done = sandbox.run(&[("SIPGATE_OAUTH_PROFILE", "ci".to_owned())], &["logout"]);
    assert_eq!((done.code(), done.stderr.as_str()), (Some(4), not_signed_in("ci").as_str()));
}

#[test]
fn status_exits_1_when_the_env_here_is_for_another_client_and_names_both() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["login", "--no-browser", "--profile", "work"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    assert_eq!(run.finish().code(), Some(0));

    // No .env here: the profile's own configuration; signed in.
    let done = sandbox.run(&[], &["status", "--profile", "work"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stdout.starts_with("work (selected): signed in\n"), "{}", done.stdout);

    // A .env of the same client changes nothing.
    let env_file = sandbox.dir.path().join(".env");
    let lines = |client: &str| {
        let env = with(env_for(&server), "CLIENT_ID", client);
        env.iter().map(|(key, value)| format!("{key}={value}\n")).collect::<String>()
    };
    std::fs::write(&env_file, lines("sipgate-oauth-demo")).unwrap();
    assert_eq!(sandbox.run(&[], &["status", "--profile", "work"]).code(), Some(0));

    // A .env of another client: the report still, then exit 1 and why, naming both clients, no secret.
    std::fs::write(&env_file, lines("another-app")).unwrap();
    let done = sandbox.run(&[], &["status", "--profile", "work"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(done.stdout.starts_with("work (selected): signed in\n  client: sipgate-oauth-demo\n"), "{}", done.stdout);
    let said = done.stderr.trim_end();
    assert!(
        said.starts_with("error: profile work is signed in as client sipgate-oauth-demo at http://127.0.0.1:"),
        "{said}"
    );
    assert!(said.contains(", but the configuration here is for another-app at http://127.0.0.1:"), "{said}");
    assert!(said.contains("`sipgate-oauth login --profile work`") && said.contains("where the .env names"), "{said}");
    assert!(!done.stderr.contains("demo-secret") && !done.stdout.contains("demo-secret"), "no secret");
    assert_eq!(said.lines().count(), 1, "{said}");
    // What status warns of is what the other commands do.
    let token = sandbox.run(&[], &["token", "--profile", "work"]);
    assert_eq!((token.code(), token.stderr.as_str()), (Some(1), done.stderr.as_str()));
    // --json too: the report on stdout, the exit and the reason alike.
    let json = sandbox.run(&[], &["status", "--profile", "work", "--json"]);
    assert_eq!((json.code(), json.stderr.as_str()), (Some(1), done.stderr.as_str()));
    let shown = json.json_documents().remove(0);
    assert_eq!(shown["client_id"], "sipgate-oauth-demo");
    // A script that reads only the JSON learns the same: the reason in the selected profile's `error`.
    let reason = said.strip_prefix("error: ").unwrap();
    assert_eq!(shown["error"], reason, "{shown}");
    assert_eq!(shown["profiles"][0]["error"], reason, "{shown}");
}
