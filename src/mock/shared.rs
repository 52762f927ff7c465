//! What every worker thread and handler shares: the configuration, the base URL, the tables behind
//! their one lock, and the answers that never change (built once, at start).

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::json;

use super::calls::Calls;
use super::config::{MockClient, MockConfig, REALMS};
use super::params::known_scopes;
use super::reply::Reply;
use super::state::{Lifetimes, State};

/// What every worker thread shares. The configuration is fixed; the tables sit behind one mutex.
#[derive(Debug)]
pub(super) struct Shared {
    /// The configuration the server was started with.
    pub config: MockConfig,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Codes, tokens, sessions, fault counters.
    state: Mutex<State>,
    /// Requests seen.
    pub requests: AtomicU64,
    /// The discovery document of each realm of `REALMS`, in that order: fixed for the server's lifetime,
    /// so it is built once here rather than per request.
    pub discovery: Vec<Reply>,
    /// The answer of `GET /v2/account`, built once: the hot path of a bearer GET.
    pub account: Reply,
    /// Simulated calls (sipgate.io): settings, calls, history, push log; shared with the call threads.
    pub calls: Arc<Calls>,
}

impl Shared {
    /// The shared state of a new server.
    pub fn new(config: MockConfig, base_url: String) -> Shared {
        let mut state = State::new(config.faults.token_503, config.faults.token_502);
        state.device_slow_down_left = config.faults.device_slow_down;
        let discovery = REALMS.iter().map(|realm| discovery_document(&base_url, realm)).collect();
        let account = Reply::json(200, &config.account);
        let calls = Arc::new(Calls::new(&config.webhooks));
        Shared { config, base_url, state: Mutex::new(state), requests: AtomicU64::new(0), discovery, account, calls }
    }

    /// The tables, locked. No handler panics while holding them, but a poisoned lock is used anyway:
    /// a test server should keep answering.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The registered client with this id.
    pub fn client(&self, id: &str) -> Option<&MockClient> {
        self.config.clients.iter().find(|client| client.id == id)
    }

    /// The issuer of a realm (`iss`, RFC 9207), as Keycloak names it.
    pub fn issuer(&self, realm: &str) -> String {
        issuer(&self.base_url, realm)
    }

    /// Token lifetimes, with the fault applied.
    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            access: self.config.access_ttl,
            refresh: self.config.refresh_ttl,
            access_dead: self.config.faults.expire_access_tokens,
        }
    }
}

/// The issuer of a realm at `base_url`.
pub(super) fn issuer(base_url: &str, realm: &str) -> String {
    format!("{base_url}/auth/realms/{realm}")
}

/// The OpenID Connect discovery document of `realm` (OpenID Connect Discovery 1.0 §3), with the URLs
/// of the server at `base_url`.
fn discovery_document(base_url: &str, realm: &str) -> Reply {
    let issuer = issuer(base_url, realm);
    let endpoint = |name: &str| format!("{issuer}/protocol/openid-connect/{name}");
    let client_auth = ["client_secret_basic", "client_secret_post"];
    Reply::json(
        200,
        &json!({
            "issuer": issuer,
            "authorization_endpoint": endpoint("auth"),
            "device_authorization_endpoint": endpoint("auth/device"),
            "token_endpoint": endpoint("token"),
            "revocation_endpoint": endpoint("revoke"),
            "end_session_endpoint": endpoint("logout"),
            "userinfo_endpoint": endpoint("userinfo"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": client_auth,
            "revocation_endpoint_auth_methods_supported": client_auth,
            "scopes_supported": known_scopes(),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "authorization_response_iss_parameter_supported": true,
        }),
    )
}
