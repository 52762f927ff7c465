//! Which server certificates are trusted: the verifier of one [`Http`](crate::http::Http).
//!
//! A certificate is accepted when it chains to one of three sets of roots, none of which replaces
//! another: the roots compiled in (Mozilla's, from webpki-roots); the operating system's (on Windows and
//! macOS its own verifier, elsewhere the system bundle and directory, or `SSL_CERT_FILE` / `SSL_CERT_DIR`
//! as OpenSSL reads them); and those of `SIPGATE_OAUTH_CA_FILE`. The roots are loaded once, when the
//! first `https://` connection is made: a run that only talks to loopback `http://` never reads them.
//! The chain each server presented is kept, so that a rejection can be explained (`-v`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::names::{self, Names};
use crate::ca_file::CaFile;

/// The trusted roots of one client, and the TLS configuration built from them on first use.
pub(crate) struct Trust {
    extra: Option<CaFile>,
    config: OnceLock<Result<Arc<ClientConfig>, String>>,
    seen: Arc<SeenChains>,
}

// Written out, not derived: ureq's connector and rustls' verifier traits need `Debug`, so a derived one
// would link the `Debug` of rustls' whole configuration (every root, suite and verifier) into the binary.
impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust").field("extra", &self.extra).field("built", &self.config.get().is_some()).finish()
    }
}

impl Trust {
    /// The built-in and the system's roots, and those of `extra`.
    pub(crate) fn new(extra: Option<CaFile>) -> Trust {
        Trust { extra, config: OnceLock::new(), seen: Arc::default() }
    }

    /// The TLS client configuration; built on the first call. `Err` if no verifier could be made.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config.get_or_init(|| self.build()).clone()
    }

    /// The names of the chain `host` presented last, leaf first.
    pub(crate) fn chain_of(&self, host: &str) -> Vec<Names> {
        self.seen.0.lock().unwrap_or_else(PoisonError::into_inner).get(host).cloned().unwrap_or_default()
    }

    fn build(&self) -> Result<Arc<ClientConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let extra = self.extra.as_ref().map(CaFile::certificates).unwrap_or_default();
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        // Each was checked when the configuration was read.
        roots.add_parsable_certificates(extra.iter().cloned());
        roots.add_parsable_certificates(system_roots());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|error| format!("no TLS verifier: {error}"))?;
        let mut verifiers: Vec<Arc<dyn ServerCertVerifier>> = vec![webpki];
        if let Some(platform) = platform_verifier(extra, &provider)? {
            verifiers.push(platform);
        }
        let verifier = Arc::new(Recording { verifiers, seen: Arc::clone(&self.seen) });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("no TLS configuration: {error}"))?
            .dangerous() // not dangerous: the verifier is rustls' own, with more roots (see Recording)
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// The roots of the system's bundle and directory, or of `SSL_CERT_FILE` / `SSL_CERT_DIR` when set
/// (each replaces the default, as in OpenSSL). Files that cannot be read are skipped: the other roots
/// remain.
#[cfg(all(unix, not(target_vendor = "apple")))]
fn system_roots() -> Vec<CertificateDer<'static>> {
    rustls_native_certs::load_native_certs().certs
}

/// On Windows and macOS the system's roots are asked through its verifier instead.
#[cfg(not(all(unix, not(target_vendor = "apple"))))]
fn system_roots() -> Vec<CertificateDer<'static>> {
    Vec::new()
}

/// The system's verifier with the CA file's roots added: Windows' and macOS' own trust decisions.
#[cfg(any(windows, target_vendor = "apple"))]
fn platform_verifier(
    extra: &[CertificateDer<'static>],
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ServerCertVerifier>>, String> {
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra.iter().cloned(), Arc::clone(provider))
            .map_err(|error| format!("the system's TLS verifier is not available: {error}"))?;
    Ok(Some(Arc::new(verifier)))
}

/// Elsewhere the system's roots are in the one store (see [`system_roots`]).
#[cfg(not(any(windows, target_vendor = "apple")))]
fn platform_verifier(
    _extra: &[CertificateDer<'static>],
    _provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ServerCertVerifier>>, String> {
    Ok(None)
}

/// The chains servers presented, by host name.
#[derive(Debug, Default)]
struct SeenChains(Mutex<HashMap<String, Vec<Names>>>);

/// Asks each verifier in turn and accepts what one of them accepts; keeps the chain it was shown. The
/// first verifier's error is the one reported: it is rustls' own, with the details of what is wrong.
struct Recording {
    verifiers: Vec<Arc<dyn ServerCertVerifier>>,
    seen: Arc<SeenChains>,
}

// Written out for the reason given at `Trust`'s.
impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording").field("verifiers", &self.verifiers.len()).finish_non_exhaustive()
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity).chain(intermediates).filter_map(|der| names::of(der)).collect();
        let host = server_name.to_str().into_owned();
        self.seen.0.lock().unwrap_or_else(PoisonError::into_inner).insert(host, chain);
        let mut first_error = None;
        for verifier in &self.verifiers {
            match verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
                Ok(verified) => return Ok(verified),
                // Only an unknown issuer may be known to the next verifier; anything else stands.
                Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) if first_error.is_none() => {
                    first_error = Some(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer));
                }
                Err(error) => return Err(first_error.unwrap_or(error)),
            }
        }
        Err(first_error.unwrap_or(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifiers[0].verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifiers[0].verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.verifiers[0].supported_verify_schemes()
    }
}
