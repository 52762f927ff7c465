//! Which handler answers which request: the realm endpoints, the two fast paths of the API, and `rest`
//! for every other path.

use serde_json::json;

use super::config::REALMS;
use super::params::Incoming;
use super::reply::Reply;
use super::shared::Shared;
use super::{api, authorize, calls, device, rest, token};

/// Answers one request.
pub(super) fn handle(shared: &Shared, request: &Incoming<'_>) -> Reply {
    if let Some(rest) = request.path.strip_prefix("/auth/realms/") {
        let (realm, endpoint) = rest.split_once('/').unwrap_or((rest, ""));
        if !REALMS.contains(&realm) {
            return Reply::json(404, &json!({"error": "Realm does not exist"}));
        }
        let method = request.method;
        return match endpoint {
            ".well-known/openid-configuration" => only(method, "GET", || discovery(shared, realm)),
            "protocol/openid-connect/auth" => match method {
                "GET" | "POST" => authorize::authorize(shared, realm, request),
                _ => Reply::method_not_allowed("GET, POST"),
            },
            "protocol/openid-connect/auth/device" => only(method, "POST", || device::authorize(shared, realm, request)),
            "device" => match method {
                "GET" | "POST" => device::verification(shared, realm, request),
                _ => Reply::method_not_allowed("GET, POST"),
            },
            "protocol/openid-connect/token" => only(method, "POST", || token::token(shared, realm, request)),
            "protocol/openid-connect/revoke" => only(method, "POST", || token::revoke(shared, realm, request)),
            "protocol/openid-connect/logout" => only(method, "POST", || token::logout(shared, realm, request)),
            "protocol/openid-connect/userinfo" => match method {
                "GET" | "POST" => api::oidc_userinfo(shared, realm, request),
                _ => Reply::method_not_allowed("GET, POST"),
            },
            _ => Reply::not_found(),
        };
    }
    // Test builds only: a handler that panics while it holds the tables' lock, for the test that a panic
    // costs one 500 and not the server.
    #[cfg(test)]
    if request.path == "/test/panic" {
        let _tables = shared.state();
        panic!("a handler panicked on purpose (test)");
    }
    match request.path {
        "/v2/account" => only(request.method, "GET", || api::account(shared, request)),
        "/v2/authorization/userinfo" => only(request.method, "GET", || api::userinfo(shared, request)),
        path if path.starts_with("/_stand-in/") => calls::admin::answer(&shared.calls, request),
        _ => rest::answer(shared, request),
    }
}

/// Runs `handler` if the method is `allowed`, else answers 405.
fn only(method: &str, allowed: &'static str, handler: impl FnOnce() -> Reply) -> Reply {
    if method == allowed { handler() } else { Reply::method_not_allowed(allowed) }
}

/// The OpenID Connect discovery document of a realm (built once, by [`Shared::new`]).
fn discovery(shared: &Shared, realm: &str) -> Reply {
    let index = REALMS.iter().position(|known| *known == realm);
    match index.and_then(|index| shared.discovery.get(index)) {
        Some(document) => document.clone(),
        None => Reply::json(404, &json!({"error": "Realm does not exist"})),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::mock::{Faults, MockConfig};

    /// A small deterministic generator (xorshift), so the test needs no dependency and repeats exactly.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a, T: AsRef<str>>(&mut self, items: &'a [T]) -> &'a str {
            let index = usize::try_from(self.next() % items.len() as u64).unwrap();
            items[index].as_ref()
        }

        fn bytes<T: AsRef<str>>(&mut self, pieces: &[T]) -> Vec<u8> {
            let mut out = Vec::new();
            for n in 0..self.next() % 8 {
                if n > 0 && !self.next().is_multiple_of(3) {
                    out.push(b'&');
                }
                if self.next().is_multiple_of(7) {
                    out.push(u8::try_from(self.next() % 256).unwrap());
                } else {
                    out.extend_from_slice(self.pick(pieces).as_bytes());
                }
            }
            out
        }
    }

    const CLIENT: &str = "client_id=sipgate-oauth-demo&client_secret=demo-secret";
    const EXCHANGE: &str = "grant_type=authorization_code&client_id=sipgate-oauth-demo&client_secret=demo-secret\
                            &redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth";
    const REFRESH: &str = "grant_type=refresh_token&client_id=sipgate-oauth-demo&client_secret=demo-secret";
    const AUTHORIZE: &str = "client_id=sipgate-oauth-demo&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth\
                             &response_type=code&scope=account%3Aread";

    /// Codes and tokens from earlier answers, so later random requests reach the deep paths.
    fn harvest(reply: &Reply, pieces: &mut Vec<String>, headers: &mut Vec<String>) -> bool {
        let mut issued = false;
        for (name, value) in &reply.headers {
            if *name == "Location"
                && let Some((_, query)) = value.split_once('?')
            {
                for (key, value) in crate::query::decode(query).unwrap_or_default() {
                    if key == "code" {
                        pieces.push(format!("code={value}"));
                        pieces.push(format!("{EXCHANGE}&code={value}"));
                    }
                }
            }
        }
        if let Ok(body) = serde_json::from_slice::<serde_json::Value>(&reply.body) {
            for field in ["access_token", "refresh_token"] {
                if let Some(token) = body[field].as_str() {
                    pieces.push(format!("refresh_token={token}"));
                    pieces.push(format!("{REFRESH}&refresh_token={token}"));
                    pieces.push(format!("token={token}"));
                    headers.push(format!("Bearer {token}"));
                    issued = true;
                }
            }
        }
        issued
    }

    #[test]
    fn handler_never_panics_on_random_requests() {
        let faults = Faults { token_503: 3, token_502: 3, ..Faults::default() };
        for auto_approve in [false, true] {
            let code_ttl = if auto_approve { Duration::from_secs(60) } else { Duration::ZERO };
            let config = MockConfig { auto_approve, faults: faults.clone(), code_ttl, ..MockConfig::default() };
            let shared = Shared::new(config, "http://127.0.0.1:1".into());
            let mut noise = Noise(0x2545_f491_4f6c_dd1d);
            let paths = [
                "/auth/realms/third-party/protocol/openid-connect/auth",
                "/auth/realms/sipgate-apps/protocol/openid-connect/token",
                "/auth/realms/third-party/protocol/openid-connect/token",
                "/auth/realms/third-party/protocol/openid-connect/revoke",
                "/auth/realms/third-party/protocol/openid-connect/logout",
                "/auth/realms/third-party/protocol/openid-connect/userinfo",
                "/auth/realms/third-party/.well-known/openid-configuration",
                "/auth/realms/",
                "/auth/realms/x",
                "/v2/account",
                "/v2/authorization/userinfo",
                "",
                "/",
            ];
            let mut pieces: Vec<String> = [
                CLIENT,
                AUTHORIZE,
                AUTHORIZE,
                AUTHORIZE,
                EXCHANGE,
                REFRESH,
                "client_id=sipgate-oauth-demo",
                "client_secret=demo-secret",
                "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Foauth",
                "redirect_uri=http://127.0.0.1:99999/oauth",
                "response_type=code",
                "scope=account%3Aread+openid",
                "scope=nope",
                "state=%E2%82",
                "code_challenge=",
                "code_challenge_method=S256",
                "code_challenge=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "code_verifier=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "decision=allow",
                "decision=deny",
                "grant_type=authorization_code",
                "grant_type=refresh_token",
                "code=x",
                "refresh_token=eyJ.a.b",
                "token=t",
                "token_type_hint=refresh_token",
                "&",
                "=",
                "%",
                "%zz",
                "+",
                "\u{0}",
                "é",
                "&&==",
            ]
            .map(str::to_owned)
            .to_vec();
            let mut headers: Vec<String> = [
                "Bearer x",
                "Basic c2lwZ2F0ZS1vYXV0aC1kZW1vOmRlbW8tc2VjcmV0",
                "Basic !!!",
                "Basic",
                "bearer  ",
                "",
                " ",
                "Basic Og==",
            ]
            .map(str::to_owned)
            .to_vec();
            let methods = ["GET", "POST", "PUT", "DELETE", "HEAD", ""];
            let mut issued = 0;
            for _ in 0..20_000 {
                // Every other request is well-formed but for its choice of parts, to reach the deep paths.
                let plain = noise.next().is_multiple_of(2);
                let (query, body) = if plain {
                    (noise.pick(&pieces).to_owned(), noise.pick(&pieces).as_bytes().to_vec())
                } else {
                    (String::from_utf8_lossy(&noise.bytes(&pieces)).into_owned(), noise.bytes(&pieces))
                };
                let authorization = noise.next().is_multiple_of(2).then(|| noise.pick(&headers));
                let content_type = match noise.next() % if plain { 2 } else { 3 } {
                    0 => None,
                    1 => Some("application/x-www-form-urlencoded; charset=utf-8"),
                    _ => Some("text/plain"),
                };
                let request = Incoming {
                    method: if plain { noise.pick(&methods[..2]) } else { noise.pick(&methods) },
                    path: if plain { noise.pick(&paths[..6]) } else { noise.pick(&paths) },
                    query: &query,
                    authorization,
                    content_type,
                    body: &body,
                };
                let reply = handle(&shared, &request);
                assert!((200..600).contains(&reply.status));
                if pieces.len() < 500 && harvest(&reply, &mut pieces, &mut headers) {
                    issued += 1;
                }
            }
            assert!(!auto_approve || issued > 0, "the random requests never got as far as issuing a token");
        }
    }
}
