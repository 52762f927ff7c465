//! A child for `exec` in the Wine run of .ci/platforms: it ends as a Windows program ends on the console's
//! Ctrl-C (exit status STATUS_CONTROL_C_EXIT, 0xC000013A), which `exec` must report as 130, as on Unix.

fn main() {
    std::process::exit(0xC000_013A_u32 as i32);
}
