//! Request validation at the stand-in: a value against a schema of the operation table, enforcing
//! every JSON-schema keyword sipgate's description uses (`tools/schema_keywords.py` lists them).
//!
//! Enforced: `type`, `format` (`int32`, `int64`: the only ones the description uses), `enum`,
//! `pattern` (ECMA-262, see `pattern`), `minLength`/`maxLength`, `minimum`/`maximum`,
//! `minItems`/`maxItems`, `uniqueItems`, `required`, `properties`, `items`, `additionalProperties`
//! and `$ref`. Annotations that constrain nothing: `example`, `default`, `collectionFormat` (read
//! where query lists are parsed). An error names the field as a path (`forwardings[3]`,
//! `items[0].type`) and what is wrong, never the value: it may be a phone number or a message.

use serde_json::Value;

use super::pattern::Pattern;
use crate::operations::resolve;

/// The keywords [`validate`] enforces.
#[cfg(test)]
const ENFORCED: &[&str] = &[
    "type",
    "format",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "uniqueItems",
    "required",
    "properties",
    "items",
    "additionalProperties",
    "$ref",
];

/// The keywords of the table that constrain no value.
#[cfg(test)]
const ANNOTATIONS: &[&str] = &["example", "default", "collectionFormat"];

/// Why a JSON value does not fit a schema: which field, and what is wrong with it. Never holds the
/// value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Invalid {
    /// The field, as a path: `recipient`, `items[0].type`; empty for the value as a whole.
    pub(super) field: String,
    /// What is wrong, e.g. `is missing` or `must be an integer`.
    pub(super) problem: String,
}

impl Invalid {
    /// The problem `problem` of `field`.
    pub(super) fn new(field: impl Into<String>, problem: impl Into<String>) -> Invalid {
        Invalid { field: field.into(), problem: problem.into() }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "the body {}", self.problem)
        } else {
            write!(f, "`{}` {}", self.field, self.problem)
        }
    }
}

/// Checks `value` against a schema of the table; the first problem found, by field path.
pub(super) fn validate(value: &Value, schema: &Value) -> Result<(), Invalid> {
    let mut at = String::new();
    check(value, schema, &mut at)
}

/// [`validate`] below the field path `at`.
fn check(value: &Value, schema: &Value, at: &mut String) -> Result<(), Invalid> {
    let schema = resolve(schema);
    let fail = |at: &String, problem: String| Err(Invalid { field: at.clone(), problem });
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let names: Vec<String> =
            allowed.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)).collect();
        return fail(at, format!("must be one of {}", names.join(", ")));
    }
    let kind = schema.get("type").and_then(Value::as_str);
    match kind {
        Some("string") => {
            let Some(text) = value.as_str() else { return fail(at, "must be a string".into()) };
            string(text, schema).or_else(|problem| fail(at, problem))?;
        }
        Some("integer") => {
            let Some(number) = integer(value) else { return fail(at, "must be an integer".into()) };
            let (low, high) = match schema.get("format").and_then(Value::as_str) {
                Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            let low = schema.get("minimum").and_then(Value::as_i64).map_or(low, |min| min.max(low));
            let high = schema.get("maximum").and_then(Value::as_i64).map_or(high, |max| max.min(high));
            if number < low || number > high {
                return fail(at, format!("must be from {low} to {high}"));
            }
        }
        Some("number") => {
            let Some(number) = value.as_f64() else { return fail(at, "must be a number".into()) };
            let below = schema.get("minimum").and_then(Value::as_f64).is_some_and(|min| number < min);
            let above = schema.get("maximum").and_then(Value::as_f64).is_some_and(|max| number > max);
            if below || above {
                return fail(at, "is out of range".into());
            }
        }
        Some("boolean") if !value.is_boolean() => return fail(at, "must be true or false".into()),
        Some("array") => {
            let Some(items) = value.as_array() else { return fail(at, "must be a list".into()) };
            let count = |key: &str| schema.get(key).and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok());
            if let Some(max) = count("maxItems")
                && items.len() > max
            {
                // Named by the first item too many, as a client finds it in its list.
                return fail(&format!("{at}[{max}]"), format!("is one too many: at most {max} items are allowed"));
            }
            if let Some(min) = count("minItems")
                && items.len() < min
            {
                return fail(at, format!("must have at least {min} items"));
            }
            if schema.get("uniqueItems").and_then(Value::as_bool) == Some(true)
                && let Some(repeat) = (0..items.len()).find(|&i| items[..i].contains(&items[i]))
            {
                return fail(&format!("{at}[{repeat}]"), "repeats an earlier item".into());
            }
            if let Some(item_schema) = schema.get("items") {
                let length = at.len();
                for (index, item) in items.iter().enumerate() {
                    at.push_str(&format!("[{index}]"));
                    check(item, item_schema, at)?;
                    at.truncate(length);
                }
            }
        }
        Some("object") | None if kind.is_some() || is_object_schema(schema) => object(value, schema, at)?,
        _ => {}
    }
    Ok(())
}

/// Whether a schema without `type` describes an object (it names properties).
fn is_object_schema(schema: &Value) -> bool {
    ["properties", "required", "additionalProperties"].iter().any(|key| schema.get(key).is_some())
}

/// An integral JSON number (`3` or `3.0`, as JSON Schema counts them).
fn integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let float = value.as_f64()?;
        // Exact below 2^53; beyond that sipgate's int64 fields hold no values anyway.
        (float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0).then_some(float as i64)
    })
}

/// The string keywords: lengths (in characters) and `pattern`.
fn string(text: &str, schema: &Value) -> Result<(), String> {
    let length = text.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && length < min
    {
        return Err(format!("must be at least {min} characters long"));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && length > max
    {
        return Err(format!("must be at most {max} characters long"));
    }
    if let Some(source) = schema.get("pattern").and_then(Value::as_str) {
        // Every pattern of the table compiles (a test reads them all).
        if Pattern::new(source).is_ok_and(|pattern| !pattern.is_match(text)) {
            return Err(format!("must match the pattern {source}"));
        }
    }
    Ok(())
}

/// The object keywords: `required` (a `null` counts as missing), `properties`, `additionalProperties`.
fn object(value: &Value, schema: &Value, at: &mut String) -> Result<(), Invalid> {
    let Some(object) = value.as_object() else { return Err(Invalid::new(at.clone(), "must be an object")) };
    let length = at.len();
    let below = |at: &mut String, name: &str, item: &Value, schema: &Value| {
        push_field(at, name);
        let result = check(item, schema, at);
        at.truncate(length);
        result
    };
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if object.get(name).is_none_or(Value::is_null) {
            push_field(at, name);
            return Err(Invalid::new(std::mem::take(at), "is missing"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, item) in object {
        match (properties.and_then(|p| p.get(name)), schema.get("additionalProperties")) {
            (Some(property), _) => below(at, name, item, property)?,
            (None, Some(Value::Bool(false))) => {
                push_field(at, name);
                return Err(Invalid::new(std::mem::take(at), "is not a field of this object"));
            }
            (None, Some(extra @ Value::Object(_))) => below(at, name, item, extra)?,
            (None, _) => {}
        }
    }
    Ok(())
}

/// Appends `.name` (or `name` at the top) to a field path.
fn push_field(at: &mut String, name: &str) {
    if !at.is_empty() {
        at.push('.');
    }
    at.push_str(name);
}

/// Calls `visit` with every schema of the table and every schema nested in one: definitions,
/// parameters, bodies and answers.
#[cfg(test)]
pub(super) fn each_schema(visit: &mut dyn FnMut(&Value)) {
    fn walk(schema: &Value, visit: &mut dyn FnMut(&Value)) {
        visit(schema);
        for key in ["items", "additionalProperties"] {
            if let Some(sub @ Value::Object(_)) = schema.get(key) {
                walk(sub, visit);
            }
        }
        for sub in schema.get("properties").and_then(Value::as_object).into_iter().flat_map(|p| p.values()) {
            walk(sub, visit);
        }
    }
    for op in crate::operations::operations() {
        let params = op.params.iter().map(|p| &p.schema);
        let answers = op.responses.iter().filter_map(|r| r.schema.as_ref());
        for schema in params.chain(op.body.iter()).chain(answers) {
            walk(schema, visit);
        }
    }
    for name in crate::operations::definition_names() {
        if let Some(schema) = crate::operations::definition(name) {
            walk(schema, visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::operations::{self, Lookup, find};

    fn body_of(method: &str, path: &str) -> &'static Value {
        let Lookup::Found { op, .. } = find(method, path) else { panic!("{method} {path} not found") };
        op.body.as_ref().expect("takes a body")
    }

    /// Every keyword the table carries is enforced here or known to constrain nothing: a keyword the
    /// generator starts to carry fails this test until the validator learns it.
    #[test]
    fn every_keyword_of_the_table_is_enforced_or_an_annotation() {
        let mut unknown = std::collections::BTreeSet::new();
        each_schema(&mut |schema| {
            for key in schema.as_object().into_iter().flat_map(|s| s.keys()) {
                if !ENFORCED.contains(&key.as_str()) && !ANNOTATIONS.contains(&key.as_str()) {
                    unknown.insert(key.clone());
                }
            }
        });
        assert!(unknown.is_empty(), "not enforced: {unknown:?}");
    }

    #[test]
    fn errors_name_the_field_and_never_the_value() {
        let schema = body_of("POST", "/sessions/sms");
        let good = json!({"smsId": "s0", "recipient": "+4915799912345", "message": "hi"});
        assert_eq!(validate(&good, schema), Ok(()));
        let missing = validate(&json!({"smsId": "s0", "message": "hi"}), schema).unwrap_err();
        assert_eq!(missing.to_string(), "`recipient` is missing");
        let wrong = validate(&json!({"smsId": "s0", "recipient": 4915799912345_u64, "message": "hi"}), schema);
        assert_eq!(wrong.unwrap_err().to_string(), "`recipient` must be a string");
        assert_eq!(validate(&json!([]), schema).unwrap_err().to_string(), "the body must be an object");
    }

    #[test]
    fn lists_are_held_to_their_item_counts() {
        let schema = body_of("PUT", "/w0/phonelines/p0/forwardings");
        let forwarding = json!({"destination": "+4921100000001", "timeout": 10, "active": true});
        let three = json!({"forwardings": [forwarding, forwarding, forwarding]});
        assert_eq!(validate(&three, schema), Ok(()));
        let four = json!({"forwardings": [forwarding, forwarding, forwarding, forwarding]});
        let error = validate(&four, schema).unwrap_err();
        assert_eq!(error.field, "forwardings[3]");
        assert_eq!(error.to_string(), "`forwardings[3]` is one too many: at most 3 items are allowed");
    }

    #[test]
    fn strings_are_held_to_their_pattern() {
        let schema = body_of("POST", "/blacklist/incoming");
        let entry = |number: &str| json!({"phoneNumber": number, "isBlock": true});
        assert_eq!(validate(&entry("+4902117654321"), schema), Ok(()));
        let error = validate(&entry(""), schema).unwrap_err();
        assert_eq!(error.field, "phoneNumber");
        assert!(error.problem.starts_with("must match the pattern"), "{error}");
    }

    #[test]
    fn other_keywords_at_every_depth() {
        let schema = json!({"type": "object", "additionalProperties": false, "properties": {
            "items": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "object", "properties": {"type": {"type": "string", "enum": ["SMS", "FAX"]}}}},
            "count": {"type": "integer", "format": "int32", "minimum": 0},
            "name": {"type": "string", "minLength": 2, "maxLength": 3},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}}}});
        let field = |value: Value| validate(&value, &schema).map_err(|e| e.field);
        assert_eq!(field(json!({"items": [{"type": "SMS"}, {"type": "LETTER"}]})), Err("items[1].type".into()));
        assert_eq!(field(json!({"items": []})), Err("items".into()));
        assert_eq!(field(json!({"items": [{"type": "SMS"}, {"type": "SMS"}]})), Err("items[1]".into()));
        assert_eq!(field(json!({"count": 3_000_000_000_u64})), Err("count".into()));
        assert_eq!(field(json!({"count": -1})), Err("count".into()));
        assert_eq!(field(json!({"count": 3.0})), Ok(()));
        assert_eq!(field(json!({"count": 3.5})), Err("count".into()));
        assert_eq!(field(json!({"name": "a"})), Err("name".into()));
        assert_eq!(field(json!({"name": "abcd"})), Err("name".into()));
        assert_eq!(field(json!({"name": "äöü"})), Ok(()), "lengths count characters");
        assert_eq!(field(json!({"tags": {"a": "x", "b": 1}})), Err("tags.b".into()));
        assert_eq!(field(json!({"other": 1})), Err("other".into()));
        assert_eq!(field(json!({"count": 3, "name": "abc", "tags": {}})), Ok(()));
    }

    #[test]
    fn every_example_fits_its_schema() {
        for op in operations::operations() {
            for schema in op.body.iter().chain(op.responses.iter().filter_map(|r| r.schema.as_ref())) {
                let value = operations::example(schema);
                assert_eq!(validate(&value, schema), Ok(()), "{} {}: {value}", op.method, op.path);
            }
        }
    }
}
