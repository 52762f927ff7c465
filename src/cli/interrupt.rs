//! Ctrl-C: the process ends with exit code 130 on every platform, as the help promises.
//!
//! On Unix, SIGINT's default action ends the process, and the shell reports 128 + 2 = 130; nothing is
//! installed there. On Windows, the console's default handler ends the process with
//! `STATUS_CONTROL_C_EXIT` (0xC000013A), which a script cannot tell from a crash; so a handler (the
//! `ctrlc` crate, there for `exec` already) ends it with 130. Either way the end is as clean: nothing is
//! written after it (the store is written only after a sign-in, by an atomic rename), and the callback's
//! port and every file handle are closed by the system as the process goes. `exec` installs its own
//! handler instead (it outlives its child), so this one is never installed for it.

/// Makes Ctrl-C end the process with exit code 130 (a no-op on Unix, where SIGINT already does).
#[cfg(windows)]
pub fn exit_130_on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        // The countdown may have left the cursor mid-line.
        eprintln!();
        std::process::exit(130);
    });
}

/// Makes Ctrl-C end the process with exit code 130 (a no-op on Unix, where SIGINT already does).
#[cfg(not(windows))]
pub fn exit_130_on_ctrl_c() {}
