//! `sipgate-oauth mcp`: the real binary as an MCP server on stdin/stdout, signed in at the stand-in,
//! driven line by line as an agent's client drives it.

use std::io::{BufRead, BufReader, Write};
use std::process::ChildStdin;
use std::sync::mpsc::{self, Receiver};

use serde_json::{Value, json};
use sipgate_oauth::mock::MockServer;

use crate::common::*;

/// A running `mcp` and the lines it writes on stdout.
struct Mcp {
    run: Running,
    stdin: Option<ChildStdin>,
    answers: Receiver<String>,
    next_id: u64,
}

impl Mcp {
    fn start(sandbox: &Sandbox, env: &[(&str, String)], args: &[&str]) -> Mcp {
        let mut run = sandbox.spawn_with_stdin(env, &[&["mcp"], args].concat());
        let stdin = run.child.stdin.take();
        let stdout = run.child.stdout.take().expect("stdout is piped");
        let (sender, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Mcp { run, stdin, answers, next_id: 0 }
    }

    fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.flush()).expect("the server reads stdin");
    }

    /// The next line on stdout, which must be one JSON message.
    fn answer(&mut self) -> Value {
        let line = self.answers.recv_timeout(PATIENCE).expect("an answer line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout carries only JSON messages ({e}): {line}"))
    }

    /// Sends a request and returns its answer, checking that it answers this request.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(&format!("{}\n", json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })));
        let answer = self.answer();
        assert_eq!(answer["id"], id, "answers come in order, one per request: {answer}");
        answer
    }

    /// The handshake of a 2025-11-25 client.
    fn initialize(&mut self) -> Value {
        let params = json!({ "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": { "name": "test", "version": "0" } });
        let answer = self.request("initialize", params);
        self.write("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n");
        answer
    }

    /// The names of the tools offered (every page).
    fn tool_names(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let page = self.request("tools/list", json!({ "cursor": cursor }));
            let tools = page["result"]["tools"].as_array().unwrap_or_else(|| panic!("{page}")).clone();
            names.extend(tools.iter().map(|tool| tool["name"].as_str().unwrap().to_owned()));
            match page["result"].get("nextCursor") {
                Some(next) => cursor = next.clone(),
                None => return names,
            }
        }
    }

    /// Calls a tool; the `CallToolResult`.
    fn call(&mut self, name: &str, arguments: Value) -> Value {
        let answer = self.request("tools/call", json!({ "name": name, "arguments": arguments }));
        answer.get("result").cloned().unwrap_or_else(|| panic!("a result, not a protocol error: {answer}"))
    }

    /// Closes stdin and waits for the exit.
    fn close(mut self) -> Finished {
        drop(self.stdin.take());
        let rest: Vec<String> = self.answers.try_iter().collect();
        let mut done = self.run.finish();
        done.stdout = rest.join("\n");
        done
    }
}

/// The text of a tool result's first content block.
fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("a text result: {result}"))
}

fn is_error(result: &Value) -> bool {
    result["isError"] == true
}

/// Signs in with `login` at `server` with `scope`, the test playing the browser; the environment used.
fn sign_in(sandbox: &Sandbox, server: &MockServer, scope: &str) -> Vec<(&'static str, String)> {
    let env = with(env_for(server), "OAUTH_SCOPE", scope);
    let mut run = sandbox.spawn(&env, &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    env
}

/// The kept profile file, as JSON.
fn kept(sandbox: &Sandbox) -> Value {
    let file = sandbox.store().join("profiles").join("default.json");
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[test]
fn malformed_lines_unknown_methods_and_notifications_get_what_json_rpc_says_and_the_server_goes_on() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read");
    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    let init = mcp.initialize();
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["capabilities"], json!({ "tools": { "listChanged": false } }));
    assert_eq!(init["result"]["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));

    mcp.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\n");
    let parse_error = mcp.answer();
    assert_eq!((parse_error["id"].clone(), parse_error["error"]["code"].clone()), (Value::Null, json!(-32700)));
    mcp.write("[]\n\n");
    assert_eq!(mcp.answer()["error"]["code"], -32600);

    // Notifications, known or not, are never answered: the next line answers the ping.
    mcp.write("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":9}}\n");
    mcp.write("{\"jsonrpc\":\"2.0\",\"method\":\"no/such/notification\"}\n");
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));

    let unknown = mcp.request("resources/list", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let bad = mcp.request("tools/call", json!({ "arguments": {} }));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    let no_tool = mcp.request("tools/call", json!({ "name": "launch_rocket" }));
    assert_eq!(
        (no_tool["error"]["code"].clone(), no_tool["error"]["message"].clone()),
        (json!(-32602), json!("unknown tool: launch_rocket"))
    );

    let account = mcp.call("get_account", json!({}));
    assert_eq!(account["structuredContent"]["mainProductType"], "BASIC", "{account}");
    let done = mcp.close();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert!(done.stderr.contains("mcp: tools/call get_account: ok"), "{}", done.stderr);
}

#[test]
fn both_eras_are_spoken_initialize_negotiates_and_modern_requests_carry_their_version() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read");
    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    let old = mcp.request("initialize", json!({ "protocolVersion": "2025-03-26", "capabilities": {} }));
    assert_eq!(old["result"]["protocolVersion"], "2025-03-26", "the client's revision if spoken");
    let future = mcp.request("initialize", json!({ "protocolVersion": "2099-01-01", "capabilities": {} }));
    assert_eq!(future["result"]["protocolVersion"], "2025-11-25", "else the newest of the handshake");
    assert_eq!(mcp.request("initialize", json!({}))["error"]["code"], -32602);

    let meta = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {} });
    let discover = mcp.request("server/discover", json!({ "_meta": meta }));
    assert_eq!(discover["result"]["supportedVersions"][0], "2026-07-28", "{discover}");
    assert_eq!(discover["result"]["resultType"], "complete");
    let list = mcp.request("tools/list", json!({ "_meta": meta }));
    assert_eq!(
        (list["result"]["resultType"].clone(), list["result"]["cacheScope"].clone()),
        (json!("complete"), json!("private"))
    );
    let call = mcp.request("tools/call", json!({ "_meta": meta, "name": "whoami" }));
    assert_eq!(call["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "sipgate-oauth");
    assert_eq!(mcp.request("ping", json!({ "_meta": meta }))["error"]["code"], -32601, "ping is gone in 2026-07-28");

    let unsupported = json!({ "io.modelcontextprotocol/protocolVersion": "1999-01-01",
        "io.modelcontextprotocol/clientCapabilities": {} });
    let refused = mcp.request("tools/list", json!({ "_meta": unsupported }));
    assert_eq!(refused["error"]["code"], -32022, "{refused}");
    assert_eq!(refused["error"]["data"]["requested"], "1999-01-01");
    assert_eq!(mcp.close().code(), Some(0));
}

#[test]
fn the_end_of_the_input_in_the_middle_of_a_message_ends_the_server_cleanly() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read");
    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    mcp.write("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"pi");
    let done = mcp.close();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    assert_eq!(done.stdout, "", "a fragment is not a message and gets no answer");
    assert!(done.stderr.contains("the input ended in the middle of a message"), "{}", done.stderr);
}

#[test]
fn only_the_operations_the_granted_scopes_allow_are_offered() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read history:read");
    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    mcp.initialize();
    let names = mcp.tool_names();
    // What the table says such a sign-in may read: GET operations needing no scope or one of these.
    let mut expected: Vec<String> = sipgate_oauth::operations::operations()
        .iter()
        .filter(|op| op.method == "GET")
        .filter(|op| op.scopes.is_empty() || op.scopes.iter().any(|s| s == "account:read" || s == "history:read"))
        .map(|op| {
            let mut name = String::new();
            for (i, c) in op.id.chars().enumerate() {
                let prev = op.id.chars().nth(i.wrapping_sub(1));
                if c.is_ascii_uppercase() && prev.is_some_and(|p| p.is_ascii_lowercase()) {
                    name.push('_');
                }
                name.push(c.to_ascii_lowercase());
            }
            name
        })
        .collect();
    expected.splice(0..0, ["whoami".to_owned(), "scopes".to_owned()]);
    assert_eq!(names, expected);
    for wanted in ["get_account", "get_history", "get_history_by_id", "userinfo"] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} in {names:?}");
    }

    let whoami = mcp.call("whoami", json!({}));
    assert_eq!(whoami["structuredContent"]["scopes"], json!(["account:read", "history:read"]), "{whoami}");
    assert_eq!(whoami["structuredContent"]["userId"], "w0");
    assert_eq!(whoami["structuredContent"]["account"]["mainProductType"], "BASIC");
    let history = mcp.call("get_history", json!({ "limit": 2, "types": ["CALL"] }));
    assert!(!is_error(&history), "{history}");
    let items = history["structuredContent"]["items"].as_array().unwrap();
    assert!(items.len() <= 2 && items.iter().all(|item| item["type"] == "CALL"), "{history}");

    let sms = mcp.call("get_sms_extensions", json!({}));
    assert!(is_error(&sms), "{sms}");
    assert!(
        text(&sms).contains("`OAUTH_SCOPE='account:read history:read sms:read' sipgate-oauth login --profile default`"),
        "{}",
        text(&sms)
    );
    let wrong = mcp.call("get_history", json!({ "limit": "ten" }));
    assert!(is_error(&wrong) && text(&wrong).starts_with("`limit` must be"), "{wrong}");

    let narrowed = Mcp::start(&sandbox, &env, &["--tools", "account"]).tool_names();
    assert_eq!(narrowed, ["whoami", "scopes", "get_account"]);
}

#[test]
fn writes_are_refused_unless_the_user_allowed_them() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "history:read sessions:sms:write");
    let sms = json!({ "body": { "smsId": "s0", "recipient": "+4915790000000", "message": "hi from an agent" } });

    let mut read_only = Mcp::start(&sandbox, &env, &[]);
    read_only.initialize();
    assert!(!read_only.tool_names().iter().any(|n| n == "send_web_sms"));
    let refused = read_only.call("send_web_sms", sms.clone());
    assert!(is_error(&refused), "{refused}");
    assert!(text(&refused).contains("--allow-writes"), "{}", text(&refused));
    let before = read_only.call("get_history", json!({ "types": ["SMS"], "directions": ["OUTGOING"] }));
    let count = |history: &Value| history["structuredContent"]["totalCount"].as_u64().unwrap();
    let sent_before = count(&before);
    read_only.close();

    let mut writer = Mcp::start(&sandbox, &env, &["--allow-writes"]);
    writer.initialize();
    let list = writer.request("tools/list", json!({}));
    let tool = list["result"]["tools"].as_array().unwrap().iter().find(|t| t["name"] == "send_web_sms").cloned();
    let tool = tool.expect("send_web_sms is offered with --allow-writes");
    assert_eq!(tool["annotations"]["readOnlyHint"], false);
    assert_eq!(tool["inputSchema"]["required"], json!(["body"]));
    let sent = writer.call("send_web_sms", sms);
    assert!(!is_error(&sent), "{sent}");
    let after = writer.call("get_history", json!({ "types": ["SMS"], "directions": ["OUTGOING"] }));
    assert_eq!(count(&after), sent_before + 1, "the SMS went out: {after}");
    assert_eq!(writer.close().code(), Some(0));
}

#[test]
fn a_403_from_sipgate_is_a_tool_error_naming_the_scope_and_the_login_command() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read");
    // The profile believes it has history:read; sipgate (here: the stand-in) knows better.
    let file = sandbox.store().join("profiles").join("default.json");
    let mut profile = kept(&sandbox);
    profile["scope"] = "account:read history:read".into();
    std::fs::write(&file, profile.to_string()).unwrap();

    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    mcp.initialize();
    let result = mcp.call("get_history", json!({}));
    assert!(is_error(&result), "{result}");
    let said = text(&result);
    assert!(said.starts_with("sipgate answered HTTP 403 to GET /history"), "{said}");
    assert!(said.contains("needs one of `history:read`, `all`"), "{said}");
    assert!(said.contains("sipgate-oauth login --profile default`"), "{said}");
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}), "the server goes on");
}

#[test]
fn a_token_expiring_between_calls_is_refreshed_once_for_twenty_calls() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read history:read");
    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    mcp.initialize();
    assert!(!is_error(&mcp.call("get_account", json!({}))));

    expire_kept_access_token(&sandbox.store());
    let before = kept(&sandbox)["refresh_token"].clone();
    let mut refresh_tokens = Vec::new();
    for call in 0..20 {
        let tool = if call % 2 == 0 { "get_account" } else { "get_history" };
        let result = mcp.call(tool, json!({}));
        assert!(!is_error(&result), "call {call}: {result}");
        refresh_tokens.push(kept(&sandbox)["refresh_token"].clone());
    }
    refresh_tokens.dedup();
    assert_eq!(refresh_tokens.len(), 1, "one refresh for twenty calls");
    assert_ne!(refresh_tokens[0], before, "the first call after the expiry refreshed");

    // Nothing the server said, on stdout or stderr, holds a token.
    let tokens = kept(&sandbox);
    let done = mcp.close();
    for name in ["access_token", "refresh_token"] {
        let token = tokens[name].as_str().unwrap();
        assert!(!done.stderr.contains(token) && !done.stdout.contains(token), "{name} leaked");
    }
    assert!(!done.stderr.contains("Bearer"), "{}", done.stderr);
}

#[test]
fn a_dead_sign_in_answers_sign_in_again_and_the_server_keeps_running() {
    let server = mock_with(|config| config.faults.refresh_invalid_grant = true);
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read");
    let mut mcp = Mcp::start(&sandbox, &env, &["--profile", "default"]);
    mcp.initialize();
    expire_kept_access_token(&sandbox.store());
    for tool in ["get_account", "whoami"] {
        let result = mcp.call(tool, json!({}));
        assert!(is_error(&result), "{result}");
        assert!(text(&result).ends_with("sign in again: `sipgate-oauth login --profile default`"), "{}", text(&result));
    }
    assert_eq!(mcp.request("ping", json!({}))["result"], json!({}));
    let done = mcp.close();
    assert_eq!(done.code(), Some(0));
    assert!(done.stderr.contains("the sign-in of profile default is dead"), "{}", done.stderr);
}

#[test]
fn a_long_tool_list_comes_in_pages_and_a_bad_cursor_is_invalid_params() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "all");
    let mut mcp = Mcp::start(&sandbox, &env, &["--allow-writes"]);
    mcp.initialize();
    let first = mcp.request("tools/list", json!({}));
    let cursor = first["result"]["nextCursor"].clone();
    assert!(cursor.is_string(), "more than one page: {}", first["result"]["tools"].as_array().unwrap().len());
    let names = mcp.tool_names();
    let operations = sipgate_oauth::operations::operations().iter().filter(|op| op.accepts("all")).count();
    assert_eq!(names.len(), operations + 2, "every operation `all` opens, whoami and scopes");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "no tool on two pages");
    assert_eq!(mcp.request("tools/list", json!({ "cursor": "page two" }))["error"]["code"], -32602);
}

#[test]
fn a_token_the_api_rejects_is_refreshed_once_and_the_call_answered() {
    let server = mock();
    let sandbox = Sandbox::new();
    let env = sign_in(&sandbox, &server, "account:read");
    // The kept access token looks valid for minutes, but sipgate no longer takes it: 401.
    let file = sandbox.store().join("profiles").join("default.json");
    let mut profile = kept(&sandbox);
    let before = profile["refresh_token"].clone();
    profile["access_token"] = "revoked-at-the-server".into();
    std::fs::write(&file, profile.to_string()).unwrap();
    let mut mcp = Mcp::start(&sandbox, &env, &[]);
    mcp.initialize();
    let account = mcp.call("get_account", json!({}));
    assert_eq!(account["structuredContent"]["mainProductType"], "BASIC", "{account}");
    assert_ne!(kept(&sandbox)["refresh_token"], before, "refreshed after the 401");
    assert_eq!(mcp.close().code(), Some(0));
}
