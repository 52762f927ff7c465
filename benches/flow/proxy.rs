//! The proxy's rows: `GET /v2/account` at the stand-in direct and through `sipgate-oauth proxy`, both
//! processes pinned to CPU 0 and wrk to CPU 1, rounds alternating direct and proxied. One connection
//! (`wrk -t1 -c1`) for the latency, whose median difference is the proxy's added latency (target
//! ≤ 0.2 ms), and 32 connections for requests per second. Printed, never asserted.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sipgate_oauth::mock::MockClient;

use super::{BENCH_REDIRECT, BIN, Contender, Plan, Table, kib, ms, not_installed, rss_kib, start_stand_in};

/// The binary in `dir` on CPU 0, with its own token store and nothing else in its environment.
fn binary(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("taskset");
    command
        .args(["-c", "0", BIN])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIPGATE_OAUTH_STORE", dir.join("store"))
        .current_dir(dir)
        .stdin(Stdio::null());
    command
}

/// The stand-in (its bearer GET and a token of its own sign-in), a sign-in of `login --via-http` at it
/// kept in `dir`, and `proxy` on that sign-in: the proxy as a contender whose one route is the same GET
/// through it.
fn set_up(dir: &Path) -> (Contender, Contender) {
    let stand_in = start_stand_in();
    let (account, token) = stand_in.routes[1].clone();
    let base = account.strip_suffix("/v2/account").expect("the bearer GET is the account");
    let oidc = format!("{base}/auth/realms/third-party/protocol/openid-connect");
    let client = MockClient::demo();
    let env = format!(
        "AUTH_URL={oidc}/auth\nTOKEN_URL={oidc}/token\nTEST_API_ENDPOINT={account}\nCLIENT_ID={}\n\
         CLIENT_SECRET={}\nREDIRECT_URI={BENCH_REDIRECT}\n",
        client.id, client.secret
    );
    std::fs::write(dir.join("mock.env"), env).expect("mock.env is written");
    let login = binary(dir, &["--env-file", "mock.env", "login", "--via-http"]).output().expect("login runs");
    assert!(login.status.success(), "login --via-http failed: {}", String::from_utf8_lossy(&login.stderr));
    let started = Instant::now();
    let mut child = binary(dir, &["proxy"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut line).expect("the start line");
    let start = started.elapsed();
    let proxied = line.trim().strip_prefix("SIPGATE_API_BASE_URL=").expect("the base URL").to_owned();
    let idle_rss = rss_kib(child.id());
    let proxy = Contender { child, routes: vec![(format!("{proxied}/account"), token)], start, idle_rss };
    (stand_in, proxy)
}

/// What one wrk run reported.
#[derive(Clone, Copy)]
struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    bad: bool,
}

/// `wrk` on CPU 1 against `url` with the bearer token.
fn wrk(url: &str, token: &str, connections: u32, seconds: u64) -> Run {
    let (threads, connections) = (connections.min(2).to_string(), connections.to_string());
    let output = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t", &threads, "-c", &connections, &format!("-d{seconds}s"), "--latency", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("wrk runs");
    let report = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        report.lines().find_map(|line| line.trim_start().strip_prefix(prefix)).map(|rest| rest.trim().to_owned())
    };
    let latency = |prefix: &str| field(prefix).and_then(|value| duration(&value)).unwrap_or_default();
    Run {
        per_second: field("Requests/sec:").and_then(|value| value.parse().ok()).unwrap_or(0.0),
        p50: latency("50%"),
        p99: latency("99%"),
        bad: report.contains("Non-2xx") || report.contains("Socket errors") || !output.status.success(),
    }
}

/// wrk's `65.00us`, `1.01ms`, `2.00s`.
fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// The median of `values` (the lower middle one of an even count).
fn median<T: Copy>(values: &[T], key: impl Fn(&T) -> f64) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    sorted[(sorted.len() - 1) / 2]
}

/// The proxy's rows of the table.
pub(super) fn rows(plan: &Plan, table: &mut Table) {
    if let Some(why) = not_installed(&["wrk", "taskset"]) {
        table.row("proxy: added median latency per request".into(), why, "≤ 0.2 ms", None);
        return;
    }
    let (rounds, seconds) = if plan.quick { (1, 1) } else { (5, 3) };
    let dir = tempfile::tempdir().expect("a temp dir");
    let (stand_in, proxy) = set_up(dir.path());
    let (direct_url, token) = &stand_in.routes[1];
    let token = token.as_deref().unwrap_or_default();
    let proxied_url = &proxy.routes[0].0;
    let (mut direct, mut proxied, mut direct_load, mut proxied_load) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        direct.push(wrk(direct_url, token, 1, seconds));
        proxied.push(wrk(proxied_url, token, 1, seconds));
        direct_load.push(wrk(direct_url, token, 32, seconds));
        proxied_load.push(wrk(proxied_url, token, 32, seconds));
    }
    let bad = [&direct, &proxied, &direct_load, &proxied_load].iter().any(|runs| runs.iter().any(|run| run.bad));
    let wrong = if bad { " — **some answers were not 2xx**" } else { "" };
    let p50 = |runs: &[Run]| median(runs, |run| run.p50.as_secs_f64()).p50;
    let p99 = |runs: &[Run]| median(runs, |run| run.p99.as_secs_f64()).p99;
    let per_second = |runs: &[Run]| median(runs, |run| run.per_second).per_second;
    let of = format!("median of {rounds} × {seconds} s");
    table.row(
        format!("proxy: GET /v2/account latency, 1 connection, direct vs proxied: median, p99 ({of})"),
        format!(
            "{} vs {}; p99 {} vs {}{wrong}",
            ms(p50(&direct)),
            ms(p50(&proxied)),
            ms(p99(&direct)),
            ms(p99(&proxied))
        ),
        "",
        None,
    );
    let added = p50(&proxied).saturating_sub(p50(&direct));
    let added_p99 = p99(&proxied).saturating_sub(p99(&direct));
    table.row(
        "proxy: added latency per request, median (p99)".into(),
        format!("{} ({})", ms(added), ms(added_p99)),
        "≤ 0.2 ms",
        Some(added <= Duration::from_micros(200) && !bad),
    );
    table.row(
        format!("proxy: requests/s, 1 connection and wrk -t2 -c32, direct vs proxied ({of})"),
        format!(
            "{:.0} vs {:.0}; {:.0} vs {:.0}",
            per_second(&direct),
            per_second(&proxied),
            per_second(&direct_load),
            per_second(&proxied_load)
        ),
        "",
        None,
    );
    table.row(
        "proxy: start → base URL printed; idle RSS".into(),
        format!("{}; {}", ms(proxy.start), kib(proxy.idle_rss)),
        "",
        None,
    );
}
