//! The token store: one JSON file per profile, `<store>/profiles/<NAME>.json`, holding the configuration the
//! profile signed in with (the client secret included) and its tokens.
//!
//! It promises that a file is readable by the user alone from the moment it exists; that a write is atomic
//! (temp file in the same directory, fsync, rename, fsync of the directory where the OS has one), so a crash
//! leaves the old file or the new one, never a partial one; and that a file it cannot read is reported and
//! left as it is, never overwritten or deleted behind the user's back. [`Store::lock`] serialises
//! read-modify-write cycles (a sign-in, a refresh, a sign-out) across processes; [`Store::save`] on its own
//! is atomic but does not lock: its callers hold the lock.
//!
//! It does not trust what it finds: the store directory must be one that only the user controls (a symlink
//! to such a directory is fine); the token file and the lock file are opened without following a symlink
//! (or junction) and without blocking on a FIFO, and must be regular files that only the user can write; a
//! token file larger than 64 KiB is not read. Anything else is refused with a message that says what to
//! fix, and nothing is changed. What "only the user" means is the platform's: `unix.rs` (owner and mode
//! bits: a 0700 directory, 0600 files) or `windows.rs` (a directory inside the user's profile, whose
//! inherited access list admits the user, SYSTEM and administrators only). Above that seam nothing differs.

mod legacy;
pub(crate) mod record;
#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as platform;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as platform;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::profile::is_profile_name;

use platform::User;
pub use record::Record;

/// The largest token file that is read: a token set takes a few KiB; anything larger is no token file (and
/// `/dev/zero` never ends).
const MAX_FILE_SIZE: u64 = 64 * 1024;

/// Why a symlink is refused, for the token file and the lock file.
const SYMLINK: &str = "it is a symbolic link, which the store does not follow";

/// The file of one profile in a store directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
    path: PathBuf,
    lock_path: PathBuf,
}

impl Store {
    /// The store of `profile` (a valid [profile name](crate::profile::is_profile_name)) in the store directory `dir`: the
    /// file `dir/profiles/<profile>.json`, and the lock file beside it with `.lock` added. Touches no file.
    pub fn new(dir: &Path, profile: &str) -> Store {
        let dir = dir.join("profiles");
        Store { path: dir.join(format!("{profile}.json")), lock_path: dir.join(format!("{profile}.json.lock")), dir }
    }

    /// The names of the profiles kept in the store directory `dir`, sorted; none if it does not exist.
    pub fn profiles(dir: &Path) -> Result<Vec<String>, Error> {
        let dir = dir.join("profiles");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::Store { path: dir, source }),
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
            .filter(|name| is_profile_name(name))
            .collect();
        names.sort_unstable();
        Ok(names)
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the profile's record; `Ok(None)` when there is no file.
    ///
    /// A file that does not parse is [`Error::StoreCorrupt`] and is left untouched; so is a token file that
    /// is a symlink, not a regular file, one that others could have written, or larger than 64 KiB. A store
    /// directory that others control is [`Error::Store`]. Temp files of interrupted saves are ignored.
    pub fn load(&self) -> Result<Option<Record>, Error> {
        let Some(user) = self.check_dir()? else { return Ok(None) };
        read_record(&self.path, &user)
    }

    /// Replaces the token file atomically: a crash at any point leaves the old file or the new one.
    ///
    /// Creates the directory (private to the user) if it is missing, refuses an existing one that others
    /// control, and tightens one that others can only read or enter; writes a temp file that only the user
    /// can read in the same directory, fsyncs it, renames it over the token file (retrying briefly where
    /// another process holds the file open) and makes the rename durable. Temp files left by killed
    /// processes are not cleaned up.
    pub fn save(&self, record: &Record) -> Result<(), Error> {
        self.prepare_dir()?;
        let temp = self.dir.join(format!(
            "{}.{}.{}.tmp",
            self.file_name(),
            std::process::id(),
            random_hex().map_err(|source| Error::Store { path: self.dir.clone(), source })?
        ));
        let written = platform::write_new_file(&temp, record.to_json().as_bytes())
            .and_then(|()| platform::replace(&temp, &self.path));
        if let Err(source) = written {
            // Best effort: the temp file is garbage either way, and load never reads it.
            let _ = fs::remove_file(&temp);
            return Err(Error::Store { path: temp, source });
        }
        self.sync_dir()
    }

    /// Removes the token file and then its lock file, under the lock `lock` of this store (which it
    /// releases); `Ok(true)` if there was a token file. A process that was waiting for the lock finds its
    /// lock file gone and takes the lock afresh (see [`Store::lock`]), so no two hold it at once.
    pub fn delete(&self, lock: StoreLock) -> Result<bool, Error> {
        let deleted = match fs::remove_file(&self.path) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(source) => return Err(Error::Store { path: self.path.clone(), source }),
        };
        match fs::remove_file(&self.lock_path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Store { path: self.lock_path.clone(), source }),
        }
        drop(lock);
        self.sync_dir().map(|()| deleted)
    }

    /// Takes the exclusive lock of this store, shared by all processes (an OS file lock on the sidecar
    /// `.lock` file, created readable by the user alone). Blocks until it is free; released when the guard
    /// drops (closing the file releases it). A lock file that is a symlink, not a regular file, or one that
    /// others could have written is refused. A lock taken on a file that [`Store::delete`] removed
    /// meanwhile is dropped and taken again on the new one.
    pub fn lock(&self) -> Result<StoreLock, Error> {
        lock_at(&self.lock_path, || self.prepare_dir())
    }

    fn file_name(&self) -> &str {
        self.path.file_name().and_then(|name| name.to_str()).expect("Store::new builds an ASCII file name")
    }

    /// Checks the store directory and its `profiles` directory: `Ok(None)` if either does not exist, else
    /// the user once both (a symlink to them is followed) turned out to be directories that only the user
    /// controls.
    fn check_dir(&self) -> Result<Option<User>, Error> {
        let user = User::current().map_err(|source| Error::Store { path: self.dir.clone(), source })?;
        let root = self.dir.parent().unwrap_or(&self.dir);
        for dir in [root, &self.dir] {
            if !check_one_dir(dir, &user)? {
                return Ok(None);
            }
        }
        Ok(Some(user))
    }

    /// Creates the directory (and missing parents) private to the user, checks it as
    /// [`Store::check_dir`] does and tightens it if others can read or enter it. Returns the user.
    fn prepare_dir(&self) -> Result<User, Error> {
        let error = |source| Error::Store { path: self.dir.clone(), source };
        platform::create_dir(&self.dir).map_err(error)?;
        let missing = || error(io::Error::new(io::ErrorKind::NotFound, "it vanished after it was created"));
        let user = self.check_dir()?.ok_or_else(missing)?;
        platform::tighten_dir(&self.dir).map_err(error)?;
        Ok(user)
    }

    /// Makes a rename or removal in the directory durable.
    fn sync_dir(&self) -> Result<(), Error> {
        platform::sync_dir(&self.dir).map_err(|source| Error::Store { path: self.dir.clone(), source })
    }
}

/// Reads the record at `path`: `Ok(None)` when there is no file; a file that is a symlink, not a regular
/// file, one that others could have written, larger than 64 KiB, or not a record is [`Error::StoreCorrupt`]
/// and left as it is.
fn read_record(path: &Path, user: &User) -> Result<Option<Record>, Error> {
    let error = |source| Error::Store { path: path.to_owned(), source };
    let corrupt = |reason: String| Error::StoreCorrupt { path: path.to_owned(), reason };
    let file = match platform::no_follow(OpenOptions::new().read(true)).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if platform::is_symlink_refusal(&e) => return Err(corrupt(SYMLINK.to_owned())),
        Err(source) => return Err(error(source)),
    };
    let metadata = file.metadata().map_err(error)?;
    platform::check_file(&metadata, user).map_err(corrupt)?;
    let too_large = || corrupt("it is larger than 64 KiB, which no token set is".to_owned());
    if metadata.len() > MAX_FILE_SIZE {
        return Err(too_large());
    }
    // Room for the whole file and one byte more: two reads, the second telling the end.
    let mut bytes = Vec::with_capacity(metadata.len() as usize + 1);
    // The file may grow between the fstat and the read: never read more than the limit.
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes).map_err(error)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8".to_owned()))?;
    Record::from_json(&text).map(Some).map_err(corrupt)
}

/// Checks one directory of the store: `Ok(false)` if it does not exist, `Ok(true)` if it is a directory
/// that only `user` controls, else the refusal with what to do.
fn check_one_dir(dir: &Path, user: &User) -> Result<bool, Error> {
    let refused = |reason: String| Error::Store { path: dir.to_owned(), source: io::Error::other(reason) };
    let metadata = match fs::metadata(dir) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(Error::Store { path: dir.to_owned(), source }),
    };
    if !metadata.is_dir() {
        return Err(refused(
            "it is not a directory — remove it, or set SIPGATE_OAUTH_STORE to a directory of your own".to_owned(),
        ));
    }
    platform::check_dir(dir, &metadata, user).map_err(refused)?;
    Ok(true)
}

/// Holds a [`Store`]'s exclusive lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    // Closing the file releases the lock (never `File::unlock`, which Wine answers with a lock violation
    // although it released the lock).
    _file: File,
}

/// [`Store::lock`] on the lock file `lock_path`; `user` checks (or prepares) the directory it is in and
/// says whose the store is.
fn lock_at(lock_path: &Path, user: impl Fn() -> Result<User, Error>) -> Result<StoreLock, Error> {
    let error = |source| Error::Store { path: lock_path.to_owned(), source };
    loop {
        let lock = lock_once(lock_path, &user()?)?;
        let held = lock._file.metadata().map_err(error)?;
        match fs::symlink_metadata(lock_path) {
            Ok(now) if platform::is_same_file(&held, &now) => return Ok(lock),
            Ok(_) => {}
            Err(e) if platform::is_gone(&e) => {}
            Err(source) => return Err(error(source)),
        }
    }
}

/// One try of [`lock_at`]: the lock of whatever file is at `lock_path` now.
fn lock_once(lock_path: &Path, user: &User) -> Result<StoreLock, Error> {
    let error = |source| Error::Store { path: lock_path.to_owned(), source };
    let refused = |reason: &str| error(io::Error::other(format!("{reason} — remove it")));
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    let file = match platform::no_follow(&mut options).open(lock_path) {
        Ok(file) => file,
        Err(e) if platform::is_symlink_refusal(&e) => return Err(refused(SYMLINK)),
        Err(source) => return Err(error(source)),
    };
    platform::check_file(&file.metadata().map_err(error)?, user).map_err(|reason| refused(&reason))?;
    file.lock().map_err(error)?;
    Ok(StoreLock { _file: file })
}

/// 16 random hex digits from the OS, for a temp file name no other process picks.
fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| io::Error::other("the OS random number generator failed"))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::record::sample::{at, record as tokens};
    use super::record::unix_seconds;
    use super::*;
    use crate::oauth::TokenSet;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    #[test]
    fn save_then_load_gives_the_same_tokens() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::new(&temp.path().join("store"), "default");
        assert_eq!(store.load().unwrap(), None);
        let saved = tokens("client-1");
        store.save(&saved).unwrap();
        assert_eq!(store.load().unwrap(), Some(saved.clone()));

        let mut minimal = saved;
        minimal.tokens =
            TokenSet { refresh_token: None, refresh_expires_at: None, scope: None, id_token: None, ..minimal.tokens };
        store.save(&minimal).unwrap();
        assert_eq!(store.load().unwrap(), Some(minimal));
    }

    #[test]
    fn a_corrupt_file_is_reported_and_left_as_it_is() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::new(temp.path(), "default");
        platform::create_dir(&temp.path().join("profiles")).unwrap();
        for garbage in [&b"{\"version\":1,\"token_url\":"[..], b"", b"\xff\xfe not utf-8"] {
            fs::write(store.path(), garbage).unwrap();
            match store.load() {
                Err(Error::StoreCorrupt { path, reason }) => {
                    assert_eq!(path, store.path());
                    assert!(!reason.is_empty());
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(fs::read(store.path()).unwrap(), garbage);
        }
        let shown = store.load().unwrap_err().to_string();
        assert!(shown.contains("left as it is"), "{shown}");
    }

    #[test]
    fn each_profile_has_its_own_file_and_only_valid_names_are_listed() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        assert_eq!(Store::new(dir, "work").path(), dir.join("profiles").join("work.json"));
        assert_eq!(Store::profiles(dir).unwrap(), Vec::<String>::new());
        Store::new(dir, "work").save(&tokens("client-1")).unwrap();
        Store::new(dir, "default").save(&tokens("client-2")).unwrap();
        drop(Store::new(dir, "default").lock().unwrap());
        fs::write(dir.join("profiles").join("not a name.json"), "{}").unwrap();
        assert_eq!(Store::profiles(dir).unwrap(), ["default", "work"]);
        assert_eq!(Store::new(dir, "work").load().unwrap().unwrap().client_id, "client-1");
    }

    #[test]
    fn leftover_temp_files_change_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::new(temp.path(), "default");
        platform::create_dir(&temp.path().join("profiles")).unwrap();
        let leftover = temp.path().join("profiles").join(format!("{}.999999.0123456789abcdef.tmp", store.file_name()));
        fs::write(&leftover, "{\"version\":1,\"tok").unwrap();
        assert_eq!(store.load().unwrap(), None);
        store.save(&tokens("client-1")).unwrap();
        assert_eq!(store.load().unwrap(), Some(tokens("client-1")));
        assert!(leftover.exists());
    }

    #[test]
    fn delete_removes_the_file_once() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::new(temp.path(), "default");
        assert!(!store.delete(store.lock().unwrap()).unwrap());
        store.save(&tokens("client-1")).unwrap();
        assert!(store.delete(store.lock().unwrap()).unwrap());
        assert!(!store.path().exists());
        assert_eq!(store.load().unwrap(), None);
        assert!(!store.delete(store.lock().unwrap()).unwrap());
        // Nothing is left behind: no lock file either.
        assert_eq!(fs::read_dir(temp.path().join("profiles")).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_directory_is_no_error_for_load() {
        let store = Store::new(&PathBuf::from("/nonexistent/sipgate-oauth-test"), "default");
        assert_eq!(store.load().unwrap(), None);
    }

    #[test]
    fn the_lock_serialises_read_modify_write_between_threads() {
        const THREADS: usize = 4;
        const ROUNDS: usize = 100;
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("store");
        let inside = Arc::new(AtomicBool::new(false));
        let overlaps = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (dir, inside, overlaps) = (dir.clone(), inside.clone(), overlaps.clone());
                std::thread::spawn(move || {
                    // Each thread has its own Store and so its own lock file handle, like a process would.
                    let store = Store::new(&dir, "default");
                    for _ in 0..ROUNDS {
                        let _lock = store.lock().unwrap();
                        if inside.swap(true, Ordering::SeqCst) {
                            overlaps.fetch_add(1, Ordering::SeqCst);
                        }
                        let mut current = store.load().unwrap().unwrap_or_else(|| tokens("client-1"));
                        let count = unix_seconds(current.tokens.expires_at);
                        std::thread::yield_now();
                        current.tokens.expires_at = at(count + 1);
                        store.save(&current).unwrap();
                        inside.store(false, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        let store = Store::new(&dir.clone(), "default");
        assert_eq!(overlaps.load(Ordering::SeqCst), 0);
        let count = unix_seconds(store.load().unwrap().unwrap().tokens.expires_at);
        assert_eq!(count, 1_700_000_300 + (THREADS * ROUNDS) as u64);
        assert!(dir.join("profiles").join(format!("{}.lock", store.file_name())).is_file());
    }
}
