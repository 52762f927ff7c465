//! `login --via-http`: a sign-in at a stand-in without any browser, for scripts and CI. The tool fetches
//! the sign-in address itself and follows the redirects to its own callback, as the demo does. Only for
//! an authorization server on a loopback address (a stand-in started with `--auto-approve`): a real
//! sign-in needs a person in a browser, and nothing here ever talks to another host.

use sipgate_oauth::{Browser, Config, Error};

/// How many redirects are followed: start address → authorization URL → callback, and some slack.
const MAX_HOPS: usize = 5;

/// The "browser" of `--via-http`, or a usage error when AUTH_URL is not on a loopback address.
pub fn browser(config: &Config) -> Result<Browser, Error> {
    if !is_loopback_url(&config.auth_url) {
        return Err(Error::Usage(format!(
            "--via-http signs in without a browser only at a stand-in on a loopback address \
             (`sipgate-oauth mock --auto-approve`); AUTH_URL is on {} — sign in in a browser instead",
            host_of(&config.auth_url).unwrap_or_else(|| "another host".to_owned())
        )));
    }
    Ok(Browser::With(Box::new(|url: String| {
        if let Err(why) = follow(&url) {
            // The sign-in would wait for a callback that cannot come: say why and end the run now.
            eprintln!("error: --via-http could not sign in: {why}");
            std::process::exit(1);
        }
    })))
}

/// Follows redirects from `url` while they stay on loopback addresses, until one reaches the callback
/// (a response that is no redirect, after at least one hop through the authorization server).
fn follow(url: &str) -> Result<(), String> {
    let agent = ureq::Agent::config_builder().max_redirects(0).http_status_as_error(false).proxy(None).build();
    let agent = agent.new_agent();
    let mut url = url.to_owned();
    for hop in 0..MAX_HOPS {
        let response = agent.get(&url).call().map_err(|error| format!("{} did not answer ({error})", origin(&url)))?;
        let location = response.headers().get("location").and_then(|value| value.to_str().ok());
        let Some(location) = location.filter(|_| response.status().is_redirection()) else {
            if hop >= 2 {
                return Ok(());
            }
            return Err(format!(
                "the stand-in answered {} with its sign-in page: start it with --auto-approve",
                response.status().as_u16()
            ));
        };
        let next = match location.starts_with('/') {
            true => format!("{}{location}", origin(&url)),
            false => location.to_owned(),
        };
        if !is_loopback_url(&next) {
            return Err("the stand-in redirected to another host, which --via-http never follows".to_owned());
        }
        url = next;
    }
    Err(format!("more than {MAX_HOPS} redirects"))
}

/// `http://127.0.0.1:8089` of a URL.
fn origin(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |at| at + 3);
    let end = url[scheme_end..].find('/').map_or(url.len(), |at| scheme_end + at);
    url[..end].to_owned()
}

fn host_of(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    uri.host().map(str::to_owned)
}

/// Whether `url` is an http(s) URL whose host is 127.0.0.0/8, `[::1]` or `localhost`.
fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return false;
    }
    match uri.host() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_count() {
        assert!(is_loopback_url("http://127.0.0.1:8089/auth") && is_loopback_url("http://[::1]:1/x"));
        assert!(is_loopback_url("http://localhost/x") && is_loopback_url("http://127.1.2.3/x"));
        assert!(!is_loopback_url("https://login.sipgate.com/auth") && !is_loopback_url("http://127.0.0.1.evil.com/"));
        assert!(!is_loopback_url("file:///etc/passwd") && !is_loopback_url("http://10.0.0.1/"));
        assert_eq!(origin("http://127.0.0.1:5/a/b?c"), "http://127.0.0.1:5");
    }
}
