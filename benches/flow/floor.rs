//! The process floor of `token`: a Rust "hello world" built with this package's own `[profile.release]`
//! (copied from Cargo.toml into a package of its own in a temp directory), and the binary's size cap.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The stripped release binary may be this large at most (4 MB, MB = 10⁶ bytes): the size row's target,
/// and the one limit the benchmark exits 1 on, so that CI fails when the binary outgrows it.
pub const SIZE_CAP: u64 = 4_000_000;

/// `token` with a valid kept token may take this many times the hello world's wall time.
pub const FLOOR_RATIO_TARGET: f64 = 1.15;

/// A built hello world; the directory lives as long as this.
pub struct Hello {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Hello {
    /// Builds it (a few seconds: fat LTO of std); `Err` says why not.
    pub fn build() -> Result<Hello, String> {
        let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .map_err(|e| format!("Cargo.toml: {e}"))?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let package = format!(
            "[package]\nname = \"hello\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n\n{}",
            release_profile(&manifest)
        );
        std::fs::create_dir(dir.path().join("src")).map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("Cargo.toml"), package).map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {\n    println!(\"Hello, world!\");\n}\n")
            .map_err(|e| e.to_string())?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--release", "--quiet", "--offline"])
            .current_dir(dir.path())
            .env_remove("CARGO_TARGET_DIR")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!("its build failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
        let path = dir.path().join("target/release/hello");
        Ok(Hello { _dir: dir, path })
    }

    /// One run, spawn → exit; checks what it printed.
    pub fn run(&self) -> Duration {
        let started = Instant::now();
        let output = Command::new(&self.path).stdin(Stdio::null()).output().expect("the hello world runs");
        let took = started.elapsed();
        assert!(output.status.success() && output.stdout == b"Hello, world!\n", "the hello world failed");
        took
    }
}

/// The `[profile.release]` table of `manifest` (up to the next table), without the per-package tables
/// after it (they name crates the hello world does not have).
fn release_profile(manifest: &str) -> String {
    let mut lines = manifest.lines().skip_while(|line| line.trim() != "[profile.release]");
    let header = lines.next().map(str::to_owned).unwrap_or_default();
    let body: Vec<&str> = lines.take_while(|line| !line.trim_start().starts_with('[')).collect();
    format!("{header}\n{}\n", body.join("\n"))
}
