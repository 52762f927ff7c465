//! `SIPGATE_OAUTH_CA_FILE`: certificate authorities the user adds to the trusted roots, e.g. the CA of a
//! company that inspects TLS.
//!
//! Promises: a [`CaFile`] exists only for a file that could be read and holds at least one PEM certificate
//! that can serve as a root; everything else is refused when the configuration is read, before any
//! request, with a message that names the file. The certificates add to the other roots, never replace them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The certificates of a PEM file, checked and ready to be trusted.
#[derive(Clone)]
pub struct CaFile {
    path: PathBuf,
    certificates: Arc<Vec<CertificateDer<'static>>>,
}

impl std::fmt::Debug for CaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaFile").field("path", &self.path).field("certificates", &self.certificates.len()).finish()
    }
}

impl CaFile {
    /// Reads the PEM certificates (`-----BEGIN CERTIFICATE-----`) of `path`; other PEM sections (a
    /// private key, say) are skipped. `Err` says what is wrong with the file, naming it.
    pub fn read(path: &Path) -> Result<CaFile, String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|error| format!("cannot read {shown}: {error}"))?;
        let mut certificates = Vec::new();
        for (n, item) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
            let certificate = item.map_err(|_| format!("{shown} is not a readable PEM file (section {})", n + 1))?;
            if rustls::RootCertStore::empty().add(certificate.clone()).is_err() {
                return Err(format!("certificate {} in {shown} cannot be read as an X.509 certificate", n + 1));
            }
            certificates.push(certificate);
        }
        if certificates.is_empty() {
            return Err(format!("{shown} holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)"));
        }
        Ok(CaFile { path: path.to_owned(), certificates: Arc::new(certificates) })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The certificates, in the order of the file.
    pub(crate) fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_empty_or_broken_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(CaFile::read(&missing).unwrap_err().starts_with(&format!("cannot read {}: ", missing.display())));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        assert_eq!(
            CaFile::read(&empty).unwrap_err(),
            format!("{} holds no PEM certificate (a block starting -----BEGIN CERTIFICATE-----)", empty.display())
        );
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        assert_eq!(
            CaFile::read(&garbage).unwrap_err(),
            format!("certificate 1 in {} cannot be read as an X.509 certificate", garbage.display())
        );
    }
}
