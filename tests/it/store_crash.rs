//! The token store under real processes: a save killed with SIGKILL at a random moment, and read-modify-write
//! cycles of two processes serialised by the store's lock.
//!
//! The workers are this test binary itself, started again with `SIPGATE_OAUTH_STORE_WORKER` set, which makes
//! the `worker` test do the work instead of returning at once.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use std::time::{Duration, UNIX_EPOCH};

use crate::common::starting;
use sipgate_oauth::internals::{Record, Store, unix_seconds};
use sipgate_oauth::{AccessToken, RefreshToken, TokenSet};

const WORKER_VAR: &str = "SIPGATE_OAUTH_STORE_WORKER";
const TOKEN_URL: &str = "http://127.0.0.1:1/token";
const CLIENT_ID: &str = "crash-test";

/// Kills of a saving process.
const KILLS: usize = 50;
/// Increments per process in the lock test.
const INCREMENTS: u64 = 100;

/// One of two token sets that differ in every field and in length, so a mix or a torn write cannot parse
/// as either.
fn token_set(which: usize) -> Record {
    let (letter, length) = [('a', 6000), ('b', 9000)][which];
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    let tokens = TokenSet {
        access_token: AccessToken::new(letter.to_string().repeat(length)),
        token_type: "Bearer".to_owned(),
        received_at: at(500 + which as u64),
        expires_at: at(1_000 + which as u64),
        refresh_token: Some(RefreshToken::new(letter.to_ascii_uppercase().to_string().repeat(length))),
        refresh_expires_at: Some(at(2_000 + which as u64)),
        scope: Some(format!("scope-{letter}")),
        id_token: None,
    };
    Record {
        token_url: TOKEN_URL.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        tokens,
        user_id: None,
        config: Default::default(),
    }
}

/// The worker side. `crash:<dir>`: save the two token sets alternately forever, printing `saved <n>` after
/// each save. `lock:<dir>`: wait for a line on stdin, then add 1 to the counter kept in `access_expires_at`
/// [`INCREMENTS`] times, each under the lock. `save:<dir>`: save once and take the lock once.
#[test]
#[ignore = "a child process of the other store_crash tests, which start it themselves"]
fn worker() {
    let task =
        std::env::var(WORKER_VAR).expect("run only by the store_crash tests, which set SIPGATE_OAUTH_STORE_WORKER");
    let (kind, dir) = task.split_once(':').expect("the test sets SIPGATE_OAUTH_STORE_WORKER to <kind>:<dir>");
    let store = Store::new(&PathBuf::from(dir), "default");
    match kind {
        "crash" => {
            let sets = [token_set(0), token_set(1)];
            for n in 0.. {
                store.save(&sets[n % 2]).unwrap();
                println!("saved {n}");
            }
        }
        "lock" => {
            std::io::stdin().lines().next().unwrap().unwrap();
            for _ in 0..INCREMENTS {
                let _lock = store.lock().unwrap();
                let first = || {
                    let mut first = token_set(0);
                    first.tokens.expires_at = UNIX_EPOCH;
                    first
                };
                let mut tokens = store.load().unwrap().unwrap_or_else(first);
                let count = unix_seconds(tokens.tokens.expires_at);
                // Give the other process every chance to read the same count if the lock did not hold.
                std::thread::yield_now();
                tokens.tokens.expires_at = UNIX_EPOCH + Duration::from_secs(count + 1);
                store.save(&tokens).unwrap();
            }
        }
        "save" => {
            // `dir` does not exist yet: save creates it, lock adds the lock file, and a plain file shows
            // which umask the worker ran with.
            store.save(&token_set(0)).unwrap();
            drop(store.lock().unwrap());
            std::fs::write(Path::new(dir).join("control"), "").unwrap();
        }
        _ => panic!("unknown worker {kind}"),
    }
}

fn spawn_worker(kind: &str, dir: &Path) -> Child {
    let mut command =
        worker_command(Command::new(std::env::current_exe().expect("the test binary knows its path")), kind, dir);
    starting(|| command.spawn()).expect("the test binary can start itself")
}

fn worker_command(mut command: Command, kind: &str, dir: &Path) -> Command {
    command
        .args(["store_crash::worker", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(WORKER_VAR, format!("{kind}:{}", dir.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// The modes must not depend on the umask: a worker started with umask 000 still creates the directory 0700
/// and the token and lock files 0600.
#[test]
#[cfg(unix)]
fn modes_hold_with_umask_0() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("new").join("store");
    let mut shell = Command::new("/bin/sh");
    shell.args(["-c", "umask 000 && exec \"$0\" \"$@\""]).arg(std::env::current_exe().unwrap());
    let status = worker_command(shell, "save", &dir).status().expect("/bin/sh runs");
    assert!(status.success());
    let mode =
        |path: &Path| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).unwrap().permissions()) & 0o777;
    assert_eq!(mode(&dir.join("control")), 0o666, "the worker did not run with umask 000");
    let store = Store::new(&dir, "default");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("profiles")), 0o700);
    assert_eq!(mode(store.path()), 0o600);
    let lock_file = dir.join("profiles").join(format!("{}.lock", store.path().file_name().unwrap().to_str().unwrap()));
    assert_eq!(mode(&lock_file), 0o600);
}

#[test]
fn a_save_killed_at_any_moment_leaves_one_complete_token_set() {
    let temp = tempfile::tempdir().unwrap();
    let store = Store::new(temp.path(), "default");
    let sets = [token_set(0), token_set(1)];
    let mut seen = [0usize; 2];
    let mut failures = Vec::new();
    let mut saves_total = 0usize;
    for round in 0..KILLS {
        let mut child = spawn_worker("crash", temp.path());
        // Keep the pipe open until the child is dead: a closed pipe would make its println fail, and it
        // would die between two saves instead of at a random point.
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let wanted = 1 + round % 10;
        let mut saves = 0;
        while saves < wanted {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("saved ") => saves += 1,
                Some(Ok(_)) => {}
                other => panic!("the worker stopped after {saves} saves: {other:?}"),
            }
        }
        // Not a wait for anything: a spread of 0 to 2 ms moves the kill across the phases of the save in
        // progress (a save with its two fsyncs takes about that long), instead of always right after a line.
        std::thread::sleep(std::time::Duration::from_micros((round * 37 % 50) as u64 * 40));
        child.kill().expect("the worker is still running");
        child.wait().expect("the killed worker can be reaped");
        saves_total += saves;
        drop(lines);
        match store.load() {
            Ok(Some(tokens)) if tokens == sets[0] => seen[0] += 1,
            Ok(Some(tokens)) if tokens == sets[1] => seen[1] += 1,
            Ok(Some(_)) => failures.push(format!("round {round}: a token set that was never saved")),
            Ok(None) => failures.push(format!("round {round}: no token file")),
            Err(error) => failures.push(format!("round {round}: {error}")),
        }
    }
    let temp_files = std::fs::read_dir(temp.path())
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    eprintln!(
        "{KILLS} kills after at least {saves_total} saves in all: set A {} times, set B {} times, \
         {} failures; {temp_files} temp files left by killed saves",
        seen[0],
        seen[1],
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    // The leftovers do not disturb a later save or load.
    store.save(&sets[1]).unwrap();
    assert_eq!(store.load().unwrap(), Some(sets[1].clone()));
}

#[test]
fn two_processes_never_update_the_store_at_the_same_time() {
    let temp = tempfile::tempdir().unwrap();
    let store = Store::new(temp.path(), "default");
    let mut workers = [spawn_worker("lock", temp.path()), spawn_worker("lock", temp.path())];
    // Start both at once, so their loops overlap in time.
    for worker in &mut workers {
        worker.stdin.take().expect("stdin is piped").write_all(b"go\n").unwrap();
    }
    for worker in &mut workers {
        assert!(worker.wait().unwrap().success());
    }
    let count = unix_seconds(store.load().unwrap().expect("the workers saved").tokens.expires_at);
    eprintln!("2 processes × {INCREMENTS} locked increments: counter = {count:?}");
    assert_eq!(count, 2 * INCREMENTS);
}
