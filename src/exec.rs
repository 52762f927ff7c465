//! `sipgate-oauth exec`: a command run with a fresh token in its environment and, unless turned off, a
//! proxy that lives exactly as long as it does.
//!
//! Promises: the child gets `SIPGATE_TOKEN` (valid for at least its refresh margin),
//! `SIPGATE_TOKEN_EXPIRES_AT` (Unix seconds) and, with a proxy, `SIPGATE_API_BASE_URL`; its stdin, stdout
//! and stderr are its own (nothing of ours goes to stdout); its exit code is returned (a signal as
//! 128 + N, as shells do). Only `std::process`: the same on Unix and Windows.

use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use crate::error::Error;
use crate::proxy::{Proxy, ProxyOptions};
use crate::session::LiveSession;

/// Runs `program` with `args`, the token in its environment and, with `proxy` options, a proxy for it;
/// waits for it and returns its exit code, or why it could not be started (see [`spawn_failure_code`]).
pub fn exec(
    live: Arc<LiveSession>,
    program: &str,
    args: &[String],
    proxy: Option<ProxyOptions>,
) -> Result<Result<u8, std::io::Error>, Error> {
    let tokens = live.tokens()?;
    let proxy = proxy.map(|options| Proxy::start(Arc::clone(&live), options)).transpose()?;
    let expires_at = tokens.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut command = Command::new(program);
    command
        .args(args)
        .env("SIPGATE_TOKEN", tokens.access_token.secret())
        .env("SIPGATE_TOKEN_EXPIRES_AT", expires_at.to_string());
    match &proxy {
        Some(proxy) => command.env("SIPGATE_API_BASE_URL", proxy.base_url()),
        None => command.env_remove("SIPGATE_API_BASE_URL"),
    };
    let status = command.spawn().and_then(|mut child| child.wait());
    drop(proxy);
    Ok(status.map(exit_code))
}

/// The exit code a shell would report for `status`: the code itself, or 128 + N for signal N.
fn exit_code(status: ExitStatus) -> u8 {
    match (signal(status), status.code()) {
        (Some(signal), _) => u8::try_from(128 + signal).unwrap_or(255),
        (None, Some(code)) => u8::try_from(code).unwrap_or(1),
        (None, None) => 1,
    }
}

/// The signal that ended a process (Unix only: a Windows process always has an exit code).
#[cfg(unix)]
fn signal(status: ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

/// The "signal" that ended a Windows process: a child that the console's Ctrl-C ended (its exit status
/// is `STATUS_CONTROL_C_EXIT`) counts as SIGINT, so that `exec` reports 130 there too.
#[cfg(not(unix))]
fn signal(status: ExitStatus) -> Option<i32> {
    const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;
    (status.code().map(|code| code as u32) == Some(STATUS_CONTROL_C_EXIT)).then_some(2)
}

/// The exit code for a command that could not be started, as shells use it: 127 not found, 126 found but
/// not runnable.
pub fn spawn_failure_code(error: &std::io::Error) -> u8 {
    match error.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    }
}
