//! `mock --background`: the stand-in as a process of its own, for scripts. This returns once the stand-in
//! answers, with its `.env` lines and `SIPGATE_MOCK_PID=…` on stdout, so nothing races it; the script stops
//! it with `kill "$SIPGATE_MOCK_PID"` (`Stop-Process -Id` on Windows). Its request log is not shown: run
//! it in the foreground (`mock … &`) to see one.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use sipgate_oauth::Error;

use super::output::{note, write_out};

/// Starts `sipgate-oauth mock ARGS` (without `--background`) and waits for its `.env` lines.
pub fn start(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> Result<(), Error> {
    let args: Vec<&String> = args.iter().filter(|arg| *arg != "--background").collect();
    let failed = |source: std::io::Error| Error::Listen { addr: "the stand-in in the background".into(), source };
    let exe = std::env::current_exe().map_err(failed)?;
    let mut child = Command::new(exe)
        .arg("mock")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Nothing of it may hold the caller's stderr open: `$(…)` and pipes would wait for it.
        .stderr(Stdio::null())
        .spawn()
        .map_err(failed)?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = Vec::new();
    // The last of the stand-in's .env lines is REDIRECT_URI; it prints them once it listens.
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(failed)?;
        let last = line.starts_with("REDIRECT_URI=");
        lines.push(line);
        if last {
            lines.push(format!("SIPGATE_MOCK_PID={}", child.id()));
            write_out(out, &(lines.join("\n") + "\n"))?;
            let stop = if cfg!(windows) { "Stop-Process -Id" } else { "kill" };
            note(
                err,
                &format!("The stand-in runs in the background as process {0}; stop it with: {stop} {0}", child.id()),
            );
            return Ok(());
        }
    }
    let status = child.wait().map_err(failed)?;
    let why = format!("it ended before it answered ({status}) — is the port taken? --port 0 picks a free one");
    Err(failed(std::io::Error::other(why)))
}
