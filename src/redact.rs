//! Secrets out of text: what the `-v` trace, error excerpts and the stand-in's request log show instead
//! of a secret value.
//!
//! Promises: the value of every field named in [`SECRET_NAMES`] becomes `[redacted]` — in a form body, a
//! URL query, JSON at any depth, and in text that only looks like JSON or a form (an error page quoting a
//! body, JSON with a byte-order mark or a stray brace). [`terminal_safe`] removes what a server could use
//! to rewrite the user's terminal.

/// Form fields, JSON keys and query parameters whose values are secrets.
pub const SECRET_NAMES: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "user_code",
    "state",
    "token",
    "session_state",
    "password",
    "nonce",
    "id_token_hint",
    "code_challenge",
];

/// What stands in for a secret value.
pub const REDACTED: &str = "[redacted]";

/// Whether a form field, JSON key or query parameter named `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// A form body: encoded as sent, but a secret's value is a plain `[redacted]`.
pub fn form(fields: &[(&str, &str)]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .map(|&(name, value)| {
            let value = if is_secret_name(name) { REDACTED.to_owned() } else { crate::query::encode_component(value) };
            format!("{}={value}", crate::query::encode_component(name))
        })
        .collect();
    shown.join("&")
}

/// A URL or request target with the values of secret query parameters replaced. Names are compared
/// decoded (`co%64e` is `code`); a query that cannot be decoded is not shown at all.
pub fn url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let Ok(pairs) = crate::query::decode(query) else { return format!("{base}?[undecodable query redacted]") };
    let shown: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(name, value)| (name.as_str(), if is_secret_name(name) { REDACTED } else { value.as_str() }))
        .collect();
    // `[redacted]` reads better unencoded; every other value is encoded as it was sent.
    format!("{base}?{}", crate::query::encode(shown).replace("%5Bredacted%5D", REDACTED))
}

/// A body: JSON (a leading byte-order mark allowed) with the values of secret keys replaced at any depth,
/// compact; anything else as [`text`] of its first line.
pub fn body(body: &str) -> String {
    fn scrub(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    if is_secret_name(key) {
                        *inner = serde_json::Value::from(REDACTED);
                    } else {
                        scrub(inner);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(strip_bom(body)) {
        Ok(mut value) => {
            scrub(&mut value);
            value.to_string()
        }
        Err(_) => text(&excerpt(body)),
    }
}

/// `text` without a leading UTF-8 byte-order mark.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Text that is not JSON, with the values of secrets replaced wherever they look like `name=value` (a
/// form or a query quoted in an error page) or `"name": "value"` (broken JSON).
pub fn text(text: &str) -> String {
    json_pairs(&form_pairs(text))
}

/// Replaces the value of every `name=value` whose name is a secret.
fn form_pairs(text: &str) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ends_value = |c: char| matches!(c, '&' | '"' | '\'' | '<' | '>' | ';' | ',') || c.is_whitespace();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('=') {
        let (before, after) = (&rest[..at], &rest[at + 1..]);
        // The name is the run of name characters right before `=` (all ASCII, so byte offsets are safe).
        let name_len = before.chars().rev().take_while(|&c| is_name(c)).count();
        let name = &before[before.len() - name_len..];
        out.push_str(before);
        out.push('=');
        if is_secret_name(name) {
            out.push_str(REDACTED);
            rest = &after[after.find(ends_value).unwrap_or(after.len())..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Replaces the string value of every `"name": "value"` whose name is a secret.
fn json_pairs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find('"') else { break };
        let name = &rest[..close];
        out.push_str(&rest[..=close]);
        rest = &rest[close + 1..];
        if !is_secret_name(name) {
            continue;
        }
        let after_colon = rest.trim_start().strip_prefix(':').map(str::trim_start);
        let Some(value) = after_colon.and_then(|v| v.strip_prefix('"')) else { continue };
        out.push_str(&rest[..rest.len() - value.len()]);
        out.push_str(REDACTED);
        // Past the closing quote too, so that it is not taken for the opening one of a name.
        let end = string_end(value);
        out.push_str(&value[end..(end + 1).min(value.len())]);
        rest = &value[(end + 1).min(value.len())..];
    }
    out.push_str(rest);
    out
}

/// Where a JSON string's content ends (the byte offset of its closing quote, or the end of `s`).
fn string_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return i,
            _ => {}
        }
    }
    s.len()
}

/// The first line of `text`, at most 200 characters.
pub fn excerpt(text: &str) -> String {
    let line = strip_bom(text).trim().lines().next().unwrap_or("");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

/// The one way a request is named in a log line, for the client's `-v` trace (`> GET /v2/account`) and
/// the stand-in's request log alike: the method, then the target with secret query values redacted
/// ([`url`]) and every control character, line breaks included, shown as `?`, so it stays one line.
pub fn request_line(method: &str, target: &str) -> String {
    let line = format!("{method} {}", url(target));
    line.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Text from a server made safe to print: control characters (escape sequences that set the terminal's
/// title or rewrite the screen, bells, carriage returns) become `?`; line breaks and tabs stay.
pub fn terminal_safe(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { '?' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_line_is_one_line_without_secrets() {
        assert_eq!(request_line("GET", "/auth?code=c0de&x=1"), "GET /auth?code=[redacted]&x=1");
        assert_eq!(request_line("GET", "/a\r\nSet-Cookie:\x1b[2J"), "GET /a??Set-Cookie:?[2J");
    }

    #[test]
    fn forms_urls_and_json_hide_secrets() {
        assert_eq!(
            form(&[("grant_type", "authorization_code"), ("code", "c0de"), ("client_secret", "s")]),
            "grant_type=authorization_code&code=[redacted]&client_secret=[redacted]"
        );
        assert_eq!(
            body(r#"{"access_token":"at","expires_in":300,"nested":{"refresh_token":"rt"}}"#),
            r#"{"access_token":"[redacted]","expires_in":300,"nested":{"refresh_token":"[redacted]"}}"#
        );
        assert_eq!(url("http://h/cb?code=abc&state=xyz&iss=i"), "http://h/cb?code=[redacted]&state=[redacted]&iss=i");
        assert_eq!(
            url("/cb?co%64e=abc&iss=http%3A%2F%2Fx&client_secret=s&token=t&nonce=n"),
            "/cb?code=[redacted]&iss=http%3A%2F%2Fx&client_secret=[redacted]&token=[redacted]&nonce=[redacted]"
        );
        assert_eq!(url("/x?code=%zz"), "/x?[undecodable query redacted]");
        assert_eq!(url("/v2/account"), "/v2/account");
    }

    #[test]
    fn almost_json_hides_secrets_too() {
        // A byte-order mark before a token answer.
        let shown = body("\u{feff}{\"access_token\":\"AT\",\"refresh_token\":\"RT\"}");
        assert!(!shown.contains("AT\"") && !shown.contains("RT"), "{shown}");
        // One brace too many: not JSON any more.
        let shown = body(r#"{"access_token": "AT", "refresh_token" : "R\"T", "x": "y"}}"#);
        assert_eq!(shown, r#"{"access_token": "[redacted]", "refresh_token" : "[redacted]", "x": "y"}}"#);
        // A name that is not followed by a string value is left alone.
        assert_eq!(text(r#""code": 5, "state""#), r#""code": 5, "state""#);
    }

    #[test]
    fn error_excerpts_hide_secrets_in_forms_and_pages() {
        assert_eq!(
            body("access_token=AT&token_type=bearer&refresh_token=RT"),
            "access_token=[redacted]&token_type=bearer&refresh_token=[redacted]"
        );
        assert_eq!(body("<p>a=b code=C0DE</p>"), "<p>a=b code=[redacted]</p>");
        // Found by fuzzing: a multi-byte character right before `=`.
        assert_eq!(body("x\u{feff}=1 é\u{feff}token=T"), "x\u{feff}=1 é\u{feff}token=[redacted]");
    }

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("\n<html>\n<body>Bad Gateway"), "<html>");
        assert_eq!(excerpt(&"x".repeat(500)).chars().count(), 201);
    }

    #[test]
    fn terminal_escapes_are_defused() {
        assert_eq!(terminal_safe("bad\x1b]0;owned\x07 title\r\nnext\tline"), "bad?]0;owned? title?\nnext\tline");
    }
}
