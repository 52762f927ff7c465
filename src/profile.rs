//! Profile names and where profiles are kept: leaf helpers that every layer may use (the configuration
//! to name its store, the store to list its files, the CLI to check `--profile`). No file is touched.

use std::path::{Path, PathBuf};

/// Whether `name` can name a profile: 1 to 64 letters, digits, `-` and `_` (it becomes a file name).
pub fn is_profile_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The variable an error about a missing store directory names: the one the platform's default needs.
pub(crate) const STORE_DIR_VAR: &str = if cfg!(windows) { "LOCALAPPDATA" } else { "HOME" };

/// The store directory: `SIPGATE_OAUTH_STORE` if set, else the platform's default — on Windows
/// `%LOCALAPPDATA%\sipgate-oauth` (tokens are secrets and do not roam with a roaming profile), else
/// `%USERPROFILE%\AppData\Local\sipgate-oauth`; elsewhere `$XDG_CONFIG_HOME/sipgate-oauth`, else
/// `$HOME/.config/sipgate-oauth` (macOS too, as gh does).
///
/// Empty values count as unset, and a relative `XDG_CONFIG_HOME` is ignored (XDG Base Directory
/// specification). `lookup` reads a variable, so tests need not touch the process environment.
pub(crate) fn store_dir(lookup: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    let var = |name: &str| lookup(name).filter(|value| !value.is_empty());
    if let Some(dir) = var("SIPGATE_OAUTH_STORE") {
        return Ok(PathBuf::from(dir));
    }
    if cfg!(windows) { windows_default(&var) } else { unix_default(&var) }
}

/// The default store directory on Windows; `HOME` plays no part (Windows processes seldom have it).
fn windows_default(var: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if let Some(local) = var("LOCALAPPDATA") {
        return Ok(Path::new(&local).join("sipgate-oauth"));
    }
    match var("USERPROFILE") {
        Some(profile) => Ok(Path::new(&profile).join("AppData").join("Local").join("sipgate-oauth")),
        None => Err("is not set, and neither is USERPROFILE, so there is no place for the token store — \
                     set SIPGATE_OAUTH_STORE to a directory inside your user profile"
            .to_owned()),
    }
}

/// The default store directory on unix (Linux, macOS, the BSDs).
fn unix_default(var: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, String> {
    if let Some(config) = var("XDG_CONFIG_HOME").map(PathBuf::from).filter(|path| path.is_absolute()) {
        return Ok(config.join("sipgate-oauth"));
    }
    match var("HOME") {
        Some(home) => Ok(Path::new(&home).join(".config").join("sipgate-oauth")),
        None => Err("is not set, so there is no place for the token store — \
                     set HOME, XDG_CONFIG_HOME or SIPGATE_OAUTH_STORE to a directory"
            .to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn profile_names_are_short_plain_file_names() {
        for bad in ["", "../x", "a/b", "a.b", &"x".repeat(65)] {
            assert!(!is_profile_name(bad), "{bad:?}");
        }
        assert!(is_profile_name("customer_2-prod"));
    }

    #[test]
    fn the_directory_comes_from_the_environment_in_order() {
        let dir = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            store_dir(&|name| vars.get(name).cloned())
        };
        let all = [("SIPGATE_OAUTH_STORE", "/s"), ("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(dir(&all).unwrap(), PathBuf::from("/s"));
        assert_eq!(dir(&all[1..]).unwrap(), PathBuf::from("/x/sipgate-oauth"));
        assert_eq!(dir(&all[2..]).unwrap(), PathBuf::from("/h/.config/sipgate-oauth"));
        // Empty counts as unset; a relative XDG_CONFIG_HOME is ignored.
        let empty = [("SIPGATE_OAUTH_STORE", ""), ("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")];
        assert_eq!(dir(&empty).unwrap(), PathBuf::from("/h/.config/sipgate-oauth"));
        let error = dir(&[("XDG_CONFIG_HOME", ""), ("HOME", "")]).unwrap_err();
        assert!(error.contains("SIPGATE_OAUTH_STORE"), "{error}");
    }

    #[test]
    fn on_windows_the_directory_is_local_app_data_and_home_plays_no_part() {
        let dir = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            windows_default(&|name| vars.get(name).cloned().filter(|value| !value.is_empty()))
        };
        let all = [("LOCALAPPDATA", r"C:\Users\a\AppData\Local"), ("USERPROFILE", r"C:\Users\a"), ("HOME", "/h")];
        assert_eq!(dir(&all).unwrap(), Path::new(r"C:\Users\a\AppData\Local").join("sipgate-oauth"));
        assert_eq!(
            dir(&all[1..]).unwrap(),
            Path::new(r"C:\Users\a").join("AppData").join("Local").join("sipgate-oauth")
        );
        let error = dir(&[("HOME", "/h"), ("LOCALAPPDATA", "")]).unwrap_err();
        assert!(error.contains("SIPGATE_OAUTH_STORE"), "{error}");
    }
}
