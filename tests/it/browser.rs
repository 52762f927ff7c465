//! sipgate-oauth with a real browser: headless Chromium (Debian's /usr/bin/chromium), driven by
//! tests/peer/chromium-allow.js through playwright-core, is `$BROWSER`. It clicks through the
//! sign-in pages of the crate's own sipgate stand-in (`sipgate-oauth mock`) and of the
//! independent oidc-provider peer (tests/peer/server.js), saying yes or no.
//!
//! Ignored by plain `cargo test`; run `.ci/peer-setup` once, then
//! `cargo test --test browser -- --ignored` (add `--nocapture` for timings and screenshot paths).
//! Screenshots of the sign-in page and of the callback page land in
//! `target/tmp/browser-screenshots/` (`mock-allow-signin.png`, `mock-allow.png`, …).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

const LIMIT: Duration = Duration::from_secs(150);

fn screenshot(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&path);
    path
}

/// `$BROWSER`: Chromium clicking Allow (or Deny), with screenshots `<shot>-signin.png` and `<shot>`.
fn chromium(dir: &TempDir, name: &str, deny: bool, shot: &std::path::Path) -> PathBuf {
    let script = peer_dir().join("chromium-allow.js");
    let deny = if deny { " --deny" } else { "" };
    browser_wrapper(dir, name, &format!("node '{}'{deny} --screenshot '{}'", script.display(), shot.display()))
}

fn start_peer(dir: &TempDir) -> Announced {
    require_setup(true);
    start_oidc_provider(dir, &[])
}

fn peer_env_file(dir: &TempDir, peer: &Announced) -> PathBuf {
    let path = dir.path("sipgate.env");
    let keys =
        ["AUTH_URL", "TOKEN_URL", "TEST_API_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET", "OAUTH_SCOPE", "REDIRECT_URI"];
    let vars: Vec<(&str, &str)> = keys.iter().map(|k| (*k, peer.var(k))).collect();
    write_env_file(&path, &vars);
    path
}

/// The plain flow with `env`, `$BROWSER` being the Chromium script: the run, the script's exit, its log.
fn flow_in_chromium(dir: &TempDir, env: &std::path::Path, browser: &std::path::Path) -> (Run, Option<i32>, String) {
    let run = run_with_browser(
        cli(&["--env-file", env.to_str().unwrap(), "--timeout", "90"], browser, &dir.path("store")),
        LIMIT,
        dir,
        "chromium",
    );
    let browser_exit = browser_status(dir, "chromium", Duration::from_secs(60));
    (run, browser_exit, browser_log(dir, "chromium"))
}

fn assert_two_documents(run: &Run, company: Option<&str>) {
    let docs = json_documents(&run.stdout);
    assert_eq!(docs.len(), 2, "two API responses on stdout:\n{}", run.describe());
    for doc in &docs {
        assert!(doc.is_object(), "{}", run.describe());
        if let Some(company) = company {
            assert_eq!(doc["company"], company, "{}", run.describe());
        }
    }
}

/// Chromium signs in at oidc-provider's pages (login form, then consent) and says yes.
#[test]
#[ignore = "needs Chromium and the oidc-provider peer: run .ci/peer-setup first"]
fn chromium_signs_in_at_oidc_provider() {
    let started = Instant::now();
    let dir = TempDir::new("browser-peer-allow");
    let peer = start_peer(&dir);
    let env = peer_env_file(&dir, &peer);
    let shot = screenshot("peer-allow");
    let browser = chromium(&dir, "chromium", false, &shot);
    let (run, browser_exit, log) = flow_in_chromium(&dir, &env, &browser);
    assert_eq!(run.code(), Some(0), "{}\n--- chromium ---\n{log}\n--- peer ---\n{}", run.describe(), peer.log());
    assert_two_documents(&run, Some("Peer"));
    assert_eq!(browser_exit, Some(0), "chromium-allow.js:\n{log}");
    assert!(shot.exists(), "screenshot at {}", shot.display());
    eprintln!(
        "browser, peer allow: CLI {:?}, test {:?}; screenshots {}",
        run.elapsed,
        started.elapsed(),
        shot.display()
    );
}

/// Chromium cancels at oidc-provider's sign-in page: the CLI fails with access_denied.
#[test]
#[ignore = "needs Chromium and the oidc-provider peer: run .ci/peer-setup first"]
fn chromium_cancels_at_oidc_provider() {
    let started = Instant::now();
    let dir = TempDir::new("browser-peer-deny");
    let peer = start_peer(&dir);
    let env = peer_env_file(&dir, &peer);
    let shot = screenshot("peer-cancel");
    let browser = chromium(&dir, "chromium", true, &shot);
    let (run, browser_exit, log) = flow_in_chromium(&dir, &env, &browser);
    assert_eq!(run.code(), Some(1), "{}\n--- chromium ---\n{log}", run.describe());
    assert!(run.stderr.contains("access_denied"), "stderr names access_denied:\n{}", run.describe());
    assert!(json_documents(&run.stdout).is_empty(), "{}", run.describe());
    assert_eq!(browser_exit, Some(0), "chromium-allow.js --deny:\n{log}");
    eprintln!("browser, peer cancel: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}

/// `sipgate-oauth mock --port 0` (with its sign-in page: no --auto-approve), announced by its
/// `.env` lines on stdout.
fn start_mock(dir: &TempDir) -> Announced {
    require_setup(true);
    let mut cmd = Command::new(cli_path());
    cmd.args(["mock", "--port", "0"]);
    for key in CONFIG_KEYS {
        cmd.env_remove(key);
    }
    start_announcing("sipgate-oauth mock", cmd, dir.path("mock.log"), Duration::from_secs(30), |lines| {
        lines.iter().any(|l| l.starts_with("REDIRECT_URI="))
    })
}

/// The mock's `.env` lines, with the redirect URI on port 0 (the CLI picks a free port; the mock
/// accepts any port for http://127.0.0.1, RFC 8252 §7.3).
fn mock_env_file(dir: &TempDir, mock: &Announced) -> PathBuf {
    let path = dir.path("sipgate.env");
    let keys = ["AUTH_URL", "TOKEN_URL", "TEST_API_ENDPOINT", "CLIENT_ID", "CLIENT_SECRET", "OAUTH_SCOPE"];
    let mut vars: Vec<(&str, &str)> = keys.iter().map(|k| (*k, mock.var(k))).collect();
    vars.push(("REDIRECT_URI", "http://127.0.0.1:0/oauth"));
    write_env_file(&path, &vars);
    path
}

/// Chromium opens the stand-in's sign-in page, clicks Allow, and sees the CLI's success page.
#[test]
#[ignore = "needs Chromium: run .ci/peer-setup first"]
fn chromium_allows_at_the_mock() {
    let started = Instant::now();
    let dir = TempDir::new("browser-mock-allow");
    let mock = start_mock(&dir);
    let env = mock_env_file(&dir, &mock);
    let shot = screenshot("mock-allow");
    let browser = chromium(&dir, "chromium", false, &shot);
    let (run, browser_exit, log) = flow_in_chromium(&dir, &env, &browser);
    assert_eq!(run.code(), Some(0), "{}\n--- chromium ---\n{log}\n--- mock ---\n{}", run.describe(), mock.log());
    assert_two_documents(&run, None);
    assert_eq!(browser_exit, Some(0), "chromium-allow.js:\n{log}");
    assert!(log.contains("clicking \"Allow\""), "Chromium clicked the sign-in page's Allow button:\n{log}");
    assert!(shot.exists(), "screenshot at {}", shot.display());
    assert!(!run.stdout.contains(mock.var("CLIENT_SECRET")) && !run.stderr.contains(mock.var("CLIENT_SECRET")));
    eprintln!(
        "browser, mock allow: CLI {:?}, test {:?}; screenshots {}",
        run.elapsed,
        started.elapsed(),
        shot.display()
    );
}

/// Chromium clicks Deny on the stand-in's sign-in page: the CLI exits 1 naming access_denied.
#[test]
#[ignore = "needs Chromium: run .ci/peer-setup first"]
fn chromium_denies_at_the_mock() {
    let started = Instant::now();
    let dir = TempDir::new("browser-mock-deny");
    let mock = start_mock(&dir);
    let env = mock_env_file(&dir, &mock);
    let shot = screenshot("mock-deny");
    let browser = chromium(&dir, "chromium", true, &shot);
    let (run, browser_exit, log) = flow_in_chromium(&dir, &env, &browser);
    assert_eq!(run.code(), Some(1), "{}\n--- chromium ---\n{log}\n--- mock ---\n{}", run.describe(), mock.log());
    assert!(run.stderr.contains("access_denied"), "stderr names access_denied:\n{}", run.describe());
    assert!(json_documents(&run.stdout).is_empty(), "{}", run.describe());
    assert_eq!(browser_exit, Some(0), "chromium-allow.js --deny:\n{log}");
    assert!(log.contains("clicking \"Deny\""), "Chromium clicked the sign-in page's Deny button:\n{log}");
    eprintln!("browser, mock deny: CLI {:?}, test {:?}", run.elapsed, started.elapsed());
}
