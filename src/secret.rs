//! Newtypes for every secret the tool handles.
//!
//! A secret's `Debug` prints `Name([redacted])` and it has no `Display`, so a secret cannot end up in a
//! message or a log by accident. Reading the value is an explicit `.secret()` call: every place that
//! reveals one is greppable. Two secrets compare in constant time, so a comparison tells an observer
//! nothing about how much of a value matched.

use subtle::ConstantTimeEq;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
            }
        }

        impl Eq for $name {}

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret value itself. Every caller is a place that reveals it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// The OAuth client secret (RFC 6749 §2.3.1).
    ClientSecret
);
secret_type!(
    /// An authorization code from the callback (RFC 6749 §4.1.2).
    AuthorizationCode
);
secret_type!(
    /// The PKCE code verifier (RFC 7636 §4.1).
    CodeVerifier
);
secret_type!(
    /// The `state` value that binds a callback to its authorization request (RFC 6749 §10.12).
    CsrfState
);
secret_type!(
    /// A device code of the device authorization grant (RFC 8628 §3.2).
    DeviceCode
);
secret_type!(
    /// An access token (RFC 6749 §1.4).
    AccessToken
);
secret_type!(
    /// A refresh token (RFC 6749 §1.5).
    RefreshToken
);
secret_type!(
    /// An OpenID Connect ID token.
    IdToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secrets: Vec<String> = vec![
            format!("{:?}", ClientSecret::new("s3cr3t")),
            format!("{:?}", AuthorizationCode::new("s3cr3t")),
            format!("{:?}", CodeVerifier::new("s3cr3t")),
            format!("{:?}", CsrfState::new("s3cr3t")),
            format!("{:?}", AccessToken::new("s3cr3t")),
            format!("{:?}", RefreshToken::new("s3cr3t")),
            format!("{:?}", IdToken::new("s3cr3t")),
        ];
        assert_eq!(secrets[0], "ClientSecret([redacted])");
        assert_eq!(secrets[4], "AccessToken([redacted])");
        for shown in &secrets {
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
        assert_eq!(AccessToken::new("s3cr3t").secret(), "s3cr3t");
        assert_eq!(AccessToken::new("s3cr3t"), AccessToken::new("s3cr3t"));
        assert_ne!(AccessToken::new("s3cr3t"), AccessToken::new("s3cr3T"));
        assert_ne!(AccessToken::new("s3cr3t"), AccessToken::new("s3cr3"));
    }
}
