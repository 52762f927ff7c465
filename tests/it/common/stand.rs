//! A stand-in started in the test process and an HTTP client for it that neither follows redirects nor
//! turns 4xx/5xx into errors: shared by the tests that drive the stand-in over HTTP (`mock.rs`,
//! `whole_api.rs`). Each test file adds the helpers of its own in `impl Stand` blocks of its own.
#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use sipgate_oauth::internals::query;
use sipgate_oauth::mock::{MockClient, MockConfig, MockServer};

pub const REALM: &str = "third-party";
pub const REDIRECT: &str = "http://127.0.0.1:54321/oauth";

/// A running stand-in and a client for it.
pub struct Stand {
    pub server: MockServer,
    pub agent: ureq::Agent,
}

/// An HTTP answer, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The OAuth error body: (error, error_description).
    pub fn oauth_error(&self) -> (String, String) {
        let body = self.json();
        let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
        (field("error"), field("error_description"))
    }

    /// The query of the `Location` of a redirect to `REDIRECT`-like URIs.
    pub fn location_params(&self) -> Vec<(String, String)> {
        assert_eq!(self.status, 302, "not a redirect: {self:?}");
        let location = self.header("location");
        let (_, query) = location.split_once('?').unwrap_or((location, ""));
        query::decode(query).unwrap()
    }
}

pub fn param(params: &[(String, String)], key: &str) -> Option<String> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

pub fn start(config: MockConfig) -> Stand {
    start_on(config, [127, 0, 0, 1])
}

/// The stand-in on a loopback address of its own choosing (`127.0.0.0/8` has many).
pub fn start_on(config: MockConfig, ip: [u8; 4]) -> Stand {
    let server = MockServer::start(config, SocketAddr::from((ip, 0))).unwrap();
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build();
    Stand { server, agent: config.into() }
}

pub fn auto() -> MockConfig {
    MockConfig { auto_approve: true, ..MockConfig::default() }
}

pub fn demo() -> MockClient {
    MockClient::demo()
}

pub fn read(response: Result<http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let response = response.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().read_to_string().unwrap();
    Answer { status, headers, body }
}

impl Stand {
    pub fn oidc(&self, endpoint: &str) -> String {
        format!("{}/auth/realms/{REALM}/protocol/openid-connect/{endpoint}", self.server.base_url())
    }

    pub fn get(&self, url: &str) -> Answer {
        read(self.agent.get(url).call())
    }

    pub fn get_bearer(&self, path: &str, token: &str) -> Answer {
        let url = format!("{}{path}", self.server.base_url());
        read(self.agent.get(&url).header("Authorization", format!("Bearer {token}")).call())
    }

    pub fn post(&self, url: &str, form: &[(&str, &str)]) -> Answer {
        read(self.agent.post(url).send_form(form.iter().copied()))
    }

    pub fn post_raw(&self, url: &str, content_type: &str, body: &[u8]) -> Answer {
        read(self.agent.post(url).header("Content-Type", content_type).send(body))
    }

    /// `GET /auth` with the demo client's defaults overridden by `extra`.
    pub fn authorize(&self, extra: &[(&str, &str)]) -> Answer {
        let mut params = vec![
            ("client_id", "sipgate-oauth-demo"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "account:read"),
            ("state", "st-1"),
        ];
        for (key, value) in extra {
            params.retain(|(k, _)| k != key);
            if !value.is_empty() {
                params.push((key, value));
            }
        }
        self.get(&format!("{}?{}", self.oidc("auth"), query::encode(params)))
    }

    /// A code from an auto-approved authorization.
    pub fn code(&self, extra: &[(&str, &str)]) -> String {
        let answer = self.authorize(extra);
        param(&answer.location_params(), "code").unwrap_or_else(|| panic!("no code: {answer:?}"))
    }

    /// Exchanges a code as the demo client.
    pub fn exchange(&self, code: &str, extra: &[(&str, &str)]) -> Answer {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", "sipgate-oauth-demo"),
            ("client_secret", "demo-secret"),
        ];
        for (key, value) in extra {
            form.retain(|(k, _)| k != key);
            if !value.is_empty() {
                form.push((key, value));
            }
        }
        self.post(&self.oidc("token"), &form)
    }

    /// A full sign-in: the token response.
    pub fn tokens(&self, scope: &str) -> Value {
        let code = self.code(&[("scope", scope)]);
        let answer = self.exchange(&code, &[]);
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.json()
    }

    pub fn refresh(&self, refresh_token: &str, client: &MockClient) -> Answer {
        self.post(
            &self.oidc("token"),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", &client.id),
                ("client_secret", &client.secret),
            ],
        )
    }

    /// An access token for `scope`, through the auto-approved authorization-code flow.
    pub fn token(&self, scope: &str) -> String {
        token_field(&self.tokens(scope), "access_token")
    }

    /// `method` on `/v2{target}` with an optional bearer token and JSON body.
    pub fn call(&self, method: &str, target: &str, token: Option<&str>, body: Option<&Value>) -> Answer {
        let mut request = http::Request::builder().method(method).uri(format!("{}/v2{target}", self.server.base_url()));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(body) => {
                request = request.header("Content-Type", "application/json");
                body.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        read(self.agent.run(request.body(bytes).unwrap()))
    }

    /// `GET /v2{target}` with a bearer token.
    pub fn api_get(&self, target: &str, token: &str) -> Answer {
        self.call("GET", target, Some(token), None)
    }
}

pub fn token_field(tokens: &Value, name: &str) -> String {
    tokens[name].as_str().unwrap_or_else(|| panic!("no {name} in {tokens}")).to_owned()
}
