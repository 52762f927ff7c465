//! Opening the authorization URL in the user's own browser (RFC 8252 §8.12: no embedded web view), and
//! knowing when no browser can work: over SSH without a display, or where no opener is installed.
//!
//! The browser is spawned and never waited on; failing to open it is only a warning, since the URL
//! is printed as well.

use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

/// How the authorization URL reaches a browser.
pub enum Browser {
    /// The user's browser: `program` (`$BROWSER`: the URL is its only argument) if given, else the
    /// platform's opener.
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
                return Ok(Browser::System { program: Some("wslview".to_owned()) });
            }
            let args = vec!["url.dll,FileProtocolHandler".to_owned()];
            return Ok(Browser::Program { program: "rundll32.exe".to_owned(), args });
        }
        if cfg!(all(unix, not(target_os = "macos"))) && !on_path(&path, platform_opener()) {
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
            Browser::System { program } => {
                let program = program.filter(|b| !b.trim().is_empty()).unwrap_or_else(|| platform_opener().to_owned());
                (program, Vec::new())
            }
            Browser::Program { program, args } => (program, args),
        };
        let mut command = if cfg!(windows) && program == "start" {
            let mut command = Command::new("cmd");
            command.args(["/C", "start", ""]);
            command
        } else {
            Command::new(&program)
        };
        command.args(&args).arg(url).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        Ok(Some(program))
    }
}

/// Whether an executable `name` is in one of the directories of `path` (`PATH`).
fn on_path(path: &str, name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path).any(|dir| {
        Path::new(&dir).join(name).metadata().is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

fn platform_opener() -> &'static str {
    if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "start"
    } else {
        "xdg-open"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(program: Option<&str>, vars: &[(&str, &str)]) -> Result<String, NoBrowser> {
        let env = |name: &str| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string());
        Browser::for_environment(program.map(str::to_owned), &env).map(|browser| match browser {
            Browser::System { program } => program.unwrap_or_else(|| "opener".into()),
            Browser::Program { program, args } => format!("{program} {}", args.join(" ")),
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
    fn no_opener_installed_means_no_browser() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(choose(None, &[("PATH", empty.path().to_str().unwrap())]), Err(NoBrowser::NoOpener));
    }
}
