//! Reading a `.env` file as python-dotenv — and so sipgate's Python example — reads it, and catching at
//! once, before any network or browser step, the slips that would otherwise fail much later: a value
//! copied from a table with its trailing comma (`PORT="8080",`), a quote that never closes, a misspelt
//! setting (`CLIENT_SECERT`), spaces inside the quotes.
//!
//! Errors and warnings name the file's line and the variable, never a value: the file holds the client
//! secret.

use std::collections::HashMap;
use std::path::Path;

use crate::error::Error;

/// Every variable the tool reads, for "did you mean …?" on a misspelt one. A variable of the user's own
/// (their app shares the `.env`) is no slip unless it is close to one of these.
pub(crate) const SETTINGS: [&str; 18] = [
    "AUTH_URL",
    "TOKEN_URL",
    "TEST_API_ENDPOINT",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "OAUTH_SCOPE",
    "REDIRECT_URI",
    "PORT",
    "API_BASE_URL",
    "REVOKE_URL",
    "LOGOUT_URL",
    "DEVICE_AUTH_URL",
    "ISSUER",
    "REALM",
    "BROWSER",
    "SIPGATE_OAUTH_PROFILE",
    "SIPGATE_OAUTH_STORE",
    "SIPGATE_OAUTH_CA_FILE",
];

/// A `.env` file, read: its variables, and what looks wrong in it but does no harm (each message names
/// the file and the line).
#[derive(Debug, Default)]
pub(crate) struct EnvFile {
    /// Variable → value.
    pub vars: HashMap<String, String>,
    /// `PATH line N: …`, for the user to see before the run goes on.
    pub warnings: Vec<String>,
}

/// Reads `env_file`, else `./.env` if there is one, without touching the process environment. A missing
/// `./.env` is fine; a missing `--env-file` is an error.
pub(crate) fn read(env_file: Option<&Path>) -> Result<EnvFile, Error> {
    let path = match env_file {
        Some(path) => path,
        None if Path::new(".env").exists() => Path::new(".env"),
        None => return Ok(EnvFile::default()),
    };
    let env_error = |message: String| Error::EnvFile { path: path.to_owned(), message };
    let text = std::fs::read_to_string(path).map_err(|e| env_error(e.to_string()))?;
    let mut warnings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match check_line(line) {
            Ok(None) => {}
            Ok(Some(warning)) => warnings.push(format!("{} line {}: {warning}", path.display(), index + 1)),
            Err(message) => return Err(env_error(format!("line {} {message}", index + 1))),
        }
    }
    let text = quote_bare_values(&text);
    let named = |line: &str| {
        let first = line.lines().next().unwrap_or_default();
        let number = text.lines().position(|l| l == first).map_or(String::new(), |i| format!("line {}", i + 1));
        let var = line.split_once('=').map_or(String::new(), |(var, _)| format!(" ({})", var.trim()));
        format!("{number}{var} cannot be read — put the value in quotes, e.g. KEY=\"a b\"")
    };
    let vars = dotenvy::from_read_iter(text.as_bytes())
        .map(|item| {
            item.map_err(|e| match e {
                dotenvy::Error::LineParse(line, _) => env_error(named(&line)),
                other => env_error(other.to_string()),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(EnvFile { vars, warnings })
}

/// One line's verdict: `Err` for what would be read wrong (`(KEY): why`), `Ok(Some)` for a warning.
/// Only the tool's own settings are judged by their values; other variables only by their names.
fn check_line(line: &str) -> Result<Option<String>, String> {
    let Some((key, value)) = assignment(line) else { return Ok(None) };
    if !SETTINGS.contains(&key) {
        let upper = key.to_ascii_uppercase();
        let known = SETTINGS.iter().find(|&&s| s == upper).copied();
        return Ok(known
            .or_else(|| crate::spelling::closest(key, SETTINGS))
            .map(|setting| format!("{key} is no setting of sipgate-oauth (ignored) — did you mean {setting}?")));
    }
    let value = value.trim();
    let Some(quote) = value.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
        let bare = value.split(" #").next().unwrap_or_default().trim_end();
        if bare.ends_with(',') {
            return Err(format!("({key}): the value ends in a comma — remove it (.env is KEY=value, one a line)"));
        }
        if bare.ends_with(['"', '\'']) {
            return Err(format!("({key}): the value ends in a quote that it does not start with"));
        }
        return Ok(None);
    };
    let Some(end) = closing_quote(&value[1..], quote) else {
        return Err(format!("({key}): the value opens a {quote} quote and never closes it on this line"));
    };
    let (inner, after) = (&value[1..1 + end], value[2 + end..].trim());
    if after.starts_with(',') {
        return Err(format!(
            "({key}): a comma follows the closing quote — write {key}={quote}…{quote} without it \
             (a habit from tables: .env is KEY=value, one a line)"
        ));
    }
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!("({key}): there is text after the closing quote"));
    }
    if inner.trim() != inner {
        return Ok(Some(format!("the value of {key} has spaces at its start or end; they are ignored")));
    }
    Ok(None)
}

/// `KEY` and the raw value of a `[export] KEY=value` line; `None` for blank lines and comments.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, value) = line.split_once('=')?;
    Some((key.trim(), value))
}

/// Where the quote that `text` (the value after its opening quote) closes with is; `\"` does not close
/// a double-quoted value.
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            '\\' if quote == '"' && !escaped => escaped = true,
            c if c == quote && !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// Quotes unquoted values that contain spaces (`OAUTH_SCOPE=account:read history:read`), which dotenvy
/// refuses and python-dotenv — and so sipgate's example — reads as the rest of the line. A ` #` starts a
/// comment, as there.
fn quote_bare_values(text: &str) -> String {
    let quote = |line: &str| -> Option<String> {
        let (key, value) = line.split_once('=')?;
        let bare_key = key.trim().trim_start_matches("export ").trim();
        if bare_key.is_empty()
            || bare_key.starts_with('#')
            || !bare_key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return None;
        }
        let value = value.split(" #").next().unwrap_or_default().trim();
        let bare = !value.starts_with(['"', '\'']) && !value.contains(['"', '\'', '\\', '$']);
        (bare && value.contains(char::is_whitespace)).then(|| format!("{key}='{value}'"))
    };
    text.lines().map(|line| quote(line).unwrap_or_else(|| line.to_owned()) + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<EnvFile, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, text).unwrap();
        read(Some(&file)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_python_examples_env_reads_without_a_word() {
        let text = "TOKEN_URL=https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/token\n\
            AUTH_URL=https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/auth\n\
            TEST_API_ENDPOINT=https://api.sipgate.com/v2/account\nCLIENT_ID=\nCLIENT_SECRET=\n\
            OAUTH_SCOPE=account:read\nREDIRECT_URI=http://localhost:8080/oauth\nPORT=8080\n";
        let file = read_text(text).unwrap();
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        assert_eq!((file.vars["PORT"].as_str(), file.vars["CLIENT_ID"].as_str()), ("8080", ""));
    }

    #[test]
    fn an_env_file_with_unquoted_spaces_reads_as_python_dotenv_does() {
        let text = "# sipgate\nOAUTH_SCOPE=account:read history:read # comment\nCLIENT_ID=plain\nQUOTED=\"a b\"\n";
        let vars = read_text(text).unwrap().vars;
        assert_eq!(vars["OAUTH_SCOPE"], "account:read history:read");
        assert_eq!((vars["CLIENT_ID"].as_str(), vars["QUOTED"].as_str()), ("plain", "a b"));
    }

    #[test]
    fn a_table_habit_or_an_open_quote_is_an_error_naming_line_and_key_never_the_value() {
        let cases = [
            ("CLIENT_ID=\"abc\",\nPORT=\"8080\",\n", "line 1 (CLIENT_ID): a comma follows the closing quote"),
            ("CLIENT_ID=x\nPORT=8080,\n", "line 2 (PORT): the value ends in a comma"),
            ("CLIENT_ID=x\nCLIENT_SECRET=\"s3cr3t\n", "line 2 (CLIENT_SECRET): the value opens a \" quote"),
            ("CLIENT_SECRET=s3cr3t\"\n", "line 1 (CLIENT_SECRET): the value ends in a quote"),
            ("CLIENT_SECRET='s3cr3t' trailing\n", "line 1 (CLIENT_SECRET): there is text after"),
        ];
        for (text, expected) in cases {
            let message = read_text(text).unwrap_err();
            assert!(message.contains(".env: line") && message.contains(expected), "{text:?}: {message}");
            assert!(!message.contains("s3cr3t") && !message.contains("abc"), "{message}");
        }
    }

    #[test]
    fn misspelt_settings_and_stray_spaces_are_warnings_and_other_variables_are_the_users_own() {
        let text =
            "CLIENT_SECERT=x\nclient_id=y\nDATABASE_URL=postgres://db\nCLIENT_SECRET=\" padded \"\nNOTE=\"a\",\n";
        let file = read_text(text).unwrap();
        let warnings = file.warnings.join("\n");
        assert!(
            warnings.contains(
                "line 1: CLIENT_SECERT is no setting of sipgate-oauth (ignored) — did you mean CLIENT_SECRET?"
            ),
            "{warnings}"
        );
        assert!(
            warnings.contains("line 2: client_id is no setting") && warnings.contains("did you mean CLIENT_ID?"),
            "{warnings}"
        );
        assert!(warnings.contains("line 4: the value of CLIENT_SECRET has spaces"), "{warnings}");
        assert!(
            !warnings.contains("DATABASE_URL") && !warnings.contains("NOTE") && !warnings.contains("padded"),
            "{warnings}"
        );
        assert_eq!(file.warnings.len(), 3);
    }

    #[test]
    fn escaped_quotes_and_comments_after_the_value_are_fine() {
        let file = read_text("CLIENT_SECRET=\"a\\\"b\" # the secret\nBROWSER='firefox --new-window'\n").unwrap();
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        assert_eq!(file.vars["BROWSER"], "firefox --new-window");
    }
}
