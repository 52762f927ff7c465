//! Opening the authorization URL in the user's own browser (RFC 8252 §8.12: no embedded web view), and
//! knowing when no browser can work: over SSH without a display, or where no opener is installed.
//!
//! The browser is spawned and never waited on; failing to open it is only a warning, since the URL
//! is printed as well. No shell ever sees the URL: it is one argument of the program started (on Windows
//! `rundll32.exe url.dll,FileProtocolHandler URL`, as gh does, never `cmd /C start`, which re-parses
//! `&`), and only `http://` and `https://` URLs are handed on, never a path or another scheme that an
//! opener would run. `BROWSER` may be a list of command lines with `%s` ([`command`] has the rules).

mod command;

use std::io;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// How the authorization URL reaches a browser.
pub enum Browser {
    /// The user's browser: `program` (`$BROWSER`) if given, else the platform's opener. `BROWSER` is
    /// a `:`-separated (Windows: `;`) list of command lines tried in turn until one starts, each split
    /// without a shell (`'…'`, `"…"`, `\`); `%s` in an argument is the URL, else the URL is appended.
    System {
        /// `BROWSER` from the configuration.
        program: Option<String>,
    },
    /// A program started with these arguments and then the URL (e.g. the Windows browser from WSL).
    Program {
        /// The program.
        program: String,
        /// Its arguments before the URL.
        args: Vec<String>,
    },
    /// Only print the URL (`--no-browser`).
    PrintOnly,
    /// Hand the URL to a function on its own thread (the demo's built-in client; tests).
    With(Box<dyn FnOnce(String) + Send>),
}

/// Why no browser can be opened here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoBrowser {
    /// An SSH session without a display: a browser would open, if at all, on the remote machine.
    Ssh,
    /// No program to open one is installed (`xdg-open`).
    NoOpener,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Browser::System { .. } => "System",
            Browser::Program { .. } => "Program",
            Browser::PrintOnly => "PrintOnly",
            Browser::With(_) => "With(..)",
        })
    }
}

impl Browser {
    /// The browser for this environment (`env` reads a variable): `BROWSER` (`program`) always wins; over
    /// SSH (`SSH_CONNECTION` or `SSH_TTY`) without `DISPLAY` or `WAYLAND_DISPLAY` there is none; in WSL the
    /// Windows browser (`wslview` if installed, else `rundll32.exe`, which takes the URL unparsed, `&`
    /// and all); elsewhere the platform's opener, if it is installed.
    pub fn for_environment(
        program: Option<String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Browser, NoBrowser> {
        let set = |name: &str| env(name).is_some_and(|value| !value.is_empty());
        if program.as_deref().is_some_and(|p| !p.trim().is_empty()) {
            return Ok(Browser::System { program });
        }
        if (set("SSH_CONNECTION") || set("SSH_TTY")) && !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Err(NoBrowser::Ssh);
        }
        let path = env("PATH").unwrap_or_default();
        if set("WSL_DISTRO_NAME") || set("WSL_INTEROP") {
            if on_path(&path, "wslview") {
                return Ok(Browser::Program { program: "wslview".to_owned(), args: Vec::new() });
            }
            let (_, args) = windows_opener(None);
            return Ok(Browser::Program { program: "rundll32.exe".to_owned(), args });
        }
        if !opener_installed(&path) {
            return Err(NoBrowser::NoOpener);
        }
        Ok(Browser::System { program: None })
    }

    /// Opens `url`. Returns what was started, for the progress message.
    pub(crate) fn open(self, url: &str) -> io::Result<Option<String>> {
        let (program, args) = match self {
            Browser::PrintOnly => return Ok(None),
            Browser::With(open) => {
                let url = url.to_owned();
                std::thread::spawn(move || open(url));
                return Ok(Some("the built-in browser".to_owned()));
            }
            Browser::System { program: Some(list) } if !list.trim().is_empty() => {
                return start_browser_variable(&list, url).map(|(program, _)| Some(program));
            }
            Browser::System { .. } => platform_opener(&|name| std::env::var(name).ok()),
            Browser::Program { program, args } => (program, args),
        };
        let mut command = Command::new(&program);
        command.args(&args).arg(opener_url(url)?);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        Ok(Some(program))
    }
}

/// Starts the first candidate of `BROWSER` (`list`) that starts, with `url` in its arguments byte for
/// byte: the program and its process. The error names every program tried and why it did not start.
fn start_browser_variable(list: &str, url: &str) -> io::Result<(String, Child)> {
    let url = web_url(url)?;
    let is_file = |path: &str| Path::new(path).is_file();
    let mut failures = Vec::new();
    for candidate in command::candidates(list, command::SEPARATOR) {
        let (program, args) = match command::command_line(candidate, &url, &is_file) {
            Ok(line) => line,
            Err(problem) => {
                failures.push(format!("BROWSER entry {candidate:?} is not a command line: {problem}"));
                continue;
            }
        };
        let mut command = Command::new(&program);
        let started = command.args(&args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        match started {
            Ok(child) => return Ok((program, child)),
            Err(error) => failures.push(format!("BROWSER program {program:?} could not be started: {error}")),
        }
    }
    Err(io::Error::other(failures.join("; ")))
}

/// `url` if it is an `http://` or `https://` URL (an opener would run a path or open any other scheme),
/// with control characters percent-encoded: they belong in no URL.
fn web_url(url: &str) -> io::Result<String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(io::Error::other("only http:// and https:// URLs are opened in a browser"));
    }
    Ok(encode(url, |c| matches!(c, '\x7f' | '\0'..='\x1f')))
}

/// The URL as handed to the platform's opener: a [`web_url`] with spaces and quotes percent-encoded
/// too. They belong in no URL, and without them the argument needs no quoting on a Windows command
/// line, where `rundll32` passes the rest of its line to `FileProtocolHandler` as it is.
fn opener_url(url: &str) -> io::Result<String> {
    Ok(encode(&web_url(url)?, |c| matches!(c, ' ' | '"')))
}

/// `text` with the characters that `pick` chooses percent-encoded.
fn encode(text: &str, pick: impl Fn(char) -> bool) -> String {
    text.chars().map(|c| if pick(c) { format!("%{:02X}", c as u32) } else { c.to_string() }).collect()
}

/// The Windows opener: `rundll32.exe url.dll,FileProtocolHandler` (from `%SystemRoot%\System32` when
/// `system_root` is known), which opens the URL with the user's default browser and no shell.
fn windows_opener(system_root: Option<String>) -> (String, Vec<String>) {
    let program = match system_root.filter(|root| !root.is_empty()) {
        Some(root) => format!("{root}\\System32\\rundll32.exe"),
        None => "rundll32.exe".to_owned(),
    };
    (program, vec!["url.dll,FileProtocolHandler".to_owned()])
}

/// The platform's opener, as program and the arguments before the URL.
#[cfg(windows)]
fn platform_opener(env: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    windows_opener(env("SystemRoot"))
}

/// The platform's opener, as program and the arguments before the URL.
#[cfg(target_os = "macos")]
fn platform_opener(_env: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    ("open".to_owned(), Vec::new())
}

/// The platform's opener, as program and the arguments before the URL.
#[cfg(all(unix, not(target_os = "macos")))]
fn platform_opener(_env: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    ("xdg-open".to_owned(), Vec::new())
}

/// Whether the platform's opener is there: `xdg-open` must be installed; macOS and Windows bring theirs.
fn opener_installed(path: &str) -> bool {
    !cfg!(all(unix, not(target_os = "macos"))) || on_path(path, "xdg-open")
}

/// Whether an executable `name` is in one of the directories of `path` (`PATH`).
fn on_path(path: &str, name: &str) -> bool {
    std::env::split_paths(path).any(|dir| Path::new(&dir).join(name).metadata().is_ok_and(|meta| is_executable(&meta)))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    meta.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(program: Option<&str>, vars: &[(&str, &str)]) -> Result<String, NoBrowser> {
        let env = |name: &str| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string());
        Browser::for_environment(program.map(str::to_owned), &env).map(|browser| match browser {
            Browser::System { program } => program.unwrap_or_else(|| "opener".into()),
            Browser::Program { program, args } => format!("{program} {}", args.join(" ")).trim_end().to_owned(),
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn ssh_without_a_display_has_no_browser_unless_browser_is_set() {
        assert_eq!(choose(None, &[("SSH_CONNECTION", "10.0.0.2 5555 10.0.0.1 22")]), Err(NoBrowser::Ssh));
        assert_eq!(choose(None, &[("SSH_TTY", "/dev/pts/1"), ("WAYLAND_DISPLAY", "")]), Err(NoBrowser::Ssh));
        assert_eq!(choose(Some("lynx"), &[("SSH_TTY", "/dev/pts/1")]), Ok("lynx".into()));
        assert_ne!(
            choose(None, &[("SSH_TTY", "/dev/pts/1"), ("DISPLAY", ":0"), ("PATH", "/bin:/usr/bin")]),
            Err(NoBrowser::Ssh)
        );
    }

    #[test]
    #[cfg(unix)]
    fn wsl_opens_the_windows_browser() {
        let dir = tempfile::tempdir().unwrap();
        let wsl = [("WSL_DISTRO_NAME", "Debian"), ("PATH", dir.path().to_str().unwrap())];
        assert_eq!(choose(None, &wsl), Ok("rundll32.exe url.dll,FileProtocolHandler".into()));
        let wslview = dir.path().join("wslview");
        std::fs::write(&wslview, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&wslview, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        assert_eq!(choose(None, &wsl), Ok("wslview".into()));
    }

    #[test]
    fn the_windows_opener_gets_the_url_as_one_argument_that_no_shell_parses() {
        let url = "http://127.0.0.1:8080/oauth?a=1&b=^x&c=%41&d=\"q\" and more";
        let (program, mut args) = windows_opener(Some(r"C:\Windows".to_owned()));
        args.push(opener_url(url).unwrap());
        assert_eq!(program, r"C:\Windows\System32\rundll32.exe");
        // `&`, `^` and `%` stay as they are (no cmd.exe to treat them), quotes and spaces are encoded, so
        // the argument needs no quoting: the command line is the program, then exactly these words.
        assert_eq!(
            args,
            ["url.dll,FileProtocolHandler", "http://127.0.0.1:8080/oauth?a=1&b=^x&c=%41&d=%22q%22%20and%20more"]
        );
        assert!(args.iter().all(|arg| !arg.contains([' ', '"', '\t'])), "{args:?}");
        assert_eq!(windows_opener(None).0, "rundll32.exe");
    }

    #[test]
    fn only_web_urls_reach_an_opener() {
        for url in [
            r"C:\Windows\System32\calc.exe",
            r"\\host\share\x.exe",
            "file:///etc/passwd",
            "javascript:x",
            "ms-settings:",
        ] {
            assert!(opener_url(url).is_err(), "{url}");
        }
        assert_eq!(opener_url("HTTPS://login.sipgate.com/x?y=1").unwrap(), "HTTPS://login.sipgate.com/x?y=1");
        let error = Browser::System { program: None }.open("file:///etc/passwd").unwrap_err();
        assert!(error.to_string().contains("only http:// and https://"), "{error}");
    }

    /// A program that writes its arguments, each ended by a NUL byte, to `argv` in its directory.
    #[cfg(unix)]
    fn recorder(dir: &Path, name: &str) -> std::path::PathBuf {
        let script = dir.join(name);
        let out = dir.join("argv");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > '{}'\n", out.display()),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        script
    }

    /// Starts `BROWSER=list` on `url`, waits for the program and returns it and the arguments it got.
    #[cfg(unix)]
    fn handed(dir: &Path, list: &str, url: &str) -> (String, Vec<String>) {
        let _ = std::fs::remove_file(dir.join("argv"));
        let (program, mut child) = start_browser_variable(list, url).unwrap();
        assert!(child.wait().unwrap().success(), "{list}");
        let argv = std::fs::read(dir.join("argv")).unwrap();
        let argv = String::from_utf8(argv).unwrap();
        (program, argv.split_terminator('\0').map(str::to_owned).collect())
    }

    #[test]
    #[cfg(unix)]
    fn browser_with_arguments_and_percent_s_gets_the_url_as_one_argument_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let script = recorder(dir.path(), "my browser");
        let script = script.to_str().unwrap();
        let quoted = format!("'{script}'");
        // What a shell would act on: `&`, `;`, `$()`, backticks, quotes, spaces, a newline-free `%s`.
        let nasty = "http://127.0.0.1:9/start?a=1&b=2;touch${IFS}x $(id) `id` 'q' \"dq\" %s %41 \\ |";
        for url in ["http://127.0.0.1:9/start-abc", nasty] {
            assert_eq!(handed(dir.path(), &format!("{quoted} --new-window"), url).1, ["--new-window", url]);
            assert_eq!(
                handed(dir.path(), &format!("{quoted} --url=%s -x"), url).1,
                [format!("--url={url}"), "-x".into()]
            );
            assert_eq!(handed(dir.path(), script, url), (script.to_owned(), vec![url.to_owned()]), "a path, unquoted");
            let (program, args) = handed(dir.path(), &format!("\"{script}\" \"--title=a b\" it\\'s"), url);
            assert_eq!((program.as_str(), args), (script, vec!["--title=a b".into(), "it's".into(), url.to_owned()]));
        }
        // The first candidate that starts wins; the ones before it are skipped.
        let list = format!("no-such-browser-sipgate-oauth --x:{quoted} --second %s");
        assert_eq!(handed(dir.path(), &list, nasty), (script.to_owned(), vec!["--second".into(), nasty.into()]));
        // Control characters never reach a browser.
        assert_eq!(handed(dir.path(), script, "http://h/a\nb\x1b").1, ["http://h/a%0Ab%1B"]);
    }

    #[test]
    fn a_browser_that_cannot_start_is_named_in_the_error() {
        let url = "http://127.0.0.1:9/start";
        let error = start_browser_variable("no-such-browser-sipgate-oauth --new-window", url).unwrap_err().to_string();
        assert!(
            error.starts_with("BROWSER program \"no-such-browser-sipgate-oauth\" could not be started: "),
            "{error}"
        );
        let list = format!("'unclosed --x{}nope-sipgate-oauth %s", command::SEPARATOR);
        let error = start_browser_variable(&list, url).unwrap_err().to_string();
        assert!(
            error.contains("BROWSER entry \"'unclosed --x\" is not a command line: a ' quote is not closed"),
            "{error}"
        );
        assert!(error.contains("; BROWSER program \"nope-sipgate-oauth\" could not be started"), "{error}");
        let error = start_browser_variable("firefox", "file:///etc/passwd").unwrap_err().to_string();
        assert!(error.contains("only http:// and https://"), "{error}");
    }

    #[test]
    #[cfg(all(unix, not(target_os = "macos")))]
    fn no_opener_installed_means_no_browser() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(choose(None, &[("PATH", empty.path().to_str().unwrap())]), Err(NoBrowser::NoOpener));
    }
}
