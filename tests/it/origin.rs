//! The origin rule from outside: after a sign-in in one directory, a `.env` in another that names the
//! same client but other servers gets no kept token, no refresh token and no client secret; a refresh
//! there changes the tokens only, never where they go.

use crate::common::*;

/// Signs in with `env` (browser played by the test).
fn sign_in(sandbox: &Sandbox, env: &[(&'static str, String)]) {
    let mut run = sandbox.spawn(env, &["login", "--no-browser"]);
    assert_eq!(browse(&run.authorization_url()).0, 200);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

/// Runs the binary in `dir` (a directory with a `.env` of its own) with nothing else configured.
fn run_in(sandbox: &Sandbox, dir: &std::path::Path, args: &[&str]) -> Finished {
    let mut command = sandbox.command(&[], args);
    command.current_dir(dir);
    sandbox.start(command).finish()
}

/// A directory beside the sandbox's with `.env` holding `lines`.
fn other_directory(sandbox: &Sandbox, lines: &[String]) -> std::path::PathBuf {
    let dir = sandbox.dir.path().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".env"), lines.join("\n") + "\n").unwrap();
    dir
}

/// The lines of a `.env` for the same client and token endpoint as `env`.
fn same_client(env: &[(&'static str, String)]) -> Vec<String> {
    env.iter()
        .filter(|(key, _)| ["CLIENT_ID", "TOKEN_URL", "AUTH_URL", "REDIRECT_URI"].contains(key))
        .map(|(key, value)| format!("{key}={value}"))
        .collect()
}

fn origin_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    format!("http://{}", rest.split('/').next().unwrap())
}

#[test]
fn a_kept_token_goes_only_where_the_profile_signed_in() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = env_for(&server);
    sign_in(&sandbox, &env);
    let kept = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).unwrap();
    let thief = Server::start(|_| tiny_http::Response::from_string("{\"items\":[],\"totalCount\":0}").boxed());
    let foreign = thief.url("/v2");
    let cases: [(&str, &[&str]); 5] = [
        ("API_BASE_URL", &["api", "/account"]),
        ("API_BASE_URL", &["api", "--paginate", "/history"]),
        ("TEST_API_ENDPOINT", &["account"]),
        ("REVOKE_URL", &["logout"]),
        ("LOGOUT_URL", &["logout"]),
    ];
    for (var, args) in cases {
        let mut lines = same_client(&env);
        lines.push(format!("{var}={foreign}/account"));
        let dir = other_directory(&sandbox, &lines);
        let done = run_in(&sandbox, &dir, args);
        assert_eq!(done.code(), Some(2), "{var} {args:?}: {}", done.stderr);
        let (here, there) = (origin_of(&foreign), server.base_url());
        assert!(done.stderr.contains(var), "names the setting: {}", done.stderr);
        assert!(done.stderr.contains(&here) && done.stderr.contains(&there), "both origins: {}", done.stderr);
        assert!(done.stderr.contains("sipgate-oauth login"), "says what to do: {}", done.stderr);
        assert_eq!(thief.hits(), 0, "{var} {args:?} sent something to the foreign server");
        let now = std::fs::read_to_string(sandbox.store().join("profiles/default.json")).unwrap();
        assert_eq!(now, kept, "the profile is kept as it was");
    }
    // The profile's own servers still work, from any directory.
    let dir = other_directory(&sandbox, &same_client(&env));
    let account = run_in(&sandbox, &dir, &["account"]);
    assert_eq!(account.code(), Some(0), "{}", account.stderr);
}

#[test]
fn a_refresh_elsewhere_changes_the_tokens_and_nothing_else() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = env_for(&server);
    sign_in(&sandbox, &env);
    let thief = Server::start(|_| tiny_http::Response::from_string("{}").boxed());
    let file = sandbox.store().join("profiles/default.json");
    let config_of = |file: &std::path::Path| {
        let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        (kept["config"].clone(), kept["access_token"].clone())
    };
    let (config_before, token_before) = config_of(&file);

    expire_kept_access_token(&sandbox.store());
    let mut lines = same_client(&env);
    lines.push(format!("API_BASE_URL={}", thief.url("/v2")));
    lines.push("OAUTH_SCOPE=account:read history:read".to_owned());
    let dir = other_directory(&sandbox, &lines);
    let token = run_in(&sandbox, &dir, &["token"]);
    assert_eq!(token.code(), Some(0), "`token` sends the token nowhere: {}", token.stderr);

    let (config_after, token_after) = config_of(&file);
    assert_ne!(token_after, token_before, "the refresh was kept");
    assert_eq!(config_after, config_before, "a refresh rewrote the kept configuration");
    // From the sign-in's own directory, the API call goes to the profile's own server.
    let account = sandbox.run(&[], &["account"]);
    assert_eq!(account.code(), Some(0), "{}", account.stderr);
    assert!(account.stdout.contains("mainProductType"), "{}", account.stdout);
    assert_eq!(thief.hits(), 0);
}
