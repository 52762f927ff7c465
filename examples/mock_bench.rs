//! Throughput of the stand-in on `GET /v2/account` with keep-alive: `cargo run --release --example mock_bench`.
//!
//! Starts a `MockServer` on 127.0.0.1:0, signs in once, then lets several ureq agents (one connection
//! each) call the API for a few seconds and prints requests per second and connections used.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sipgate_oauth::mock::{MockConfig, MockServer};
use sipgate_oauth::query;

const THREADS: usize = 4;
const RUN: Duration = Duration::from_secs(3);

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).proxy(None).build().into()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = MockConfig { auto_approve: true, ..MockConfig::default() };
    let server = MockServer::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let base = server.base_url();
    let oidc = format!("{base}/auth/realms/third-party/protocol/openid-connect");
    let redirect = "http://127.0.0.1:9/oauth";
    let auth = query::encode([
        ("client_id", "sipgate-oauth-demo"),
        ("redirect_uri", redirect),
        ("response_type", "code"),
        ("scope", "account:read"),
    ]);
    let signer = agent();
    let callback = signer.get(format!("{oidc}/auth?{auth}")).call()?;
    let location = callback.headers().get("location").ok_or("no redirect")?.to_str()?.to_owned();
    let pairs = query::decode(location.split_once('?').ok_or("no query")?.1).map_err(|e| e.to_string())?;
    let code = query::single(&pairs, "code").ok().flatten().ok_or("no code")?.to_owned();
    let mut tokens = signer.post(format!("{oidc}/token")).send_form([
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", "sipgate-oauth-demo"),
        ("client_secret", "demo-secret"),
    ])?;
    let tokens: serde_json::Value = serde_json::from_str(&tokens.body_mut().read_to_string()?)?;
    let bearer = format!("Bearer {}", tokens["access_token"].as_str().ok_or("no access token")?);
    let url = format!("{base}/v2/account");

    let before = server.requests();
    let started = Instant::now();
    let done: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let agent = agent();
                    let mut n = 0u64;
                    while started.elapsed() < RUN {
                        match agent.get(&url).header("Authorization", &bearer).call() {
                            Ok(mut response) if response.status() == 200 => {
                                let _ = response.body_mut().read_to_string();
                                n += 1;
                            }
                            other => panic!("unexpected answer: {other:?}"),
                        }
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{done} requests in {seconds:.2} s = {:.0} req/s with {THREADS} client threads; \
         server saw {} requests on {} connections",
        done as f64 / seconds,
        server.requests() - before,
        server.connections()
    );
    server.shutdown();
    Ok(())
}
