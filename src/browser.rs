//! Opening the authorization URL in the user's own browser (RFC 8252 §8.12: no embedded web view).
//!
//! The browser is spawned and never waited on; failing to open it is only a warning, since the URL
//! is printed as well.

use std::io;
use std::process::{Command, Stdio};

/// How the authorization URL reaches a browser.
pub enum Browser {
    /// The user's browser: `program` (`$BROWSER`: the URL is its only argument) if given, else the
    /// platform's opener.
    System {
        /// `BROWSER` from the configuration.
        program: Option<String>,
    },
    /// Only print the URL (`--no-browser`).
    PrintOnly,
    /// Hand the URL to a function on its own thread (the demo's built-in client; tests).
    With(Box<dyn FnOnce(String) + Send>),
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Browser::System { .. } => "System",
            Browser::PrintOnly => "PrintOnly",
            Browser::With(_) => "With(..)",
        })
    }
}

impl Browser {
    /// Opens `url`. Returns what was started, for the progress message.
    pub(crate) fn open(self, url: &str) -> io::Result<Option<String>> {
        match self {
            Browser::PrintOnly => Ok(None),
            Browser::With(open) => {
                let url = url.to_owned();
                std::thread::spawn(move || open(url));
                Ok(Some("the built-in browser".to_owned()))
            }
            Browser::System { program } => {
                let program = program.filter(|b| !b.trim().is_empty()).unwrap_or_else(|| platform_opener().to_owned());
                let mut command = if cfg!(windows) && program == "start" {
                    let mut command = Command::new("cmd");
                    command.args(["/C", "start", ""]);
                    command
                } else {
                    Command::new(&program)
                };
                command.arg(url).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
                Ok(Some(program))
            }
        }
    }
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
