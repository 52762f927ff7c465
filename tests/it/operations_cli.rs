//! The client knows sipgate's operations: a 403 names the scopes that would do, `OAUTH_SCOPE` typos are
//! warned about, `scopes` and `api --list` list what there is, `api` fills `{userId}`, hints at a
//! mistyped path or method (and still sends it), and `--paginate` gathers every page of a list.

use crate::common::*;
use sipgate_oauth::mock::MockServer;

/// The stand-in's configuration with `scope` in `OAUTH_SCOPE`.
fn env_with_scope(server: &MockServer, scope: &str) -> Vec<(&'static str, String)> {
    with(env_for(server), "OAUTH_SCOPE", scope)
}

/// Signs in with `login` for `scope`, the test playing the browser.
fn login(sandbox: &Sandbox, server: &MockServer, scope: &str) {
    let mut run = sandbox.spawn(&env_with_scope(server, scope), &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

#[test]
fn a_403_names_the_scopes_the_operation_accepts() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server, "account:read");
    let refused = sandbox.run(&env_with_scope(&server, "account:read"), &["api", "/history"]);
    assert_eq!(refused.code(), Some(1), "{}", refused.stderr);
    assert_eq!(refused.stdout, "Forbidden\n", "the 403's body is on stdout, as `gh api` prints it");
    assert!(refused.stderr.contains("HTTP 403"), "{}", refused.stderr);
    assert!(refused.stderr.contains("(granted: account:read)"), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("needs one of: history:read, all — add it to OAUTH_SCOPE and your client, then sign in again"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_mistyped_scope_is_a_warning_with_the_closest_known_one() {
    let server = mock();
    let sandbox = Sandbox::new();
    let typo = sandbox.run(&env_with_scope(&server, "openid acount:read"), &["token"]);
    // The command runs on (and finds no sign-in): the typo is a warning, not an error.
    assert!(typo.stderr.ends_with("sign in again: `sipgate-oauth login --profile default`\n"), "{}", typo.stderr);
    assert!(typo.stderr.contains("warning: OAUTH_SCOPE has `acount:read`"), "{}", typo.stderr);
    assert!(typo.stderr.contains("did you mean `account:read`?"), "{}", typo.stderr);
    assert!(!typo.stdout.contains("warning"), "warnings stay off stdout: {}", typo.stdout);

    let known = sandbox.run(&env_with_scope(&server, "openid account:read offline_access"), &["token"]);
    assert!(!known.stderr.contains("warning"), "known scopes are not warned about: {}", known.stderr);
}

#[test]
fn scopes_lists_every_scope_with_a_meaning() {
    let sandbox = Sandbox::new();
    // No configuration at all: the list is built in.
    let history = sandbox.run(&[], &["scopes", "history"]);
    assert_eq!(history.code(), Some(0), "{}", history.stderr);
    let read = history.stdout.lines().find(|line| line.starts_with("history:read ")).expect("history:read listed");
    assert!(read.ends_with("see your call, SMS and fax history"), "{read}");
    for line in history.stdout.lines() {
        assert!(line.to_lowercase().contains("history"), "only matching scopes: {line}");
    }

    let all = sandbox.run(&[], &["scopes", "--json"]);
    assert_eq!(all.code(), Some(0), "{}", all.stderr);
    let listed = all.json_documents().remove(0);
    let listed = listed.as_array().expect("a JSON array");
    assert_eq!(listed.len(), sipgate_oauth::operations::scopes().count());
    assert!(listed.iter().all(|s| s["scope"].is_string() && s["meaning"].as_str().is_some_and(|m| !m.is_empty())));
    assert!(listed.iter().any(|s| s["scope"] == "account:read"));

    let nothing = sandbox.run(&[], &["scopes", "pizza"]);
    assert_eq!(nothing.code(), Some(0));
    assert!(nothing.stdout.is_empty());
    assert!(nothing.stderr.contains("no scope matches \"pizza\""), "{}", nothing.stderr);
}

#[test]
fn api_list_shows_method_path_and_scopes() {
    let sandbox = Sandbox::new();
    let sms = sandbox.run(&[], &["api", "--list", "sms"]);
    assert_eq!(sms.code(), Some(0), "{}", sms.stderr);
    let line = sms.stdout.lines().find(|l| l.starts_with("GET ") && l.contains(" /{userId}/sms ")).expect("listed");
    assert!(line.trim_end().ends_with("sms:read, all"), "{line}");
    let send = sms.stdout.lines().find(|l| l.starts_with("POST ") && l.contains(" /sessions/sms ")).expect("listed");
    assert!(send.contains("sessions:sms:write"), "{send}");

    let history = sandbox.run(&[], &["api", "--list", "HISTORY"]);
    let get = history.stdout.lines().find(|l| l.starts_with("GET ") && l.contains(" /history ")).expect("listed");
    assert!(get.contains("[paged]"), "lists are marked: {get}");

    let all = sandbox.run(&[], &["api", "--list", "--json"]);
    assert_eq!(all.code(), Some(0), "{}", all.stderr);
    let ops = all.json_documents().remove(0);
    let ops = ops.as_array().expect("a JSON array");
    assert_eq!(ops.len(), sipgate_oauth::operations::operations().len());
    let account = ops.iter().find(|op| op["method"] == "GET" && op["path"] == "/account").expect("GET /account");
    assert_eq!(account["scopes"], serde_json::json!(["account:read", "all"]));
    assert_eq!(account["paged"], false);
}

#[test]
fn user_id_in_a_path_is_filled_in_from_userinfo() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = env_with_scope(&server, "sms:read");
    login(&sandbox, &server, "sms:read");
    let filled = sandbox.run(&env, &["api", "/{userId}/sms"]);
    assert_eq!(filled.code(), Some(0), "{}", filled.stderr);
    assert!(filled.stderr.is_empty(), "a known path, no warning: {}", filled.stderr);
    let explicit = sandbox.run(&env, &["api", "/w0/sms"]);
    assert_eq!(explicit.code(), Some(0), "{}", explicit.stderr);
    assert_eq!(filled.stdout, explicit.stdout, "{{userId}} is the signed-in user, w0 at the stand-in");
    assert!(filled.json_documents()[0]["items"].is_array());
    // The user id is kept with the tokens: the next `{userId}` path costs one request, not two.
    let kept = std::fs::read_to_string(sandbox.store().join("profiles").join("default.json")).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&kept).unwrap()["user_id"], "w0");
    let before = server.requests();
    let again = sandbox.run(&env, &["api", "/{userId}/sms"]);
    assert_eq!((again.code(), server.requests() - before), (Some(0), 1), "{}", again.stderr);

    let unfilled = sandbox.run(&env, &["api", "/{userId}/sms/{smsId}/callerid"]);
    assert_eq!(unfilled.code(), Some(2), "{}", unfilled.stderr);
    assert!(unfilled.stderr.contains("the path still has {smsId}"), "{}", unfilled.stderr);
}

#[test]
fn paginate_gathers_every_page_into_one_array() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = env_with_scope(&server, "history:read");
    login(&sandbox, &server, "history:read");

    let one_page = sandbox.run(&env, &["api", "/history?limit=1000"]);
    assert_eq!(one_page.code(), Some(0), "{}", one_page.stderr);
    let whole = one_page.json_documents().remove(0);
    let total = whole["totalCount"].as_u64().expect("totalCount");
    assert!(total > 1, "the stand-in's history has something to page: {whole}");

    let before = server.requests();
    let paged = sandbox.run(&env, &["api", "--paginate", "/history?limit=1"]);
    assert_eq!(paged.code(), Some(0), "{}", paged.stderr);
    assert_eq!(server.requests() - before, total, "one request per page of one");
    let documents = paged.json_documents();
    assert_eq!(documents.len(), 1, "one JSON array: {}", paged.stdout);
    assert_eq!(documents[0], whole["items"], "the same items, in order");

    let not_a_list = sandbox.run(&env, &["api", "--paginate", "/account"]);
    assert_eq!(not_a_list.code(), Some(2), "{}", not_a_list.stderr);
    assert!(not_a_list.stderr.contains("GET /account is not one"), "{}", not_a_list.stderr);
}

#[test]
fn a_mistyped_path_or_method_gets_a_hint_and_is_still_sent() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = env_with_scope(&server, "account:read");
    login(&sandbox, &server, "account:read");

    let typo = sandbox.run(&env, &["api", "/acount"]);
    assert!(typo.stderr.contains("warning: sipgate's API has no /acount — did you mean /account?"), "{}", typo.stderr);
    assert_eq!(typo.code(), Some(1), "sent, and the stand-in has no such path: {}", typo.stderr);
    assert!(typo.stderr.contains("failed with HTTP 404"), "{}", typo.stderr);

    let doubled = sandbox.run(&env, &["api", "/v2/account"]);
    assert!(doubled.stderr.contains("which has /v2 already"), "{}", doubled.stderr);
    assert!(doubled.stderr.contains("did you mean /account?"), "{}", doubled.stderr);
    assert!(doubled.stderr.contains("/v2/v2/account failed with HTTP 404"), "{}", doubled.stderr);

    let method = sandbox.run(&env, &["api", "PATCH", "/history"]);
    assert!(
        method.stderr.contains("warning: sipgate's API takes GET, PUT, DELETE on /history, not PATCH"),
        "{}",
        method.stderr
    );
    assert!(method.stderr.contains("failed with HTTP 405"), "sent all the same: {}", method.stderr);
}
