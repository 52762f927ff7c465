//! What is wrong with a server's TLS certificate, in words a user can act on: a leaf type that the error
//! and the TLS connector share.

use std::fmt;

/// What is wrong with a server's TLS certificate, in the terms a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// No trusted root vouches for it: an unknown authority signed it, or it signed itself — what a
    /// company's TLS inspection looks like until its CA is trusted.
    UnknownIssuer {
        /// Whether the server presented one certificate that names itself as its issuer.
        self_signed: bool,
    },
    /// It is for other host names.
    OtherName {
        /// The names it is for (at most five), made safe to print; empty if unknown.
        names: Vec<String>,
    },
    /// Its time has passed.
    Expired {
        /// The end of its validity, seconds since 1970, if known.
        not_after: Option<u64>,
        /// The time of this computer's clock, seconds since 1970, if known.
        now: Option<u64>,
    },
    /// Its time has not come yet.
    NotYetValid {
        /// The start of its validity, seconds since 1970, if known.
        not_before: Option<u64>,
        /// The time of this computer's clock, seconds since 1970, if known.
        now: Option<u64>,
    },
    /// Its issuer revoked it.
    Revoked,
    /// Anything else, in words (e.g. "its signature is not valid").
    Other(String),
}

/// `2020-02-01T00:00:00Z` for seconds since 1970.
fn when(secs: u64) -> String {
    crate::utc::iso8601(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// The clock hint of a certificate outside its validity.
fn clock_hint(f: &mut fmt::Formatter<'_>, now: Option<u64>) -> fmt::Result {
    f.write_str(" — check this computer's clock")?;
    if let Some(now) = now {
        write!(f, " (it says {})", when(now))?;
    }
    f.write_str("; if the clock is right, the server's certificate must be renewed")
}

impl fmt::Display for CertificateProblem {
    /// What is wrong and what to do, after "the TLS certificate of HOST ".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateProblem::UnknownIssuer { self_signed } => {
                match self_signed {
                    true => f.write_str("is self-signed, and nothing this computer trusts vouches for it")?,
                    false => f.write_str("is issued by an authority this computer does not trust")?,
                }
                f.write_str(" — is your company inspecting TLS? set SIPGATE_OAUTH_CA_FILE to its CA certificate")
            }
            CertificateProblem::OtherName { names } => {
                f.write_str("is for another host")?;
                if !names.is_empty() {
                    write!(f, " ({})", names.join(", "))?;
                }
                f.write_str(" — check the host name in the URL; no CA certificate makes it right for this one")
            }
            CertificateProblem::Expired { not_after, now } => {
                f.write_str("has expired")?;
                if let Some(not_after) = not_after {
                    write!(f, " (valid until {})", when(*not_after))?;
                }
                clock_hint(f, *now)
            }
            CertificateProblem::NotYetValid { not_before, now } => {
                f.write_str("is not valid yet")?;
                if let Some(not_before) = not_before {
                    write!(f, " (valid from {})", when(*not_before))?;
                }
                clock_hint(f, *now)
            }
            CertificateProblem::Revoked => f.write_str("has been revoked by its issuer — the server must replace it"),
            CertificateProblem::Other(what) => write!(f, "was rejected: {what}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn certificate_problems_name_the_host_and_what_to_do() {
        let shown = |problem| Error::Certificate { host: "login.example".into(), problem }.to_string();
        assert_eq!(
            shown(CertificateProblem::UnknownIssuer { self_signed: false }),
            "the TLS certificate of login.example is issued by an authority this computer does not trust — \
             is your company inspecting TLS? set SIPGATE_OAUTH_CA_FILE to its CA certificate"
        );
        assert_eq!(
            shown(CertificateProblem::UnknownIssuer { self_signed: true }),
            "the TLS certificate of login.example is self-signed, and nothing this computer trusts vouches for it — \
             is your company inspecting TLS? set SIPGATE_OAUTH_CA_FILE to its CA certificate"
        );
        assert_eq!(
            shown(CertificateProblem::OtherName { names: vec!["a.example".into(), "10.0.0.1".into()] }),
            "the TLS certificate of login.example is for another host (a.example, 10.0.0.1) — check the host name \
             in the URL; no CA certificate makes it right for this one"
        );
        assert_eq!(
            shown(CertificateProblem::Expired { not_after: Some(1_580_515_200), now: Some(1_796_522_571) }),
            "the TLS certificate of login.example has expired (valid until 2020-02-01T00:00:00Z) — check this \
             computer's clock (it says 2026-12-06T02:02:51Z); if the clock is right, the server's certificate must be \
             renewed"
        );
        assert_eq!(
            shown(CertificateProblem::NotYetValid { not_before: None, now: None }),
            "the TLS certificate of login.example is not valid yet — check this computer's clock; if the clock is \
             right, the server's certificate must be renewed"
        );
    }
}
