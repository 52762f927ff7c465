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
