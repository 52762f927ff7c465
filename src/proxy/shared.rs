//! What every request's thread of a proxy reads, and the one rule it applies to answers: `Location`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::guard::PathSecret;
use crate::session::LiveSession;

/// What every request's thread reads; fixed once the proxy runs.
pub(super) struct Shared {
    pub(super) live: Arc<LiveSession>,
    pub(super) secret: Option<PathSecret>,
    pub(super) port: u16,
    /// `https://api.sipgate.com`: where requests go, and the only place the token goes.
    pub(super) upstream_origin: String,
    /// `/v2`: the path of `API_BASE_URL`; only requests below it are forwarded.
    pub(super) base_path: String,
    /// `http://127.0.0.1:PORT/SECRET`: the proxy's URL of the upstream origin.
    pub(super) local_origin: String,
    pub(super) allow_origins: Vec<String>,
    pub(super) log: Option<Mutex<Box<dyn Write + Send>>>,
}

impl Shared {
    /// A `Location` pointing below the API base (absolute, or a path on the API origin) points to the proxy
    /// instead; any other stays as it is, for the client to decide (the proxy follows no redirect).
    pub(super) fn rewrite_location(&self, location: &str) -> String {
        let below_base = |path: &str| {
            path.strip_prefix(&self.base_path).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
        };
        if let Some(path) = location.strip_prefix(&self.upstream_origin).filter(|path| below_base(path)) {
            return format!("{}{path}", self.local_origin);
        }
        if location.starts_with('/') && !location.starts_with("//") && below_base(location) {
            let prefix = self.local_origin.split_once("//").and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]));
            return format!("{}{location}", prefix.unwrap_or_default());
        }
        location.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_below_the_api_base_point_to_the_proxy() {
        let shared = |local: &str| Shared {
            live: Arc::new(
                LiveSession::new(
                    crate::Http::new(std::time::Duration::from_secs(1)),
                    crate::config::example_config(&[("SIPGATE_OAUTH_STORE", "/nonexistent")]).unwrap(),
                )
                .unwrap(),
            ),
            secret: None,
            port: 1,
            upstream_origin: "https://api.sipgate.com".into(),
            base_path: "/v2".into(),
            local_origin: local.into(),
            allow_origins: Vec::new(),
            log: None,
        };
        let s = shared("http://127.0.0.1:1/SECRET");
        assert_eq!(
            s.rewrite_location("https://api.sipgate.com/v2/sessions/1"),
            "http://127.0.0.1:1/SECRET/v2/sessions/1"
        );
        assert_eq!(s.rewrite_location("/v2/x?y=1"), "/SECRET/v2/x?y=1");
        assert_eq!(s.rewrite_location("https://api.sipgate.com/login"), "https://api.sipgate.com/login");
        assert_eq!(s.rewrite_location("https://evil.example/v2/x"), "https://evil.example/v2/x");
        assert_eq!(s.rewrite_location("https://api.sipgate.com.evil/v2"), "https://api.sipgate.com.evil/v2");
        assert_eq!(s.rewrite_location("//evil.example/v2"), "//evil.example/v2");
        assert_eq!(shared("http://127.0.0.1:1").rewrite_location("/v2/x"), "/v2/x");
    }
}
