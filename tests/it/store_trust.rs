//! The token store does not trust what it finds (issue 10, item 4): a token file planted by another user,
//! a symlink, a FIFO, `/dev/zero`, a file or directory others can write, a symlinked lock file are refused
//! with a message that says what to fix; a symlinked store directory of the user keeps working.
//!
//! Each test drives the real binary. Runs that could hang or eat memory on a store that trusts what it
//! reads (a FIFO, `/dev/zero`) run under `ulimit -v` and a deadline kept by a channel. The tests that need
//! "another user" chown files to uid 65534 and so run only as root; otherwise they print a note and pass.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use sipgate_oauth::internals::{Record, Store};
use sipgate_oauth::{AccessToken, RefreshToken, TokenSet};

use crate::common::{Finished, PATIENCE, Sandbox, env_for, mock};

/// The access token in the files these tests put into the store.
const PLANTED: &str = "planted-access-token";
/// The user the tests pretend is someone else.
const NOBODY: u32 = 65534;

fn var(env: &[(&str, String)], name: &str) -> String {
    env.iter().find(|(key, _)| *key == name).map(|(_, value)| value.clone()).expect("the stand-in's env has it")
}

/// The store of the default profile in `dir`.
fn store_in(dir: PathBuf, _env: &[(&str, String)]) -> Store {
    Store::new(&dir, "default")
}

/// A valid token file of the configured client whose access token [`PLANTED`] is good for hours.
fn token_file(env: &[(&str, String)]) -> String {
    let now = SystemTime::now();
    let tokens = TokenSet {
        access_token: AccessToken::new(PLANTED),
        token_type: "Bearer".to_owned(),
        received_at: now,
        expires_at: now + Duration::from_secs(10 * 3600),
        refresh_token: Some(RefreshToken::new("planted-refresh-token")),
        refresh_expires_at: Some(now + Duration::from_secs(20 * 3600)),
        scope: None,
        id_token: None,
    };
    let config = Default::default();
    Record { token_url: var(env, "TOKEN_URL"), client_id: var(env, "CLIENT_ID"), tokens, user_id: None, config }
        .to_json()
}

/// Writes `text` to `path` with exactly `mode`, whatever the umask (its directory is created 0700 if missing).
fn write_file(path: &Path, text: &str, mode: u32) {
    if let Some(parent) = path.parent() {
        DirBuilder::new().recursive(true).mode(0o700).create(parent).unwrap();
    }
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Creates `dir` with exactly `mode`.
fn make_dir(dir: &Path, mode: u32) {
    DirBuilder::new().recursive(true).mode(0o700).create(dir).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Whether the tests run as root, who can give files to another user. Prints a note when not.
fn root_or_note(test: &str) -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    let root = output.stdout.starts_with(b"0\n");
    if !root {
        eprintln!("note: {test} needs root to chown a file to uid {NOBODY}; skipped");
    }
    root
}

/// Runs the binary with at most 1 GiB of address space and fails the test if it has not ended within
/// [`PATIENCE`] (it is then killed). Waits on a channel, never sleeps.
fn run_guarded(sandbox: &Sandbox, env: &[(&str, String)], args: &[&str]) -> Finished {
    let inner = sandbox.command(env, args);
    let mut command = Command::new("sh");
    command.arg("-c").arg(r#"ulimit -v 1048576 && exec "$0" "$@""#).arg(inner.get_program()).args(inner.get_args());
    command.env_clear();
    for (key, value) in inner.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    command.current_dir(sandbox.dir.path()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || sender.send(child.wait_with_output()));
    match receiver.recv_timeout(PATIENCE) {
        Ok(output) => {
            let output = output.unwrap();
            Finished {
                status: output.status,
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        }
        Err(_) => {
            // `sh` exec'd the binary, so `pid` is the binary's.
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            panic!("`sipgate-oauth {}` still ran after {PATIENCE:?}: it hangs", args.join(" "));
        }
    }
}

/// Asserts a refusal: exit code 1, each of `wanted` on stderr, the planted token nowhere.
fn assert_refused(run: &Finished, wanted: &[&str]) {
    assert_eq!(run.code(), Some(1), "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    for text in wanted {
        assert!(run.stderr.contains(text), "{text:?} is not on stderr: {}", run.stderr);
    }
    assert!(!run.stdout.contains(PLANTED) && !run.stderr.contains(PLANTED), "{run:?}");
}

#[test]
fn a_token_file_planted_by_another_user_is_refused() {
    if !root_or_note("a_token_file_planted_by_another_user_is_refused") {
        return;
    }
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store().join("profiles"), 0o700);
    let store = store_in(sandbox.store(), &env);
    let planted = token_file(&env);
    write_file(store.path(), &planted, 0o600);
    std::os::unix::fs::chown(store.path(), Some(NOBODY), Some(NOBODY)).unwrap();

    let run = sandbox.run(&env, &["token"]);
    assert_refused(&run, &[&store.path().display().to_string(), "belongs to uid 65534", "remove it"]);
    assert_eq!(fs::read_to_string(store.path()).unwrap(), planted, "left as it is");
}

#[test]
fn a_symlinked_token_file_is_refused() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store().join("profiles"), 0o700);
    let elsewhere = sandbox.dir.path().join("elsewhere.json");
    write_file(&elsewhere, &token_file(&env), 0o600);
    let store = store_in(sandbox.store(), &env);
    std::os::unix::fs::symlink(&elsewhere, store.path()).unwrap();

    let run = sandbox.run(&env, &["token"]);
    assert_refused(&run, &["symbolic link", "remove it"]);
    assert!(fs::symlink_metadata(store.path()).unwrap().file_type().is_symlink(), "left as it is");
}

#[test]
fn a_fifo_at_the_token_path_fails_promptly() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store().join("profiles"), 0o700);
    let store = store_in(sandbox.store(), &env);
    let made = Command::new("mkfifo").args(["-m", "600"]).arg(store.path()).status().unwrap();
    assert!(made.success());

    for command in ["status", "token"] {
        let run = run_guarded(&sandbox, &env, &[command]);
        assert_refused(&run, &["is a FIFO, not a regular file"]);
    }
}

#[test]
fn a_symlink_to_dev_zero_is_refused() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store().join("profiles"), 0o700);
    let store = store_in(sandbox.store(), &env);
    std::os::unix::fs::symlink("/dev/zero", store.path()).unwrap();

    let run = run_guarded(&sandbox, &env, &["status"]);
    assert_refused(&run, &["symbolic link"]);
}

#[test]
fn a_token_file_larger_than_64_kib_is_not_read() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store().join("profiles"), 0o700);
    let store = store_in(sandbox.store(), &env);
    // Valid JSON all the same: leading white space is allowed.
    write_file(store.path(), &format!("{}{}", " ".repeat(70 * 1024), token_file(&env)), 0o600);

    let run = sandbox.run(&env, &["token"]);
    assert_refused(&run, &["larger than 64 KiB"]);
}

#[test]
fn a_token_file_group_or_others_can_write_is_refused() {
    let server = mock();
    let env = env_for(&server);
    for (mode, shown) in [(0o620, "mode 0620"), (0o602, "mode 0602")] {
        let sandbox = Sandbox::new();
        make_dir(&sandbox.store().join("profiles"), 0o700);
        let store = store_in(sandbox.store(), &env);
        write_file(store.path(), &token_file(&env), mode);

        let run = sandbox.run(&env, &["token"]);
        assert_refused(&run, &["group or others can write to it", shown, "remove it"]);
        assert_eq!(mode_of(store.path()), mode, "left as it is");
    }
}

#[test]
fn a_world_writable_store_directory_of_another_user_is_refused() {
    if !root_or_note("a_world_writable_store_directory_of_another_user_is_refused") {
        return;
    }
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store(), 0o777);
    std::os::unix::fs::chown(sandbox.store(), Some(NOBODY), Some(NOBODY)).unwrap();

    for command in ["status", "logout"] {
        let run = sandbox.run(&env, &[command]);
        assert_refused(&run, &["belongs to uid 65534", "SIPGATE_OAUTH_STORE"]);
    }
    assert_eq!(mode_of(&sandbox.store()), 0o777, "not tightened");
    assert_eq!(fs::read_dir(sandbox.store()).unwrap().count(), 0, "no lock file was created in it");
}

#[test]
fn a_store_directory_others_can_write_is_refused_not_tightened() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store(), 0o777);

    for command in ["status", "logout"] {
        let run = sandbox.run(&env, &[command]);
        assert_refused(&run, &["group or others can write to it (mode 0777)", "chmod 700"]);
    }
    assert_eq!(mode_of(&sandbox.store()), 0o777);
}

#[test]
fn a_symlinked_lock_file_is_refused() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    make_dir(&sandbox.store().join("profiles"), 0o700);
    let store = store_in(sandbox.store(), &env);
    write_file(store.path(), &token_file(&env), 0o600);
    let target = sandbox.dir.path().join("created-elsewhere");
    std::os::unix::fs::symlink(&target, format!("{}.lock", store.path().display())).unwrap();

    let run = sandbox.run(&env, &["logout"]);
    assert_refused(&run, &[".json.lock", "symbolic link", "remove it"]);
    assert!(!target.exists(), "the lock was not created through the symlink");
    assert!(store.path().exists(), "the tokens were not deleted");
}

#[test]
fn a_symlinked_store_directory_of_the_user_works() {
    let server = mock();
    let env = env_for(&server);
    let sandbox = Sandbox::new();
    let real = sandbox.dir.path().join("dotfiles").join("sipgate-oauth");
    make_dir(&real, 0o700);
    std::os::unix::fs::symlink(&real, sandbox.store()).unwrap();
    let store = store_in(real.clone(), &env);
    write_file(store.path(), &token_file(&env), 0o600);

    let token = sandbox.run(&env, &["token"]);
    assert_eq!(token.code(), Some(0), "{}", token.stderr);
    assert_eq!(token.stdout, format!("{PLANTED}\n"));

    let logout = sandbox.run(&env, &["logout"]);
    assert_eq!(logout.code(), Some(0), "{}", logout.stderr);
    assert!(logout.stderr.contains("Signed out"), "{}", logout.stderr);
    assert!(!store.path().exists());
    assert!(fs::symlink_metadata(sandbox.store()).unwrap().file_type().is_symlink(), "the symlink stays");
}
