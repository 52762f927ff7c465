//! What every command shares for the terminal: results on stdout, notes on stderr, and an error's
//! message with its causes.

use std::io::Write;

use sipgate_oauth::Error;

/// An error's message, followed by its causes (`: cause: cause of the cause`).
pub fn message(error: &Error) -> String {
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    message
}

/// A line for the user on stderr; a closed stderr is no reason to fail.
pub fn note(err: &mut dyn Write, text: &str) {
    let _ = writeln!(err, "{text}");
}

/// A response body for stdout: JSON pretty-printed, anything else as it came.
pub fn pretty(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(value) => serde_json::to_string_pretty(&value).unwrap_or_else(|_| body.to_owned()),
        Err(_) => body.to_owned(),
    }
}

/// Writes a result to stdout (`out`) and flushes it; a failed write is [`Error::Output`].
pub fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|source| Error::Output { source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_pretty_printed_and_other_text_kept() {
        assert_eq!(pretty(r#"{"verified":true}"#), "{\n  \"verified\": true\n}");
        assert_eq!(pretty("plain"), "plain");
    }
}
