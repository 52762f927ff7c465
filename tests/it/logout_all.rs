//! `logout --all` signs out everything it can: a profile it cannot read or sign out is named, the next
//! one is signed out all the same, and the exit code says that not all went.

use crate::common::*;

#[test]
fn logout_all_goes_on_past_failures_and_names_them() {
    let server = mock();
    let sandbox = Sandbox::new();
    let mut run = sandbox.spawn(&env_for(&server), &["--profile", "zz-good", "login", "--no-browser"]);
    browse(&run.authorization_url());
    assert_eq!(run.finish().code(), Some(0));
    let profiles = sandbox.store().join("profiles");
    let good = std::fs::read_to_string(profiles.join("zz-good.json")).unwrap();
    // Sorted before the good one: a symlink, and a profile whose configuration lost CLIENT_ID.
    std::os::unix::fs::symlink(profiles.join("zz-good.json"), profiles.join("a-link.json")).unwrap();
    let mut broken: serde_json::Value = serde_json::from_str(&good).unwrap();
    broken["config"].as_object_mut().unwrap().remove("CLIENT_ID");
    broken["config"].as_object_mut().unwrap().remove("CLIENT_SECRET");
    std::fs::write(profiles.join("b-noclient.json"), broken.to_string()).unwrap();

    let done = sandbox.run(&[], &["logout", "--all"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(done.stderr.contains("profile zz-good:\nSigned out"), "{}", done.stderr);
    assert!(done.stderr.contains("2 could not be signed out: a-link, b-noclient"), "both named: {}", done.stderr);
    assert!(!profiles.join("zz-good.json").exists(), "the good profile was signed out");
    let lock_files: Vec<_> = std::fs::read_dir(&profiles)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".lock"))
        .collect();
    assert!(lock_files.is_empty(), "lock files left behind: {lock_files:?}");
}

/// Signs profile `name` in at `server`; returns what its file keeps.
fn sign_in(sandbox: &Sandbox, server: &sipgate_oauth::mock::MockServer, name: &str) -> serde_json::Value {
    let mut run = sandbox.spawn(&env_for(server), &["--profile", name, "login", "--no-browser"]);
    browse(&run.authorization_url());
    assert_eq!(run.finish().code(), Some(0));
    let file = sandbox.store().join("profiles").join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

/// A token file as the first version wrote it: format 1 (tokens only), directly in the store directory,
/// named `tokens-<first 16 hex digits of SHA-256(token_url "\n" client_id)>.json`, mode 0600, with the lock
/// file that version left beside it.
pub(crate) fn write_first_version_file(
    sandbox: &Sandbox,
    token_url: &str,
    client_id: &str,
    kept: &serde_json::Value,
) -> String {
    use std::os::unix::fs::PermissionsExt;
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("{token_url}\n{client_id}").as_bytes());
    let name: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("tokens-{name}.json");
    let old = serde_json::json!({
        "version": 1, "token_url": token_url, "client_id": client_id, "token_type": "bearer",
        "access_token": kept["access_token"], "access_expires_at": kept["access_expires_at"],
        "refresh_token": kept["refresh_token"], "refresh_expires_at": kept["refresh_expires_at"], "scope": null,
    });
    for (file, text) in [(name.clone(), old.to_string()), (format!("{name}.lock"), String::new())] {
        let path = sandbox.store().join(file);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    name
}

/// Everything in the store directory and its `profiles` directory but the directory itself.
pub(crate) fn files_left(sandbox: &Sandbox) -> Vec<String> {
    let list = |dir: std::path::PathBuf| -> Vec<String> {
        std::fs::read_dir(dir).map_or_else(
            |_| Vec::new(),
            |entries| entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect(),
        )
    };
    let mut left: Vec<String> = list(sandbox.store()).into_iter().filter(|name| name != "profiles").collect();
    left.extend(list(sandbox.store().join("profiles")));
    left
}

#[test]
fn logout_all_signs_out_the_first_versions_token_files() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = env_for(&server);
    let value = |key: &str| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).unwrap();
    // A sign-in the first version kept: real tokens of the stand-in, no profile of its own.
    let donor = sign_in(&sandbox, &server, "donor");
    std::fs::remove_file(sandbox.store().join("profiles/donor.json")).unwrap();
    let _ = std::fs::remove_file(sandbox.store().join("profiles/donor.json.lock"));
    let live = write_first_version_file(&sandbox, &value("TOKEN_URL"), &value("CLIENT_ID"), &donor);
    // One of a client no configuration names (nothing can revoke it), and a lock file of a carried-over one.
    let fake = serde_json::json!({"access_token": "a", "refresh_token": "r", "access_expires_at": 1, "refresh_expires_at": null});
    let orphan = write_first_version_file(&sandbox, "https://login.invalid/token", "gone-client", &fake);
    std::fs::remove_file(sandbox.store().join(&orphan)).unwrap();
    let stranger = write_first_version_file(&sandbox, "https://login.invalid/token", "old-client", &fake);
    // The profile whose kept configuration is for the first version's client: run without any .env.
    sign_in(&sandbox, &server, "zz-good");

    let done = sandbox.run(&[], &["logout", "--all"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains(&format!("{live} (kept by the first version):\nSigned out: the tokens were revoked")),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(&format!(
            "{stranger} (kept by the first version):\nSigned out here: the tokens were deleted. But revoking them at the \
             server failed (CLIENT_ID: no configuration at hand (.env, the environment or a kept profile) is for \
             client old-client at https://login.invalid/token)"
        )),
        "{}",
        done.stderr
    );
    assert!(done.stderr.contains("profile zz-good:\nSigned out"), "{}", done.stderr);
    assert_eq!(files_left(&sandbox), Vec::<String>::new(), "nothing is kept, no lock file either");
    // The first version's refresh token is dead at the server.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", donor["refresh_token"].as_str().unwrap()),
        ("client_id", &value("CLIENT_ID")),
        ("client_secret", &value("CLIENT_SECRET")),
    ];
    let refreshed = agent().post(value("TOKEN_URL")).send_form(form).unwrap();
    assert_eq!(refreshed.status(), 400, "the revoked refresh token still works");
}

#[test]
fn logout_all_names_a_first_version_file_it_cannot_read_and_signs_out_the_rest() {
    let server = mock();
    let sandbox = Sandbox::new();
    let kept = sign_in(&sandbox, &server, "good");
    let broken = write_first_version_file(&sandbox, "https://login.invalid/token", "old-client", &kept);
    std::fs::write(sandbox.store().join(&broken), "{ not json").unwrap();

    let done = sandbox.run(&[], &["logout", "--all"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert!(done.stderr.contains(&format!("1 could not be signed out: {broken}")), "{}", done.stderr);
    assert!(done.stderr.contains("profile good:\nSigned out"), "{}", done.stderr);
    // The unreadable file is left as it was, for the user to look at; the profile is gone.
    assert_eq!(std::fs::read_to_string(sandbox.store().join(&broken)).unwrap(), "{ not json");
    assert!(!sandbox.store().join("profiles/good.json").exists());
}
