//! The benchmark: the release binary against the in-repo sipgate stand-in on 127.0.0.1, next to the floor
//! (`curl` making the same HTTP exchanges in one process), printed as a Markdown table.
//!
//! Run it with `cargo bench --bench flow` (about a minute plus a clean release build), or
//! `cargo bench --bench flow -- --quick` (a few iterations, no clean build: checks that it still works).
//! `-- --no-build` runs the full measurements without the clean build (to compare two versions).
//! It prints numbers and the targets next to them; it asserts no timing. It panics only when something
//! is broken (a flow that fails, an answer that is wrong), because then the numbers would mean nothing.
//! Without `curl` there is no floor, without `/usr/bin/time` no RSS, without `wrk` no cross-check: those
//! lines say so or are left out.
//!
//! What is measured (docs/performance.md explains each line):
//! - start → authorization URL: spawn of the binary until its stderr line with the URL is read;
//! - callback → exit: the test-browser sends the callback GET; until the process has exited. The floor is
//!   `curl` doing token exchange, account, refresh, account with `--next` (one process, one connection);
//! - TCP connections the binary opened to the stand-in per flow (a fresh stand-in per flow);
//! - `token` with a valid stored token and `token` that must refresh (spawn → exit), the first next to a
//!   Rust hello world built with the same `[profile.release]` (its floor), in alternating pairs;
//! - peak RSS through `/usr/bin/time -f %M` (Debian package `time`), if present;
//! - the release binary's size, stripped (over its cap of 4 MB the run exits 1 after its table: CI's size check), and
//!   a clean release build into a fresh target directory;
//! - the stand-in's throughput on `/v2/account` and on the token endpoint, every answer checked;
//! - `proxy`: latency and requests per second through it, next to the stand-in direct (flow/proxy.rs).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The integration tests' helpers: the same sandbox, stand-in and browser as `cargo test` uses.
#[path = "../tests/it/common/mod.rs"]
mod common;
/// The hello-world floor of `token` and the size cap.
#[path = "flow/floor.rs"]
mod floor;
/// The proxy's rows: its added latency and requests per second, next to the stand-in direct.
#[path = "flow/proxy.rs"]
mod proxy;

use serde_json::Value;
use sipgate_oauth::internals::Pkce;
use sipgate_oauth::internals::query;
use sipgate_oauth::mock::{MockClient, MockConfig, MockServer};

/// The binary under test: `cargo bench` builds it with the `bench` profile, which is `release`.
const BIN: &str = env!("CARGO_BIN_EXE_sipgate-oauth");

/// `getrusage`-style peak RSS of a child, from the `time` package.
const GNU_TIME: &str = "/usr/bin/time";

/// The redirect URI the benchmark's own authorization requests use (any port matches for 127.0.0.1).
const BENCH_REDIRECT: &str = "http://127.0.0.1:9/oauth";

/// How much to do: `--quick` or the full run.
struct Plan {
    quick: bool,
    flows: usize,
    token_runs: usize,
    rss_runs: usize,
    throughput: Duration,
    clean_build: bool,
}

impl Plan {
    fn from_args() -> Plan {
        // `cargo bench` adds `--bench`; anything else after `--` is ours.
        let flag = |name: &str| std::env::args().skip(1).any(|arg| arg == name);
        let quick = flag("--quick");
        if quick {
            Plan {
                quick,
                flows: 3,
                token_runs: 3,
                rss_runs: 1,
                throughput: Duration::from_millis(500),
                clean_build: false,
            }
        } else {
            Plan {
                quick,
                flows: 30,
                token_runs: 30,
                rss_runs: 5,
                throughput: Duration::from_secs(5),
                clean_build: !flag("--no-build"),
            }
        }
    }
}

fn main() {
    let plan = Plan::from_args();
    let load_before = load_average();
    let mut table = Table::default();

    eprintln!("flows: the binary and the curl floor, alternating, {} each…", plan.flows);
    let curl = Command::new("curl").arg("--version").output().is_ok_and(|output| output.status.success());
    let flows = measure_flows(&plan, curl);
    table.row(
        format!("start → authorization URL printed (median of {})", plan.flows),
        flows.to_url.summary(),
        "≤ 3 ms",
        Some(flows.to_url.median() <= Duration::from_millis(3)),
    );
    table.row(
        format!("callback → exit, full flow (median of {})", plan.flows),
        flows.callback_to_exit.summary(),
        "",
        None,
    );
    if curl {
        table.row(
            "floor: curl, same 4 exchanges, one process, spawn → exit (median)".into(),
            flows.floor.summary(),
            "",
            None,
        );
        table.row(
            "  of which curl's 4 transfers (sum of its time_total, median)".into(),
            flows.floor_transfers.summary(),
            "",
            None,
        );
        let ratio = flows.callback_to_exit.median().as_secs_f64() / flows.floor.median().as_secs_f64();
        table.row("callback → exit ÷ floor".into(), format!("{ratio:.2} ×"), "≤ 1.2 ×", Some(ratio <= 1.2));
        let transfers = flows.callback_to_exit.median().as_secs_f64() / flows.floor_transfers.median().as_secs_f64();
        table.row("callback → exit ÷ curl's transfers alone".into(), format!("{transfers:.2} ×"), "", None);
    } else {
        table.row("floor".into(), "n/a: `curl` is not installed".into(), "", None);
    }
    let curl_connections = if curl { flows.floor_connections_max.to_string() } else { "n/a".into() };
    table.row(
        "TCP connections to the stand-in per flow (max over flows)".into(),
        format!("{} (curl: {curl_connections})", flows.connections_max),
        "1",
        Some(flows.connections_max == 1),
    );

    eprintln!("token runs…");
    let tokens = measure_tokens(&plan);
    table.row(
        format!("`token`, valid stored token (median of {})", plan.token_runs),
        tokens.valid.summary(),
        "≤ 2 ms",
        Some(tokens.valid.median() <= Duration::from_millis(2)),
    );
    match &tokens.floor {
        Ok(floor) => {
            table.row(
                format!(
                    "floor: Rust hello world, same profile, spawn → exit (median of {}, alternating)",
                    plan.token_runs
                ),
                floor.summary(),
                "",
                None,
            );
            let ratio = tokens.valid.median().as_secs_f64() / floor.median().as_secs_f64();
            let target = floor::FLOOR_RATIO_TARGET;
            table.row(
                "`token`, valid ÷ hello-world floor".into(),
                format!("{ratio:.2} ×"),
                &format!("≤ {target} ×"),
                Some(ratio <= target),
            );
        }
        Err(why) => table.row("floor: Rust hello world".into(), format!("n/a: {why}"), "", None),
    }
    table.row(
        format!("`token` that must refresh (median of {})", plan.token_runs),
        tokens.refreshing.summary(),
        "",
        None,
    );

    eprintln!("peak RSS…");
    match measure_rss(&plan) {
        Some((flow, token)) => {
            table.row("peak RSS, full flow (max of runs)".into(), kib(flow), "≤ 6 MiB", Some(flow <= 6 * 1024));
            table.row("peak RSS, `token` with a valid token".into(), kib(token), "≤ 6 MiB", Some(token <= 6 * 1024));
        }
        None => table.row("peak RSS".into(), format!("n/a: {GNU_TIME} missing (package `time`)"), "≤ 6 MiB", None),
    }

    let (size, stripped) = binary_size();
    let stripped_text = stripped.map_or_else(|| "n/a (no `strip`)".to_owned(), |s| format!("{:.2} MB", mb(s)));
    table.row(
        "release binary, stripped (as built)".into(),
        format!("{stripped_text} ({:.2} MB)", mb(size)),
        "≤ 4 MB",
        Some(stripped.unwrap_or(size) <= floor::SIZE_CAP),
    );

    if plan.clean_build {
        eprintln!("clean release build…");
        let took = clean_build();
        table.row(
            "clean release build, fresh target dir".into(),
            format!("{:.1} s", took.as_secs_f64()),
            "≤ 40 s",
            Some(took <= Duration::from_secs(40)),
        );
    } else {
        table.row("clean release build".into(), "skipped".into(), "≤ 40 s", None);
    }

    eprintln!("stand-in throughput…");
    let account = throughput(plan.throughput, Endpoint::Account);
    table.row(
        format!("stand-in GET /v2/account, {CLIENT_THREADS} keep-alive clients"),
        account.to_string(),
        "≥ 10,000/s",
        Some(account.per_second() >= 10_000.0 && account.bad == 0),
    );
    let token = throughput(plan.throughput, Endpoint::Refresh);
    table.row(
        format!("stand-in POST token (refresh grant), {CLIENT_THREADS} keep-alive clients"),
        token.to_string(),
        "",
        None,
    );

    eprintln!("side by side with oauth2-mock-server…");
    side_by_side(&plan, &mut table);

    eprintln!("the proxy: direct vs proxied…");
    proxy::rows(&plan, &mut table);

    println!(
        "sipgate-oauth benchmark{} — {}, {} cores, {}, load average {} → {}\n",
        if plan.quick { " (--quick)" } else { "" },
        utc_now(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model(),
        load_before,
        load_average()
    );
    table.print();
    // The one thing the benchmark fails on besides broken answers: bytes are not timing, and CI runs it.
    if stripped.unwrap_or(size) > floor::SIZE_CAP {
        let (bytes, cap) = (stripped.unwrap_or(size), floor::SIZE_CAP);
        eprintln!("the stripped release binary is {bytes} bytes, over the cap of {cap} bytes (4 MB)");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------------
// Flows

/// Timings of many runs.
#[derive(Default)]
struct Samples(Vec<Duration>);

impl Samples {
    fn push(&mut self, sample: Duration) {
        self.0.push(sample);
    }

    fn sorted(&self) -> Vec<Duration> {
        let mut sorted = self.0.clone();
        sorted.sort();
        sorted
    }

    fn median(&self) -> Duration {
        let sorted = self.sorted();
        match sorted.len() {
            0 => Duration::ZERO,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
        }
    }

    /// `1.23 ms (1.10–2.34)`: median, then min–max.
    fn summary(&self) -> String {
        let sorted = self.sorted();
        let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else { return "no samples".into() };
        format!("{} ({}–{})", ms(self.median()), ms_bare(*min), ms_bare(*max))
    }
}

/// What the flows of the binary and the floor runs measured.
struct Flows {
    to_url: Samples,
    callback_to_exit: Samples,
    floor: Samples,
    floor_transfers: Samples,
    connections_max: u64,
    floor_connections_max: u64,
}

/// Runs the binary's flow and (if `curl` is there) the curl floor alternately, each against a fresh
/// stand-in.
fn measure_flows(plan: &Plan, curl: bool) -> Flows {
    let mut flows = Flows {
        to_url: Samples::default(),
        callback_to_exit: Samples::default(),
        floor: Samples::default(),
        floor_transfers: Samples::default(),
        connections_max: 0,
        floor_connections_max: 0,
    };
    // One unmeasured round first: page cache, lazily mapped libraries, curl's first start.
    let _ = flow_once(&stand_in(), None);
    if curl {
        let _ = floor_once(&stand_in());
    }
    for _ in 0..plan.flows {
        let server = stand_in();
        let run = flow_once(&server, None);
        flows.to_url.push(run.to_url);
        flows.callback_to_exit.push(run.callback_to_exit);
        flows.connections_max = flows.connections_max.max(run.connections);
        if !curl {
            continue;
        }

        let server = stand_in();
        let (took, connections, transfers) = floor_once(&server);
        flows.floor.push(took);
        flows.floor_transfers.push(transfers);
        flows.floor_connections_max = flows.floor_connections_max.max(connections);
    }
    flows
}

/// A stand-in with the demo client that approves at once (the tests' own).
fn stand_in() -> MockServer {
    common::mock()
}

/// A run's sandbox (the tests' own: a temp directory as working directory and token store) and the
/// stand-in's `.env` for the demo client.
struct Sandbox {
    sandbox: common::Sandbox,
    env: Vec<(&'static str, String)>,
}

impl Sandbox {
    fn new(server: &MockServer) -> Sandbox {
        Sandbox { sandbox: common::Sandbox::new(), env: common::env_for(server) }
    }

    /// Makes the kept access token look expired (as if its time had passed): the next `token` refreshes.
    fn expire_access_token(&self) {
        common::expire_kept_access_token(&self.sandbox.store());
    }

    /// The binary with `args` and only this sandbox's configuration, as the tests run it; wrapped in
    /// `/usr/bin/time` when `rss_file` is given.
    fn command(&self, args: &[&str], rss_file: Option<&Path>) -> Command {
        let command = self.sandbox.command(&self.env, args);
        let Some(file) = rss_file else { return command };
        let mut timed = Command::new(GNU_TIME);
        timed.args(["-f", "%M", "-o"]).arg(file).arg(command.get_program()).args(command.get_args());
        timed.env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                timed.env(key, value);
            }
        }
        if let Some(dir) = command.get_current_dir() {
            timed.current_dir(dir);
        }
        timed
    }
}

/// One flow of the binary.
struct FlowRun {
    to_url: Duration,
    callback_to_exit: Duration,
    /// TCP connections the binary opened to the stand-in.
    connections: u64,
    sandbox: Sandbox,
}

/// One full flow of the binary (no command): sign in, account, refresh, account, keep the tokens.
fn flow_once(server: &MockServer, rss_file: Option<&Path>) -> FlowRun {
    let sandbox = Sandbox::new(server);
    let started = Instant::now();
    let mut child = sandbox.command(&["--no-browser"], rss_file).spawn().expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let url = read_url(&mut stderr, &mut child);
    let to_url = started.elapsed();

    // The browser: the stand-in answers the authorization request with a redirect to the callback.
    let browser = agent();
    let location = redirect_of(&browser, &url);
    let callback_sent = Instant::now();
    let mut page = browser.get(&location).call().expect("the callback server answers");
    let _ = page.body_mut().read_to_string();
    let status = child.wait().expect("the binary exits");
    let callback_to_exit = callback_sent.elapsed();

    let mut stdout = String::new();
    child.stdout.take().expect("stdout is piped").read_to_string(&mut stdout).expect("stdout is readable");
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    assert!(status.success() && page.status() == 200, "the flow failed ({status}):\n{rest}");
    let documents = serde_json::Deserializer::from_str(&stdout).into_iter::<Value>().count();
    assert_eq!(documents, 2, "the flow prints the account twice:\n{stdout}");
    // The browser's own request to /auth came on a connection of its own.
    let connections = server.connections().saturating_sub(1);
    FlowRun { to_url, callback_to_exit, connections, sandbox }
}

/// Reads stderr until the authorization URL; panics with what was said if the binary exits first.
fn read_url(stderr: &mut impl BufRead, child: &mut Child) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.kill();
            panic!("the binary printed no authorization URL:\n{seen}");
        }
        if line.starts_with("http://") || line.starts_with("https://") {
            return line.trim_end().to_owned();
        }
        seen.push_str(&line);
    }
}

/// An HTTP client that does not follow redirects and reads error bodies: the tests' browser.
fn agent() -> ureq::Agent {
    common::agent()
}

/// GETs `url` and returns its `Location` (the stand-in redirects at once with auto-approve).
fn redirect_of(agent: &ureq::Agent, url: &str) -> String {
    let mut response = agent.get(url).call().expect("the stand-in answers");
    let _ = response.body_mut().read_to_vec();
    assert_eq!(response.status(), 302, "the stand-in redirects with a code");
    let location = response.headers().get("location").and_then(|v| v.to_str().ok());
    location.expect("a Location header").to_owned()
}

/// Values of the stand-in's `.env` for the demo client.
fn env_value(server: &MockServer, key: &str) -> String {
    let env = server.env("third-party", &MockClient::demo());
    env.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).expect("the stand-in names it")
}

/// A code for the benchmark's own client side, with the PKCE pair it was bound to.
fn authorize(server: &MockServer, agent: &ureq::Agent) -> (String, Pkce) {
    let pkce = Pkce::generate();
    let params = [
        ("response_type", "code"),
        ("client_id", "sipgate-oauth-demo"),
        ("redirect_uri", BENCH_REDIRECT),
        ("scope", "account:read"),
        ("state", "bench"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let url = format!("{}?{}", env_value(server, "AUTH_URL"), query::encode(params));
    let location = redirect_of(agent, &url);
    let query = location.split_once('?').map_or("", |(_, q)| q);
    let pairs = query::decode(query).expect("a well-formed callback");
    let code = pairs.into_iter().find(|(k, _)| k == "code").map(|(_, v)| v).expect("a code in the callback");
    (code, pkce)
}

/// The form of an authorization-code exchange (client_secret_post, as the binary sends it).
fn code_form(code: &str, pkce: &Pkce) -> String {
    let secret = MockClient::demo().secret;
    query::encode([
        ("client_id", "sipgate-oauth-demo"),
        ("client_secret", secret.as_str()),
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", BENCH_REDIRECT),
        ("code_verifier", pkce.verifier.secret()),
    ])
}

/// The form of a refresh.
fn refresh_form(refresh_token: &str) -> String {
    let secret = MockClient::demo().secret;
    query::encode([
        ("client_id", "sipgate-oauth-demo"),
        ("client_secret", secret.as_str()),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ])
}

/// Access and refresh token of a fresh sign-in at `server`.
fn sign_in(server: &MockServer) -> (String, String) {
    let agent = agent();
    let (code, pkce) = authorize(server, &agent);
    let mut response = agent
        .post(&env_value(server, "TOKEN_URL"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(code_form(&code, &pkce))
        .expect("the token endpoint answers");
    let text = response.body_mut().read_to_string().expect("a token answer");
    let body: Value = serde_json::from_str(&text).expect("a JSON token answer");
    let field = |name: &str| body[name].as_str().expect("a token in the answer").to_owned();
    (field("access_token"), field("refresh_token"))
}

/// The floor: `curl` makes the binary's four exchanges (code exchange, account, refresh, account) in one
/// process; returns its spawn → exit time, the connections it opened and the sum of curl's own
/// `time_total` of the four transfers (the exchanges alone, without curl's start and exit).
///
/// curl cannot carry a token from one answer into the next request, so the account calls and the
/// refresh use tokens of two earlier sign-ins (the refresh kills only its own session's access token).
fn floor_once(server: &MockServer) -> (Duration, u64, Duration) {
    let (access, _) = sign_in(server);
    let (_, refresh) = sign_in(server);
    let (code, pkce) = authorize(server, &agent());
    let (token_url, account_url) = (env_value(server, "TOKEN_URL"), env_value(server, "TEST_API_ENDPOINT"));
    let bearer = format!("Authorization: Bearer {access}");
    let common = [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{num_connects} %{time_total}\\n",
        "-H",
        "Accept: application/json",
    ];
    let post = |form: String| {
        let mut args: Vec<String> = common.iter().map(|s| s.to_string()).collect();
        args.extend(["-H".into(), "Expect:".into(), "--data-raw".into(), form, token_url.clone()]);
        args
    };
    let get = || {
        let mut args: Vec<String> = common.iter().map(|s| s.to_string()).collect();
        args.extend(["-H".into(), bearer.clone(), account_url.clone()]);
        args
    };
    let next = vec!["--next".to_owned()];
    let args =
        [post(code_form(&code, &pkce)), next.clone(), get(), next.clone(), post(refresh_form(&refresh)), next, get()]
            .concat();

    let started = Instant::now();
    let output = Command::new("curl").args(&args).stdin(Stdio::null()).output().expect("curl runs");
    let took = started.elapsed();
    let report = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = report.lines().collect();
    assert!(
        output.status.success() && lines.len() == 4 && lines.iter().all(|line| line.starts_with("200 ")),
        "curl's exchanges failed: {report} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |n: usize| lines.iter().filter_map(move |line| line.split(' ').nth(n));
    let connections = field(1).filter_map(|n| n.parse::<u64>().ok()).sum();
    let transfers = field(2).filter_map(|s| s.parse::<f64>().ok()).map(Duration::from_secs_f64).sum();
    (took, connections, transfers)
}

// ---------------------------------------------------------------------------------------------------
// `token`

/// Timings of `sipgate-oauth token`.
struct Tokens {
    valid: Samples,
    /// The hello world, run alternately with `token` (`Err`: why it could not be built).
    floor: Result<Samples, String>,
    refreshing: Samples,
}

/// `token` with a kept, valid token; then with one that must be refreshed on every run.
fn measure_tokens(plan: &Plan) -> Tokens {
    let server = stand_in();
    let signed_in = flow_once(&server, None).sandbox;
    let _ = token_once(&signed_in, None);
    let hello = floor::Hello::build();
    let mut valid = Samples::default();
    let mut floor = Samples::default();
    for run in 0..plan.token_runs {
        // Alternating pairs, each order half the time: a busy moment costs both sides alike.
        match &hello {
            Ok(hello) if run % 2 == 0 => {
                floor.push(hello.run());
                valid.push(token_once(&signed_in, None));
            }
            Ok(hello) => {
                valid.push(token_once(&signed_in, None));
                floor.push(hello.run());
            }
            Err(_) => valid.push(token_once(&signed_in, None)),
        }
    }
    let floor = hello.map(|_| floor);

    // The kept access token made to look expired before each run: every `token` refreshes (and keeps).
    let before = server.requests();
    let mut refreshing = Samples::default();
    for _ in 0..plan.token_runs {
        signed_in.expire_access_token();
        refreshing.push(token_once(&signed_in, None));
    }
    let refreshes = server.requests() - before;
    assert_eq!(refreshes, plan.token_runs as u64, "every `token` refreshed, with one request");
    Tokens { valid, floor, refreshing }
}

/// `sipgate-oauth token`, spawn → exit; checks it printed a token.
fn token_once(sandbox: &Sandbox, rss_file: Option<&Path>) -> Duration {
    let started = Instant::now();
    let output = sandbox.command(&["token"], rss_file).output().expect("the binary runs");
    let took = started.elapsed();
    assert!(
        output.status.success() && output.stdout.len() > 20,
        "`token` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    took
}

// ---------------------------------------------------------------------------------------------------
// Peak RSS, size, build

/// Peak RSS in KiB of a full flow (max over runs) and of `token` with a valid token.
fn measure_rss(plan: &Plan) -> Option<(u64, u64)> {
    if !Path::new(GNU_TIME).exists() {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("rss");
    let read = |file: &Path| -> u64 {
        let text = std::fs::read_to_string(file).expect("time wrote its report");
        text.lines().last().and_then(|line| line.trim().parse().ok()).expect("a number of KiB")
    };
    let mut flow = 0;
    let mut token = 0;
    for _ in 0..plan.rss_runs {
        let server = stand_in();
        let run = flow_once(&server, Some(&file));
        flow = read(&file).max(flow);
        token_once(&run.sandbox, Some(&file));
        token = read(&file).max(token);
    }
    Some((flow, token))
}

/// The binary's size as built and stripped (`strip` on a copy), in bytes.
fn binary_size() -> (u64, Option<u64>) {
    let size = std::fs::metadata(BIN).expect("the binary exists").len();
    let dir = tempfile::tempdir().expect("a temp dir");
    let copy = dir.path().join("stripped");
    let stripped = Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(BIN)
        .status()
        .ok()
        .filter(|status| status.success())
        .and_then(|_| std::fs::metadata(&copy).ok())
        .map(|meta| meta.len());
    (size, stripped)
}

/// `cargo build --release` of this package and all its dependencies into a fresh target directory.
fn clean_build() -> Duration {
    let target = tempfile::tempdir().expect("a temp dir");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let output = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(target.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("cargo runs");
    let took = started.elapsed();
    assert!(output.status.success(), "the clean build failed:\n{}", String::from_utf8_lossy(&output.stderr));
    took
}

// ---------------------------------------------------------------------------------------------------
// Stand-in throughput

/// Client threads, one keep-alive connection each.
const CLIENT_THREADS: usize = 4;

#[derive(Clone, Copy)]
enum Endpoint {
    Account,
    /// The refresh grant: each client rotates its own refresh token, so every answer must be 200.
    Refresh,
}

/// Answers counted by a throughput run.
struct Throughput {
    ok: u64,
    bad: u64,
    took: Duration,
}

impl Throughput {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.took.as_secs_f64()
    }
}

impl std::fmt::Display for Throughput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} requests/s ({} answers, {} wrong)", self.per_second(), self.ok + self.bad, self.bad)
    }
}

/// Loads a fresh stand-in's `endpoint` for `duration` with [`CLIENT_THREADS`] clients, checking every answer.
fn throughput(duration: Duration, endpoint: Endpoint) -> Throughput {
    let server = stand_in();
    let addr = server.addr();
    let account_path = "/v2/account";
    let token_path = env_value(&server, "TOKEN_URL").replace(&server.base_url(), "");
    let expected_account = MockConfig::default().account.to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(CLIENT_THREADS + 1));
    let clients: Vec<_> = (0..CLIENT_THREADS)
        .map(|_| {
            let (access, mut refresh) = sign_in(&server);
            let (stop, start, token_path, expected) =
                (Arc::clone(&stop), Arc::clone(&start), token_path.clone(), expected_account.clone());
            std::thread::spawn(move || {
                let mut connection = Connection::open(addr);
                let (mut ok, mut bad) = (0u64, 0u64);
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    let good = match endpoint {
                        Endpoint::Account => {
                            let (status, body) = connection.get(account_path, &access);
                            status == 200 && body == expected.as_bytes()
                        }
                        Endpoint::Refresh => {
                            let (status, body) = connection.post_form(&token_path, &refresh_form(&refresh));
                            let answer: Option<Value> = serde_json::from_slice(&body).ok();
                            match answer.as_ref().and_then(|a| a["refresh_token"].as_str()) {
                                Some(next) if status == 200 => {
                                    refresh = next.to_owned();
                                    true
                                }
                                _ => false,
                            }
                        }
                    };
                    if good { ok += 1 } else { bad += 1 }
                }
                (ok, bad)
            })
        })
        .collect();
    start.wait();
    let started = Instant::now();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut result = Throughput { ok: 0, bad: 0, took: Duration::ZERO };
    for client in clients {
        let (ok, bad) = client.join().expect("a client thread never panics on an answer");
        result.ok += ok;
        result.bad += bad;
    }
    result.took = started.elapsed();
    result
}

/// A keep-alive HTTP/1.1 connection with just enough of a client to check answers.
struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Connection {
    fn open(addr: std::net::SocketAddr) -> Connection {
        let stream = TcpStream::connect(addr).expect("the stand-in accepts");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Connection { stream: BufReader::new(stream), host: addr.to_string() }
    }

    fn get(&mut self, path: &str, token: &str) -> (u16, Vec<u8>) {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n\r\n",
            self.host
        );
        self.exchange(request.as_bytes()).expect("the stand-in answers")
    }

    fn post_form(&mut self, path: &str, form: &str) -> (u16, Vec<u8>) {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Accept: application/json\r\nContent-Length: {}\r\n\r\n{form}",
            self.host,
            form.len()
        );
        self.exchange(request.as_bytes()).expect("the stand-in answers")
    }

    /// Sends `request`; reads the status line, the headers and a `Content-Length` body.
    fn exchange(&mut self, request: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        self.stream.get_mut().write_all(request)?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, body))
    }
}

// ---------------------------------------------------------------------------------------------------
// Side by side with oauth2-mock-server

/// The peer's folder: a package.json and package-lock.json naming oauth2-mock-server, and `server.mjs`.
const PEER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/peer");

/// A server under load: its process (pinned to CPU 0) and what is measured of it: the URL of each
/// route of [`ROUTES`] it has (oauth2-mock-server has no list operation), with a bearer token where the
/// route needs one.
struct Contender {
    child: Child,
    routes: Vec<(String, Option<String>)>,
    /// Spawn → the line that says it listens.
    start: Duration,
    /// Resident set size once it listens, KiB.
    idle_rss: u64,
}

impl Drop for Contender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a route must reach: a multiple of oauth2-mock-server's requests per server CPU-second, or a
/// number of them.
#[derive(Clone, Copy)]
enum Goal {
    TimesPeer(f64),
    PerCpuSecond(f64),
}

/// The routes measured side by side (issue 17): discovery, a bearer GET, and a list operation, which
/// only the stand-in has.
const ROUTES: [(&str, Goal); 3] = [
    ("discovery document", Goal::TimesPeer(1.5)),
    ("bearer GET (/v2/account; its /userinfo)", Goal::TimesPeer(1.5)),
    ("list operation, GET /v2/history?limit=10 (stand-in only)", Goal::PerCpuSecond(25_000.0)),
];

/// What wrk measured against one URL: requests, and the server's CPU seconds (user + sys) meanwhile.
struct Load {
    requests: u64,
    /// Answers that were not 2xx or 3xx.
    bad: u64,
    /// wrk's socket errors (connect, read, write, timeout).
    socket_errors: u64,
    cpu: Duration,
}

impl Load {
    fn per_cpu_second(&self) -> f64 {
        self.requests as f64 / self.cpu.as_secs_f64().max(f64::EPSILON)
    }
}

/// The runs of one route on one server.
#[derive(Default)]
struct Loads(Vec<Load>);

impl Loads {
    /// The median of the runs' requests per server CPU-second.
    fn median(&self) -> f64 {
        let mut rates: Vec<f64> = self.0.iter().map(Load::per_cpu_second).collect();
        rates.sort_by(f64::total_cmp);
        rates.get(rates.len() / 2).copied().unwrap_or(0.0)
    }

    fn bad(&self) -> u64 {
        self.0.iter().map(|load| load.bad).sum()
    }

    /// The median, the runs, the requests and what went wrong, e.g. `57103 (55012 57103 58210; 290118
    /// requests, 0 wrong, 0 socket errors)`.
    fn summary(&self) -> String {
        let runs: Vec<String> = self.0.iter().map(|load| format!("{:.0}", load.per_cpu_second())).collect();
        let requests: u64 = self.0.iter().map(|load| load.requests).sum();
        let socket_errors: u64 = self.0.iter().map(|load| load.socket_errors).sum();
        format!(
            "{:.0} ({}; {requests} requests, {} wrong, {socket_errors} socket errors)",
            self.median(),
            runs.join(" "),
            self.bad()
        )
    }
}

/// The stand-in and oauth2-mock-server under the same load, the plain method of issue 17: each server
/// pinned to CPU 0 (`taskset -c 0`), `wrk -t1 -c32` pinned to CPU 1, requests ÷ the server's CPU
/// seconds (utime + stime from `/proc/PID/stat`). Full mode: 2 s of load per route and server to warm up,
/// then 3 runs of 5 s each, the two servers alternating, median printed; quick mode: one run of 1 s. Prints the numbers, the ratio
/// or rate against its target and whether it is met; asserts nothing about timing. Rows say n/a where
/// `wrk`, `taskset`, `node` or `npm` is missing. Also start-up time and idle RSS.
fn side_by_side(plan: &Plan, table: &mut Table) {
    if let Some(why) = not_installed(&["wrk", "taskset"]) {
        table.row("requests per server CPU-second, stand-in vs oauth2-mock-server".into(), why, "", None);
        return;
    }
    let (seconds, runs) = if plan.quick { (1, 1) } else { (5, 3) };
    let stand_in = start_stand_in();
    let peer = start_peer();
    let mut ours: Vec<Loads> = ROUTES.iter().map(|_| Loads::default()).collect();
    let mut theirs: Vec<Loads> = ROUTES.iter().map(|_| Loads::default()).collect();
    if !plan.quick {
        // Not counted: node compiles its hot paths during the first seconds of load, and both servers
        // start the threads or buffers they keep.
        for index in 0..ROUTES.len() {
            wrk_on_cpu1(&stand_in, index, 2);
            if let Ok(peer) = &peer
                && index < peer.routes.len()
            {
                wrk_on_cpu1(peer, index, 2);
            }
        }
    }
    for _ in 0..runs {
        for (index, (mine, peers)) in ours.iter_mut().zip(&mut theirs).enumerate() {
            mine.0.push(wrk_on_cpu1(&stand_in, index, seconds));
            if let Ok(peer) = &peer
                && index < peer.routes.len()
            {
                peers.0.push(wrk_on_cpu1(peer, index, seconds));
            }
        }
    }
    let method = format!("wrk -t1 -c32 on CPU 1, server on CPU 0, {seconds} s, median of {runs}");
    for (((what, goal), mine), peers) in ROUTES.iter().zip(&ours).zip(&theirs) {
        let (value, target, met) = match (goal, &peer) {
            (Goal::PerCpuSecond(floor), _) => {
                let target = format!("≥ {floor:.0} per CPU-second");
                (mine.summary(), target, Some(mine.median() >= *floor && mine.bad() == 0))
            }
            (Goal::TimesPeer(times), Ok(_)) => {
                let ratio = mine.median() / peers.median().max(f64::EPSILON);
                (
                    format!("{} vs {}: {ratio:.2} ×", mine.summary(), peers.summary()),
                    format!("≥ {times} ×"),
                    Some(ratio >= *times && mine.bad() == 0),
                )
            }
            (Goal::TimesPeer(times), Err(why)) => {
                (format!("{} vs n/a: {why}", mine.summary()), format!("≥ {times} ×"), None)
            }
        };
        let who = if matches!(goal, Goal::TimesPeer(_)) { "stand-in vs oauth2-mock-server" } else { "stand-in" };
        table.row(format!("requests per server CPU-second, {what}: {who} ({method})"), value, &target, met);
    }
    let theirs = |f: &dyn Fn(&Contender) -> String| match &peer {
        Ok(peer) => f(peer),
        Err(_) => "n/a".to_owned(),
    };
    table.row(
        "start → listening: stand-in (`mock`) vs oauth2-mock-server".into(),
        format!("{} vs {}", ms(stand_in.start), theirs(&|peer| ms(peer.start))),
        "",
        None,
    );
    table.row(
        "idle RSS: stand-in vs oauth2-mock-server".into(),
        format!("{} vs {}", kib(stand_in.idle_rss), theirs(&|peer| kib(peer.idle_rss))),
        "",
        None,
    );
}

/// `n/a: `wrk` is not installed` for the `tools` missing on this machine; `None` when all are there.
fn not_installed(tools: &[&str]) -> Option<String> {
    let has = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    let missing: Vec<&str> = tools.iter().copied().filter(|tool| !has(tool)).collect();
    (!missing.is_empty()).then(|| format!("n/a: `{}` is not installed", missing.join("`, `")))
}

/// `sipgate-oauth mock --port 0 --quiet --auto-approve` on CPU 0, with a token of a fresh sign-in whose
/// scope allows the account and the history.
fn start_stand_in() -> Contender {
    let started = Instant::now();
    let mut child = Command::new("taskset")
        .args(["-c", "0", BIN, "mock", "--port", "0", "--quiet", "--auto-approve"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the stand-in starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the stand-in prints its .env lines");
    let start = started.elapsed();
    let idle_rss = rss_kib(child.id());
    let auth_url = line.trim().strip_prefix("AUTH_URL=").expect("AUTH_URL first").to_owned();
    let base = auth_url.split("/auth/").next().expect("a base URL").to_owned();
    let agent = agent();
    let params = [
        ("response_type", "code"),
        ("client_id", "sipgate-oauth-demo"),
        ("redirect_uri", BENCH_REDIRECT),
        ("scope", "account:read history:read"),
    ];
    let location = redirect_of(&agent, &format!("{auth_url}?{}", query::encode(params)));
    let pairs = query::decode(location.split_once('?').map_or("", |(_, q)| q)).expect("a well-formed callback");
    let code = pairs.into_iter().find(|(k, _)| k == "code").map(|(_, v)| v).expect("a code");
    let secret = MockClient::demo().secret;
    let form = query::encode([
        ("client_id", "sipgate-oauth-demo"),
        ("client_secret", secret.as_str()),
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", BENCH_REDIRECT),
    ]);
    let token_url = auth_url.replace("/auth?", "/token?").replace("openid-connect/auth", "openid-connect/token");
    let mut response = agent
        .post(&token_url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("the token endpoint answers");
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().expect("an answer")).expect("JSON");
    let token = body["access_token"].as_str().expect("an access token").to_owned();
    Contender {
        child,
        routes: vec![
            (format!("{base}/auth/realms/third-party/.well-known/openid-configuration"), None),
            (format!("{base}/v2/account"), Some(token.clone())),
            (format!("{base}/v2/history?limit=10"), Some(token)),
        ],
        start,
        idle_rss,
    }
}

/// oauth2-mock-server (installed into `bench/peer` with `npm ci` when missing) on CPU 0; `Err` says why
/// not.
fn start_peer() -> Result<Contender, String> {
    let dir = Path::new(PEER_DIR);
    if !dir.join("node_modules/oauth2-mock-server").exists() {
        let output = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|_| "`npm` is not installed".to_owned())?;
        if !output.status.success() {
            return Err(format!("`npm ci` in bench/peer failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
        }
    }
    let started = Instant::now();
    let mut child = Command::new("taskset")
        .args(["-c", "0", "node", "server.mjs"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|_| "`node` is not installed".to_owned())?;
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    let read = stdout.read_line(&mut line);
    let start = started.elapsed();
    let Some((port, token)) = line.trim().split_once(' ').filter(|_| read.is_ok()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("oauth2-mock-server did not start (see bench/peer/server.mjs)".to_owned());
    };
    let base = format!("http://127.0.0.1:{port}");
    Ok(Contender {
        idle_rss: rss_kib(child.id()),
        routes: vec![
            (format!("{base}/.well-known/openid-configuration"), None),
            (format!("{base}/userinfo"), Some(token.to_owned())),
        ],
        child,
        start,
    })
}

/// `wrk -t1 -c32` on CPU 1 for `seconds` against route `index` of `contender`, with its bearer token if
/// it has one; the server's CPU time from `/proc/PID/stat` before and after.
fn wrk_on_cpu1(contender: &Contender, index: usize, seconds: u64) -> Load {
    let pid = contender.child.id();
    let (url, token) = &contender.routes[index];
    let before = cpu_time(pid);
    let mut command = Command::new("taskset");
    command.args(["-c", "1", "wrk", "-t1", "-c32", &format!("-d{seconds}s")]);
    if let Some(token) = token {
        command.arg("-H").arg(format!("Authorization: Bearer {token}"));
    }
    let output = command.arg(url).stdin(Stdio::null()).output().expect("wrk runs");
    let cpu = cpu_time(pid).saturating_sub(before);
    let report = String::from_utf8_lossy(&output.stdout);
    let requests: Option<u64> = report
        .lines()
        .find(|line| line.contains(" requests in "))
        .and_then(|line| line.split_whitespace().next()?.parse().ok());
    let Some(requests) = requests else {
        // A bench reports; it does not fail the run: the row shows 0 requests and one wrong answer.
        eprintln!("wrk against {url} reported no count: {}", String::from_utf8_lossy(&output.stderr).trim());
        return Load { requests: 0, bad: 1, socket_errors: 0, cpu };
    };
    let number = |prefix: &str| -> Option<u64> {
        let line = report.lines().find(|line| line.trim_start().starts_with(prefix))?;
        line.trim_start()[prefix.len()..].split_whitespace().next()?.parse().ok()
    };
    let bad = number("Non-2xx or 3xx responses:").unwrap_or(0);
    // `Socket errors: connect 0, read 0, write 0, timeout 3`
    let socket_errors =
        report.lines().find_map(|line| line.trim_start().strip_prefix("Socket errors:")).map_or(0, |counts| {
            counts.split(',').filter_map(|count| count.split_whitespace().nth(1)?.parse::<u64>().ok()).sum()
        });
    Load { requests, bad, socket_errors, cpu }
}

/// User + system CPU time of a process so far (`/proc/PID/stat` fields 14 and 15, in clock ticks of
/// 1/100 s, the value on Linux).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process runs");
    // The command name (field 2) may hold spaces; the fields after it are plain.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name come field 3 (state) onwards, so utime (14) and stime (15) are at 11 and 12.
    let field = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// `VmRSS` of a process, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------------
// Output

/// The Markdown table printed at the end.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    /// A row; `met` is `None` where there is no target or nothing was measured.
    fn row(&mut self, what: String, value: String, target: &str, met: Option<bool>) {
        let met = match met {
            None => String::new(),
            Some(true) => "yes".into(),
            Some(false) => "**no**".into(),
        };
        self.rows.push([what, value, target.to_owned(), met]);
    }

    fn print(&self) {
        println!("| measurement | value | target | met |");
        println!("|---|---|---|---|");
        for [what, value, target, met] in &self.rows {
            println!("| {what} | {value} | {target} | {met} |");
        }
    }
}

fn ms(duration: Duration) -> String {
    format!("{} ms", ms_bare(duration))
}

fn ms_bare(duration: Duration) -> String {
    format!("{:.2}", duration.as_secs_f64() * 1000.0)
}

fn kib(kib: u64) -> String {
    format!("{:.2} MiB ({kib} KiB)", kib as f64 / 1024.0)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info.lines().find(|line| line.starts_with("model name")).and_then(|line| line.split_once(':'));
    model.map_or_else(|| "unknown CPU".into(), |(_, name)| name.trim().to_owned())
}

fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().next().unwrap_or("?").to_owned()
}

fn utc_now() -> String {
    let output = Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]).output();
    output.ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
}
