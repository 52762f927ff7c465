//! The history as CSV, for `GET /history/export` (RFC 4180: a header row, comma-separated fields,
//! CRLF line ends; a field with a comma, a quote or a line break is quoted, quotes doubled).
//!
//! The columns are the scalar fields of a history entry (`HistoryEntryResponse`), in a fixed order; a
//! list of strings (`connectionIds`, `labels`) is one field, its items separated by `, `. The nested
//! `endpoints` are left out: they have no flat form.

use serde_json::Value;

/// The columns, in order: fields of `HistoryEntryResponse`.
pub(super) const COLUMNS: [&str; 17] = [
    "id",
    "created",
    "lastModified",
    "type",
    "direction",
    "incoming",
    "status",
    "source",
    "sourceAlias",
    "target",
    "targetAlias",
    "connectionIds",
    "note",
    "read",
    "archived",
    "starred",
    "labels",
];

/// The CSV of `entries` (history entries), header row first.
pub(super) fn history(entries: &[Value]) -> String {
    let mut text = String::new();
    row(&mut text, COLUMNS.iter().map(|c| (*c).to_owned()));
    for entry in entries {
        row(&mut text, COLUMNS.iter().map(|column| field(&entry[column])));
    }
    text
}

/// One row, CRLF-terminated.
fn row(text: &mut String, fields: impl Iterator<Item = String>) {
    for (n, field) in fields.enumerate() {
        if n > 0 {
            text.push(',');
        }
        quoted(text, &field);
    }
    text.push_str("\r\n");
}

/// A field's text: strings as they are, numbers and booleans as JSON writes them, a list's items
/// joined, nothing for a missing field.
fn field(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(field).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Appends `field`, quoted when RFC 4180 asks for it.
fn quoted(text: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        text.push('"');
        text.push_str(&field.replace('"', "\"\""));
        text.push('"');
    } else {
        text.push_str(field);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Reads RFC 4180 back: rows of fields.
    fn parse(text: &str) -> Vec<Vec<String>> {
        let (mut rows, mut row, mut field, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                ('"', _) => quoted = !quoted,
                (',', false) => row.push(std::mem::take(&mut field)),
                ('\r', false) => {
                    assert_eq!(chars.next(), Some('\n'), "rows end in CRLF");
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (c, _) => field.push(c),
            }
        }
        assert!(field.is_empty() && row.is_empty(), "the last row ends in CRLF");
        rows
    }

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        let note = "call \"Ada\", then\r\nGrace";
        let entry = json!({"id": "1", "note": note, "labels": ["a", "b"], "read": true, "source": "+4921100000000"});
        let text = history(&[entry]);
        assert!(text.contains(",\"call \"\"Ada\"\", then\r\nGrace\","), "{text}");
        let rows = parse(&text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], COLUMNS);
        let value = |column: &str| rows[1][COLUMNS.iter().position(|c| *c == column).unwrap()].as_str();
        assert_eq!(rows[1].len(), COLUMNS.len());
        assert_eq!((value("id"), value("note"), value("labels")), ("1", note, "a, b"));
        assert_eq!((value("read"), value("source"), value("created")), ("true", "+4921100000000", ""));
    }

    #[test]
    fn every_column_is_a_field_of_a_history_entry() {
        let schema = crate::operations::definition("HistoryEntryResponse").unwrap();
        for column in COLUMNS {
            assert!(schema["properties"].get(column).is_some(), "{column}");
        }
    }
}
