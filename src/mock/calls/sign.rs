//! `X-Sipgate-Signature`: base64 of an RSA PKCS#1 v1.5 SHA-256 signature over the raw body of a push,
//! as sipgate signs (SIPGATE-IO.md §6).
//!
//! The stand-in cannot hold sipgate's private key, so by default it signs with a **published test key**
//! (`test-webhook-key.pem` next to this file, generated once with openssl because ring cannot generate
//! RSA keys). Anyone can sign with that key: it proves nothing outside tests. `mock --webhook-key FILE`
//! takes a key of the user's own. The public key is served as PEM (SubjectPublicKeyInfo) at
//! `GET /_stand-in/webhook-public-key`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// The published TEST key pair (PKCS#8 PEM). For tests of the stand-in only; never trust it.
pub(crate) const TEST_KEY_PEM: &str = include_str!("test-webhook-key.pem");

/// A key that signs pushes. `Debug` does not show it.
pub(crate) struct Signer {
    key: RsaKeyPair,
    /// Whether it is the published test key.
    pub is_test_key: bool,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("is_test_key", &self.is_test_key).finish_non_exhaustive()
    }
}

impl Signer {
    /// The published test key.
    pub fn test() -> Signer {
        let mut signer = Signer::from_pem(TEST_KEY_PEM).expect("the committed test key is a valid RSA key");
        signer.is_test_key = true;
        signer
    }

    /// A key from PEM text: `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1), unencrypted.
    pub fn from_pem(text: &str) -> Result<Signer, String> {
        for (label, pkcs8) in [("PRIVATE KEY", true), ("RSA PRIVATE KEY", false)] {
            let Some(der) = pem_block(text, label)? else { continue };
            let key = if pkcs8 { RsaKeyPair::from_pkcs8(&der) } else { RsaKeyPair::from_der(&der) };
            return key
                .map(|key| Signer { key, is_test_key: false })
                .map_err(|error| format!("not an RSA key ring can sign with ({error}); RSA 2048 to 8192 bits"));
        }
        Err("no unencrypted `-----BEGIN PRIVATE KEY-----` block (convert with `openssl pkcs8 -topk8 -nocrypt`)"
            .to_owned())
    }

    /// The signature of `body`, base64.
    pub fn sign(&self, body: &[u8]) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        // Signing with a valid key into a buffer of the modulus' length does not fail.
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), body, &mut signature)
            .expect("RSA signing with a checked key and a buffer of the right size");
        STANDARD.encode(signature)
    }

    /// The public key as PEM `PUBLIC KEY` (SubjectPublicKeyInfo), what `openssl` and Node's crypto read.
    pub fn public_pem(&self) -> String {
        // AlgorithmIdentifier { rsaEncryption, NULL }.
        const ALGORITHM: &[u8] =
            &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
        let mut bits = vec![0];
        bits.extend_from_slice(self.key.public().as_ref());
        let mut inner = ALGORITHM.to_vec();
        inner.extend(der(0x03, &bits));
        let spki = der(0x30, &inner);
        let base64 = STANDARD.encode(spki);
        let lines: Vec<&str> =
            base64.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap_or("")).collect();
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
    }
}

/// A DER TLV.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(u8::try_from(length).unwrap_or(0));
    } else {
        let bytes: Vec<u8> = length.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The bytes of the PEM block `label`, if there is one.
fn pem_block(text: &str, label: &str) -> Result<Option<Vec<u8>>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else { return Ok(None) };
    let body = &text[start + begin.len()..];
    let stop = body.find(&end).ok_or(format!("the {label} block has no END line"))?;
    let base64: String = body[..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(base64).map(Some).map_err(|_| format!("the {label} block is not base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_served_public_key() {
        let signer = Signer::test();
        let body = b"event=newCall&from=492111234567";
        let signature = STANDARD.decode(signer.sign(body)).unwrap();
        let pem = signer.public_pem();
        let der = pem_block(&pem, "PUBLIC KEY").unwrap().unwrap();
        // The SubjectPublicKeyInfo ends with the PKCS#1 key ring verifies with.
        let pkcs1 = signer.key.public().as_ref();
        assert!(der.ends_with(pkcs1));
        let key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, pkcs1);
        assert!(key.verify(body, &signature).is_ok());
        assert!(key.verify(b"event=newCall&from=492111234568", &signature).is_err());
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(Signer::from_pem("nothing").unwrap_err().contains("BEGIN PRIVATE KEY"));
        assert!(
            Signer::from_pem("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----")
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            Signer::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .unwrap_err()
                .contains("RSA")
        );
        assert!(format!("{:?}", Signer::test()).starts_with("Signer { is_test_key: true"));
    }
}
