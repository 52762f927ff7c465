//! The "waiting for sign-in" line: rewritten in place on a terminal, said once otherwise.
//!
//! In place means `\r` and the erase-line sequence `ESC [2K` where the terminal reads VT sequences, and
//! `\r` with spaces over the rest of the previous line where it may not: the Windows console prints the
//! escape as text until a program turns VT processing on (`SetConsoleMode`, which needs unsafe code or
//! a crate), and so does a `TERM=dumb` terminal (Emacs' shell). Which terminal it is, is decided once,
//! from the platform and the environment ([`Rewrite::for_terminal`]).

use std::io::Write;
use std::time::Duration;

use super::output::note;

/// How the line is rewritten in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rewrite {
    /// `\r` and `ESC [2K`: the terminal reads VT sequences.
    Erase,
    /// `\r`, the line, and spaces over what the previous one left: the terminal may print escapes.
    Pad,
}

impl Rewrite {
    /// Erase where the terminal is known to read VT sequences: everywhere but a `TERM=dumb` terminal,
    /// and on Windows only inside a terminal that says so (Windows Terminal sets `WT_SESSION`, ConEmu
    /// `ConEmuANSI=ON`, ANSICON `ANSICON`, VS Code `TERM_PROGRAM`, mintty and MSYS an xterm `TERM`).
    fn for_terminal(windows: bool, env: &dyn Fn(&str) -> Option<String>) -> Rewrite {
        let set = |name: &str| env(name).is_some_and(|value| !value.is_empty());
        let term = env("TERM").unwrap_or_default();
        if term == "dumb" {
            return Rewrite::Pad;
        }
        let vt_terminal = set("WT_SESSION")
            || env("ConEmuANSI").is_some_and(|value| value == "ON")
            || set("ANSICON")
            || set("TERM_PROGRAM")
            || term.starts_with("xterm")
            || term.starts_with("cygwin");
        if !windows || vt_terminal { Rewrite::Erase } else { Rewrite::Pad }
    }
}

/// The countdown of one sign-in on stderr.
pub(super) struct Countdown {
    /// How it is rewritten, or `None` when stderr is no terminal (said once).
    rewrite: Option<Rewrite>,
    shown: bool,
    /// The characters of the line last written in place, which a padded line must cover.
    last_width: usize,
}

impl Countdown {
    /// The countdown for this process's stderr.
    pub(super) fn for_stderr() -> Countdown {
        use std::io::IsTerminal;
        let env = |name: &str| std::env::var(name).ok();
        let rewrite = std::io::stderr().is_terminal().then(|| Rewrite::for_terminal(cfg!(windows), &env));
        Countdown { rewrite, shown: false, last_width: 0 }
    }

    pub(super) fn show(&mut self, err: &mut dyn Write, left: Duration) {
        match self.rewrite {
            Some(rewrite) => {
                let secs = left.as_secs_f64().ceil() as u64;
                let line = format!(
                    "waiting for sign-in in the browser — {}:{:02} left, Ctrl-C to cancel",
                    secs / 60,
                    secs % 60
                );
                let width = line.chars().count();
                let _ = match rewrite {
                    Rewrite::Erase => write!(err, "\r\x1b[2K{line}"),
                    Rewrite::Pad => write!(err, "\r{line}{:pad$}", "", pad = self.last_width.saturating_sub(width)),
                };
                self.last_width = width;
                self.shown = true;
            }
            None if !self.shown => {
                note(
                    err,
                    &format!(
                        "waiting for sign-in in the browser (up to {} s, Ctrl-C to cancel)…",
                        left.as_secs_f64().round() as u64
                    ),
                );
                self.shown = true;
            }
            None => {}
        }
        let _ = err.flush();
    }

    pub(super) fn end(&mut self, err: &mut dyn Write) {
        if self.rewrite.is_some() && self.shown {
            let _ = writeln!(err);
            self.shown = false;
            self.last_width = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(rewrite: Option<Rewrite>) -> Countdown {
        Countdown { rewrite, shown: false, last_width: 0 }
    }

    #[test]
    fn countdown_rewrites_one_line_on_a_terminal_and_says_it_once_elsewhere() {
        let mut terminal = Vec::new();
        let mut countdown = new(Some(Rewrite::Erase));
        countdown.show(&mut terminal, Duration::from_millis(271_500));
        countdown.show(&mut terminal, Duration::from_secs(271));
        countdown.end(&mut terminal);
        let line = "\r\x1b[2Kwaiting for sign-in in the browser — 4:32 left, Ctrl-C to cancel";
        assert_eq!(String::from_utf8(terminal).unwrap(), format!("{line}{}\n", line.replace("4:32", "4:31")));

        let mut log = Vec::new();
        let mut countdown = new(None);
        countdown.show(&mut log, Duration::from_secs(300));
        countdown.show(&mut log, Duration::from_secs(299));
        countdown.end(&mut log);
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "waiting for sign-in in the browser (up to 300 s, Ctrl-C to cancel)…\n"
        );
    }

    #[test]
    fn an_old_console_gets_no_escape_and_a_shorter_line_covers_the_longer_one() {
        let mut console = Vec::new();
        let mut countdown = new(Some(Rewrite::Pad));
        countdown.show(&mut console, Duration::from_secs(600)); // 10:00
        countdown.show(&mut console, Duration::from_secs(599)); // 9:59, one character shorter
        countdown.end(&mut console);
        let console = String::from_utf8(console).unwrap();
        assert!(!console.contains('\x1b'), "no escape sequence: {console:?}");
        let line = "waiting for sign-in in the browser — 10:00 left, Ctrl-C to cancel";
        let shorter = line.replace("10:00", "9:59");
        assert_eq!(console, format!("\r{line}\r{shorter} \n"));
        // What the console shows at the end: the shorter line, the longer one's last character blanked.
        let shown = console.trim_end().rsplit('\r').next().unwrap().to_owned();
        assert_eq!(shown.chars().count(), line.chars().count() - 1);
    }

    #[test]
    fn windows_erases_only_in_a_terminal_known_to_read_vt_sequences() {
        let with = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value).to_owned())
        };
        assert_eq!(Rewrite::for_terminal(true, &with(&[])), Rewrite::Pad, "the plain console");
        assert_eq!(Rewrite::for_terminal(true, &with(&[("ConEmuANSI", "OFF")])), Rewrite::Pad);
        assert_eq!(Rewrite::for_terminal(true, &with(&[("WT_SESSION", "")])), Rewrite::Pad, "empty is unset");
        for vt in [
            &[("WT_SESSION", "6b8d1a2e-0000-4000-8000-000000000000")][..],
            &[("ConEmuANSI", "ON")],
            &[("ANSICON", "120x1000 (120x30)")],
            &[("TERM_PROGRAM", "vscode")],
            &[("TERM", "xterm-256color")],
        ] {
            let vars: &'static [(&str, &str)] = vt;
            assert_eq!(Rewrite::for_terminal(true, &with(vars)), Rewrite::Erase, "{vars:?}");
        }
        assert_eq!(Rewrite::for_terminal(false, &with(&[])), Rewrite::Erase, "unix terminals read VT");
        assert_eq!(Rewrite::for_terminal(false, &with(&[("TERM", "dumb")])), Rewrite::Pad, "Emacs' shell");
        assert_eq!(Rewrite::for_terminal(true, &with(&[("TERM", "dumb"), ("WT_SESSION", "x")])), Rewrite::Pad);
    }
}
