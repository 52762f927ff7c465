//! Example values for the table's schemas: a value that fits one, for a request body to start from and
//! for the stand-in's fake data.

use serde_json::{Map, Value};

use super::table::resolve;

/// A value that fits a schema of the table, for a request body to start from: the spec's `example`
/// values where it has them, else the first `enum` value or the `default`, else a plausible value of
/// the right type (chosen by the field's name: an e-mail address for `email`, a time for `created`).
pub fn example(schema: &Value) -> Value {
    example_with(schema, &|_, _| None)
}

/// Like [`example`], with `fill(field name, schema)` asked first for every field (the stand-in puts its
/// fake account's ids there).
pub fn example_with(schema: &Value, fill: &dyn Fn(&str, &Value) -> Option<Value>) -> Value {
    build(schema, "", fill, 0)
}

/// [`example_with`] for the field `name`, `depth` levels down (cut off at 8: some schemas nest deeply).
fn build(schema: &Value, name: &str, fill: &dyn Fn(&str, &Value) -> Option<Value>, depth: usize) -> Value {
    let schema = resolve(schema);
    if let Some(value) = fill(name, schema) {
        return value;
    }
    let allowed = schema.get("enum").and_then(Value::as_array);
    if let Some(example) = schema.get("example").filter(|e| allowed.is_none_or(|allowed| allowed.contains(e))) {
        return example.clone();
    }
    if let Some(first) = allowed.and_then(|allowed| allowed.first()) {
        return first.clone();
    }
    if let Some(default) = schema.get("default") {
        return default.clone();
    }
    let number = |key: &str| schema.get(key).and_then(Value::as_i64);
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => {
            let mut text = plausible(name).to_owned();
            let shortest = schema.get("minLength").and_then(Value::as_u64).unwrap_or(0);
            while (text.len() as u64) < shortest {
                text.push('x');
            }
            Value::String(text)
        }
        Some("integer") => {
            Value::from(number("minimum").unwrap_or(1).max(1).min(number("maximum").unwrap_or(i64::MAX)))
        }
        Some("number") => Value::from(1.5),
        Some("boolean") => Value::Bool(false),
        Some("array") => match schema.get("items") {
            Some(items) if depth < 8 => Value::Array(vec![build(items, name, fill, depth + 1)]),
            _ => Value::Array(Vec::new()),
        },
        _ => {
            let mut object = Map::new();
            if depth < 8 {
                for (field, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
                    object.insert(field.clone(), build(property, field, fill, depth + 1));
                }
            }
            Value::Object(object)
        }
    }
}

/// A plausible string for a field named `name`.
fn plausible(name: &str) -> &'static str {
    let name = name.to_ascii_lowercase();
    let has = |word: &str| name.contains(word);
    if has("email") || has("mail") {
        "user@example.com"
    } else if has("url") || has("uri") || has("link") {
        "https://example.com/"
    } else if has("date") || has("time") || has("created") || has("modified") {
        "2016-02-10T14:19:39Z"
    } else if has("number") || has("phone") || has("callerid") {
        "+4921100000000"
    } else if has("name") || has("alias") {
        "Ada Lovelace"
    } else if name.ends_with("id") {
        "abc123"
    } else {
        "example"
    }
}
