//! The store's file safety on Windows: "only the user" means inside the user's profile (`%USERPROFILE%`,
//! where `%LOCALAPPDATA%` lies), whose inherited access list admits the user, SYSTEM and the administrators
//! and no one else — what gh and gcloud rely on too. A store directory elsewhere (`SIPGATE_OAUTH_STORE` on
//! another drive, a share) is refused with the reason rather than trusted with whatever access list that
//! place has: setting one needs the Win32 security API, which this crate cannot call without unsafe code.
//!
//! Files are opened with `FILE_FLAG_OPEN_REPARSE_POINT`, so a symlink or junction is opened itself, seen
//! and refused, never followed. A rename over the token file is retried for a moment when another process
//! (an antivirus, the indexer, a parallel `token`) holds it open. A directory cannot be opened as a file
//! to be synced; the rename's entry in the NTFS journal is the durability point.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::windows::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `FILE_FLAG_OPEN_REPARSE_POINT`: open a symlink or junction itself instead of what it points to.
const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
/// `FILE_ATTRIBUTE_REPARSE_POINT`: the file is a symlink, a junction or another reparse point.
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x0400;
/// `ERROR_ACCESS_DENIED` and `ERROR_SHARING_VIOLATION`: what a rename over an open file answers.
const RENAME_BLOCKED: [i32; 2] = [5, 32];
/// How often a blocked rename is tried, waiting 5, 10, 20, … ms in between (about 2.5 s in all).
const RENAME_TRIES: u32 = 10;

/// The user the store belongs to: the user's profile directory, resolved.
pub(super) struct User {
    profile: PathBuf,
}

impl User {
    /// This process's user, from `USERPROFILE`.
    pub(super) fn current() -> io::Result<User> {
        let unknown = |reason: String| io::Error::other(format!("cannot tell where your user profile is: {reason}"));
        let profile = std::env::var_os("USERPROFILE").filter(|value| !value.is_empty());
        let profile = profile.ok_or_else(|| unknown("USERPROFILE is not set".to_owned()))?;
        let profile = fs::canonicalize(&profile).map_err(|e| unknown(format!("USERPROFILE: {e}")))?;
        Ok(User { profile })
    }
}

/// Creates `dir` and its missing parents; they inherit the access list of the directory they are in.
pub(super) fn create_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Why `dir` is not the user's alone, if it is not: it must lie inside the user's profile, after every
/// symlink and junction on the way is resolved.
pub(super) fn check_dir(dir: &Path, _metadata: &fs::Metadata, user: &User) -> Result<(), String> {
    let resolved = fs::canonicalize(dir).map_err(|e| format!("cannot resolve it: {e}"))?;
    if resolved.starts_with(&user.profile) {
        return Ok(());
    }
    Err(format!(
        "it is outside your user profile ({}), whose access list keeps other users out — set \
         SIPGATE_OAUTH_STORE to a directory inside it, or leave it unset for %LOCALAPPDATA%\\sipgate-oauth",
        user.profile.display()
    ))
}

/// Nothing to tighten: the directory is inside the profile, and inherits its access list.
pub(super) fn tighten_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// `options` made to open a symlink or junction itself, so that [`check_file`] sees and refuses it.
pub(super) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
}

/// Never: [`no_follow`] opens a symlink rather than failing, and [`check_file`] refuses it.
pub(super) fn is_symlink_refusal(_error: &io::Error) -> bool {
    false
}

/// Why an opened token or lock file cannot be trusted, if it cannot: it must be a regular file and no
/// symlink or junction. Who may read it is the directory's access list, checked by [`check_dir`].
pub(super) fn check_file(metadata: &fs::Metadata, _user: &User) -> Result<(), String> {
    if metadata.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        return Err("it is a symbolic link or junction, which the store does not follow".to_owned());
    }
    if !metadata.is_file() {
        return Err("it is a directory or another special file, not a regular file".to_owned());
    }
    Ok(())
}

/// Whether two metadata are of the same file. The file index is not stable in std yet; a lock file made
/// anew has a creation time of its own (100 ns steps), so that tells the old file from the new one.
pub(super) fn is_same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.creation_time() == b.creation_time()
}

/// Whether a lookup failed because nothing is there any more: not found, or access denied to a file that
/// is deleted but still open elsewhere (Windows keeps its name until the last handle closes).
pub(super) fn is_gone(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied)
}

/// Creates `path` (it must not exist), writes `bytes` and flushes it to the disk.
pub(super) fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Renames `from` over `to`, retrying with backoff while another process holds `to` open (access denied
/// or sharing violation), as rustup learned to.
pub(super) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    let mut wait = Duration::from_millis(5);
    for _ in 1..RENAME_TRIES {
        match fs::rename(from, to) {
            Err(e) if e.raw_os_error().is_some_and(|code| RENAME_BLOCKED.contains(&code)) => {
                std::thread::sleep(wait);
                wait *= 2;
            }
            other => return other,
        }
    }
    fs::rename(from, to)
}

/// Nothing to do: Windows cannot open a directory as a file to sync it, and NTFS journals the rename.
pub(super) fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
