//! The first version's token files: `tokens-<16 hex digits>.json` directly in the store directory, one per
//! (token URL, client id), holding the tokens only (format 1, no configuration), each with a `.lock` file
//! beside it that that version never removed. A later run reads one once to carry its sign-in over into a
//! profile ([`Store::load_legacy`]); `logout --all` lists them, signs them out and removes them with their
//! lock files. They are read with the same distrust as a profile's file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Record, Store, StoreLock, User, check_one_dir, hex, lock_at, read_record};
use crate::error::Error;

/// Whether `name` is a file name the first version gave a token file.
fn is_legacy_name(name: &str) -> bool {
    let Some(digits) = name.strip_prefix("tokens-").and_then(|rest| rest.strip_suffix(".json")) else {
        return false;
    };
    digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The lock file the first version kept beside `path`.
fn lock_of(path: &Path) -> PathBuf {
    let mut lock = path.as_os_str().to_owned();
    lock.push(".lock");
    PathBuf::from(lock)
}

/// Removes `path`; one that is already gone is fine.
fn remove(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::Store { path: path.to_owned(), source: e }),
        _ => Ok(()),
    }
}

impl Store {
    /// The token file the first version of this tool kept for (token URL, client id) directly in the store
    /// directory `dir` (`tokens-<first 16 hex digits of SHA-256(token_url "\n" client_id)>.json`), with its
    /// path: read once, to carry that sign-in over into a profile, with the same distrust as a profile file.
    pub(crate) fn load_legacy(
        dir: &Path,
        token_url: &str,
        client_id: &str,
    ) -> Result<Option<(Record, PathBuf)>, Error> {
        let user = User::current().map_err(|source| Error::Store { path: dir.to_owned(), source })?;
        if !check_one_dir(dir, &user)? {
            return Ok(None);
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, format!("{token_url}\n{client_id}").as_bytes());
        let path = dir.join(format!("tokens-{}.json", hex(&digest.as_ref()[..8])));
        let record = read_record(&path, &user)?.filter(|r| r.token_url == token_url && r.client_id == client_id);
        Ok(record.map(|record| (record, path)))
    }

    /// The first version's token files in the store directory `dir`, sorted, and its lock files whose
    /// token file is gone; none if the directory does not exist. Nothing is read but the directory.
    pub(crate) fn legacy_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(source) => return Err(Error::Store { path: dir.to_owned(), source }),
        };
        let mut names: Vec<String> = entries.filter_map(|entry| entry.ok()?.file_name().into_string().ok()).collect();
        // The names are sorted, not the paths: one directory, so the same order, and one sort less to compile.
        names.sort_unstable();
        let files: Vec<PathBuf> = names.iter().filter(|name| is_legacy_name(name)).map(|n| dir.join(n)).collect();
        let stale_locks = names
            .iter()
            .filter_map(|name| name.strip_suffix(".lock"))
            .filter(|file| is_legacy_name(file) && !names.iter().any(|name| name == file))
            .map(|file| lock_of(&dir.join(file)))
            .collect();
        Ok((files, stale_locks))
    }

    /// Reads the first version's token file `path` (one of [`Store::legacy_files`]) as [`Store::load`]
    /// reads a profile's; `Ok(None)` if it is gone.
    pub(crate) fn read_legacy(path: &Path) -> Result<Option<Record>, Error> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let user = User::current().map_err(|source| Error::Store { path: dir.to_owned(), source })?;
        if !check_one_dir(dir, &user)? {
            return Ok(None);
        }
        read_record(path, &user)
    }

    /// The lock of the first version's token file `path` (the `.lock` file beside it): held while the file
    /// is carried over into a profile or signed out by `logout --all`, so that one of the two has it and
    /// the other finds it gone. Blocks until it is free, as [`Store::lock`] does.
    pub(crate) fn lock_legacy(path: &Path) -> Result<StoreLock, Error> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let gone = || Error::Store { path: dir.to_owned(), source: io::ErrorKind::NotFound.into() };
        lock_at(&lock_of(path), || {
            let user = User::current().map_err(|source| Error::Store { path: dir.to_owned(), source })?;
            check_one_dir(dir, &user)?.then_some(user).ok_or_else(gone)
        })
    }

    /// Removes the first version's token file `path`, then its lock file (either may be gone already).
    pub(crate) fn remove_legacy(path: &Path) -> Result<(), Error> {
        remove(path)?;
        remove(&lock_of(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_versions_names_are_its_files() {
        assert!(is_legacy_name("tokens-deb875e79f00418b.json"));
        for other in
            ["tokens-deb875e79f00418.json", "tokens-DEB875E79F00418B.json", "tokens-deb875e79f00418b.json.lock"]
        {
            assert!(!is_legacy_name(other), "{other}");
        }
        assert!(!is_legacy_name("tokens-../../../etc/pas.json") && !is_legacy_name("default.json"));
    }
}
