//! `application/x-www-form-urlencoded` encoding and decoding, for URL queries and form bodies.
//!
//! Decoding is strict: bad percent-encoding or bytes that are not UTF-8 are errors, never replaced,
//! so a value that reaches the caller is exactly what the peer sent.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Everything but the unreserved characters of RFC 3986 §2.3 is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one query component (RFC 3986 §2.1).
pub fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// Encodes pairs as `k=v&k=v`.
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(key));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// Why a query or form body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A `%` not followed by two hex digits.
    BadPercentEncoding,
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::BadPercentEncoding => f.write_str("invalid percent-encoding"),
            DecodeError::NotUtf8 => f.write_str("not valid UTF-8"),
        }
    }
}

/// Decodes `k=v&k=v` (`+` is a space) into pairs, in order, duplicates kept.
pub fn decode(input: &str) -> Result<Vec<(String, String)>, DecodeError> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            Ok((decode_component(key)?, decode_component(value)?))
        })
        .collect()
}

/// Decodes raw bytes of a form body; see [`decode`].
pub fn decode_bytes(input: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
    decode(std::str::from_utf8(input).map_err(|_| DecodeError::NotUtf8)?)
}

fn decode_component(raw: &str) -> Result<String, DecodeError> {
    let bytes = raw.as_bytes();
    for (i, _) in raw.match_indices('%') {
        let ok = bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        if !ok {
            return Err(DecodeError::BadPercentEncoding);
        }
    }
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8().map(|value| value.into_owned()).map_err(|_| DecodeError::NotUtf8)
}

/// A parameter that must appear at most once appears more often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicated;

/// The value of `key` if it appears once, `None` if not at all, [`Duplicated`] if more than once.
pub fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Result<Option<&'a str>, Duplicated> {
    let mut found = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str());
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => Ok(Some(value)),
        (Some(_), Some(_)) => Err(Duplicated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_reserved_characters() {
        let encoded = encode([("redirect_uri", "http://localhost:8080/oauth"), ("scope", "a b+c")]);
        assert_eq!(encoded, "redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth&scope=a%20b%2Bc");
        let decoded = decode(&encoded).unwrap();
        assert_eq!(decoded[0].1, "http://localhost:8080/oauth");
        assert_eq!(decoded[1].1, "a b+c");
    }

    #[test]
    fn plus_is_space_and_duplicates_are_kept() {
        let pairs = decode("a=1+2&a=3&b").unwrap();
        assert_eq!(pairs, [("a".into(), "1 2".into()), ("a".into(), "3".into()), ("b".into(), "".into())]);
        assert_eq!(single(&pairs, "a"), Err(Duplicated));
        assert_eq!(single(&pairs, "b"), Ok(Some("")));
        assert_eq!(single(&pairs, "c"), Ok(None));
    }

    #[test]
    fn rejects_bad_percent_encoding_and_non_utf8() {
        assert_eq!(decode("a=%zz"), Err(DecodeError::BadPercentEncoding));
        assert_eq!(decode("a=%4"), Err(DecodeError::BadPercentEncoding));
        assert_eq!(decode("a=%ff%fe"), Err(DecodeError::NotUtf8));
        assert_eq!(decode_bytes(b"a=\xff"), Err(DecodeError::NotUtf8));
    }
}
