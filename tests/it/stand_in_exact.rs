//! The stand-in exact to sipgate's description (issue 22), one test per defect a property-based tester
//! found: optional bodies were required, schema keywords beyond `type`/`required`/`enum` were ignored
//! on requests, the history export answered JSON, and `all` opened sipgate's `internal` operations.

use serde_json::{Value, json};
use sipgate_oauth::operations;

use crate::common::stand::{self, Stand};
use crate::whole_api::target;

fn start() -> Stand {
    stand::start(stand::auto())
}

#[test]
fn optional_bodies_may_be_left_out_and_a_sent_one_is_checked() {
    let stand = start();
    let token = stand.token("all");
    let mut left_out = 0;
    for op in operations::operations().iter().filter(|op| op.body.is_some() && !op.body_required) {
        let answer = stand.call(&op.method, &target(op), Some(&token), None);
        assert_eq!(answer.status, op.success().0, "{} {} without a body: {}", op.method, op.path, answer.body);
        // The documented success, with its body where it has one.
        assert_eq!(answer.body.is_empty(), op.success().1.is_none(), "{} {}: {}", op.method, op.path, answer.body);
        left_out += 1;
    }
    assert_eq!(left_out, 78, "sipgate's description marks 78 bodies `required: false`");
    // Nothing sent, nothing changed: no SMS appears in the history.
    assert_eq!(stand.call("POST", "/sessions/sms", Some(&token), None).status, 204);
    let history = stand.api_get("/history?types=SMS", &token).json();
    assert_eq!(history["totalCount"], 0, "{history}");
    // A body that is sent is checked, even a line break alone.
    let url = format!("{}/v2/history/1/note", stand.server.base_url());
    let request = stand.agent.put(&url).header("Authorization", format!("Bearer {token}"));
    assert_eq!(stand::read(request.header("Content-Type", "application/json").send("\n")).status, 400);
    let answer = stand.call("PUT", "/history/1/note", Some(&token), Some(&json!({"note": 5})));
    assert_eq!((answer.status, answer.json()["field"].clone()), (400, json!("note")), "{}", answer.body);
    let answer = stand.call("PUT", "/history/1/note", Some(&token), Some(&json!({})));
    assert_eq!(answer.json()["error_description"], "`note` is missing");
}

#[test]
fn request_schemas_are_held_to_every_keyword() {
    let stand = start();
    let token = stand.token("all");
    let put = |forwardings: usize| {
        let forwarding = json!({"destination": "+4921100000001", "timeout": 20, "active": true});
        let body = json!({"forwardings": vec![forwarding; forwardings]});
        stand.call("PUT", "/w0/phonelines/p0/forwardings", Some(&token), Some(&body))
    };
    assert!((200..300).contains(&put(3).status), "maxItems is 3");
    let answer = put(4);
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["field"], "forwardings[3]");
    let block = |number: &str| {
        let body = json!({"phoneNumber": number, "isBlock": true});
        stand.call("POST", "/blacklist/incoming", Some(&token), Some(&body))
    };
    assert!((200..300).contains(&block("+4902117654321").status));
    for number in ["", "+0211", "0211 765", "+12345678901234567"] {
        let answer = block(number);
        assert_eq!((answer.status, answer.json()["field"].clone()), (400, json!("phoneNumber")), "{number:?}");
        assert!(!answer.body.contains(number) || number.is_empty(), "the value is not echoed: {}", answer.body);
    }
    // Query parameters too: `maximum` and the items of a list.
    let field = |target: &str| stand.api_get(target, &token).json()["field"].clone();
    assert_eq!(field("/history?limit=1001"), json!("limit"));
    assert_eq!(field("/history?types=SMS&types=LETTER"), json!("types[1]"));
    assert_eq!(stand.api_get("/history?limit=1000&types=SMS", &token).status, 200);
}

#[test]
fn the_history_export_is_a_csv_file_of_the_same_history() {
    let stand = start();
    let token = stand.token("all");
    let sms = json!({"smsId": "s0", "recipient": "+4915799912345", "message": "hi"});
    assert_eq!(stand.call("POST", "/sessions/sms", Some(&token), Some(&sms)).status, 204);
    let answer = stand.api_get("/history/export", &token);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), "application/octet-stream");
    assert!(answer.header("content-disposition").starts_with("attachment"), "{:?}", answer.headers);
    let rows: Vec<&str> = answer.body.split_terminator("\r\n").collect();
    assert!(rows[0].starts_with("id,created,lastModified,type,direction,"), "{}", rows[0]);
    let json: Value = stand.api_get("/history", &token).json();
    assert_eq!(rows.len() - 1, json["items"].as_array().unwrap().len(), "one row per entry of the same page");
    let first = &json["items"][0];
    let expected = format!("{},{},", first["id"].as_str().unwrap(), first["created"].as_str().unwrap());
    assert!(rows[1].starts_with(&expected) && rows[1].contains(",SMS,OUTGOING,"), "{}", rows[1]);
    assert!(rows[1].contains(",+4915799912345,"), "{}", rows[1]);
    // The same filters and pages as the list.
    let only = stand.api_get("/history/export?types=FAX&limit=5", &token);
    let rows: Vec<&str> = only.body.split_terminator("\r\n").skip(1).collect();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].contains(",FAX,"), "{}", rows[0]);
}

#[test]
fn all_does_not_open_internal_operations() {
    let stand = start();
    let all = stand.token("all");
    let internal = stand.token("internal");
    let only_internal: Vec<_> = operations::operations().iter().filter(|op| op.scopes == ["internal"]).collect();
    let named: Vec<String> = only_internal.iter().map(|op| format!("{} {}", op.method, op.path)).collect();
    assert_eq!(
        named,
        [
            "GET /restrictions",
            "GET /app/events",
            "DELETE /app/events/{id}",
            "GET /app/tacs",
            "GET /app/users",
            "GET /identityVerification"
        ]
    );
    for op in only_internal {
        let answer = stand.call(&op.method, &target(op), Some(&all), None);
        assert_eq!(answer.status, 403, "{} {}", op.method, op.path);
        let challenge = answer.header("www-authenticate");
        assert!(challenge.contains("error=\"insufficient_scope\", scope=\"internal\""), "{challenge}");
        let answer = stand.call(&op.method, &target(op), Some(&internal), None);
        assert_eq!(answer.status, op.success().0, "{} {} with `internal`", op.method, op.path);
    }
    // Listed with `all` too, so `all` opens it.
    assert_eq!(stand.api_get("/app/properties", &all).status, 200);
}
