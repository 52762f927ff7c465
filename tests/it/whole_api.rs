//! The whole sipgate REST API at the stand-in, driven over HTTP: every operation of the table with a
//! token that may call it and with one that may not, and the flows a client relies on (an SMS shows up
//! in the history, contacts change, lists page, bodies are checked).
//!
//! Answers are checked with a validator written here, apart from the library's: it knows JSON types,
//! `required`, `enum`, the integer formats, `uniqueItems`, and it also refuses fields the schema does
//! not name. Every test starts its own stand-in on 127.0.0.1:0; nothing reaches the internet.

use serde_json::{Value, json};
use sipgate_oauth::internals::query;
use sipgate_oauth::operations::{self, Location, Operation};

use crate::common::stand::{self, Stand};

/// The stand-in with the demo client that approves at once.
fn start() -> Stand {
    stand::start(stand::auto())
}

/// The request target of an operation as the table describes it: path parameters and required query
/// parameters from the table's examples.
pub(crate) fn target(op: &Operation) -> String {
    let mut path = op.path.clone();
    let mut query = Vec::new();
    for param in &op.params {
        let example = param.example.as_ref().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        match param.location {
            Location::Path => {
                let value =
                    example.unwrap_or_else(|| panic!("{} {}: no example for {}", op.method, op.path, param.name));
                path = path.replace(&format!("{{{}}}", param.name), &query::encode_component(&value));
            }
            Location::Query if param.required => {
                query.push((param.name.clone(), example.unwrap_or_else(|| "1".to_owned())));
            }
            _ => {}
        }
    }
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query::encode(query.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
    }
}

/// Checks `value` against a schema of the table, written apart from the library's validator. Also
/// refuses properties the schema does not name, so a made-up field in an answer fails.
fn conforms(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(name) => operations::definition(name).ok_or(format!("{at}: unknown definition {name}"))?,
        None => schema,
    };
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or(if schema.get("properties").is_some() {
        "object"
    } else {
        "any"
    });
    let fits = match kind {
        "string" => value.is_string(),
        "integer" => match (value.as_i64(), schema.get("format").and_then(Value::as_str)) {
            (Some(n), Some("int32")) => i32::try_from(n).is_ok(),
            (Some(_), _) => true,
            (None, _) => false,
        },
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    };
    if !fits {
        return Err(format!("{at}: {value} is not of type {kind} ({schema})"));
    }
    if let Some(items) = value.as_array() {
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (n, item) in items.iter().enumerate() {
                if items[..n].contains(item) {
                    return Err(format!("{at}: {item} repeated"));
                }
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (n, item) in items.iter().enumerate() {
                conforms(item, item_schema, &format!("{at}[{n}]"))?;
            }
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required {name} missing"));
            }
        }
        for (name, field) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(property) => conforms(field, property, &format!("{at}.{name}"))?,
                None if properties.is_some() => return Err(format!("{at}: field {name} not in the schema")),
                None => {}
            }
        }
    }
    Ok(())
}

/// Every operation, in an order that changes nothing a later one needs: all but `DELETE` in the
/// table's order, then the `DELETE`s from the most specific path back (one contact before all of them).
fn walk_order() -> Vec<&'static Operation> {
    let all = operations::operations();
    let mut order: Vec<&Operation> = all.iter().filter(|op| op.method != "DELETE").collect();
    order.extend(all.iter().rev().filter(|op| op.method == "DELETE"));
    order
}

#[test]
fn every_operation_answers_an_all_token_with_a_body_that_fits_its_schema() {
    let stand = start();
    let token = stand.token("all");
    let (mut success, mut documented_other, mut bodies, mut internal) = (0, 0, 0, 0);
    let ops = walk_order();
    assert_eq!(ops.len(), 179);
    for op in ops {
        let target = target(op);
        let body = op.body.as_ref().map(operations::example);
        let answer = stand.call(&op.method, &target, Some(&token), body.as_ref());
        let what = format!("{} {target}", op.method);
        if !op.accepts("all") {
            // sipgate's `internal`-only operations: `all` does not open them (see internal.rs).
            assert_eq!(answer.status, 403, "{what}");
            internal += 1;
            continue;
        }
        assert!(op.documents(answer.status), "{what}: undocumented status {} {}", answer.status, answer.body);
        if (200..300).contains(&answer.status) {
            success += 1;
        } else {
            documented_other += 1;
        }
        let schema = op.responses.iter().find(|r| r.status == Some(answer.status)).and_then(|r| r.schema.as_ref());
        match schema {
            // The export's schema is the list's, but sipgate sends it as a CSV file (see history_export.rs).
            Some(_) if op.id == "getHistoryCSV" => {
                assert_eq!(answer.header("content-type"), "application/octet-stream", "{what}");
            }
            Some(schema) => {
                assert_eq!(answer.header("content-type"), "application/json", "{what}");
                conforms(&answer.json(), schema, "body").unwrap_or_else(|e| panic!("{what}: {e}\n{}", answer.body));
                bodies += 1;
            }
            None => assert!(answer.body.is_empty(), "{what}: a body where the spec documents none: {}", answer.body),
        }
    }
    eprintln!(
        "179 operations: {success} 2xx, {documented_other} other documented, {internal} internal; {bodies} bodies fit their schema"
    );
    assert_eq!(internal, 6, "sipgate lists six operations under `internal` only");
    assert_eq!(success, 173, "with an `all` token and the table's examples every other operation succeeds");
    assert!(bodies > 80, "only {bodies} answers had a body to check");
}

#[test]
fn every_operation_refuses_a_token_without_its_scopes() {
    let stand = start();
    // `openid` is a scope no REST operation accepts.
    let token = stand.token("openid");
    let mut refused = 0;
    for op in operations::operations() {
        let target = target(op);
        let body = op.body.as_ref().map(operations::example);
        let answer = stand.call(&op.method, &target, Some(&token), body.as_ref());
        if op.scopes.is_empty() {
            assert!((200..300).contains(&answer.status), "{} {target}: {}", op.method, answer.status);
            continue;
        }
        assert_eq!(answer.status, 403, "{} {target}: {}", op.method, answer.body);
        let challenge = answer.header("www-authenticate");
        assert!(challenge.contains("error=\"insufficient_scope\""), "{challenge}");
        let named = op.narrow_scopes().next().unwrap_or("all");
        assert!(challenge.contains(&format!("scope=\"{named}\"")), "{} {target}: {challenge}", op.method);
        refused += 1;
    }
    assert_eq!(refused, 172);
}

#[test]
fn a_narrow_scope_allows_its_operations_only() {
    let stand = start();
    let token = stand.token("history:read");
    assert_eq!(stand.api_get("/history", &token).status, 200);
    let refused = stand.api_get("/contacts", &token);
    assert_eq!(refused.status, 403);
    assert!(refused.header("www-authenticate").contains("scope=\"contacts:read\""));
    assert_eq!(stand.api_get("/authorization/userinfo", &token).status, 200, "userinfo needs no scope");
    // Every scope of sipgate's API description can be asked for, not only the common ones.
    let narrow = stand.token("callrestrictions:read");
    assert_eq!(stand.api_get("/callrestrictions", &narrow).status, 200);
}

#[test]
fn missing_or_bad_token_is_401_with_a_bearer_challenge() {
    let stand = start();
    let none = stand.call("GET", "/history", None, None);
    assert_eq!(none.status, 401);
    assert_eq!(none.header("www-authenticate"), "Bearer realm=\"sipgate\"");
    let bad = stand.call("GET", "/w0/devices", Some("eyJnot.a.token"), None);
    assert_eq!(bad.status, 401);
    assert!(bad.header("www-authenticate").contains("error=\"invalid_token\""));
}

#[test]
fn unknown_path_is_404_and_known_path_with_another_method_is_405() {
    let stand = start();
    let token = stand.token("all");
    let unknown = stand.api_get("/nothing/here", &token);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "not_found");
    assert_eq!(stand.api_get("/v2/account", &token).status, 404, "a doubled /v2 is not a path");
    let wrong = stand.call("PATCH", "/history", Some(&token), None);
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), "GET, PUT, DELETE");
    let not_a_number = stand.api_get("/addresses/home", &token);
    assert_eq!(not_a_number.status, 400);
    assert_eq!(not_a_number.json()["field"], "addressId");
    let wrong = stand.call("DELETE", "/w0/sms", Some(&token), None);
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), "GET");
}

#[test]
fn the_fake_account_is_the_same_everywhere() {
    let stand = start();
    let token = stand.token("all");
    let user = stand.api_get("/authorization/userinfo", &token).json()["sub"].clone();
    assert_eq!(user, "w0");
    let sms = stand.api_get("/w0/sms", &token).json();
    assert_eq!(sms["items"][0]["id"], "s0");
    let devices = stand.api_get("/w0/devices", &token).json();
    assert_eq!(devices["items"][0]["id"], "e0", "{devices}");
    assert_eq!(stand.api_get("/users/w0", &token).json()["id"], "w0");
}

#[test]
fn a_sent_sms_appears_in_the_history() {
    let stand = start();
    let token = stand.token("sessions:sms:write history:read");
    let before = stand.api_get("/history?types=SMS", &token).json();
    assert_eq!(before["totalCount"], 0);
    let sms = json!({"smsId": "s0", "recipient": "+4915799912345", "message": "See you at noon"});
    let sent = stand.call("POST", "/sessions/sms", Some(&token), Some(&sms));
    assert_eq!(sent.status, 204, "{}", sent.body);
    let after = stand.api_get("/history?types=SMS", &token);
    let history = after.json();
    assert_eq!(history["totalCount"], 1);
    let entry = &history["items"][0];
    assert_eq!(entry["type"], "SMS");
    assert_eq!(entry["direction"], "OUTGOING");
    assert_eq!(entry["target"], "+4915799912345");
    assert_eq!(entry["connectionIds"], json!(["s0"]));
    assert!(!after.body.contains("noon"), "the text of an SMS is not kept");
    let schema = operations::definition("HistoryResponse").unwrap();
    conforms(&history, &json!({"$ref": "HistoryResponse"}), "history").unwrap();
    assert!(schema.get("properties").is_some());
    let calls = stand.api_get("/history?types=CALL", &token).json();
    assert!(calls["items"].as_array().unwrap().iter().all(|e| e["type"] == "CALL"));
    let other = json!({"smsId": "s7", "recipient": "+4915799912345", "message": "hi"});
    let refused = stand.call("POST", "/sessions/sms", Some(&token), Some(&other));
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["field"], "smsId");
}

#[test]
fn contacts_can_be_created_listed_changed_and_deleted() {
    let stand = start();
    let token = stand.token("contacts:read contacts:write");
    let names = |stand: &Stand| -> Vec<String> {
        let list = stand.api_get("/contacts", &token).json();
        conforms(&list, &json!({"$ref": "ContactsResponse"}), "contacts").unwrap();
        list["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&stand), ["Ada Lovelace", "Grace Hopper", "Alan Turing"]);
    let new = json!({"given": "Margaret", "family": "Hamilton", "scope": "PRIVATE",
                     "numbers": [{"number": "+4921100000042", "type": ["work"]}]});
    assert_eq!(stand.call("POST", "/contacts", Some(&token), Some(&new)).status, 204);
    assert_eq!(names(&stand).last().unwrap(), "Margaret Hamilton");
    let found = stand.api_get("/contacts?phonenumbers=%2B4921100000042", &token).json();
    assert_eq!(found["totalCount"], 1);
    let id = found["items"][0]["id"].as_str().unwrap().to_owned();
    let changed = json!({"name": "Margaret H. Hamilton", "scope": "SHARED"});
    assert_eq!(stand.call("PUT", &format!("/contacts/{id}"), Some(&token), Some(&changed)).status, 204);
    assert!(names(&stand).contains(&"Margaret H. Hamilton".to_owned()));
    assert_eq!(stand.call("DELETE", &format!("/contacts/{id}"), Some(&token), None).status, 204);
    assert_eq!(names(&stand), ["Ada Lovelace", "Grace Hopper", "Alan Turing"]);
    assert_eq!(stand.call("DELETE", &format!("/contacts/{id}"), Some(&token), None).status, 404);
    assert_eq!(stand.call("PUT", &format!("/contacts/{id}"), Some(&token), Some(&changed)).status, 404);
    assert_eq!(stand.call("DELETE", "/contacts", Some(&token), None).status, 204);
    assert!(names(&stand).is_empty());
}

#[test]
fn bodies_are_checked_and_the_error_names_the_field_not_its_value() {
    let stand = start();
    let token = stand.token("all");
    let send = |body: &[u8]| {
        let url = format!("{}/v2/sessions/sms", stand.server.base_url());
        let request = stand.agent.post(&url).header("Authorization", &format!("Bearer {token}"));
        let response = request.header("Content-Type", "application/json").send(body).unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_string().unwrap())
    };
    let (status, body) = send(br#"{"smsId":"s0","message":"secret words"}"#);
    assert_eq!(status, 400);
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["field"], "recipient");
    assert_eq!(error["error_description"], "`recipient` is missing");
    let (status, body) = send(br#"{"smsId":"s0","recipient":4915799912345,"message":"secret words"}"#);
    assert_eq!(status, 400);
    assert!(body.contains("`recipient` must be a string") && !body.contains("4915799912345"), "{body}");
    let (status, body) = send(br#"{"smsId":"s0","recipient":"+49157","message":"hi","sendAt":"soon"}"#);
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()["field"].clone()), (400, json!("sendAt")));
    let (status, body) = send(b"smsId=s0");
    assert_eq!(status, 400);
    assert!(body.contains("not JSON"), "{body}");
    let (status, body) = send(b"");
    assert_eq!(status, 204, "the body is optional (nothing is sent then): {body}");
    let contact = json!({"name": "Ada", "scope": "EVERYONE"});
    let answer = stand.call("POST", "/contacts", Some(&token), Some(&contact));
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["field"], "scope");
    let nested = json!({"scope": "PRIVATE", "emails": [{"email": "a@example.com"}, {"email": 7}]});
    let answer = stand.call("POST", "/contacts", Some(&token), Some(&nested));
    assert_eq!(answer.json()["field"], "emails[1].email");
}

#[test]
fn lists_page_with_offset_and_limit_and_count_everything() {
    let stand = start();
    let token = stand.token("all");
    for n in 0..4 {
        let sms = json!({"smsId": "s0", "recipient": format!("+491579991234{n}"), "message": "hi"});
        assert_eq!(stand.call("POST", "/sessions/sms", Some(&token), Some(&sms)).status, 204);
    }
    let everything = stand.api_get("/history?limit=1000", &token).json();
    assert_eq!(everything["totalCount"], 7, "four SMS and the account's call, voicemail and fax");
    let all_ids: Vec<Value> = everything["items"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(all_ids.len(), 7);
    let page = stand.api_get("/history?offset=2&limit=3", &token).json();
    assert_eq!(page["totalCount"], 7);
    let page_ids: Vec<Value> = page["items"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect();
    assert_eq!(page_ids, all_ids[2..5]);
    assert_eq!(stand.api_get("/history", &token).json()["items"].as_array().unwrap().len(), 7, "default limit 10");
    assert_eq!(stand.api_get("/history?offset=7", &token).json()["items"], json!([]));
    let contacts = stand.api_get("/contacts?offset=2&limit=1", &token).json();
    assert_eq!(
        (contacts["totalCount"].clone(), contacts["items"][0]["name"].clone()),
        (json!(3), json!("Alan Turing"))
    );
    let invalid = stand.api_get("/history?limit=many", &token);
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.json()["field"], "limit");
    assert_eq!(stand.api_get("/history?limit=5000", &token).json()["field"], "limit", "at most 1000");
    assert_eq!(stand.api_get("/history?types=LETTER", &token).json()["field"], "types[0]");
}
