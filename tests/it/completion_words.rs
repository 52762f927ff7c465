//! Completion of what the tables hold, in the real shells: `api`'s paths (the operation table, as
//! `api --list --json` lists it) and methods, and `mock`'s own flags (as `mock --help` lists them) rather
//! than the client's options. bash always; zsh and fish when installed (`#[ignore]`d: `.ci/peer-setup`
//! installs them, `.ci/run` runs these).

use std::path::{Path, PathBuf};

use crate::common::*;

/// The completion script of `shell`, written into the sandbox.
fn script(sandbox: &Sandbox, shell: &str) -> PathBuf {
    let printed = sandbox.run(&[], &["completions", shell]);
    assert_eq!(printed.code(), Some(0), "{}", printed.stderr);
    let script = sandbox.dir.path().join(format!("completion.{shell}"));
    std::fs::write(&script, &printed.stdout).unwrap();
    script
}

/// The paths `api --list --json` lists that start with `prefix`, each once, sorted.
fn listed_paths(sandbox: &Sandbox, prefix: &str) -> Vec<String> {
    listed_paths_for(sandbox, prefix, None)
}

/// The same for the operations with `method` only, if one is given.
fn listed_paths_for(sandbox: &Sandbox, prefix: &str, method: Option<&str>) -> Vec<String> {
    let listed = sandbox.run(&[], &["api", "--list", "--json"]).json_documents().remove(0);
    let mut paths: Vec<String> = listed
        .as_array()
        .expect("a list of operations")
        .iter()
        .filter(|op| method.is_none_or(|method| op["method"] == method))
        .map(|op| op["path"].as_str().expect("each has a path").to_owned())
        .filter(|path| path.starts_with(prefix))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// The flags `mock --help` lists that start with `prefix`, sorted.
fn mock_flags(sandbox: &Sandbox, prefix: &str) -> Vec<String> {
    flags_in_help(sandbox, &["mock", "--help"], prefix)
}

/// The flags the help printed by `args` lists that start with `prefix`, sorted.
fn flags_in_help(sandbox: &Sandbox, args: &[&str], prefix: &str) -> Vec<String> {
    let help = sandbox.run(&[], args);
    assert_eq!(help.code(), Some(0), "{}", help.stderr);
    let mut flags: Vec<String> = help
        .stdout
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("--"))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|flag| flag.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

/// Runs `program` with `shell` in the sandbox; the lines it printed (up to a tab), sorted, each once.
fn run_shell(sandbox: &Sandbox, shell: &str, program: &str) -> Vec<String> {
    let mut lines: Vec<String> = crate::completion_injection::offered(sandbox, shell, program)
        .iter()
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    lines.dedup();
    lines
}

/// What each shell offers for a command line whose last word is being completed.
type Completer<'a> = Box<dyn Fn(&[&str]) -> Vec<String> + 'a>;

/// bash, as readline calls it: `COMP_WORDS`, `COMP_CWORD`, then `COMPREPLY`.
fn bash<'a>(sandbox: &'a Sandbox, script: &'a Path) -> Completer<'a> {
    Box::new(move |line: &[&str]| {
        let words = line.iter().map(|word| format!("'{word}'")).collect::<Vec<_>>().join(" ");
        let program = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={}; _sipgate_oauth; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            line.len() - 1
        );
        run_shell(sandbox, "bash", &program)
    })
}

/// zsh with `compadd` stubbed to print the words it is handed (`-a NAME`: the array's elements), matched
/// against the typed prefix as `compadd` does; `_files` prints `FILES`.
fn zsh<'a>(sandbox: &'a Sandbox, script: &'a Path) -> Completer<'a> {
    Box::new(move |line: &[&str]| {
        let words = line.iter().map(|word| format!("'{word}'")).collect::<Vec<_>>().join(" ");
        let program = format!(
            "compadd() {{ if [[ $1 == -a ]]; then print -rl -- \"${{(@P)2}}\"; else [[ $1 == -- ]] && shift; \
             print -rl -- \"$@\"; fi; }}; compset() {{ :; }}; _files() {{ print FILES; }}; source '{}'; \
             words=({words}); CURRENT={}; _sipgate_oauth",
            script.display(),
            line.len()
        );
        let typed = line.last().copied().unwrap_or_default();
        let offered = run_shell(sandbox, "zsh", &program);
        offered.into_iter().filter(|word| word.starts_with(typed) || word == "FILES").collect()
    })
}

/// fish's own completion engine: `complete -C LINE`.
fn fish<'a>(sandbox: &'a Sandbox, script: &'a Path) -> Completer<'a> {
    Box::new(move |line: &[&str]| {
        let program = format!("source '{}'; complete -C '{}'", script.display(), line.join(" "));
        run_shell(sandbox, "fish", &program)
    })
}

/// The same answers from every shell: paths from the table, methods after `-X`, the stand-in's flags.
fn completes_paths_methods_and_mock_flags(sandbox: &Sandbox, complete: Completer<'_>) {
    let history = listed_paths(sandbox, "/hi");
    assert!(history.contains(&"/history".to_owned()), "{history:?}");
    assert_eq!(complete(&["sipgate-oauth", "api", "/hi"]), history);
    // After a method (a word or -X, in any case), the paths that answer it.
    let get = listed_paths_for(sandbox, "/hi", Some("GET"));
    assert!(get.len() < history.len() && get.contains(&"/history".to_owned()), "{get:?}");
    assert_eq!(complete(&["sipgate-oauth", "api", "GET", "/hi"]), get);
    assert_eq!(complete(&["sipgate-oauth", "api", "get", "/hi"]), get);
    assert_eq!(complete(&["sipgate-oauth", "api", "-X", "put", "/hi"]), listed_paths_for(sandbox, "/hi", Some("PUT")));
    assert_eq!(
        complete(&["sipgate-oauth", "api", "--method", "DELETE", "/hi"]),
        listed_paths_for(sandbox, "/hi", Some("DELETE"))
    );
    let post = listed_paths_for(sandbox, "/{userId}/sm", Some("POST"));
    assert!(!post.is_empty() && !post.contains(&"/{userId}/sms".to_owned()), "{post:?}");
    assert_eq!(complete(&["sipgate-oauth", "api", "POST", "/{userId}/sm"]), post);
    // Templates as the table has them: `api` fills {userId} itself.
    let sms = listed_paths(sandbox, "/{userId}/sm");
    assert!(sms.contains(&"/{userId}/sms".to_owned()), "{sms:?}");
    assert_eq!(complete(&["sipgate-oauth", "api", "/{userId}/sm"]), sms);
    assert_eq!(complete(&["sipgate-oauth", "--profile", "work", "api", "/acc"]), listed_paths(sandbox, "/acc"));
    assert_eq!(complete(&["sipgate-oauth", "api", "-X", "P"]), ["PATCH", "POST", "PUT"]);
    assert_eq!(complete(&["sipgate-oauth", "api", "--method", "D"]), ["DELETE"]);
    assert_eq!(complete(&["sipgate-oauth", "api", "--pag"]), ["--paginate"]);

    let approve = mock_flags(sandbox, "--a");
    assert!(approve.contains(&"--auto-approve".to_owned()), "{approve:?}");
    assert_eq!(complete(&["sipgate-oauth", "mock", "--a"]), approve);
    assert_eq!(complete(&["sipgate-oauth", "mock", "--port", "0", "--we"]), mock_flags(sandbox, "--we"));
    assert!(complete(&["sipgate-oauth", "mock", "--pro"]).is_empty(), "mock takes no --profile");
    assert!(complete(&["sipgate-oauth", "mock", "--no-b"]).is_empty(), "nor --no-browser");
    assert_eq!(complete(&["sipgate-oauth", "--no-b"]), ["--no-browser"], "the client's own, elsewhere");

    // `mock call` has flags of its own, and `call` is offered right after `mock`.
    assert_eq!(complete(&["sipgate-oauth", "mock", "c"]), ["call"]);
    assert!(complete(&["sipgate-oauth", "mock", "--port", "0", "c"]).is_empty(), "only as mock's first word");
    let call = |prefix| flags_in_help(sandbox, &["mock", "call", "--help"], prefix);
    assert!(call("--h").contains(&"--hangup-after".to_owned()), "{:?}", call("--h"));
    assert_eq!(complete(&["sipgate-oauth", "mock", "call", "--h"]), call("--h"));
    assert_eq!(complete(&["sipgate-oauth", "mock", "call", "--from", "4921", "--"]), call("--"));
    assert!(complete(&["sipgate-oauth", "mock", "call", "--we"]).is_empty(), "not the stand-in's flags");
    assert!(complete(&["sipgate-oauth", "mock", "--an"]).is_empty(), "nor call's for mock itself");
}

#[test]
fn bash_completes_api_paths_methods_and_mock_flags() {
    let sandbox = Sandbox::new();
    let script = script(&sandbox, "bash");
    completes_paths_methods_and_mock_flags(&sandbox, bash(&sandbox, &script));
}

#[test]
#[ignore = "needs zsh: cargo test --test it -- --ignored completion_words::"]
fn zsh_completes_api_paths_methods_and_mock_flags() {
    let sandbox = Sandbox::new();
    let script = script(&sandbox, "zsh");
    completes_paths_methods_and_mock_flags(&sandbox, zsh(&sandbox, &script));
    assert_eq!(zsh(&sandbox, &script)(&["sipgate-oauth", "mock", "--account-file", ""]), ["FILES"]);
}

#[test]
#[ignore = "needs fish: cargo test --test it -- --ignored completion_words::"]
fn fish_completes_api_paths_methods_and_mock_flags() {
    let sandbox = Sandbox::new();
    let script = script(&sandbox, "fish");
    completes_paths_methods_and_mock_flags(&sandbox, fish(&sandbox, &script));
}

/// In Git Bash, MSYS2 or Cygwin the store is a `C:\…` path; bash and zsh hand it to `cygpath -u` (here a
/// stand-in that turns `\` into `/`) as an argument and list the profiles where it points.
#[test]
#[ignore = "needs zsh: cargo test --test it -- --ignored completion_words::"]
fn bash_and_zsh_read_a_windows_store_path_through_cygpath() {
    let sandbox = Sandbox::new();
    let bin = sandbox.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cygpath = bin.join("cygpath");
    std::fs::write(&cygpath, "#!/bin/sh\n[ \"$1\" = -u ] && [ \"$2\" = -- ] && printf '%s\\n' \"$3\" | tr '\\\\' /\n")
        .unwrap();
    std::fs::set_permissions(&cygpath, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let profiles = sandbox.dir.path().join("win/store/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("work.json"), "{}").unwrap();
    let store = format!("{}\\win\\store", sandbox.dir.path().display());
    for shell in ["bash", "zsh"] {
        let script = script(&sandbox, shell);
        let compadd = if shell == "zsh" { "compadd() { print -rl -- \"${(@P)2}\"; }; " } else { "" };
        let program = format!(
            "{compadd}source '{}'; PATH='{}':$PATH SIPGATE_OAUTH_STORE='{store}' _sipgate_oauth_profiles",
            script.display(),
            bin.display()
        );
        assert_eq!(run_shell(&sandbox, shell, &program), ["work"], "{shell}");
    }
}
