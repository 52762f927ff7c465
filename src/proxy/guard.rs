//! Who may use the proxy: the checks a request passes before anything is forwarded.
//!
//! Promises: a request is forwarded only when its target starts with the run's random path segment
//! (compared in constant time) and lies below the API base path, its `Host` is a loopback name with the
//! proxy's port (no DNS rebinding), and its `Origin`, if any, is loopback or allowed by the user (no
//! web page elsewhere can use it). Each check is a function of the request head alone.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

/// The random path segment that makes the base URL a secret: 32 random bytes (256 bits), base64url.
#[derive(Clone)]
pub(crate) struct PathSecret(String);

impl std::fmt::Debug for PathSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PathSecret([redacted])")
    }
}

impl PathSecret {
    /// A fresh one.
    pub(crate) fn generate() -> PathSecret {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).expect("the operating system's random source is available");
        PathSecret(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The segment itself: it goes into the base URL the user is shown, and nowhere else.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }

    /// Whether `segment` is this secret, in constant time.
    fn matches(&self, segment: &str) -> bool {
        self.0.as_bytes().ct_eq(segment.as_bytes()).into()
    }
}

/// The upstream target of a request target (`/SECRET/v2/account?x=1` → `/v2/account?x=1`): `None` when the
/// secret segment is missing or wrong (with `secret` set), when the path is not below `base_path` (`/v2`),
/// or when it has a `.` or `..` segment, plain or encoded, that could step out of it.
pub(crate) fn route<'t>(target: &'t str, secret: Option<&PathSecret>, base_path: &str) -> Option<&'t str> {
    let rest = match secret {
        Some(secret) => {
            let inner = target.strip_prefix('/')?;
            let end = inner.find(['/', '?']).unwrap_or(inner.len());
            if !secret.matches(&inner[..end]) {
                return None;
            }
            &inner[end..]
        }
        None => target,
    };
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    let below = path.strip_prefix(base_path.trim_end_matches('/'))?;
    if !(below.is_empty() || below.starts_with('/')) {
        return None;
    }
    let dot_segment = |segment: &str| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    };
    if path.split('/').any(dot_segment) || path.contains('\\') {
        return None;
    }
    Some(rest)
}

/// Whether a `Host` header names this proxy: `127.0.0.1`, `localhost` or `[::1]` with its `port` (a
/// `Host` without the port is refused: a browser always sends the port it connected to).
pub(crate) fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some((name, given)) = host.and_then(|host| host.trim().rsplit_once(':')) else { return false };
    let known = name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost") || name == "[::1]";
    known && given.parse::<u16>().is_ok_and(|given| given == port)
}

/// Whether a request with `origin` may be answered: no `Origin` header (not a browser, or a same-origin
/// GET), a loopback origin (`http://localhost:3000`), or one the user allowed with `--allow-origin`.
pub(crate) fn origin_allowed(origin: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin.map(str::trim) else { return true };
    if allowed.iter().any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Some(rest) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else { return false };
    let host = match rest.strip_prefix('[') {
        Some(v6) => v6.split_once(']'),
        None => Some(rest.split_at(rest.find(':').unwrap_or(rest.len()))),
    };
    let Some((host, after)) = host else { return false };
    let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(|p| p.parse::<u16>().is_ok());
    port_ok && (host == "::1" || host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_long_random_and_never_shown_by_debug() {
        let (a, b) = (PathSecret::generate(), PathSecret::generate());
        assert_eq!(a.secret().len(), 43, "256 bits in base64url");
        assert_ne!(a.secret(), b.secret());
        assert_eq!(format!("{a:?}"), "PathSecret([redacted])");
    }

    #[test]
    fn only_targets_with_the_secret_below_the_base_path_are_routed() {
        let secret = PathSecret::generate();
        let s = secret.secret();
        let route = |target: &str| route(target, Some(&secret), "/v2").map(str::to_owned);
        assert_eq!(route(&format!("/{s}/v2/account")).as_deref(), Some("/v2/account"));
        assert_eq!(route(&format!("/{s}/v2/history?limit=5")).as_deref(), Some("/v2/history?limit=5"));
        assert_eq!(route(&format!("/{s}/v2")).as_deref(), Some("/v2"));
        assert_eq!(route(&format!("/{s}/v2?x=1")).as_deref(), Some("/v2?x=1"));
        for refused in [
            "/v2/account".to_owned(),
            "/".to_owned(),
            String::new(),
            format!("/{}/v2/account", &s[..42]),
            format!("/{s}x/v2/account"),
            format!("/{s}/v3/account"),
            format!("/{s}/v2x/account"),
            format!("/{s}/v2/../token"),
            format!("/{s}/v2/%2E%2e/token"),
            format!("/{s}/v2/./account"),
            format!("http://127.0.0.1/{s}/v2/account"),
        ] {
            assert_eq!(route(&refused), None, "{refused}");
        }
        assert_eq!(super::route("/v2/account", None, "/v2"), Some("/v2/account"));
        assert_eq!(super::route("/other", None, "/v2"), None);
    }

    #[test]
    fn host_must_be_loopback_with_the_port() {
        for host in ["127.0.0.1:8000", "localhost:8000", "LocalHost:8000", "[::1]:8000"] {
            assert!(host_allowed(Some(host), 8000), "{host}");
        }
        for host in [None, Some("127.0.0.1"), Some("127.0.0.1:8001"), Some("evil.example:8000"), Some("[::2]:8000")] {
            assert!(!host_allowed(host, 8000), "{host:?}");
        }
        assert!(!host_allowed(Some("localhost.evil.example:8000"), 8000));
    }

    #[test]
    fn origin_must_be_loopback_or_allowed() {
        let allowed = vec!["https://app.example.com".to_owned()];
        for origin in [None, Some("http://localhost:3000"), Some("http://127.0.0.1"), Some("http://[::1]:8080")] {
            assert!(origin_allowed(origin, &[]), "{origin:?}");
        }
        for origin in ["https://evil.example", "null", "http://localhost.evil.example", "http://127.0.0.1.nip.io"] {
            assert!(!origin_allowed(Some(origin), &[]), "{origin}");
        }
        assert!(origin_allowed(Some("https://app.example.com"), &allowed));
        assert!(!origin_allowed(Some("https://app.example.com.evil"), &allowed));
    }
}
