//! Completion scripts against hostile profile file names: a name is never run as code (`$(…)`, backticks,
//! `;`), and only names that could be profiles are offered. bash always; zsh and fish when installed
//! (`#[ignore]`d: `.ci/peer-setup` installs them, `.ci/run` runs these). PowerShell when `pwsh` is there:
//! no registry this machine reaches carries it, so `.ci/run` skips that one and the release workflow runs
//! it on its Windows runner.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// File names in the store's profiles directory: one real profile, the rest an attack or no profile.
const HOSTILE: [&str; 13] = [
    "$(touch PWNED-1).json",
    "`touch PWNED-2`.json",
    "a;touch PWNED-3.json",
    "$(touch${IFS}PWNED-4).json",
    "'x'.json",
    "$(ni PWNED-5).json",
    "';ni PWNED-6;'.json",
    "\u{2018};ni PWNED-7;\u{2019}.json",
    "x y.json",
    "line\nbreak.json",
    "\u{e9}t\u{e9}.json",
    "*.json",
    "work.json",
];

/// A sandbox whose store holds the hostile names, and the completion script of `shell` in it.
fn store_with_hostile_names(shell: &str) -> (Sandbox, std::path::PathBuf) {
    let sandbox = Sandbox::new();
    let profiles = sandbox.store().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    for name in HOSTILE {
        if cfg!(windows) && name.contains(['*', '\n']) {
            continue; // not a file name Windows allows
        }
        std::fs::write(profiles.join(name), "{}").unwrap();
    }
    let printed = sandbox.run(&[], &["completions", shell]);
    assert_eq!(printed.code(), Some(0), "{}", printed.stderr);
    let script = sandbox.dir.path().join(format!("completion.{shell}"));
    std::fs::write(&script, &printed.stdout).unwrap();
    (sandbox, script)
}

/// Runs `program` in `shell` in the sandbox; returns the lines it printed, sorted.
pub(crate) fn offered(sandbox: &Sandbox, shell: &str, program: &str) -> Vec<String> {
    let output = Command::new(shell)
        .arg("-c")
        .arg(program)
        .current_dir(sandbox.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIPGATE_OAUTH_STORE", sandbox.store())
        .env("HOME", sandbox.dir.path())
        .output()
        .expect("the shell runs");
    assert!(output.status.success(), "{shell}: {}", String::from_utf8_lossy(&output.stderr));
    let mut lines: Vec<String> =
        String::from_utf8_lossy(&output.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    lines.sort();
    lines
}

/// No `PWNED-*` file appeared anywhere in the sandbox.
fn nothing_ran(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with("PWNED"), "a file name ran code: {name} appeared");
        if entry.file_type().unwrap().is_dir() {
            nothing_ran(&entry.path());
        }
    }
}

#[test]
#[cfg(unix)] // bash
fn bash_completes_only_profile_names_and_runs_none() {
    let (sandbox, script) = store_with_hostile_names("bash");
    let complete = |line: &str, cword: usize| {
        let program = format!(
            "source '{}'; COMP_WORDS=({line}); COMP_CWORD={cword}; _sipgate_oauth; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        offered(&sandbox, "bash", &program)
    };
    assert_eq!(complete("sipgate-oauth --profile ''", 2), ["work"]);
    assert_eq!(complete("sipgate-oauth --profile w", 2), ["work"]);
    assert_eq!(complete("sipgate-oauth --profile = ''", 3), ["work"]);
    assert!(complete("sipgate-oauth --profile '$(touch PWNED-5)'", 2).is_empty());
    nothing_ran(sandbox.dir.path());
}

#[test]
#[ignore = "needs zsh: cargo test --test it -- --ignored completion_injection::"]
fn zsh_completes_only_profile_names_and_runs_none() {
    let (sandbox, script) = store_with_hostile_names("zsh");
    // compadd, stubbed: prints the words it is handed (-a NAME: the elements of the array NAME).
    let program = format!(
        "compadd() {{ [[ $1 == -a ]] && print -rl -- \"${{(@P)2}}\"; }}; source '{}'; _sipgate_oauth_profiles",
        script.display()
    );
    assert_eq!(offered(&sandbox, "zsh", &program), ["work"]);
    nothing_ran(sandbox.dir.path());
}

#[test]
#[ignore = "needs fish: cargo test --test it -- --ignored completion_injection::"]
fn fish_completes_only_profile_names_and_runs_none() {
    let (sandbox, script) = store_with_hostile_names("fish");
    let program = format!("source '{}'; complete -C 'sipgate-oauth --profile '", script.display());
    let offered = offered(&sandbox, "fish", &program);
    let names: Vec<&str> = offered.iter().map(|line| line.split('\t').next().unwrap_or_default()).collect();
    assert_eq!(names, ["work"]);
    nothing_ran(sandbox.dir.path());
}

#[test]
#[ignore = "needs pwsh (PowerShell 7): cargo test --test it -- --ignored completion_injection::powershell"]
fn powershell_completes_only_profile_names_and_runs_none() {
    let (sandbox, script) = store_with_hostile_names("powershell");
    // TabExpansion2 is what PowerShell's own Tab key calls.
    let complete = |line: &str| {
        let program = format!(
            ". '{}'; (TabExpansion2 -inputScript '{line}' -cursorColumn {}).CompletionMatches | \
             ForEach-Object {{ $_.CompletionText }}",
            script.display(),
            line.len()
        );
        let output = Command::new("pwsh")
            .args(["-NoProfile", "-NonInteractive", "-Command", &program])
            .current_dir(sandbox.dir.path())
            .env("SIPGATE_OAUTH_STORE", sandbox.store())
            .output()
            .expect("pwsh runs");
        assert!(output.status.success(), "pwsh: {}", String::from_utf8_lossy(&output.stderr));
        let mut lines: Vec<String> =
            String::from_utf8_lossy(&output.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(complete("sipgate-oauth --profile "), ["work"]);
    assert_eq!(complete("sipgate-oauth --profile w"), ["work"]);
    assert_eq!(complete("sipgate-oauth --profile=w"), ["--profile=work"]);
    assert!(complete("sipgate-oauth --profile $(ni PWNED-8)").is_empty());
    // What the tables hold: quoted where PowerShell would read a brace.
    assert!(complete("sipgate-oauth api /hi").contains(&"/history".to_owned()));
    assert!(complete("sipgate-oauth api /{userId}/sm").contains(&"'/{userId}/sms'".to_owned()));
    let get = complete("sipgate-oauth api GET /history/");
    assert!(get.contains(&"'/history/{entryId}'".to_owned()), "{get:?}");
    assert!(!get.contains(&"'/history/{entryId}/archive'".to_owned()), "PUT only: {get:?}");
    assert!(complete("sipgate-oauth mock --auto").contains(&"--auto-approve".to_owned()));
    assert!(complete("sipgate-oauth mock --pro").is_empty(), "mock takes no --profile");
    nothing_ran(sandbox.dir.path());
}
