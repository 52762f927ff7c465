//! The per-flow secrets of the authorization request: the PKCE verifier and challenge (RFC 7636)
//! and the `state` value (RFC 6749 §10.12).
//!
//! Both are fresh for every flow and come from the operating system's random source.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use crate::secret::{CodeVerifier, CsrfState};

/// A PKCE pair: the verifier stays here, the challenge goes into the authorization URL.
#[derive(Debug)]
pub struct Pkce {
    /// Sent with the token request (RFC 7636 §4.5).
    pub verifier: CodeVerifier,
    /// `BASE64URL(SHA256(verifier))`, sent with the authorization request (RFC 7636 §4.2).
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair: the verifier is 32 random bytes, base64url without padding (43 characters, RFC 7636 §4.1).
    pub fn generate() -> Pkce {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).expect("the operating system's random source is available");
        Pkce::from_verifier(CodeVerifier::new(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: CodeVerifier) -> Pkce {
        let challenge = s256(verifier.secret());
        Pkce { verifier, challenge }
    }

    /// The `code_challenge_method` parameter: always `S256`.
    pub const METHOD: &'static str = "S256";
}

/// `BASE64URL-ENCODE(SHA256(ASCII(verifier)))`, RFC 7636 §4.2.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// A fresh `state`: a random UUID v4, 122 random bits, as 32 hex digits.
pub fn new_state() -> CsrfState {
    CsrfState::new(uuid::Uuid::new_v4().simple().to_string())
}

/// Compares a received `state` with the expected one in constant time.
pub fn state_matches(expected: &CsrfState, received: &str) -> bool {
    expected.secret().as_bytes().ct_eq(received.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let pkce = Pkce::from_verifier(CodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(pkce.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_are_43_unreserved_characters_and_fresh() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        assert_eq!(a.verifier.secret().len(), 43);
        assert!(a.verifier.secret().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.challenge, s256(a.verifier.secret()));
    }

    #[test]
    fn state_is_fresh_and_compared_exactly() {
        let state = new_state();
        assert_eq!(state.secret().len(), 32);
        assert_ne!(state, new_state());
        assert!(state_matches(&state, state.secret()));
        assert!(!state_matches(&state, &state.secret()[..31]));
        assert!(!state_matches(&state, ""));
    }
}
