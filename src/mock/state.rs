//! What the stand-in remembers: authorization codes, tokens and sign-in sessions, and the fault
//! counters that count down.
//!
//! Every code and token is random and is valid only while it is in these tables: the JWT shape of a
//! token is for looks (clients must treat tokens as opaque), its signature is random bytes. A session
//! is the family of tokens issued from one code; killing it kills every token in it. A device
//! authorization (RFC 8628) waits here, under its device code, for the user's decision.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

/// After this many issued codes and tokens, expired entries are swept out.
const SWEEP_EVERY: u32 = 1024;

/// How long an expired entry is kept, so a late use still gets "expired" rather than "unknown".
const KEEP_EXPIRED: Duration = Duration::from_secs(600);

/// The user every sign-in at the stand-in signs in as.
pub(super) const SUBJECT: &str = "w0";

/// `n` random bytes, base64url without padding.
pub(super) fn random_string(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The OS random generator failing is not something a test server can recover from.
    SystemRandom::new().fill(&mut bytes).expect("the operating system's random generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `now + ttl`; a lifetime too long for the clock (`--refresh-ttl 99999999999999`) is capped at a
/// century instead of overflowing.
fn deadline(now: Instant, ttl: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
    now.checked_add(ttl.min(CENTURY)).unwrap_or(now)
}

/// Seconds since the Unix epoch, for the `iat`/`exp` claims.
fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// The PKCE transformation the client used (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChallengeMethod {
    /// `code_challenge = code_verifier`.
    Plain,
    /// `code_challenge = BASE64URL(SHA256(code_verifier))`.
    S256,
}

/// A PKCE challenge bound to a code (RFC 7636 §4.4).
#[derive(Debug, Clone)]
pub(super) struct Challenge {
    /// How the verifier was transformed.
    pub method: ChallengeMethod,
    /// The `code_challenge` as sent.
    pub value: String,
}

impl Challenge {
    /// Whether `verifier` matches this challenge (RFC 7636 §4.6), compared in constant time.
    pub fn verify(&self, verifier: &str) -> bool {
        use subtle::ConstantTimeEq;
        let derived = match self.method {
            ChallengeMethod::Plain => verifier.to_owned(),
            ChallengeMethod::S256 => {
                URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
            }
        };
        bool::from(derived.as_bytes().ct_eq(self.value.as_bytes()))
    }
}

/// What an authorization request was granted, remembered until the code is redeemed.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    /// The realm the code was issued in.
    pub realm: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The `redirect_uri` of the authorization request, exactly as sent.
    pub redirect_uri: String,
    /// The granted scope, space-separated.
    pub scope: String,
    /// The PKCE challenge, if one was sent.
    pub challenge: Option<Challenge>,
    /// The OpenID Connect `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
}

/// An authorization code (RFC 6749 §4.1.2).
#[derive(Debug)]
pub(super) struct Code {
    /// What it grants.
    pub grant: Grant,
    /// The session its tokens belong to; also the `session_state` of the callback.
    pub session: String,
    /// When it stops being valid.
    pub expires_at: Instant,
    /// Whether it was redeemed already.
    pub redeemed: bool,
}

/// Whether a token is an access or a refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Sent as `Authorization: Bearer` to the API (RFC 6750).
    Access,
    /// Exchanged at the token endpoint (RFC 6749 §6).
    Refresh,
}

/// An issued token.
#[derive(Debug, Clone)]
pub(super) struct Token {
    /// Access or refresh.
    pub kind: Kind,
    /// The realm it was issued in.
    pub realm: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Its scope, space-separated.
    pub scope: String,
    /// Its session (token family).
    pub session: String,
    /// When it stops being valid.
    pub expires_at: Instant,
    /// For a refresh token: it was exchanged already (rotation), so it is stale.
    pub used: bool,
    /// For a refresh token: the access token issued with it, killed when it is exchanged.
    pub sibling: Option<String>,
}

/// A token pair as the token endpoint sends it.
#[derive(Debug)]
pub(super) struct Issued {
    /// The access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
    /// The ID token, when `openid` was granted.
    pub id_token: Option<String>,
    /// The session, sent as `session_state`.
    pub session: String,
    /// The granted scope.
    pub scope: String,
}

/// How tokens are issued: lifetimes and the issuer.
#[derive(Debug, Clone)]
pub(super) struct Lifetimes {
    /// Access token lifetime.
    pub access: Duration,
    /// Refresh token lifetime.
    pub refresh: Duration,
    /// Access tokens are dead at once (fault).
    pub access_dead: bool,
}

/// Where a device authorization stands (RFC 8628 §3.3, §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// The user has not yet allowed or denied it: `authorization_pending`.
    Pending,
    /// The user allowed it: the next poll gets tokens.
    Approved,
    /// The user denied it: `access_denied`.
    Denied,
}

/// A device authorization (RFC 8628 §3.2), kept under its device code until tokens are issued.
#[derive(Debug)]
pub(super) struct Device {
    /// What it grants; `redirect_uri` is empty.
    pub grant: Grant,
    /// The code the user types, `ABCD-EFGH`.
    pub user_code: String,
    /// When it stops being valid (`expires_in`).
    pub expires_at: Instant,
    /// The least time between two polls (`interval`).
    pub interval: Duration,
    /// When the client last polled.
    pub last_poll: Option<Instant>,
    /// The user's decision so far.
    pub decision: Decision,
}

/// The letters of a user code: RFC 8628 §6.1's base-20 set, without vowels (no words) and without
/// letters easily mistaken for digits.
const USER_CODE_LETTERS: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A user code as typed, reduced to what identifies it: upper case, letters only (`abcd efgh` and
/// `ABCD-EFGH` are the same code).
pub(super) fn normalize_user_code(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_alphabetic).map(|c| c.to_ascii_uppercase()).collect()
}

/// A fresh user code, `ABCD-EFGH`.
fn new_user_code() -> String {
    let mut bytes = [0u8; 8];
    // The OS random generator failing is not something a test server can recover from.
    SystemRandom::new().fill(&mut bytes).expect("the operating system's random generator failed");
    // A byte modulo 20 favours the first 16 letters a little (256 = 12 × 20 + 16): harmless here.
    let letters: String = bytes.iter().map(|b| char::from(USER_CODE_LETTERS[usize::from(*b) % 20])).collect();
    format!("{}-{}", &letters[..4], &letters[4..])
}

/// The tables. Lives in one mutex in the server.
#[derive(Debug, Default)]
pub(super) struct State {
    codes: HashMap<String, Code>,
    /// Device authorizations by device code.
    devices: HashMap<String, Device>,
    /// Device codes by normalized user code.
    user_codes: HashMap<String, String>,
    /// Device-code polls still to answer with `slow_down` (fault).
    pub device_slow_down_left: u32,
    tokens: HashMap<String, Token>,
    /// Live sessions and when their last refresh token expires.
    sessions: HashMap<String, Instant>,
    /// Token requests still to answer with 503.
    pub token_503_left: u32,
    /// Token requests still to answer with 502.
    pub token_502_left: u32,
    issued_since_sweep: u32,
    /// What the REST API remembers: sent SMS, contacts.
    pub rest: Records,
}

impl State {
    /// A new state with the fault counters set.
    pub fn new(token_503: u32, token_502: u32) -> State {
        State { token_503_left: token_503, token_502_left: token_502, ..State::default() }
    }

    /// Stores a new code for `grant`, valid for `ttl`, and returns it with its session id.
    pub fn new_code(&mut self, grant: Grant, ttl: Duration) -> (String, String) {
        self.maybe_sweep();
        let code = random_string(32);
        let session = uuid::Uuid::new_v4().to_string();
        let expires_at = deadline(Instant::now(), ttl);
        self.codes.insert(code.clone(), Code { grant, session: session.clone(), expires_at, redeemed: false });
        (code, session)
    }

    /// The code, if known.
    pub fn code_mut(&mut self, code: &str) -> Option<&mut Code> {
        self.codes.get_mut(code)
    }

    /// Stores a new device authorization for `grant` and returns its device code and user code.
    pub fn new_device(&mut self, grant: Grant, ttl: Duration, interval: Duration) -> (String, String) {
        self.maybe_sweep();
        let mut user_code = new_user_code();
        while self.user_codes.contains_key(&normalize_user_code(&user_code)) {
            user_code = new_user_code();
        }
        let device_code = random_string(32);
        let device = Device {
            grant,
            user_code: user_code.clone(),
            expires_at: deadline(Instant::now(), ttl),
            interval,
            last_poll: None,
            decision: Decision::Pending,
        };
        self.devices.insert(device_code.clone(), device);
        self.user_codes.insert(normalize_user_code(&user_code), device_code.clone());
        (device_code, user_code)
    }

    /// The device authorization of a device code, if known.
    pub fn device_mut(&mut self, device_code: &str) -> Option<&mut Device> {
        self.devices.get_mut(device_code)
    }

    /// The device authorization a user code (as typed) belongs to, if known.
    pub fn device_by_user_code(&mut self, typed: &str) -> Option<&mut Device> {
        let device_code = self.user_codes.get(&normalize_user_code(typed))?;
        self.devices.get_mut(device_code)
    }

    /// Forgets a device authorization: its device code is used up.
    pub fn remove_device(&mut self, device_code: &str) {
        if let Some(device) = self.devices.remove(device_code) {
            self.user_codes.remove(&normalize_user_code(&device.user_code));
        }
    }

    /// The token, if known (dead or alive).
    pub fn token(&self, token: &str) -> Option<&Token> {
        self.tokens.get(token)
    }

    /// Whether a session is alive.
    pub fn session_alive(&self, session: &str) -> bool {
        self.sessions.contains_key(session)
    }

    /// Kills a session: every token issued in it is dead from now on.
    pub fn kill_session(&mut self, session: &str) {
        self.sessions.remove(session);
    }

    /// Kills one token.
    pub fn kill_token(&mut self, token: &str) {
        self.tokens.remove(token);
    }

    /// Marks a refresh token as exchanged and kills the access token issued with it.
    pub fn retire_refresh(&mut self, refresh: &str) {
        let sibling = self.tokens.get_mut(refresh).and_then(|token| {
            token.used = true;
            token.sibling.take()
        });
        if let Some(access) = sibling {
            self.tokens.remove(&access);
        }
    }

    /// Issues an access and a refresh token (and an ID token for `openid`) in `session`.
    pub fn issue(&mut self, grant: &Grant, session: &str, issuer: &str, lifetimes: &Lifetimes) -> Issued {
        self.maybe_sweep();
        let now = Instant::now();
        let access_ttl = if lifetimes.access_dead { Duration::ZERO } else { lifetimes.access };
        let claims = Claims { issuer, grant, session, iat: unix_now() };
        let access = claims.jwt("Bearer", "account", lifetimes.access);
        let refresh = claims.jwt("Refresh", issuer, lifetimes.refresh);
        let id_token = has_scope(&grant.scope, "openid").then(|| claims.jwt("ID", &grant.client_id, lifetimes.access));
        let token = |kind, expires_at, sibling| Token {
            kind,
            realm: grant.realm.clone(),
            client_id: grant.client_id.clone(),
            scope: grant.scope.clone(),
            session: session.to_owned(),
            expires_at,
            used: false,
            sibling,
        };
        self.tokens.insert(access.clone(), token(Kind::Access, deadline(now, access_ttl), None));
        self.tokens
            .insert(refresh.clone(), token(Kind::Refresh, deadline(now, lifetimes.refresh), Some(access.clone())));
        self.sessions.insert(session.to_owned(), deadline(now, lifetimes.refresh));
        Issued { access, refresh, id_token, session: session.to_owned(), scope: grant.scope.clone() }
    }

    /// Every so often, forgets codes, tokens and sessions that expired long ago.
    fn maybe_sweep(&mut self) {
        self.issued_since_sweep += 1;
        if self.issued_since_sweep < SWEEP_EVERY {
            return;
        }
        self.issued_since_sweep = 0;
        let now = Instant::now();
        let alive = |expires_at: Instant| now.saturating_duration_since(expires_at) < KEEP_EXPIRED;
        self.codes.retain(|_, code| alive(code.expires_at));
        self.devices.retain(|_, device| alive(device.expires_at));
        let devices = &self.devices;
        self.user_codes.retain(|_, device_code| devices.contains_key(device_code));
        self.tokens.retain(|_, token| alive(token.expires_at));
        self.sessions.retain(|_, expires_at| alive(*expires_at));
    }
}

/// What the stand-in remembers of the REST API; lives in `State`, behind its one lock.
#[derive(Debug, Default)]
pub(super) struct Records {
    /// History entries of the SMS sent through the API, newest first.
    pub sent: Vec<Value>,
    /// The contacts, once first used (until then: the three of the fake account).
    pub contacts: Option<Vec<Value>>,
    /// The last history entry number handed out.
    pub last_entry: u64,
}

/// Whether the space-separated `scope` contains `wanted`.
pub(super) fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}

/// The claims shared by the tokens of one issue.
struct Claims<'a> {
    issuer: &'a str,
    grant: &'a Grant,
    session: &'a str,
    iat: u64,
}

impl Claims<'_> {
    /// A JWT-shaped token like Keycloak's (header.payload.signature, base64url), with a random `jti`
    /// and a random signature.
    fn jwt(&self, typ: &str, audience: &str, ttl: Duration) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "sipgate-stand-in"});
        let mut payload = json!({
            "exp": self.iat.saturating_add(ttl.as_secs()),
            "iat": self.iat,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iss": self.issuer,
            "aud": audience,
            "sub": SUBJECT,
            "typ": typ,
            "azp": self.grant.client_id,
            "session_state": self.session,
            "sid": self.session,
            "scope": self.grant.scope,
        });
        if typ == "ID"
            && let (Some(nonce), Value::Object(map)) = (&self.grant.nonce, &mut payload)
        {
            map.insert("nonce".to_owned(), Value::String(nonce.clone()));
        }
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            random_string(32)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: &str) -> Grant {
        Grant {
            realm: "third-party".into(),
            client_id: "c".into(),
            redirect_uri: "http://127.0.0.1/oauth".into(),
            scope: scope.into(),
            challenge: None,
            nonce: Some("n-1".into()),
        }
    }

    fn lifetimes() -> Lifetimes {
        Lifetimes { access: Duration::from_secs(300), refresh: Duration::from_secs(600), access_dead: false }
    }

    #[test]
    fn s256_challenge_matches_rfc7636_appendix_b() {
        let challenge =
            Challenge { method: ChallengeMethod::S256, value: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into() };
        assert!(challenge.verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert!(!challenge.verify("wrong"));
        let plain = Challenge { method: ChallengeMethod::Plain, value: "abc".into() };
        assert!(plain.verify("abc"));
    }

    #[test]
    fn tokens_are_jwt_shaped_with_the_claims() {
        let mut state = State::default();
        let issued =
            state.issue(&grant("openid account:read"), "s-1", "http://x/auth/realms/third-party", &lifetimes());
        let payload = issued.access.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["azp"], "c");
        assert_eq!(claims["scope"], "openid account:read");
        assert_eq!(claims["typ"], "Bearer");
        assert_eq!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(), 300);
        let id = issued.id_token.unwrap();
        let id_claims = URL_SAFE_NO_PAD.decode(id.split('.').nth(1).unwrap()).unwrap();
        assert!(String::from_utf8(id_claims).unwrap().contains("\"nonce\":\"n-1\""));
        assert!(state.issue(&grant("account:read"), "s-2", "i", &lifetimes()).id_token.is_none());
    }

    #[test]
    fn huge_lifetimes_do_not_overflow() {
        let mut state = State::default();
        let forever = Lifetimes { access: Duration::MAX, refresh: Duration::MAX, access_dead: false };
        let issued = state.issue(&grant("all"), "s-1", "i", &forever);
        assert!(state.token(&issued.access).is_some_and(|t| t.expires_at > Instant::now()));
        state.new_code(grant("all"), Duration::MAX);
    }

    #[test]
    fn user_codes_look_like_keycloaks_and_are_found_however_typed() {
        let mut state = State::default();
        let (device_code, user_code) = state.new_device(grant("all"), Duration::from_secs(600), Duration::from_secs(5));
        assert_eq!(user_code.len(), 9, "{user_code}");
        assert_eq!(user_code.as_bytes()[4], b'-', "{user_code}");
        assert!(user_code.bytes().filter(|b| *b != b'-').all(|b| USER_CODE_LETTERS.contains(&b)), "{user_code}");
        let typed = user_code.to_ascii_lowercase().replace('-', " ");
        assert!(state.device_by_user_code(&typed).is_some_and(|d| d.decision == Decision::Pending));
        assert!(state.device_mut(&device_code).is_some());
        state.remove_device(&device_code);
        assert!(state.device_by_user_code(&user_code).is_none() && state.device_mut(&device_code).is_none());
    }

    #[test]
    fn retiring_a_refresh_token_kills_its_access_token_only() {
        let mut state = State::default();
        let issued = state.issue(&grant("all"), "s-1", "i", &lifetimes());
        state.retire_refresh(&issued.refresh);
        assert!(state.token(&issued.access).is_none());
        assert!(state.token(&issued.refresh).is_some_and(|t| t.used));
        assert!(state.session_alive("s-1"));
        state.kill_session("s-1");
        assert!(!state.session_alive("s-1"));
    }
}
