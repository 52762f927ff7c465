//! The whole sipgate REST API at the stand-in: every operation of the table in `operations`, answered
//! under `/v2` for one fake account.
//!
//! Each request is routed through the table (unknown path 404, known path with another method 405),
//! then checked: bearer token (401), the operation's scopes (403; `all` allows everything), query
//! parameters and the JSON body against the operation's schemas (400 naming the field, never its
//! value). Answers are built from the spec's examples and fit the operation's response schema. The
//! account is the same everywhere: user `w0`, SMS extension `s0`, device `e0`, phone line `p0`, fax
//! line `f0`, group `g0`, voicemail `v0`. State is kept only where a client needs it: sent SMS appear
//! in the history, and contacts can be listed, created, changed and deleted. The message text of an
//! SMS is never stored.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::api::{authorized, forbidden};
use super::calls;
use super::csv;
use super::fake::{SMS_EXTENSION, fake, fixed_history};
use super::params::Incoming;
use super::reply::Reply;
use super::shared::Shared;
use super::state::Records;
use super::validate::{Invalid, validate};
use crate::operations::{self, Location, Lookup, Operation};

/// The phone number of the fake account, the sender of its SMS.
const ACCOUNT_NUMBER: &str = "+4921100000000";

/// How many items a static list of the fake account has, so that paging has something to page.
const STATIC_ITEMS: usize = 3;

impl Records {
    /// The contacts, seeded with the fake account's on first use.
    fn contacts(&mut self) -> &mut Vec<Value> {
        self.contacts.get_or_insert_with(seed_contacts)
    }
}

/// Answers a request under `/v2` that no fast path took.
pub(super) fn answer(shared: &Shared, request: &Incoming<'_>) -> Reply {
    let path = match request.path.strip_prefix("/v2") {
        Some("") => "/",
        Some(path) if path.starts_with('/') => path,
        _ => return Reply::not_found(),
    };
    let (op, params) = match operations::find(request.method, path) {
        Lookup::Found { op, params } => (op, params),
        Lookup::WrongMethod { allowed } => {
            return Reply::oauth_error(405, "invalid_request", "HTTP method not allowed")
                .with_header("Allow", allowed.join(", "));
        }
        Lookup::Unknown => return Reply::not_found(),
    };
    match authorized(shared, request, |scope| op.accepts(scope)) {
        Err(reply) => return reply,
        Ok(false) => return forbidden(op.narrow_scopes().next().unwrap_or("all")),
        Ok(true) => {}
    }
    if let Err(reply) = path_params(op, &params) {
        return reply;
    }
    let query = match query(op, request.query) {
        Ok(query) => query,
        Err(reply) => return reply,
    };
    let body = match body(op, request.body) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let param = |name: &str| params.iter().find(|(n, _)| *n == name).map(|(_, value)| *value).unwrap_or_default();
    match (op.id.as_str(), body) {
        // Nothing sent, nothing to change: the documented success.
        (_, None) if op.body.is_some() => static_answer(op, &query),
        ("sendWebSms", Some(body)) => send_sms(shared, &body),
        ("getSipgateIoUrls", _) => calls::rest::settings(&shared.calls),
        ("setSipgateIoUrls", Some(body)) => calls::rest::set_settings(&shared.calls, &body, op.success().0),
        ("getCalls", _) => calls::rest::live_calls(&shared.calls),
        ("getWebhooksLog", _) => calls::rest::log(&shared.calls),
        ("getHistory", _) => history(shared, op, &query),
        ("getHistoryCSV", _) => export_history(shared, &query),
        ("getContacts", _) => contacts(shared, op, &query),
        ("createContact", Some(body)) => create_contact(shared, &body),
        ("updateContact", Some(body)) => update_contact(shared, param("contactId"), &body),
        ("deleteContact", _) => delete_contact(shared, param("contactId")),
        ("deleteAllContacts", _) => {
            shared.state().rest.contacts().clear();
            Reply::empty(204)
        }
        _ => static_answer(op, &query),
    }
}

/// Checks the path parameters against their schemas (`/addresses/{addressId}` takes a number), decoded.
fn path_params(op: &'static Operation, params: &[(&'static str, &str)]) -> Result<(), Reply> {
    for (name, value) in params {
        let Some(param) = op.params.iter().find(|p| p.location == Location::Path && p.name == *name) else { continue };
        let decoded = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| bad_request(&Invalid::new(*name, "is not UTF-8")))?;
        let kind = param.schema.get("type").and_then(Value::as_str);
        validate(&typed_text(&decoded, kind), &param.schema)
            .map_err(|invalid| bad_request(&Invalid::new(*name, invalid.problem)))?;
    }
    Ok(())
}

/// The typed query parameters of an operation: integers as numbers, repeated parameters as lists.
type Query = Vec<(&'static str, Value)>;

/// Reads and checks the query parameters the operation declares; others are ignored.
fn query(op: &'static Operation, raw: &str) -> Result<Query, Reply> {
    let pairs = crate::query::decode(raw).map_err(|_| Reply::invalid_request("The query could not be decoded"))?;
    let mut typed = Query::new();
    for param in op.params.iter().filter(|p| p.location == Location::Query) {
        let given: Vec<&str> = pairs.iter().filter(|(key, _)| *key == param.name).map(|(_, v)| v.as_str()).collect();
        if given.is_empty() {
            if param.required {
                return Err(bad_request(&Invalid::new(param.name.as_str(), "is missing")));
            }
            continue;
        }
        let kind = |schema: &Value| schema.get("type").and_then(Value::as_str).map(str::to_owned);
        let value = match kind(&param.schema).as_deref() {
            Some("array") => {
                let items = param.schema.get("items").and_then(kind);
                // Swagger 2.0: `multi` repeats the parameter, the default `csv` separates by commas.
                let given: Vec<&str> = match param.schema.get("collectionFormat").and_then(Value::as_str) {
                    Some("multi") => given,
                    _ => given.iter().flat_map(|text| text.split(',')).collect(),
                };
                Value::Array(given.iter().map(|text| typed_text(text, items.as_deref())).collect())
            }
            other => typed_text(given[given.len() - 1], other),
        };
        validate(&value, &param.schema).map_err(|invalid| {
            bad_request(&Invalid::new(format!("{}{}", param.name, invalid.field), invalid.problem))
        })?;
        typed.push((param.name.as_str(), value));
    }
    Ok(typed)
}

/// A query value as the JSON type its schema names (left a string when it is not one, so that the
/// check says what is wrong).
fn typed_text(text: &str, kind: Option<&str>) -> Value {
    match kind {
        Some("integer") => text.parse::<i64>().map_or_else(|_| Value::String(text.to_owned()), Value::from),
        Some("boolean") => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        _ => Value::String(text.to_owned()),
    }
}

/// The JSON body, checked against the operation's request schema; `None` when it takes none, or
/// when none was sent and the description says none is needed (`required: false`): then the
/// operation changes nothing and answers its success.
fn body(op: &'static Operation, raw: &[u8]) -> Result<Option<Value>, Reply> {
    let Some(schema) = &op.body else { return Ok(None) };
    // Only nothing is no body: a sent line break is a body that is not JSON.
    if raw.is_empty() {
        return match op.body_required {
            true => Err(bad_request(&Invalid::new("", "is missing"))),
            false => Ok(None),
        };
    }
    let value: Value = serde_json::from_slice(raw).map_err(|_| bad_request(&Invalid::new("", "is not JSON")))?;
    validate(&value, schema).map_err(|invalid| bad_request(&invalid))?;
    Ok(Some(value))
}

/// 400 naming the field (in `error_description` and `field`); the value never appears.
fn bad_request(invalid: &Invalid) -> Reply {
    Reply::json(
        400,
        &json!({"error": "invalid_request", "error_description": invalid.to_string(), "field": invalid.field}),
    )
}

/// 404 for an id the fake account does not have.
fn no_such(what: &str) -> Reply {
    Reply::oauth_error(404, "not_found", &format!("No {what} with this id"))
}

/// An operation without state: its success status and a body built from its response schema; a paged
/// list has a few items and pages them.
fn static_answer(op: &'static Operation, query: &Query) -> Reply {
    let (status, schema) = op.success();
    let Some(schema) = schema else { return Reply::empty(status) };
    let mut value = fake(schema);
    if op.is_paged()
        && let Some(first) = value.get("items").and_then(Value::as_array).and_then(|items| items.first()).cloned()
    {
        let items = vec![first; STATIC_ITEMS];
        value = page(value, items, query);
    }
    Reply::json(status, &value)
}

/// `list` with `items` replaced by the page `offset`/`limit` asks for and `totalCount` by the length of
/// all of them.
fn page(mut list: Value, items: Vec<Value>, query: &Query) -> Value {
    let total = items.len();
    let offset = number(query, "offset").unwrap_or(0);
    let limit = number(query, "limit").unwrap_or(usize::MAX);
    let shown: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    if let Value::Object(map) = &mut list {
        map.insert("items".to_owned(), Value::Array(shown));
        map.insert("totalCount".to_owned(), Value::from(total));
    }
    list
}

/// A number-valued query parameter.
fn number(query: &Query, name: &str) -> Option<usize> {
    query.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.as_u64()).and_then(|n| usize::try_from(n).ok())
}

/// The strings of a list-valued query parameter.
fn strings<'q>(query: &'q Query, name: &str) -> Option<Vec<&'q str>> {
    query
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.as_array())
        .map(|values| values.iter().filter_map(Value::as_str).collect())
}

/// `POST /sessions/sms`: records the SMS as an outgoing history entry (without its text).
fn send_sms(shared: &Shared, body: &Value) -> Reply {
    if body["smsId"].as_str() != Some(SMS_EXTENSION) {
        return bad_request(&Invalid::new("smsId", "is not an SMS extension of this account"));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    let created = crate::utc::iso8601(body["sendAt"].as_i64().unwrap_or(i64::try_from(now).unwrap_or(i64::MAX)));
    let mut state = shared.state();
    let records = &mut state.rest;
    records.last_entry += 1;
    let entry = json!({
        "id": (200_000_000 + records.last_entry).to_string(),
        "source": ACCOUNT_NUMBER,
        "target": body["recipient"],
        "sourceAlias": "",
        "targetAlias": "",
        "type": "SMS",
        "created": created,
        "lastModified": created,
        "direction": "OUTGOING",
        "incoming": false,
        "status": "PICKUP",
        "connectionIds": [SMS_EXTENSION],
        "read": true,
        "archived": false,
        "note": "",
        "endpoints": [],
        "starred": false,
        "labels": [],
    });
    records.sent.insert(0, entry);
    Reply::empty(204)
}

/// An entry of the history: one of the fixed ones of [`fixed_history`], or one of the SMS sent or calls
/// ended.
enum Entry {
    Fixed(&'static Value, &'static str),
    Recorded(Value),
}

impl Entry {
    fn value(&self) -> &Value {
        match self {
            Entry::Fixed(value, _) => value,
            Entry::Recorded(value) => value,
        }
    }
}

/// The history the fake account has for `query`: the SMS sent, newest first, then its ended calls (also
/// newest first), then its call, voicemail and fax; filtered by `types` and `directions`.
fn history_entries(shared: &Shared, query: &Query) -> Vec<Entry> {
    let mut entries: Vec<Entry> =
        calls::rest::history_entries(&shared.calls).into_iter().map(Entry::Recorded).collect();
    entries.extend(shared.state().rest.sent.iter().cloned().map(Entry::Recorded));
    entries.extend(fixed_history().iter().map(|fixed| Entry::Fixed(&fixed.value, fixed.json.as_str())));
    let wanted = |name: &str, entry: &Value, field: &str| {
        strings(query, name).is_none_or(|allowed| entry[field].as_str().is_some_and(|v| allowed.contains(&v)))
    };
    entries.retain(|entry| wanted("types", entry.value(), "type") && wanted("directions", entry.value(), "direction"));
    entries
}

/// `GET /history`: [`history_entries`], paged. The same bytes as [`page`]'s value serialized, written
/// from the entries' JSON text, which the fixed ones have ready: the list's fields in their order (a
/// JSON object's keys are sorted), `items` the page `offset`/`limit` asks for, `totalCount` all of them.
fn history(shared: &Shared, op: &'static Operation, query: &Query) -> Reply {
    // The list's other fields, as JSON text (built once: this is the one operation answered here).
    static FIELDS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    let fields_text = FIELDS.get_or_init(|| {
        let list = op.success().1.map(fake).unwrap_or_else(|| json!({}));
        let others = list
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| !["items", "totalCount"].contains(&name.as_str()));
        let mut fields = BTreeMap::new(); // extended: a map's `collect` sorts (docs/performance.md, "Size")
        fields.extend(others.map(|(name, value)| (name.clone(), value.to_string())));
        fields
    });
    let entries = history_entries(shared, query);
    let (offset, limit) = (number(query, "offset").unwrap_or(0), number(query, "limit").unwrap_or(usize::MAX));
    let shown = entries.iter().skip(offset).take(limit).map(|entry| match entry {
        Entry::Fixed(_, json) => Cow::Borrowed(*json),
        Entry::Recorded(value) => Cow::Owned(value.to_string()),
    });
    let items = format!("[{}]", shown.collect::<Vec<_>>().join(","));
    let mut fields: BTreeMap<&str, Cow<str>> = BTreeMap::new();
    fields.extend(fields_text.iter().map(|(name, text)| (name.as_str(), Cow::from(text))));
    fields.insert("items", Cow::Owned(items));
    fields.insert("totalCount", Cow::Owned(entries.len().to_string()));
    let fields: Vec<String> =
        fields.into_iter().map(|(name, value)| format!("{}:{value}", Value::from(name))).collect();
    Reply {
        status: 200,
        content_type: Some("application/json"),
        body: format!("{{{}}}", fields.join(",")).into_bytes(),
        headers: Vec::new(),
    }
}

/// `GET /history/export`: the same page of [`history_entries`] as CSV, a file to download.
fn export_history(shared: &Shared, query: &Query) -> Reply {
    let entries = history_entries(shared, query).into_iter().map(|entry| entry.value().clone()).collect();
    let list = page(json!({}), entries, query);
    let entries = list["items"].as_array().map(Vec::as_slice).unwrap_or_default();
    Reply {
        status: 200,
        content_type: Some("application/octet-stream"),
        body: csv::history(entries).into_bytes(),
        headers: vec![("Content-Disposition", "attachment; filename=\"history.csv\"".to_owned())],
    }
}

/// The three contacts of the fake account; the first has the id the table's examples use.
fn seed_contacts() -> Vec<Value> {
    static NULL: Value = Value::Null;
    let schema = operations::definition("ContactResponse").unwrap_or(&NULL);
    [
        ("b3d9af4a-78f9-11e6-8b77-86f30ca893d3", "Ada Lovelace", "+4915799912345"),
        ("5c6e3f0e-1b0a-4d47-9a57-1e9e0c3e8a11", "Grace Hopper", "+4921100000001"),
        ("9f1d2b7a-3c4e-4f5a-8b6c-7d8e9f0a1b2c", "Alan Turing", "+4921100000002"),
    ]
    .into_iter()
    .map(|(id, name, number)| {
        let mut contact = fake(schema);
        contact["id"] = Value::String(id.to_owned());
        contact["name"] = Value::String(name.to_owned());
        contact["numbers"] = json!([{"number": number, "type": ["cell"]}]);
        contact
    })
    .collect()
}

/// `GET /contacts`: filtered by `phonenumbers`, paged.
fn contacts(shared: &Shared, op: &'static Operation, query: &Query) -> Reply {
    let mut all = shared.state().rest.contacts().clone();
    if let Some(numbers) = strings(query, "phonenumbers") {
        all.retain(|contact| {
            contact["numbers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|n| n["number"].as_str().is_some_and(|n| numbers.contains(&n)))
        });
    }
    let list = op.success().1.map(fake).unwrap_or_else(|| json!({}));
    Reply::json(200, &page(list, all, query))
}

/// A stored contact made from a create or update request: the fields a contact answer has.
fn contact(id: &str, request: &Value) -> Value {
    let schema = operations::definition("ContactResponse").unwrap_or(&Value::Null);
    let mut contact = project(request, schema);
    contact["id"] = Value::String(id.to_owned());
    if contact.get("name").is_none() {
        let part = |field: &str| request[field].as_str().unwrap_or_default().to_owned();
        contact["name"] = Value::String(format!("{} {}", part("given"), part("family")).trim().to_owned());
    }
    for list in ["emails", "numbers", "addresses", "organization"] {
        if contact.get(list).is_none() {
            contact[list] = json!([]);
        }
    }
    contact
}

/// `value` with only the properties `schema` names, at every level.
fn project(value: &Value, schema: &Value) -> Value {
    let schema = operations::resolve(schema);
    match value {
        Value::Object(object) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let mut kept = Map::new();
            kept.extend(object.iter().filter_map(|(name, field)| {
                properties.and_then(|p| p.get(name)).map(|property| (name.clone(), project(field, property)))
            }));
            Value::Object(kept)
        }
        Value::Array(items) => {
            let item = schema.get("items").unwrap_or(&Value::Null);
            Value::Array(items.iter().map(|i| project(i, item)).collect())
        }
        other => other.clone(),
    }
}

/// `POST /contacts`.
fn create_contact(shared: &Shared, body: &Value) -> Reply {
    let created = contact(&uuid::Uuid::new_v4().to_string(), body);
    shared.state().rest.contacts().push(created);
    Reply::empty(204)
}

/// `PUT /contacts/{contactId}`.
fn update_contact(shared: &Shared, id: &str, body: &Value) -> Reply {
    let mut state = shared.state();
    match state.rest.contacts().iter_mut().find(|c| c["id"] == id) {
        Some(stored) => {
            *stored = contact(id, body);
            Reply::empty(204)
        }
        None => no_such("contact"),
    }
}

/// `DELETE /contacts/{contactId}`.
fn delete_contact(shared: &Shared, id: &str) -> Reply {
    let mut state = shared.state();
    let contacts = state.rest.contacts();
    let before = contacts.len();
    contacts.retain(|c| c["id"] != id);
    if contacts.len() < before { Reply::empty(204) } else { no_such("contact") }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::mock::MockConfig;
    use crate::mock::server::MockServer;

    #[test]
    fn the_history_page_is_the_bytes_of_its_value() {
        let shared = Shared::new(MockConfig::default(), "http://127.0.0.1:1".into());
        let Lookup::Found { op, .. } = operations::find("GET", "/history") else { panic!("no GET /history") };
        let sent = json!({"id": "200000001", "type": "SMS", "direction": "OUTGOING", "target": "+49 \"1\"\n"});
        shared.state().rest.sent.push(sent);
        for raw in
            ["", "limit=10", "offset=1&limit=2", "offset=9", "types=FAX&types=SMS", "directions=INCOMING&limit=1"]
        {
            let query = query(op, raw).unwrap();
            let values = history_entries(&shared, &query).into_iter().map(|entry| entry.value().clone()).collect();
            let list = op.success().1.map(fake).unwrap();
            let expected = Reply::json(200, &page(list, values, &query));
            assert_eq!(history(&shared, op, &query), expected, "{raw}");
        }
    }

    #[test]
    fn contacts_keep_only_the_fields_of_a_contact() {
        let request = json!({"given": "Ada", "family": "Lovelace", "scope": "PRIVATE", "secretField": 1,
                             "emails": [{"email": "ada@example.com", "type": ["work"], "extra": true}]});
        let stored = contact("id-1", &request);
        assert_eq!(stored["name"], "Ada Lovelace");
        assert_eq!(stored["emails"], json!([{"email": "ada@example.com", "type": ["work"]}]));
        assert!(stored.get("secretField").is_none() && stored.get("given").is_none());
        let schema = operations::definition("ContactResponse").unwrap();
        assert_eq!(validate(&stored, schema), Ok(()));
    }

    /// A token of the stand-in for `scope`, through the auto-approved authorization-code flow.
    fn token(agent: &ureq::Agent, server: &MockServer, scope: &str) -> String {
        let oidc = format!("{}/auth/realms/third-party/protocol/openid-connect", server.base_url());
        let redirect = "http://127.0.0.1:5/oauth";
        let auth = crate::query::encode([
            ("client_id", "sipgate-oauth-demo"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", scope),
        ]);
        let answer = agent.get(format!("{oidc}/auth?{auth}")).call().unwrap();
        let location = answer.headers().get("location").unwrap().to_str().unwrap().to_owned();
        let pairs = crate::query::decode(location.split_once('?').unwrap().1).unwrap();
        let code = crate::query::single(&pairs, "code").unwrap().unwrap().to_owned();
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("client_id", "sipgate-oauth-demo"),
            ("client_secret", "demo-secret"),
        ];
        let mut answer = agent.post(format!("{oidc}/token")).send_form(form).unwrap();
        let tokens: Value = serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
        tokens["access_token"].as_str().unwrap().to_owned()
    }

    /// The request log of an SMS shows method, path and status (and which field was wrong), never the
    /// number or the text.
    #[test]
    fn sms_never_reaches_the_log() {
        let (sink, lines) = std::sync::mpsc::channel();
        let config = MockConfig { auto_approve: true, log: true, ..MockConfig::default() };
        let server = MockServer::start_with_events(config, SocketAddr::from(([127, 0, 0, 1], 0)), sink).unwrap();
        let agent: ureq::Agent =
            ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).proxy(None).build().into();
        let bearer = format!("Bearer {}", token(&agent, &server, "sessions:sms:write"));
        let url = format!("{}/v2/sessions/sms", server.base_url());
        let send = |body: &[u8]| {
            let request = agent.post(&url).header("Content-Type", "application/json").header("Authorization", &bearer);
            request.send(body).unwrap().status().as_u16()
        };
        assert_eq!(send(br#"{"smsId":"s0","recipient":"+4915799912345","message":"meet me at noon"}"#), 204);
        assert_eq!(send(br#"{"smsId":"s0","recipient":4915799912345,"message":"meet me at noon"}"#), 400);
        let logged: Vec<String> = lines
            .iter()
            .filter_map(|event| match event {
                super::super::MockEvent::Request(line) => Some(line),
                _ => None,
            })
            .skip(2)
            .take(2)
            .collect();
        assert!(logged[0].starts_with("POST /v2/sessions/sms 204 "), "{}", logged[0]);
        assert!(logged[1].starts_with("POST /v2/sessions/sms 400 "), "{}", logged[1]);
        assert!(logged[1].ends_with("invalid_request: `recipient` must be a string"), "{}", logged[1]);
        for line in &logged {
            assert!(!line.contains("4915799912345") && !line.contains("noon"), "{line}");
        }
    }
}
