//! The table loader: sipgate's operations as data (`operations.json`, embedded), parsed once on first
//! use, and the types that hold them. Also the schema definitions, which the other parts look up here.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The generated table (see `tools/operations.py`).
const TABLE: &str = include_str!("../operations.json");

/// Where a parameter goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A `{name}` segment of the path template.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
}

/// One path, query or header parameter of an operation.
#[derive(Debug)]
pub struct Param {
    /// Its name, e.g. `userId` or `offset`.
    pub name: String,
    /// Where it goes.
    pub location: Location,
    /// Whether the operation needs it.
    pub required: bool,
    /// Its schema (`type`, `format`, `enum`, `items`, `minimum`, …), checked by the stand-in (`mock::validate`).
    pub schema: Value,
    /// A value that works against the stand-in's fake account (from the spec's `x-example`).
    pub example: Option<Value>,
}

/// A documented answer of an operation.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status; `None` for Swagger's `default` answer.
    pub status: Option<u16>,
    /// The schema of its JSON body, if it has one.
    pub schema: Option<Value>,
}

/// One operation of the API: a method on a path template.
#[derive(Debug)]
pub struct Operation {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// The path template relative to the API base, e.g. `/{userId}/sms`.
    pub path: String,
    /// sipgate's name for it (`operationId`), e.g. `getHistory`.
    pub id: String,
    /// The scopes that allow it (any one suffices); empty when any valid token does.
    pub scopes: Vec<String>,
    /// Path, query and header parameters.
    pub params: Vec<Param>,
    /// The schema of the JSON request body, if it takes one.
    pub body: Option<Value>,
    /// Whether the body must be sent.
    pub body_required: bool,
    /// The documented answers.
    pub responses: Vec<Response>,
    /// Whether sipgate marks it as deprecated.
    pub deprecated: bool,
}

impl Operation {
    /// Whether a token with the space-separated `granted` scopes may call it: one of them is listed
    /// for it. `all` is listed for every operation but sipgate's six `internal`-only ones, which it
    /// does not open (sipgate gives `internal` to no third-party client).
    pub fn accepts(&self, granted: &str) -> bool {
        self.scopes.is_empty() || granted.split(' ').any(|scope| self.scopes.iter().any(|s| s == scope))
    }

    /// The scopes that allow it other than `all`, the narrowest first as in the spec.
    pub fn narrow_scopes(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().map(String::as_str).filter(|scope| *scope != "all")
    }

    /// The scopes that allow it, the narrow ones first and `all` last where it is listed; none when
    /// any valid token does.
    pub fn accepted_scopes(&self) -> impl Iterator<Item = &str> {
        self.narrow_scopes().chain(self.scopes.iter().map(String::as_str).filter(|scope| *scope == "all"))
    }

    /// A query parameter by name.
    pub fn query_param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.location == Location::Query && p.name == name)
    }

    /// Whether it lists something in pages: it takes `offset` and `limit`, and its answer counts all
    /// items in `totalCount`.
    pub fn is_paged(&self) -> bool {
        let counted = self.success().1.map(resolve).is_some_and(|schema| {
            schema.get("properties").is_some_and(|p| p.get("totalCount").is_some() && p.get("items").is_some())
        });
        counted && self.query_param("offset").is_some() && self.query_param("limit").is_some()
    }

    /// The answer on success: the first documented 2xx status and its schema; `204` without a body when
    /// the spec documents no 2xx answer (then sipgate's success has no body).
    pub fn success(&self) -> (u16, Option<&Value>) {
        self.responses
            .iter()
            .find_map(|r| r.status.filter(|s| (200..300).contains(s)).map(|s| (s, r.schema.as_ref())))
            .unwrap_or((204, None))
    }

    /// Whether `status` is one the spec documents for it (or the success status of [`Operation::success`]).
    pub fn documents(&self, status: u16) -> bool {
        self.success().0 == status || self.responses.iter().any(|r| r.status == Some(status))
    }
}

/// The result of looking up a request in the table.
#[derive(Debug)]
pub enum Lookup<'p> {
    /// The operation, with the values of its path parameters as sent (still percent-encoded).
    Found {
        /// The operation.
        op: &'static Operation,
        /// `(name, value)` of each `{name}` in its template.
        params: Vec<(&'static str, &'p str)>,
    },
    /// The path is known, but not with this method.
    WrongMethod {
        /// The methods it takes, for an `Allow` header.
        allowed: Vec<&'static str>,
    },
    /// No operation has this path.
    Unknown,
}

/// A path template, split once.
#[derive(Debug)]
pub(super) struct Template {
    /// `None` for a `{variable}` segment.
    pub segments: Vec<Option<String>>,
    /// The operations on it, indexes into `Table::ops`.
    pub ops: Vec<usize>,
}

impl Template {
    /// Whether `path` (split into segments) matches: literals equal, variables non-empty.
    pub fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(template, given)| match template {
                Some(literal) => literal == given,
                None => !given.is_empty(),
            })
    }

    /// How specific it is: literals to the left count more than literals to the right, so that
    /// `/numbers/quickdial` wins over `/numbers/{numberId}`.
    fn specificity(&self) -> u64 {
        self.segments.iter().take(64).fold(0, |mask, segment| (mask << 1) | u64::from(segment.is_some()))
    }
}

/// The parsed table.
#[derive(Debug)]
pub(super) struct Table {
    pub ops: Vec<Operation>,
    pub templates: Vec<Template>,
    pub defs: Map<String, Value>,
}

/// The table, parsed on first use.
pub(super) fn table() -> &'static Table {
    static TABLE_ONCE: OnceLock<Table> = OnceLock::new();
    TABLE_ONCE.get_or_init(|| {
        parse(TABLE).expect("the embedded operation table is valid (tools/operations.py writes it; a test reads it)")
    })
}

/// Reads the JSON of `tools/operations.py`.
fn parse(text: &str) -> Result<Table, String> {
    let mut root: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let strings = |value: &Value| -> Vec<String> {
        value.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()
    };
    let defs = match root.get_mut("defs").map(Value::take) {
        Some(Value::Object(defs)) => defs,
        _ => return Err("no definitions".into()),
    };
    let text_of = |value: &Value, key: &str| value[key].as_str().map(str::to_owned).ok_or(format!("no {key}"));
    let mut ops = Vec::new();
    for op in root["ops"].as_array().ok_or("no operations")? {
        let params = op["params"]
            .as_array()
            .map(|params| {
                params
                    .iter()
                    .map(|p| {
                        let location = match p["in"].as_str() {
                            Some("path") => Location::Path,
                            Some("header") => Location::Header,
                            _ => Location::Query,
                        };
                        let mut schema = p.clone();
                        let example = schema.as_object_mut().and_then(|s| {
                            for key in ["name", "in", "required"] {
                                s.remove(key);
                            }
                            s.remove("example")
                        });
                        Ok(Param {
                            name: text_of(p, "name")?,
                            location,
                            required: p["required"].as_bool().unwrap_or(false),
                            schema,
                            example,
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
            })
            .transpose()?
            .unwrap_or_default();
        let responses = op["responses"]
            .as_object()
            .map(|responses| {
                responses
                    .iter()
                    .map(|(status, schema)| Response {
                        status: status.parse().ok(),
                        schema: Some(schema.clone()).filter(|s| !s.is_null()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        ops.push(Operation {
            method: text_of(op, "method")?,
            path: text_of(op, "path")?,
            id: text_of(op, "id")?,
            scopes: strings(&op["scopes"]),
            params,
            body: op.get("body").cloned(),
            body_required: op["bodyRequired"].as_bool().unwrap_or(false),
            responses,
            deprecated: op["deprecated"].as_bool().unwrap_or(false),
        });
    }
    let mut templates: Vec<Template> = Vec::new();
    let mut by_path: HashMap<&str, usize> = HashMap::new();
    for (index, op) in ops.iter().enumerate() {
        let slot = *by_path.entry(op.path.as_str()).or_insert_with(|| {
            let segments = segments(&op.path)
                .into_iter()
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                .collect();
            templates.push(Template { segments, ops: Vec::new() });
            templates.len() - 1
        });
        templates[slot].ops.push(index);
    }
    // Most specific first: the first template that matches a path is the one that answers it; among
    // equals, the one whose first operation comes first in the table, which is the order they were made
    // in. Their keys are sorted, not the templates themselves: a sort of small keys compiles to a
    // fraction of the code (docs/performance.md, "Size").
    let mut order: Vec<(usize, std::cmp::Reverse<u64>, usize)> = templates
        .iter()
        .enumerate()
        .map(|(made, t)| (t.segments.len(), std::cmp::Reverse(t.specificity()), made))
        .collect();
    order.sort_unstable();
    let mut made: Vec<Option<Template>> = templates.into_iter().map(Some).collect();
    let templates = order.iter().filter_map(|&(.., index)| made[index].take()).collect();
    Ok(Table { ops, templates, defs })
}

/// The segments of a path: `/a/b` is `["a", "b"]`, `/` is none.
pub(super) fn segments(path: &str) -> Vec<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() { Vec::new() } else { path.split('/').collect() }
}

/// Every operation of the table, in the order of sipgate's spec.
pub fn operations() -> &'static [Operation] {
    &table().ops
}

/// A schema definition of the table by name, e.g. `HistoryEntryResponse`.
pub fn definition(name: &str) -> Option<&'static Value> {
    table().defs.get(name)
}

/// The names of the table's schema definitions.
pub fn definition_names() -> impl Iterator<Item = &'static str> {
    table().defs.keys().map(String::as_str)
}

/// A schema of the table with a `$ref` followed to its definition.
pub fn resolve(schema: &Value) -> &Value {
    let mut schema = schema;
    for _ in 0..8 {
        match schema.get("$ref").and_then(Value::as_str).and_then(|name| table().defs.get(name)) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}
