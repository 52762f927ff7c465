//! The subject and issuer of an X.509 certificate (RFC 5280 §4.1), read from its DER just far enough to
//! show them (`-v`) and to tell a self-signed certificate.
//!
//! Promises: any input is read without a panic; what cannot be read is `None`. The names come from the
//! server and are made safe for a terminal.

/// Who a certificate is for and who signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    /// The subject, e.g. `CN=login.sipgate.com, O=sipgate GmbH`.
    pub subject: String,
    /// The issuer, in the same form.
    pub issuer: String,
    /// Whether subject and issuer are the same name, byte for byte: a self-signed certificate.
    pub self_issued: bool,
}

/// Reads the names of the DER certificate `der`.
pub(crate) fn of(der: &[u8]) -> Option<Names> {
    let (0x30, certificate, _) = tlv(der)? else { return None };
    let (0x30, tbs, _) = tlv(certificate)? else { return None };
    let (mut tag, _, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        // [0] EXPLICIT version, then serialNumber
        (tag, _, rest) = tlv(rest)?;
    }
    if tag != 0x02 {
        return None;
    }
    // signature (AlgorithmIdentifier), issuer, validity, subject
    let (0x30, _, rest) = tlv(rest)? else { return None };
    let (0x30, issuer, rest) = tlv(rest)? else { return None };
    let (0x30, _, rest) = tlv(rest)? else { return None };
    let (0x30, subject, _) = tlv(rest)? else { return None };
    Some(Names { subject: name(subject), issuer: name(issuer), self_issued: subject == issuer })
}

/// An RFC 5280 `Name` (the content of its SEQUENCE) as `CN=…, O=…`, attributes in the certificate's order;
/// attributes other than the usual ones are left out.
fn name(mut rdns: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((0x31, mut set, rest)) = tlv(rdns) {
        rdns = rest;
        while let Some((0x30, attribute, rest)) = tlv(set) {
            set = rest;
            if let Some(part) = attribute_text(attribute) {
                parts.push(part);
            }
        }
    }
    if parts.is_empty() { "(no name)".to_owned() } else { crate::redact::terminal_safe(&parts.join(", ")) }
}

/// `CN=value` for an AttributeTypeAndValue of a usual type with a string value.
fn attribute_text(attribute: &[u8]) -> Option<String> {
    let (0x06, oid, rest) = tlv(attribute)? else { return None };
    let label = match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        _ => return None,
    };
    let (tag, value, _) = tlv(rest)?;
    let text = match tag {
        // UTF8String, PrintableString, TeletexString (read as Latin-1 would be wrong; ASCII is common), IA5String
        0x0c | 0x13 | 0x14 | 0x16 => String::from_utf8_lossy(value).into_owned(),
        // BMPString: UTF-16BE
        0x1e => {
            let units: Vec<u16> = value.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => return None,
    };
    Some(format!("{label}={text}"))
}

/// One DER element: its tag, its content and what follows it.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (bytes.iter().fold(0usize, |len, &b| (len << 8) | usize::from(b)), rest)
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER element.
    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            len @ 0..0x80 => out.push(len as u8),
            len => {
                out.push(0x82);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(content);
        out
    }

    fn rdn(oid: &[u8], tag: u8, value: &str) -> Vec<u8> {
        der(0x31, &der(0x30, &[der(0x06, oid), der(tag, value.as_bytes())].concat()))
    }

    fn certificate(issuer: &[u8], subject: &[u8]) -> Vec<u8> {
        let tbs = [
            der(0xa0, &der(0x02, &[2])),
            der(0x02, &[0x01, 0x02]),
            der(0x30, &der(0x06, &[0x2a, 0x86, 0x48])),
            der(0x30, issuer),
            der(0x30, &[der(0x17, b"200101000000Z"), der(0x17, b"300101000000Z")].concat()),
            der(0x30, subject),
            der(0x30, &[]),
        ]
        .concat();
        der(0x30, &[der(0x30, &tbs), der(0x30, &[]), der(0x03, &[0])].concat())
    }

    #[test]
    fn subject_and_issuer_are_read_in_order_and_self_signed_is_told() {
        let ca = [
            rdn(&[0x55, 0x04, 0x06], 0x13, "DE"),
            rdn(&[0x55, 0x04, 0x0a], 0x0c, "Acme"),
            rdn(&[0x55, 0x04, 0x03], 0x0c, "Acme CA"),
        ]
        .concat();
        let leaf = [rdn(&[0x55, 0x04, 0x03], 0x0c, "login.example"), rdn(&[0x2a, 0x03], 0x0c, "ignored")].concat();
        let names = of(&certificate(&ca, &leaf)).unwrap();
        assert_eq!(names.subject, "CN=login.example");
        assert_eq!(names.issuer, "C=DE, O=Acme, CN=Acme CA");
        assert!(!names.self_issued);
        assert!(of(&certificate(&ca, &ca)).unwrap().self_issued);
    }

    #[test]
    fn hostile_names_are_made_safe_and_broken_input_is_none() {
        let evil = rdn(&[0x55, 0x04, 0x03], 0x0c, "x\u{1b}]0;pwned\u{7}");
        assert_eq!(of(&certificate(&evil, &evil)).unwrap().subject, "CN=x?]0;pwned?");
        let good = certificate(&evil, &evil);
        for cut in 0..good.len() {
            assert_eq!(of(&good[..cut]), None, "cut at {cut}");
        }
        assert_eq!(of(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(of(&[]), None);
    }
}
