//! The sipgate REST API as data: every operation of sipgate's published description (method, path
//! template, parameters, accepted scopes, request and response schemas, examples), looked up by method
//! and path.
//!
//! The table is `operations.json`, generated from `swagger.json` by `tools/operations.py` and embedded
//! in the binary; it is parsed once, on first use, and never changes afterwards. It holds data only:
//! the one-line scope meanings shown to users are written here, not copied from sipgate. Paths are
//! relative to the API base (`/account`, `/{userId}/sms`), which is `https://api.sipgate.com/v2`.
//! Lookups allocate nothing but the list of path parameters they return.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The generated table (see `tools/operations.py`).
const TABLE: &str = include_str!("operations.json");

/// sipgate's scopes, one a line, generated with the table: read without parsing it, so that checking
/// `OAUTH_SCOPE` on every run costs nothing.
const SCOPES: &str = include_str!("scopes.txt");

/// What the table is keyed by: `path` (a path like `/history?limit=5`, or a full URL) relative to the API
/// base `base`, without query or fragment. `None` for a full URL that is not below `base`.
pub fn relative_path<'p>(base: &str, path: &'p str) -> Option<&'p str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let path = match path.contains("://") {
        true => path.strip_prefix(base.trim_end_matches('/'))?,
        false => path,
    };
    Some(if path.is_empty() { "/" } else { path })
}

/// sipgate's scopes, in the order of its API description.
fn scope_names() -> impl Iterator<Item = &'static str> {
    SCOPES.lines()
}

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
struct Template {
    /// `None` for a `{variable}` segment.
    segments: Vec<Option<String>>,
    /// The operations on it, indexes into `Table::ops`.
    ops: Vec<usize>,
}

impl Template {
    /// Whether `path` (split into segments) matches: literals equal, variables non-empty.
    fn matches(&self, segments: &[&str]) -> bool {
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
struct Table {
    ops: Vec<Operation>,
    templates: Vec<Template>,
    defs: Map<String, Value>,
}

/// The table, parsed on first use.
fn table() -> &'static Table {
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
    // Most specific first: the first template that matches a path is the one that answers it.
    templates.sort_by_key(|t| (t.segments.len(), std::cmp::Reverse(t.specificity())));
    Ok(Table { ops, templates, defs })
}

/// The segments of a path: `/a/b` is `["a", "b"]`, `/` is none.
fn segments(path: &str) -> Vec<&str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() { Vec::new() } else { path.split('/').collect() }
}

/// Every operation of the table, in the order of sipgate's spec.
pub fn operations() -> &'static [Operation] {
    &table().ops
}

/// The operation that answers `method` on `path` (relative to the API base, without the query).
pub fn find<'p>(method: &str, path: &'p str) -> Lookup<'p> {
    let table = table();
    let mut parts = [""; 16];
    let mut count = 0;
    for part in segments_iter(path) {
        if count == parts.len() {
            return Lookup::Unknown;
        }
        parts[count] = part;
        count += 1;
    }
    let parts = &parts[..count];
    let mut known: Option<&Template> = None;
    for template in table.templates.iter().filter(|t| t.matches(parts)) {
        known.get_or_insert(template);
        if let Some(&index) = template.ops.iter().find(|&&i| table.ops[i].method.eq_ignore_ascii_case(method)) {
            let op = &table.ops[index];
            let params = template
                .segments
                .iter()
                .zip(segments(&op.path))
                .zip(parts)
                .filter(|((literal, _), _)| literal.is_none())
                .map(|((_, name), value)| (name.trim_start_matches('{').trim_end_matches('}'), *value))
                .collect();
            return Lookup::Found { op, params };
        }
    }
    match known {
        Some(template) => {
            Lookup::WrongMethod { allowed: template.ops.iter().map(|&i| table.ops[i].method.as_str()).collect() }
        }
        None => Lookup::Unknown,
    }
}

/// The segments of a path without allocating.
fn segments_iter(path: &str) -> impl Iterator<Item = &str> {
    let path = path.strip_prefix('/').unwrap_or(path);
    path.split('/').filter(move |_| !path.is_empty())
}

/// The known path template closest to `path`, for "did you mean …": the path without a doubled API
/// prefix (`/v2/v2/account`, or `/v2/account` given relative to the base) when that is known, else the
/// template with the fewest typing differences, if it is close enough to be what was meant.
pub fn suggest(path: &str) -> Option<&'static str> {
    let table = table();
    let path = path.split('?').next().unwrap_or_default();
    let mut bare = path;
    while let Some(rest) = bare.strip_prefix("/v2").filter(|rest| rest.is_empty() || rest.starts_with('/')) {
        bare = rest;
    }
    let parts = segments(bare);
    if bare != path
        && let Some(template) = table.templates.iter().find(|t| t.matches(&parts))
    {
        return Some(op_path(table, template));
    }
    let mut best: Option<(usize, &Template)> = None;
    for template in table.templates.iter().filter(|t| t.segments.len() == parts.len()) {
        let distance: usize = template
            .segments
            .iter()
            .zip(&parts)
            .map(|(literal, given)| match literal {
                Some(literal) => edit_distance(literal, given),
                None => usize::from(given.is_empty()),
            })
            .sum();
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, template));
        }
    }
    let (distance, template) = best?;
    let allowed = (bare.len() / 4).clamp(1, 3);
    (distance > 0 && distance <= allowed).then(|| op_path(table, template))
}

/// The path template of a template's operations.
fn op_path(table: &'static Table, template: &Template) -> &'static str {
    template.ops.first().map(|&i| table.ops[i].path.as_str()).unwrap_or_default()
}

/// Levenshtein distance of two short ASCII-ish words, counted in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Every scope sipgate knows, with a one-line meaning in our words.
pub fn scopes() -> impl Iterator<Item = (&'static str, String)> {
    scope_names().map(|scope| (scope, meaning(scope)))
}

/// Whether sipgate knows this scope (`openid` included).
pub fn is_known_scope(scope: &str) -> bool {
    scope_names().any(|known| known == scope)
}

/// The known scope closest to a mistyped `word` (`acount:read`, `account.read`, `read:account`), if
/// one is close enough to be what was meant.
pub fn closest_scope(word: &str) -> Option<&'static str> {
    let normal: String =
        word.trim().to_ascii_lowercase().chars().map(|c| if c == '.' || c == '-' { ':' } else { c }).collect();
    let flipped: String = normal.rsplit(':').collect::<Vec<_>>().join(":");
    let mut best: Option<(usize, &'static str)> = None;
    for scope in scope_names() {
        let distance = edit_distance(scope, &normal).min(edit_distance(scope, &flipped));
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, scope));
        }
    }
    let (distance, scope) = best?;
    (distance <= (normal.len() / 4).clamp(1, 3) && scope != word).then_some(scope)
}

/// What a scope allows, in our words, built from the parts of its name.
fn meaning(scope: &str) -> String {
    match scope {
        "all" => return "everything the account may do (includes every other scope)".to_owned(),
        "openid" => return "confirm who you are when signing in (OpenID Connect)".to_owned(),
        "internal" => return "operations sipgate uses internally".to_owned(),
        "sessions:write" => return "start calls and send SMS and faxes".to_owned(),
        "sessions:calls:write" => return "start calls".to_owned(),
        "sessions:sms:write" => return "send SMS".to_owned(),
        "sessions:fax:write" => return "send faxes".to_owned(),
        "push_device:register" => return "register a device for push notifications".to_owned(),
        _ => {}
    }
    let parts: Vec<&str> = scope.split(':').collect();
    let (verb, nouns) = match parts.split_last() {
        Some((&"read", nouns)) => ("see", nouns),
        Some((&"write", nouns)) => ("change", nouns),
        Some((&"register", nouns)) => ("register", nouns),
        _ => ("use", parts.as_slice()),
    };
    match nouns {
        [] => format!("{verb} {}", noun(scope)),
        [owner] => format!("{verb} your {}", noun(owner)),
        [owner, rest @ ..] => {
            let narrowed: Vec<&str> = rest.iter().map(|part| noun(part)).collect();
            format!("{verb} the {} of your {}", narrowed.join(" "), noun(owner))
        }
    }
}

/// A scope name's part as a noun phrase.
fn noun(part: &str) -> &str {
    match part {
        "account" => "account details",
        "addresses" => "addresses",
        "authorization" => "sign-in settings",
        "autorecording" => "automatic call recording",
        "balance" => "credit balance",
        "blacklist" => "blocked numbers",
        "blockanonymous" => "anonymous call blocking",
        "busyonbusy" => "busy-on-busy setting",
        "callerid" => "caller ID",
        "callrestrictions" => "call restrictions",
        "calls" => "calls",
        "clients" => "clients",
        "conferencerooms" => "conference rooms",
        "contacts" => "contacts",
        "contingents" => "contingents",
        "contracts" => "contracts",
        "crm" => "CRM data",
        "defaultdevice" => "default device",
        "devices" => "devices",
        "events" => "events",
        "fax" => "fax",
        "faxlines" => "fax lines",
        "forwardings" => "call forwardings",
        "fqdn" => "domain name",
        "greeting" | "greetings" => "greetings",
        "groups" => "groups",
        "history" => "call, SMS and fax history",
        "ivrs" => "voice menus",
        "labels" => "labels",
        "localprefix" => "local area code",
        "log" => "log",
        "methods" => "methods",
        "microsoftteams" => "Microsoft Teams link",
        "notifications" => "notifications",
        "numbers" => "phone numbers",
        "oauth" => "OAuth",
        "oauth2" => "OAuth 2.0",
        "orders" => "orders",
        "parallelforwardings" => "parallel call forwardings",
        "payment" => "payment details",
        "phonelines" => "phone lines",
        "phones" => "phones",
        "portings" => "number portings",
        "products" => "products",
        "role" => "role",
        "rtcm" => "real-time call control",
        "sessions" => "calls, SMS and faxes",
        "settings" => "settings",
        "sim" | "sims" => "SIM cards",
        "singlerowdisplay" => "single-row display",
        "sipgateio" => "sipgate.io",
        "sms" => "SMS",
        "tacs" => "terms and conditions",
        "tariffannouncement" => "tariff announcement",
        "trunk" => "SIP trunk",
        "users" => "users",
        "voicemails" => "voicemail",
        "webhooks" => "webhooks",
        other => other,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_looked_up_relative_to_the_api_base_without_query() {
        const BASE: &str = "https://api.sipgate.com/v2";
        assert_eq!(relative_path(BASE, "/history?limit=5"), Some("/history"));
        assert_eq!(relative_path(BASE, "https://api.sipgate.com/v2/account"), Some("/account"));
        assert_eq!(relative_path(BASE, "https://api.sipgate.com/v2"), Some("/"));
        assert_eq!(relative_path(BASE, "account"), Some("account"));
        assert_eq!(relative_path(BASE, "https://elsewhere.example/v2/account"), None);
    }

    #[test]
    fn table_has_every_operation_of_the_spec() {
        assert_eq!(operations().len(), 179);
        assert_eq!(operations().iter().filter(|op| op.method == "GET").count(), 73);
        assert!(is_known_scope("history:read"));
        assert!(!is_known_scope("history:reed"));
    }

    #[test]
    fn literal_segments_win_over_variables() {
        let Lookup::Found { op, params } = find("POST", "/numbers/quickdial") else { panic!("not found") };
        assert_eq!(op.path, "/numbers/quickdial");
        assert!(params.is_empty());
        let Lookup::Found { op, params } = find("GET", "/w0/sms") else { panic!("not found") };
        assert_eq!(op.path, "/{userId}/sms");
        assert_eq!(params, [("userId", "w0")]);
        let Lookup::Found { op, .. } = find("GET", "/") else { panic!("not found") };
        assert_eq!(op.id, "getUrls");
    }

    #[test]
    fn known_path_with_another_method_lists_the_allowed_ones() {
        let Lookup::WrongMethod { allowed } = find("PATCH", "/history") else { panic!("not a wrong method") };
        assert_eq!(allowed, ["GET", "PUT", "DELETE"]);
        assert!(matches!(find("GET", "/nothing/here"), Lookup::Unknown));
        assert!(matches!(find("GET", "/w0//sms"), Lookup::Unknown));
    }

    #[test]
    fn scope_checks_accept_any_listed_scope_or_all() {
        let Lookup::Found { op, .. } = find("POST", "/sessions/sms") else { panic!("not found") };
        assert!(op.accepts("openid sessions:sms:write"));
        assert!(op.accepts("all"));
        assert!(!op.accepts("sms:write history:read"));
        assert_eq!(op.narrow_scopes().collect::<Vec<_>>(), ["sessions:write", "sessions:sms:write"]);
        let Lookup::Found { op, .. } = find("GET", "/authorization/userinfo") else { panic!("not found") };
        assert!(op.accepts(""));
    }

    #[test]
    fn all_does_not_open_the_internal_operations() {
        let internal: Vec<String> = operations()
            .iter()
            .filter(|op| !op.accepts("all") && !op.scopes.is_empty())
            .map(|op| format!("{} {}", op.method, op.path))
            .collect();
        let expected = ["GET /restrictions", "GET /app/events", "DELETE /app/events/{id}", "GET /app/tacs"];
        assert_eq!(internal[..4], expected);
        assert_eq!(internal[4..], ["GET /app/users", "GET /identityVerification"]);
        let Lookup::Found { op, .. } = find("GET", "/app/tacs") else { panic!("not found") };
        assert!(op.accepts("internal"));
        assert_eq!(op.accepted_scopes().collect::<Vec<_>>(), ["internal"]);
        let Lookup::Found { op, .. } = find("GET", "/app/properties") else { panic!("not found") };
        assert!(op.accepts("all"), "listed with `all` too");
        assert_eq!(op.accepted_scopes().collect::<Vec<_>>(), ["internal", "all"]);
    }

    #[test]
    fn paged_lists_are_those_with_offset_limit_and_total_count() {
        let paged = |path| match find("GET", path) {
            Lookup::Found { op, .. } => op.is_paged(),
            _ => panic!("{path} not found"),
        };
        assert!(paged("/history"));
        assert!(paged("/contacts"));
        assert!(!paged("/account"));
    }

    #[test]
    fn suggestions_fix_a_doubled_prefix_and_typos() {
        assert_eq!(suggest("/v2/v2/account"), Some("/account"));
        assert_eq!(suggest("/v2/history"), Some("/history"));
        assert_eq!(suggest("/acount"), Some("/account"));
        assert_eq!(suggest("/w0/smss"), Some("/{userId}/sms"));
        assert_eq!(suggest("/account"), None, "a known path needs no suggestion");
        assert_eq!(suggest("/completely/different/thing"), None);
    }

    #[test]
    fn closest_scope_forgives_typos_and_other_separators() {
        assert_eq!(closest_scope("acount:read"), Some("account:read"));
        assert_eq!(closest_scope("history.read"), Some("history:read"));
        assert_eq!(closest_scope("read:contacts"), Some("contacts:read"));
        assert_eq!(closest_scope("account:read"), None);
        assert_eq!(closest_scope("pizza"), None);
    }

    #[test]
    fn every_scope_has_a_meaning_in_plain_words() {
        let all: Vec<(&str, String)> = scopes().collect();
        assert!(all.len() > 100);
        for (name, meaning) in &all {
            assert!(!meaning.contains(':') && !meaning.contains('_'), "{name}: {meaning}");
            assert!(meaning.split(' ').count() >= 2, "{name}: {meaning}");
        }
        assert_eq!(meaning("history:read"), "see your call, SMS and fax history");
        assert_eq!(meaning("devices:callerid:write"), "change the caller ID of your devices");
    }

    /// (That every example fits its schema is tested where schemas are checked: `mock::validate`.)
    #[test]
    fn examples_start_from_the_spec() {
        let Lookup::Found { op, .. } = find("POST", "/sessions/sms") else { panic!("not found") };
        let body = example(op.body.as_ref().unwrap());
        assert_eq!(body["smsId"], "s0", "the spec's own example");
    }
}

#[cfg(test)]
mod generated {
    use std::path::Path;
    use std::process::Command;

    /// The committed table is what `tools/operations.py` makes of `swagger.json` today. Skipped (and
    /// says so) where python3 or the spec (`../shared/sipgate-api/swagger.json`) is missing.
    #[test]
    fn committed_table_matches_the_generator() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let swagger = root.join("../shared/sipgate-api/swagger.json");
        if !swagger.is_file() {
            eprintln!("skipped: {} not found", swagger.display());
            return;
        }
        let output =
            match Command::new("python3").arg(root.join("tools/operations.py")).arg("--check").arg(&swagger).output() {
                Ok(output) => output,
                Err(error) => {
                    eprintln!("skipped: python3 does not run ({error})");
                    return;
                }
            };
        assert!(
            output.status.success(),
            "src/operations.json is out of date: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
