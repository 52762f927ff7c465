//! A profile's record and its file format: what a token file holds, written as pinned, pretty-printed JSON
//! and read back with every field checked. Nothing here touches a file; `store` does that.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::oauth::TokenSet;
use crate::secret::{AccessToken, IdToken, RefreshToken};

/// The version of the file format written by [`Record::to_json`]. Version 1 (tokens only) is still read.
const FORMAT_VERSION: u64 = 2;

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
        let mut config = BTreeMap::new();
        match object.get("config") {
            // Inserted one by one: a map's `collect` sorts its entries first (docs/performance.md, "Size").
            Some(Value::Object(kept)) => {
                for (name, value) in kept {
                    let Value::String(value) = value else {
                        return Err(format!("\"config\".\"{name}\" is not a string"));
                    };
                    config.insert(name.clone(), value.clone());
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => return Err("\"config\" is not an object".to_owned()),
        }
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

#[cfg(test)]
mod tests {
    use super::sample::{TOKEN_URL, record as tokens};
    use super::*;

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
}

/// A record for the store's tests: tokens with secrets that a leak check can look for.
#[cfg(test)]
pub(super) mod sample {
    use super::*;

    /// The token URL of the sample records.
    pub(crate) const TOKEN_URL: &str =
        "https://login.sipgate.com/auth/realms/third-party/protocol/openid-connect/token";

    /// `secs` after the Unix epoch.
    pub(crate) fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// A record issued to `client_id`.
    pub(crate) fn record(client_id: &str) -> Record {
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
}
