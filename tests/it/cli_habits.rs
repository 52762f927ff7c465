//! Command-line habits users bring from `gh` and `curl`: help per command with examples, "did you
//! mean" for a slip, completion scripts, `token --header`, the same JSON field names in `token --json`
//! and `status --json`, and `api` with `-H`, `--input`, `-f`/`-F`, `-i` and the body of a non-2xx
//! answer on stdout.

use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc::{self, Receiver};

use crate::common::*;
use sipgate_oauth::mock::MockServer;

/// Signs in with `login`, the test playing the browser.
fn login(sandbox: &Sandbox, server: &MockServer) {
    login_with(sandbox, &env_for(server));
}

/// Signs in with `login` and the configuration `env`.
fn login_with(sandbox: &Sandbox, env: &[(&'static str, String)]) {
    let mut run = sandbox.spawn(env, &["login", "--no-browser"]);
    let (status, page) = browse(&run.authorization_url());
    assert_eq!(status, 200, "{page}");
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
}

/// A request as an API that the test stands in for saw it.
#[derive(Debug)]
struct Seen {
    method: String,
    url: String,
    /// Header names lower-case, every value of a name in order.
    headers: HashMap<String, Vec<String>>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers.get(name).map(|values| values.iter().map(String::as_str).collect()).unwrap_or_default()
    }
}

/// An API on 127.0.0.1:0 that answers every request with `status`, an `X-Custom: yes` header and `body`,
/// and hands each request it saw to the test.
struct CaptureApi {
    url: String,
    seen: Receiver<Seen>,
    server: std::sync::Arc<tiny_http::Server>,
}

impl CaptureApi {
    fn start(status: u16, body: &'static str) -> CaptureApi {
        let server = std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a test server"));
        let url = format!("http://{}/v2", server.server_addr().to_ip().expect("an IP address"));
        let (sender, seen) = mpsc::channel();
        let serving = std::sync::Arc::clone(&server);
        std::thread::spawn(move || {
            for mut request in serving.incoming_requests() {
                let mut headers: HashMap<String, Vec<String>> = HashMap::new();
                for header in request.headers() {
                    let name = header.field.as_str().as_str().to_ascii_lowercase();
                    headers.entry(name).or_default().push(header.value.as_str().to_owned());
                }
                let mut received = Vec::new();
                let _ = request.as_reader().read_to_end(&mut received);
                let method = request.method().as_str().to_owned();
                let _ = sender.send(Seen { method, url: request.url().to_owned(), headers, body: received });
                let custom = tiny_http::Header::from_bytes("X-Custom", "yes").expect("a header");
                let json = tiny_http::Header::from_bytes("Content-Type", "application/json").expect("a header");
                let response = tiny_http::Response::from_data(body.as_bytes()).with_status_code(status);
                let _ = request.respond(response.with_header(custom).with_header(json));
            }
        });
        CaptureApi { url, seen, server }
    }

    /// The request the API saw.
    fn request(&self) -> Seen {
        self.seen.recv_timeout(PATIENCE).expect("the API got a request")
    }
}

impl Drop for CaptureApi {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The stand-in's configuration with `api` as the API base: tokens from the stand-in, calls to `api`.
fn env_with_api(server: &MockServer, api: &CaptureApi) -> Vec<(&'static str, String)> {
    with(env_for(server), "API_BASE_URL", &api.url)
}

#[test]
fn every_command_has_its_own_help_with_examples() {
    let sandbox = Sandbox::new();
    let general = sandbox.run(&[], &["--help"]);
    assert_eq!(general.code(), Some(0));
    assert_eq!(sandbox.run(&[], &["help"]).stdout, general.stdout, "`help` alone is the general help");
    for command in ["demo", "login", "token", "account", "api", "scopes", "status", "logout", "completions"] {
        let asked = sandbox.run(&[], &["help", command]);
        assert_eq!(asked.code(), Some(0), "{command}: {}", asked.stderr);
        assert!(asked.stdout.starts_with(&format!("sipgate-oauth {command} — ")), "{command}: {}", asked.stdout);
        let examples = asked.stdout.split("EXAMPLES:\n").nth(1).unwrap_or_else(|| panic!("{command}: no examples"));
        let shown = examples.lines().take_while(|line| line.starts_with("    ")).count();
        assert!((1..=5).contains(&shown), "{command}: {shown} examples");
        assert_ne!(asked.stdout, general.stdout);
        let flag = sandbox.run(&[], &[command, "--help"]);
        assert_eq!((flag.code(), &flag.stdout), (Some(0), &asked.stdout), "`{command} --help` = `help {command}`");
    }
    let api = sandbox.run(&[], &["api", "--help"]).stdout;
    for option in ["-H, --header", "--input FILE|-", "-f, --raw-field", "-i, --include"] {
        assert!(api.contains(option), "api --help lacks {option}");
    }
    let mock = sandbox.run(&[], &["help", "mock"]);
    assert_eq!(mock.stdout, sandbox.run(&[], &["mock", "--help"]).stdout, "mock keeps its own help");
}

#[test]
fn a_misspelt_command_or_option_gets_the_closest_one_and_exit_2() {
    let sandbox = Sandbox::new();
    for (args, hint) in [
        (&["lgoin"][..], "unknown command \"lgoin\" — did you mean `login`?"),
        (&["help", "stauts"], "unknown command \"stauts\" — did you mean `status`?"),
        (&["token", "--jsno"], "unknown option --jsno — did you mean --json?"),
        (&["api", "--inclde", "/account"], "unknown option --inclde — did you mean --include?"),
        (&["--profil", "work", "status"], "unknown option --profil — did you mean --profile?"),
        (
            &["mock", "--auto-aprove"],
            "unknown option --auto-aprove for `sipgate-oauth mock` — did you mean --auto-approve?",
        ),
        (
            &["mock", "call", "--from", "1", "--hangup-afte", "5"],
            "unknown option --hangup-afte for `sipgate-oauth mock call` — did you mean --hangup-after?",
        ),
    ] {
        let slip = sandbox.run(&[], args);
        assert_eq!(slip.code(), Some(2), "{args:?}: {}", slip.stderr);
        assert!(slip.stderr.starts_with(&format!("error: {hint}")), "{args:?}: {}", slip.stderr);
        assert!(slip.stdout.is_empty(), "{args:?}");
    }
    // Each slip points to the help of the command it was made in, and to no other.
    for (args, help) in [
        (&["mock", "--auto-aprove"][..], "see `sipgate-oauth mock --help`"),
        (&["mock", "call", "--bas", "x"], "see `sipgate-oauth mock call --help`"),
        (&["mock", "call", "--to", "2"], "see `sipgate-oauth mock call --help`"),
        (&["mock", "call", "--answer-after", "soon"], "see `sipgate-oauth mock call --help`"),
    ] {
        let slip = sandbox.run(&[], args);
        assert_eq!(slip.code(), Some(2), "{args:?}: {}", slip.stderr);
        assert_eq!(slip.stderr.matches(" — see ").count(), 1, "{args:?}: {}", slip.stderr);
        assert!(slip.stderr.trim_end().ends_with(help), "{args:?}: {}", slip.stderr);
    }
    let far = sandbox.run(&[], &["frobnicate"]);
    assert_eq!(far.code(), Some(2));
    assert!(!far.stderr.contains("did you mean"), "no guess for a word far from all: {}", far.stderr);
}

/// Completes `line` (the words typed so far, the last one being completed) with the bash script, in a
/// store that keeps the profiles `work` and `home`; returns the offered words.
#[cfg(unix)]
fn bash_complete(sandbox: &Sandbox, script: &std::path::Path, line: &[&str]) -> Vec<String> {
    let words = line.iter().map(|word| format!("'{word}'")).collect::<Vec<_>>().join(" ");
    let program = format!(
        "source '{}'; COMP_WORDS=({words}); COMP_CWORD={}; _sipgate_oauth; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        line.len() - 1
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(program)
        .env_clear()
        .env("SIPGATE_OAUTH_STORE", sandbox.store())
        .env("HOME", sandbox.dir.path())
        .output()
        .expect("bash runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut offered: Vec<String> =
        String::from_utf8_lossy(&output.stdout).lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    offered.sort();
    offered
}

#[test]
#[cfg(unix)] // bash
fn the_bash_completion_passes_bash_n_and_completes_commands_options_and_profiles() {
    let sandbox = Sandbox::new();
    let printed = sandbox.run(&[], &["completions", "bash"]);
    assert_eq!(printed.code(), Some(0), "{}", printed.stderr);
    let script = sandbox.dir.path().join("sipgate-oauth.bash");
    std::fs::write(&script, &printed.stdout).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&script).output().expect("bash runs");
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));

    std::fs::create_dir_all(sandbox.store().join("profiles")).unwrap();
    for name in ["work", "home"] {
        std::fs::write(sandbox.store().join("profiles").join(format!("{name}.json")), "{}").unwrap();
    }
    let complete = |line: &[&str]| bash_complete(&sandbox, &script, line);
    assert_eq!(complete(&["sipgate-oauth", "lo"]), ["login", "logout"]);
    assert_eq!(complete(&["sipgate-oauth", "--profile", ""]), ["home", "work"]);
    assert_eq!(complete(&["sipgate-oauth", "--profile", "=", "w"]), ["work"]);
    assert_eq!(complete(&["sipgate-oauth", "--profile", "home", "sta"]), ["status"]);
    assert_eq!(complete(&["sipgate-oauth", "api", "--pag"]), ["--paginate"]);
    assert_eq!(complete(&["sipgate-oauth", "token", "--h"]), ["--header", "--help"]);
    assert_eq!(complete(&["sipgate-oauth", "logout", "--a"]), ["--all"]);
    assert_eq!(complete(&["sipgate-oauth", "completions", "z"]), ["zsh"]);
    assert!(complete(&["sipgate-oauth", "api", "-H", ""]).is_empty(), "a header value is not guessed");
}

#[test]
#[ignore = "needs zsh and fish installed: cargo test --test it -- --ignored cli_habits::"]
fn the_zsh_and_fish_completions_pass_their_shells_syntax_check() {
    let sandbox = Sandbox::new();
    for (shell, check) in [("zsh", &["-n"][..]), ("fish", &["--no-execute"])] {
        let printed = sandbox.run(&[], &["completions", shell]);
        assert_eq!(printed.code(), Some(0), "{}", printed.stderr);
        let script = sandbox.dir.path().join(format!("completion.{shell}"));
        std::fs::write(&script, &printed.stdout).unwrap();
        let checked = std::process::Command::new(shell).args(check).arg(&script).output().expect("the shell runs");
        assert!(checked.status.success(), "{shell}: {}", String::from_utf8_lossy(&checked.stderr));
        assert!(printed.stdout.contains("profiles"), "{shell} completes profile names");
    }
}

#[test]
fn token_header_is_a_header_line_the_api_accepts() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let token = sandbox.run(&env_for(&server), &["token"]);
    let header = sandbox.run(&env_for(&server), &["token", "--header"]);
    assert_eq!(header.code(), Some(0), "{}", header.stderr);
    assert_eq!(header.stdout, format!("Authorization: Bearer {}", token.stdout), "one line, as curl -H @- reads");

    // What `curl -H @- URL` does with that line.
    let (name, value) = header.stdout.trim_end().split_once(": ").expect("Name: value");
    let account = format!("{}/v2/account", server.base_url());
    let answer = agent().get(&account).header(name, value).call().expect("the API answers");
    assert_eq!(answer.status(), 200);
}

#[test]
fn token_json_and_status_json_name_the_same_things_the_same() {
    let server = mock();
    let sandbox = Sandbox::new();
    login(&sandbox, &server);
    let token = sandbox.run(&env_for(&server), &["token", "--json"]).json_documents().remove(0);
    let status = sandbox.run(&env_for(&server), &["status", "--json"]).json_documents().remove(0);
    for field in ["access_expires_at", "scope", "profile"] {
        assert!(!token[field].is_null(), "token --json has {field}: {token}");
        assert_eq!(token[field], status[field], "{field}");
    }
    assert_eq!(status["profile"], "default");
    assert!(status.get("access_token").is_none(), "status shows no secret: {status}");
}

#[test]
fn api_sends_extra_headers_and_they_replace_defaults() {
    let server = mock();
    let sandbox = Sandbox::new();
    let api = CaptureApi::start(200, r#"{"ok":true}"#);
    login_with(&sandbox, &env_with_api(&server, &api));
    let done = sandbox.run(
        &env_with_api(&server, &api),
        &["api", "-H", "Accept: text/csv", "--header", "X-Trace: abc 1", "/history?limit=1"],
    );
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let seen = api.request();
    assert_eq!((seen.method.as_str(), seen.url.as_str()), ("GET", "/v2/history?limit=1"));
    assert_eq!(seen.header("accept"), ["text/csv"], "the given Accept replaces the default one");
    assert_eq!(seen.header("x-trace"), ["abc 1"]);
    assert!(seen.header("authorization")[0].starts_with("Bearer "), "the kept token is sent all the same");
    assert_eq!(done.json_documents(), [serde_json::json!({"ok": true})]);
}

#[test]
fn api_sends_a_file_or_stdin_as_it_is() {
    let server = mock();
    let sandbox = Sandbox::new();
    let api = CaptureApi::start(204, "");
    login_with(&sandbox, &env_with_api(&server, &api));
    let body = "{\"firstname\": \"Ada\",\n \"note\": \"ümlaut\"}\n";
    std::fs::write(sandbox.dir.path().join("contact.json"), body).unwrap();
    let done = sandbox.run(&env_with_api(&server, &api), &["api", "PUT", "/contacts/c1", "--input", "contact.json"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let seen = api.request();
    assert_eq!((seen.method.as_str(), seen.body.as_slice()), ("PUT", body.as_bytes()));
    assert_eq!(seen.header("content-type"), ["application/json"]);

    let mut run = sandbox.spawn_with_stdin(&env_with_api(&server, &api), &["api", "/contacts", "--input", "-"]);
    let mut stdin = run.child.stdin.take().expect("stdin is piped");
    stdin.write_all(body.as_bytes()).unwrap();
    drop(stdin);
    let done = run.finish();
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let seen = api.request();
    assert_eq!((seen.method.as_str(), seen.body.as_slice()), ("POST", body.as_bytes()), "a body makes POST");

    let missing = sandbox.run(&env_with_api(&server, &api), &["api", "/contacts", "--input", "nothing.json"]);
    assert_eq!(missing.code(), Some(2));
    assert!(missing.stderr.contains("--input nothing.json"), "{}", missing.stderr);
}

#[test]
fn api_fields_build_a_json_body() {
    let server = mock();
    let sandbox = Sandbox::new();
    let api = CaptureApi::start(200, "{}");
    login_with(&sandbox, &env_with_api(&server, &api));
    let args = ["api", "/sessions/sms", "-f", "smsId=s0", "-f", "message=a=b", "-F", "count=3", "-F", "flag=true"];
    let done = sandbox.run(&env_with_api(&server, &api), &args);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let seen = api.request();
    assert_eq!(seen.method, "POST");
    let body: serde_json::Value = serde_json::from_slice(&seen.body).expect("a JSON body");
    assert_eq!(body, serde_json::json!({"smsId": "s0", "message": "a=b", "count": 3, "flag": true}));

    // Against the stand-in, which checks the body against sipgate's schema.
    let sms = Sandbox::new();
    let env = with(env_for(&server), "OAUTH_SCOPE", "sessions:sms:write");
    login_with(&sms, &env);
    let sent = sms
        .run(&env, &["api", "/sessions/sms", "-f", "smsId=s0", "-f", "recipient=+4915790000000", "-f", "message=hi"]);
    assert_eq!(sent.code(), Some(0), "{}", sent.stderr);
}

#[test]
fn api_include_prints_the_status_line_and_headers_first() {
    let server = mock();
    let sandbox = Sandbox::new();
    let api = CaptureApi::start(200, r#"{"a":1}"#);
    login_with(&sandbox, &env_with_api(&server, &api));
    let done = sandbox.run(&env_with_api(&server, &api), &["api", "-i", "/account"]);
    assert_eq!(done.code(), Some(0), "{}", done.stderr);
    let (head, body) = done.stdout.split_once("\n\n").expect("a blank line after the headers");
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    let headers: Vec<&str> = lines.collect();
    assert!(headers.contains(&"x-custom: yes"), "{headers:?}");
    assert!(headers.contains(&"content-type: application/json"), "{headers:?}");
    assert_eq!(body, "{\n  \"a\": 1\n}\n");
}

#[test]
fn a_non_2xx_answer_exits_1_with_its_body_on_stdout() {
    let server = mock();
    let sandbox = Sandbox::new();
    let api = CaptureApi::start(409, r#"{"message":"already there"}"#);
    login_with(&sandbox, &env_with_api(&server, &api));
    let done = sandbox.run(&env_with_api(&server, &api), &["api", "/contacts", "-f", "name=Ada"]);
    assert_eq!(done.code(), Some(1), "{}", done.stderr);
    assert_eq!(done.json_documents(), [serde_json::json!({"message": "already there"})]);
    assert!(done.stderr.contains("failed with HTTP 409"), "{}", done.stderr);

    let included = sandbox.run(&env_with_api(&server, &api), &["api", "-i", "/contacts"]);
    assert_eq!(included.code(), Some(1));
    assert!(included.stdout.starts_with("HTTP/1.1 409 Conflict\n"), "{}", included.stdout);

    // The stand-in's 404 for a path sipgate does not have.
    let missing = sandbox.run(&env_for(&server), &["api", "/no/such/thing"]);
    assert_eq!(missing.code(), Some(1));
    assert!(!missing.stdout.is_empty(), "the 404's body is on stdout");
}
