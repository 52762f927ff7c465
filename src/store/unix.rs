//! The store's file safety on unix (Linux, macOS, the BSDs): "only the user" means owned by the user's uid
//! and not writable by group or others; what the store creates is mode 0700 (directories) or 0600 (files)
//! from the first moment. Files are opened with `O_NOFOLLOW` (a symlink is `ELOOP`, not followed) and
//! `O_NONBLOCK` (a FIFO does not block the open).

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The user the store belongs to: this process's effective uid.
pub(super) struct User {
    uid: u32,
}

impl User {
    /// This process's user.
    pub(super) fn current() -> io::Result<User> {
        #[cfg(target_os = "linux")]
        let uid = uid_from_proc()?;
        #[cfg(not(target_os = "linux"))]
        let uid = uid_of_a_new_file()?;
        Ok(User { uid })
    }
}

/// The effective uid, from `/proc` (no unsafe code needed). The directory `/proc/self` belongs to it,
/// whatever the process's dumpable state (Linux's `task_dump_owner` exempts a process's own directory, so
/// that stat keeps telling the effective uid): one `stat`, where generating `/proc/self/status` costs the
/// kernel tens of µs, a good part of what `token` takes over a hello world. Where `/proc/self` cannot be
/// read, `/proc/self/status` says why.
#[cfg(target_os = "linux")]
fn uid_from_proc() -> io::Result<u32> {
    fs::metadata("/proc/self").map(|proc| proc.uid()).or_else(|_| uid_from_status())
}

/// The effective uid, read from `/proc/self/status`.
#[cfg(target_os = "linux")]
fn uid_from_status() -> io::Result<u32> {
    let unknown = |reason: String| io::Error::other(format!("cannot tell which user this is: {reason}"));
    // Read into room for all of it (about 1.5 KB): one read and the one that tells the end, where
    // `fs::read_to_string` (no size for a /proc file) would take eight growing ones.
    let mut status = String::with_capacity(8192);
    fs::File::open("/proc/self/status")
        .and_then(|mut file| io::Read::read_to_string(&mut file, &mut status))
        .map_err(|e| unknown(format!("/proc/self/status: {e}")))?;
    // "Uid:" is followed by the real, effective, saved and file system uid.
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| unknown("/proc/self/status names no effective uid".to_owned()))
}

/// The effective uid where there is no `/proc` (macOS, the BSDs): the owner of a file this process
/// creates in the temp directory and removes again — a new file belongs to the effective uid, and reading
/// its owner needs no unsafe code.
#[cfg(any(not(target_os = "linux"), test))]
fn uid_of_a_new_file() -> io::Result<u32> {
    let unknown = |e: io::Error| io::Error::other(format!("cannot tell which user this is: {e}"));
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let path = std::env::temp_dir().join(format!("sipgate-oauth-uid.{}.{nanos}", std::process::id()));
    let file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(unknown)?;
    let uid = file.metadata().map(|metadata| metadata.uid());
    // Best effort: an empty file in the temp directory is no harm if the removal fails.
    let _ = fs::remove_file(&path);
    uid.map_err(unknown)
}

/// Creates `dir` and its missing parents, mode 0700.
pub(super) fn create_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Why `dir` (a directory, `metadata` followed a symlink) is not the user's alone, if it is not.
pub(super) fn check_dir(_dir: &Path, metadata: &fs::Metadata, user: &User) -> Result<(), String> {
    let uid = user.uid;
    if metadata.uid() != uid {
        return Err(format!(
            "it belongs to uid {}, not to you (uid {uid}) — set SIPGATE_OAUTH_STORE to a directory of your own, \
             or chown it",
            metadata.uid()
        ));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "group or others can write to it (mode {mode:04o}) — chmod 700 it, and remove any file in it you did \
             not put there"
        ));
    }
    Ok(())
}

/// Takes away the read and search bits of group and others from `dir`, if it has any.
pub(super) fn tighten_dir(dir: &Path) -> io::Result<()> {
    if fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// `options` made to refuse a symlink as the last component, not to block on a FIFO, and to create mode 0600.
pub(super) fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    options.mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
}

/// Whether an open with [`no_follow`] failed because the last component is a symlink.
pub(super) fn is_symlink_refusal(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ELOOP)
}

/// Why an opened token or lock file (its `fstat`) cannot be trusted, if it cannot: it must be a regular
/// file of the user that group and others cannot write.
pub(super) fn check_file(metadata: &fs::Metadata, user: &User) -> Result<(), String> {
    let kind = metadata.file_type();
    let not_regular = |what: &str| Err(format!("it is {what}, not a regular file"));
    if kind.is_fifo() {
        return not_regular("a FIFO");
    }
    if kind.is_char_device() || kind.is_block_device() {
        return not_regular("a device");
    }
    if kind.is_socket() {
        return not_regular("a socket");
    }
    if !kind.is_file() {
        return not_regular("a directory or another special file");
    }
    let uid = user.uid;
    if metadata.uid() != uid {
        return Err(format!(
            "it belongs to uid {}, not to you (uid {uid}): someone else may have put it there",
            metadata.uid()
        ));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!("group or others can write to it (mode {mode:04o})"));
    }
    Ok(())
}

/// Whether two `stat`s are of the same file: same device, same inode.
pub(super) fn is_same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Whether a `stat` failed because nothing is there any more.
pub(super) fn is_gone(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotFound
}

/// Creates `path` (it must not exist) mode 0600, writes `bytes` and fsyncs it.
pub(super) fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Renames `from` over `to` (atomic on unix, even while others hold `to` open).
pub(super) fn replace(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
}

/// Makes a rename or removal in `dir` durable: fsync of the directory.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::super::record::sample::record as tokens;
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_uid_is_the_owner_of_what_this_process_creates() {
        let temp = tempfile::tempdir().unwrap();
        let path = temp.path().join("mine");
        fs::write(&path, "").unwrap();
        let uid = fs::metadata(&path).unwrap().uid();
        assert_eq!(User::current().unwrap().uid, uid);
        // The way without /proc (macOS, the BSDs) finds the same uid, and so does /proc/self/status.
        assert_eq!(uid_of_a_new_file().unwrap(), uid);
        #[cfg(target_os = "linux")]
        assert_eq!(uid_from_status().unwrap(), uid);
    }

    #[test]
    fn the_directory_is_created_0700_and_the_file_0600() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("config").join("sipgate-oauth");
        let store = Store::new(&dir.clone(), "default");
        store.save(&tokens("client-1")).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("profiles")), 0o700);
        assert_eq!(mode(store.path()), 0o600);
        drop(store.lock().unwrap());
        assert_eq!(mode(&dir.join("profiles").join("default.json.lock")), 0o600);
        // No temp file is left behind.
        assert_eq!(fs::read_dir(dir.join("profiles")).unwrap().count(), 2);
    }

    #[test]
    fn a_wider_directory_is_tightened_and_a_wider_file_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("store").join("profiles");
        DirBuilder::new().recursive(true).mode(0o755).create(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let store = Store::new(&temp.path().join("store"), "default");
        fs::write(store.path(), tokens("client-1").to_json()).unwrap();
        fs::set_permissions(store.path(), fs::Permissions::from_mode(0o644)).unwrap();

        store.save(&tokens("client-1")).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(store.path()), 0o600);
    }
}
