//! The token store: one JSON file per profile, `<store>/profiles/<NAME>.json`, holding the configuration the
//! profile signed in with (the client secret included) and its tokens.
//!
//! It promises that a file is created mode 0600 inside a 0700 directory, with no moment where it is
//! readable by others; that a write is atomic (temp file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves the old file or the new one, never a partial one; and that a file it cannot
//! read is reported and left as it is, never overwritten or deleted behind the user's back.
//! [`Store::lock`] serialises read-modify-write cycles (a sign-in, a refresh, a sign-out) across
//! processes; [`Store::save`] on its own is atomic but does not lock: its callers hold the lock.
//!
//! It does not trust what it finds: the store directory must belong to the user and be writable by no one
//! else (a symlink to such a directory is fine); the token file and the lock file are opened without
//! following a symlink and without blocking on a FIFO, and must be regular files of the user that group and
//! others cannot write; a token file larger than 64 KiB is not read. Anything else is refused with a message
//! that says what to fix, and nothing is changed.

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::Error;
use crate::oauth::TokenSet;
use crate::profile::is_profile_name;
use crate::secret::{AccessToken, IdToken, RefreshToken};

/// The version of the file format written by [`Record::to_json`]. Version 1 (tokens only) is still read.
const FORMAT_VERSION: u64 = 2;

/// The largest token file that is read: a token set takes a few KiB; anything larger is no token file (and
/// `/dev/zero` never ends).
const MAX_FILE_SIZE: u64 = 64 * 1024;

/// How the token file and the lock file are opened: a symlink as the last component is an error (`ELOOP`)
/// rather than followed, and a FIFO does not block the open.
const NO_FOLLOW_NO_BLOCK: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK;

/// Why a symlink is refused, for the token file and the lock file.
const SYMLINK: &str = "it is a symbolic link, which the store does not follow";

/// What a profile keeps: the tokens, who they were issued to, and the configuration they were signed in
/// with (the variables of `.env`, `CLIENT_SECRET` among them), so that the profile works from any directory.
///
/// `Debug` shows no token and no configuration value.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// The token endpoint the tokens came from.
    pub token_url: String,
    /// The OAuth client they were issued to (RFC 6749 §2.2).
    pub client_id: String,
    /// The tokens.
    pub tokens: TokenSet,
    /// The signed-in user's id (`sub` of `/authorization/userinfo`), once it was asked for.
    pub user_id: Option<String>,
    /// The configuration, variable → value.
    pub config: BTreeMap<String, String>,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("tokens", &self.tokens)
            .field("user_id", &self.user_id)
            .field("config", &self.config.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Record {
    /// The file format: a pretty-printed JSON object with the fields in a fixed order and `"version": 2`;
    /// times in unix seconds; absent optional values are `null`; the configuration last, as one object.
    pub fn to_json(&self) -> String {
        let tokens = &self.tokens;
        let string = |value: &str| Value::from(value).to_string();
        let optional_string = |value: Option<&str>| value.map_or_else(|| "null".to_owned(), string);
        let time = |time: SystemTime| unix_seconds(time).to_string();
        let fields = [
            ("version", FORMAT_VERSION.to_string()),
            ("token_url", string(&self.token_url)),
            ("client_id", string(&self.client_id)),
            ("token_type", string(&tokens.token_type)),
            ("access_token", string(tokens.access_token.secret())),
            ("received_at", time(tokens.received_at)),
            ("access_expires_at", time(tokens.expires_at)),
            ("refresh_token", optional_string(tokens.refresh_token.as_ref().map(RefreshToken::secret))),
            ("refresh_expires_at", tokens.refresh_expires_at.map_or_else(|| "null".to_owned(), time)),
            ("scope", optional_string(tokens.scope.as_deref())),
            ("id_token", optional_string(tokens.id_token.as_ref().map(IdToken::secret))),
            ("user_id", optional_string(self.user_id.as_deref())),
            ("config", serde_json::to_string(&self.config).unwrap_or_else(|_| "{}".to_owned())),
        ];
        let lines: Vec<String> = fields.iter().map(|(name, value)| format!("  \"{name}\": {value}")).collect();
        format!("{{\n{}\n}}\n", lines.join(",\n"))
    }

    /// Reads the file format of [`Record::to_json`]. Optional fields may be `null` or missing, unknown
    /// fields are ignored; an access token without a known expiry counts as expired. The error says what
    /// is wrong without quoting any value (it could be a token).
    pub fn from_json(text: &str) -> Result<Record, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let object = value.as_object().ok_or("not a JSON object")?;
        match object.get("version").map(Value::as_u64) {
            Some(Some(1 | FORMAT_VERSION)) => {}
            Some(Some(other)) => return Err(format!("format version {other} is not supported (expected 2)")),
            Some(None) => return Err("\"version\" is not a number".to_owned()),
            None => return Err("\"version\" is missing".to_owned()),
        }
        let required_string = |name: &str| match object.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("\"{name}\" is not a string")),
            None => Err(format!("\"{name}\" is missing")),
        };
        let optional_string = |name: &str| match object.get(name) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Null) | None => Ok(None),
            Some(_) => Err(format!("\"{name}\" is not a string")),
        };
        let optional_time = |name: &str| match object.get(name) {
            Some(Value::Null) | None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|secs| Some(UNIX_EPOCH + Duration::from_secs(secs.min(LATEST))))
                .ok_or_else(|| format!("\"{name}\" is not a non-negative integer")),
        };
        let tokens = TokenSet {
            access_token: AccessToken::new(required_string("access_token")?),
            token_type: required_string("token_type")?,
            received_at: optional_time("received_at")?.unwrap_or(UNIX_EPOCH),
            expires_at: optional_time("access_expires_at")?.unwrap_or(UNIX_EPOCH),
            refresh_token: optional_string("refresh_token")?.map(RefreshToken::new),
            refresh_expires_at: optional_time("refresh_expires_at")?,
            scope: optional_string("scope")?,
            id_token: optional_string("id_token")?.map(IdToken::new),
        };
        let config = match object.get("config") {
            Some(Value::Object(config)) => config
                .iter()
                .map(|(name, value)| match value {
                    Value::String(value) => Ok((name.clone(), value.clone())),
                    _ => Err(format!("\"config\".\"{name}\" is not a string")),
                })
                .collect::<Result<_, _>>()?,
            Some(Value::Null) | None => BTreeMap::new(),
            Some(_) => return Err("\"config\" is not an object".to_owned()),
        };
        Ok(Record {
            token_url: required_string("token_url")?,
            client_id: required_string("client_id")?,
            tokens,
            user_id: optional_string("user_id")?,
            config,
        })
    }
}

/// The latest time read from a file, in unix seconds (the last second of the year 9999): any platform's
/// clock holds it, so an absurd value in a file is no panic.
const LATEST: u64 = 253_402_300_799;

/// Seconds since the Unix epoch (0 for earlier times).
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

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
        names.sort();
        Ok(names)
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the profile's record; `Ok(None)` when there is no file.
    ///
    /// A file that does not parse is [`Error::StoreCorrupt`] and is left untouched; so is a token file that is a symlink, not a regular
    /// file, not the user's, writable by group or others, or larger than 64 KiB. A store directory that
    /// is not the user's or that others can write is [`Error::Store`]. Temp files of interrupted saves are
    /// ignored.
    pub fn load(&self) -> Result<Option<Record>, Error> {
        let Some(uid) = self.check_dir()? else { return Ok(None) };
        read_record(&self.path, uid)
    }

    /// The token file the first version of this tool kept for (token URL, client id) directly in the store
    /// directory `dir` (`tokens-<first 16 hex digits of SHA-256(token_url "\n" client_id)>.json`), with its
    /// path: read once, to carry that sign-in over into a profile, with the same distrust as a profile file.
    pub(crate) fn load_legacy(
        dir: &Path,
        token_url: &str,
        client_id: &str,
    ) -> Result<Option<(Record, PathBuf)>, Error> {
        let uid = current_uid().map_err(|source| Error::Store { path: dir.to_owned(), source })?;
        if !check_one_dir(dir, uid)? {
            return Ok(None);
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, format!("{token_url}\n{client_id}").as_bytes());
        let path = dir.join(format!("tokens-{}.json", hex(&digest.as_ref()[..8])));
        let record = read_record(&path, uid)?.filter(|r| r.token_url == token_url && r.client_id == client_id);
        Ok(record.map(|record| (record, path)))
    }

    /// Replaces the token file atomically: a crash at any point leaves the old file or the new one.
    ///
    /// Creates the directory mode 0700 if it is missing, refuses an existing one that is not the user's or
    /// that group or others can write, and tightens one that they can only read or enter; writes a temp file created mode 0600 in the same directory, fsyncs it, renames it over the
    /// token file and fsyncs the directory. Temp files left by killed processes are not cleaned up.
    pub fn save(&self, record: &Record) -> Result<(), Error> {
        self.prepare_dir()?;
        let temp = self.dir.join(format!(
            "{}.{}.{}.tmp",
            self.file_name(),
            std::process::id(),
            random_hex().map_err(|source| Error::Store { path: self.dir.clone(), source })?
        ));
        let written = write_new_file(&temp, record.to_json().as_bytes()).and_then(|()| fs::rename(&temp, &self.path));
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
    /// `.lock` file, created mode 0600). Blocks until it is free; released when the guard drops. A lock file
    /// that is a symlink, not a regular file, not the user's or writable by others is refused. A lock
    /// taken on a file that [`Store::delete`] removed meanwhile is dropped and taken again on the new one.
    pub fn lock(&self) -> Result<StoreLock, Error> {
        loop {
            let lock = self.lock_once()?;
            let error = |source| Error::Store { path: self.lock_path.clone(), source };
            let held = lock._file.metadata().map_err(error)?;
            match fs::symlink_metadata(&self.lock_path) {
                Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(lock),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(error(source)),
            }
        }
    }

    /// One try of [`Store::lock`]: the lock of whatever file is at the lock path now.
    fn lock_once(&self) -> Result<StoreLock, Error> {
        let uid = self.prepare_dir()?;
        let error = |source| Error::Store { path: self.lock_path.clone(), source };
        let refused = |reason: &str| error(io::Error::other(format!("{reason} — remove it")));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(NO_FOLLOW_NO_BLOCK)
            .open(&self.lock_path);
        let file = match file {
            Ok(file) => file,
            Err(e) if is_symlink_refusal(&e) => return Err(refused(SYMLINK)),
            Err(source) => return Err(error(source)),
        };
        check_file(&file.metadata().map_err(error)?, uid).map_err(|reason| refused(&reason))?;
        file.lock().map_err(error)?;
        Ok(StoreLock { _file: file })
    }

    fn file_name(&self) -> &str {
        self.path.file_name().and_then(|name| name.to_str()).expect("Store::new builds an ASCII file name")
    }

    /// Checks the store directory and its `profiles` directory: `Ok(None)` if either does not exist, else
    /// the user's uid once both (a symlink to them is followed) turned out to be directories of the user that
    /// group and others cannot write.
    fn check_dir(&self) -> Result<Option<u32>, Error> {
        let uid = current_uid().map_err(|source| Error::Store { path: self.dir.clone(), source })?;
        let root = self.dir.parent().unwrap_or(&self.dir);
        for dir in [root, &self.dir] {
            if !check_one_dir(dir, uid)? {
                return Ok(None);
            }
        }
        Ok(Some(uid))
    }

    /// Creates the directory (and missing parents) mode 0700, checks it as [`Store::check_dir`] does and
    /// tightens it to 0700 if group or others can read or enter it. Returns the user's uid.
    fn prepare_dir(&self) -> Result<u32, Error> {
        let error = |source| Error::Store { path: self.dir.clone(), source };
        DirBuilder::new().recursive(true).mode(0o700).create(&self.dir).map_err(error)?;
        let missing = || error(io::Error::new(io::ErrorKind::NotFound, "it vanished after it was created"));
        let uid = self.check_dir()?.ok_or_else(missing)?;
        let mode = fs::metadata(&self.dir).map_err(error)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).map_err(error)?;
        }
        Ok(uid)
    }

    /// Makes a rename or removal in the directory durable.
    fn sync_dir(&self) -> Result<(), Error> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| Error::Store { path: self.dir.clone(), source })
    }
}

/// Reads the record at `path`: `Ok(None)` when there is no file; a file that is a symlink, not a regular
/// file, not `uid`'s, writable by group or others, larger than 64 KiB, or not a record is
/// [`Error::StoreCorrupt`] and left as it is.
fn read_record(path: &Path, uid: u32) -> Result<Option<Record>, Error> {
    let error = |source| Error::Store { path: path.to_owned(), source };
    let corrupt = |reason: String| Error::StoreCorrupt { path: path.to_owned(), reason };
    let file = match OpenOptions::new().read(true).custom_flags(NO_FOLLOW_NO_BLOCK).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if is_symlink_refusal(&e) => return Err(corrupt(SYMLINK.to_owned())),
        Err(source) => return Err(error(source)),
    };
    let metadata = file.metadata().map_err(error)?;
    check_file(&metadata, uid).map_err(corrupt)?;
    let too_large = || corrupt("it is larger than 64 KiB, which no token set is".to_owned());
    if metadata.len() > MAX_FILE_SIZE {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    // The file may grow between the fstat and the read: never read more than the limit.
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes).map_err(error)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes).map_err(|_| corrupt("not UTF-8".to_owned()))?;
    Record::from_json(&text).map(Some).map_err(corrupt)
}

/// Checks one directory of the store: `Ok(false)` if it does not exist, `Ok(true)` if it is a directory
/// of `uid` that group and others cannot write, else the refusal with what to do.
fn check_one_dir(dir: &Path, uid: u32) -> Result<bool, Error> {
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
    if metadata.uid() != uid {
        return Err(refused(format!(
            "it belongs to uid {}, not to you (uid {uid}) — set SIPGATE_OAUTH_STORE to a directory of your own, \
             or chown it",
            metadata.uid()
        )));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(refused(format!(
            "group or others can write to it (mode {mode:04o}) — chmod 700 it, and remove any file in it you did \
             not put there"
        )));
    }
    Ok(true)
}

/// Holds a [`Store`]'s exclusive lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    // Closing the file releases the lock.
    _file: File,
}

/// Whether an open failed because the last component is a symlink and `O_NOFOLLOW` was given.
fn is_symlink_refusal(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ELOOP)
}

/// Why an opened token or lock file (its `fstat`) cannot be trusted, if it cannot: it must be a regular
/// file of `uid` that group and others cannot write.
fn check_file(metadata: &fs::Metadata, uid: u32) -> Result<(), String> {
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

/// The effective user id of this process, read from `/proc/self/status` (no unsafe code needed).
fn current_uid() -> io::Result<u32> {
    let unknown = |reason: String| io::Error::other(format!("cannot tell which user this is: {reason}"));
    let status = fs::read_to_string("/proc/self/status").map_err(|e| unknown(format!("/proc/self/status: {e}")))?;
    // "Uid:" is followed by the real, effective, saved and file system uid.
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| unknown("/proc/self/status names no effective uid".to_owned()))
}

/// Creates `path` (it must not exist) mode 0600, writes `bytes` and fsyncs it.
fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    const TOKEN_URL: &str = "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/token";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn tokens(client_id: &str) -> Record {
        let tokens = TokenSet {
            access_token: AccessToken::new("acc-\"quoted\"-\u{e9}"),
            token_type: "Bearer".to_owned(),
            received_at: at(1_700_000_000),
            expires_at: at(1_700_000_300),
            refresh_token: Some(RefreshToken::new("ref-s3cr3t")),
            refresh_expires_at: Some(at(1_700_001_800)),
            scope: Some("account:read history:read".to_owned()),
            id_token: None,
        };
        let config = BTreeMap::from([
            ("CLIENT_ID".to_owned(), client_id.to_owned()),
            ("CLIENT_SECRET".to_owned(), "cs-s3cr3t".to_owned()),
        ]);
        Record { token_url: TOKEN_URL.to_owned(), client_id: client_id.to_owned(), tokens, user_id: None, config }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

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
    fn the_file_format_is_pinned() {
        let mut saved = tokens("client-1");
        saved.tokens.access_token = AccessToken::new("acc");
        saved.tokens.scope = None;
        let expected = format!(
            "{{\n  \"version\": 2,\n  \"token_url\": \"{TOKEN_URL}\",\n  \"client_id\": \"client-1\",\n  \
             \"token_type\": \"Bearer\",\n  \"access_token\": \"acc\",\n  \"received_at\": 1700000000,\n  \
             \"access_expires_at\": 1700000300,\n  \"refresh_token\": \"ref-s3cr3t\",\n  \
 \"refresh_expires_at\": 1700001800,\n  \"scope\": null,\n  \"id_token\": null,\n  \
             \"user_id\": null,\n  \"config\": {{\"CLIENT_ID\":\"client-1\",\"CLIENT_SECRET\":\"cs-s3cr3t\"}}\n}}\n"
        );
        assert_eq!(saved.to_json(), expected);
        // Missing optional fields and unknown fields are accepted; an unknown expiry counts as expired.
        let text = format!(
            r#"{{"version":1,"token_url":"{TOKEN_URL}","client_id":"c","token_type":"bearer","access_token":"a","x":"y"}}"#
        );
        let read = Record::from_json(&text).unwrap().tokens;
        assert_eq!((read.refresh_token, read.expires_at, read.scope), (None, UNIX_EPOCH, None));
        // An absurd expiry is read without a panic.
        let huge = saved.to_json().replace("1700000300", "18446744073709551615");
        assert!(Record::from_json(&huge).unwrap().tokens.access_valid_for(Duration::from_secs(60)));
    }

    #[test]
    fn invalid_files_are_named_without_quoting_values() {
        let valid = tokens("c").to_json();
        let cases = [
            ("[]", "not a JSON object"),
            ("{\"token_url\":1}", "\"version\" is missing"),
            (&valid.replace("\"version\": 2", "\"version\": 3"), "format version 3 is not supported"),
            (&valid.replace("\"cs-s3cr3t\"", "5"), "\"config\".\"CLIENT_SECRET\" is not a string"),
            (&valid.replace("\"acc-", "1, \"x\": \"acc-"), "\"access_token\" is not a string"),
            (&valid.replace("1700000300", "-5"), "\"access_expires_at\" is not a non-negative integer"),
            (&valid.replace("\"refresh_token\"", "\"refresh_tokn\""), ""),
        ];
        for (text, reason) in cases {
            match Record::from_json(text) {
                Err(shown) => {
                    assert!(shown.starts_with(reason), "{shown}");
                    assert!(!shown.contains("s3cr3t") && !shown.contains("acc-"), "{shown}");
                }
                Ok(read) => {
                    assert_eq!(reason, "", "{text} was accepted");
                    assert_eq!(read.tokens.refresh_token, None);
                }
            }
        }
        assert!(Record::from_json("{\"version\":1").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn debug_shows_no_token_and_no_configuration_value() {
        let shown = format!("{:?}", tokens("client-1"));
        assert!(shown.contains("CLIENT_SECRET") && !shown.contains("cs-s3cr3t"), "{shown}");
        assert!(shown.contains("AccessToken([redacted])"), "{shown}");
        assert!(!shown.contains("s3cr3t") && !shown.contains("acc-"), "{shown}");
    }

    #[test]
    fn a_corrupt_file_is_reported_and_left_as_it_is() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::new(temp.path(), "default");
        DirBuilder::new().recursive(true).mode(0o700).create(temp.path().join("profiles")).unwrap();
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
    fn the_directory_is_created_0700_and_the_file_0600() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().join("config").join("sipgate-oauth");
        let store = Store::new(&dir.clone(), "default");
        store.save(&tokens("client-1")).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("profiles")), 0o700);
        assert_eq!(mode(store.path()), 0o600);
        // No temp file is left behind.
        assert_eq!(fs::read_dir(dir.join("profiles")).unwrap().count(), 1);
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

    #[test]
    fn leftover_temp_files_change_nothing() {
        let temp = tempfile::tempdir().unwrap();
        let store = Store::new(temp.path(), "default");
        DirBuilder::new().recursive(true).mode(0o700).create(temp.path().join("profiles")).unwrap();
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
        assert_eq!(mode(&dir.join("profiles").join(format!("{}.lock", store.file_name()))), 0o600);
    }
}
