//! TLS for the HTTP client: a ureq connector over rustls that trusts the roots of [`trust`], and tells
//! what is wrong with a certificate it rejects.
//!
//! Promises: certificate verification is never switched off; a rejected certificate becomes a
//! [`Rejected`] (the host, the problem in words, the chain's names for `-v`), which
//! [`Http`](crate::http::Http) turns into [`Error::Certificate`](crate::Error::Certificate). No other
//! part of the crate speaks to rustls.

pub(crate) mod names;
mod trust;

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConnection, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

pub(crate) use self::names::Names;
pub(crate) use self::trust::Trust;
use crate::certificate::CertificateProblem;

/// A certificate the server presented and that was not accepted: carried out of ureq inside its I/O
/// error.
#[derive(Debug)]
pub(crate) struct Rejected {
    /// The host name connected to.
    pub host: String,
    /// What is wrong.
    pub problem: CertificateProblem,
    /// Subject and issuer of each certificate presented, leaf first.
    pub chain: Vec<Names>,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the TLS certificate of {} was rejected", self.host)
    }
}

impl std::error::Error for Rejected {}

impl Rejected {
    /// The rejection inside a ureq error, if it is one.
    pub(crate) fn inside(error: &ureq::Error) -> Option<&Rejected> {
        match error {
            ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<Rejected>(),
            _ => None,
        }
    }
}

/// Wraps the connection in TLS when the URL is `https://`.
#[derive(Debug)]
pub(crate) struct TlsConnector(pub(crate) Arc<Trust>);

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else { return Ok(None) };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let name = ServerName::try_from(host.clone()).map_err(|_| ureq::Error::Tls("not a host name for TLS"))?;
        let config = self.0.client_config().map_err(|reason| ureq::Error::Io(std::io::Error::other(reason)))?;
        let mut connection = ClientConnection::new(config, name)?;
        let mut socket = TransportAdapter::new(transport.boxed(), Arc::clone(&details.current_time));
        socket.set_timeout(details.timeout);
        if let Err(error) = connection.complete_io(&mut socket) {
            let problem = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()).and_then(problem);
            return Err(match problem {
                Some(problem) => {
                    let chain = self.0.chain_of(&host);
                    let problem = match problem {
                        CertificateProblem::UnknownIssuer { .. } => {
                            CertificateProblem::UnknownIssuer { self_signed: chain.len() == 1 && chain[0].self_issued }
                        }
                        other => other,
                    };
                    let rejected = Rejected { host, problem, chain };
                    ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, rejected))
                }
                None => ureq::Error::from(error),
            });
        }
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream: StreamOwned { conn: connection, sock: socket } })))
    }
}

/// What rustls' verdict means, in the terms of [`CertificateProblem`]; `None` when it is not about the
/// certificate.
fn problem(error: &rustls::Error) -> Option<CertificateProblem> {
    let rustls::Error::InvalidCertificate(error) = error else { return None };
    Some(match error {
        CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer { self_signed: false },
        CertificateError::NotValidForName => CertificateProblem::OtherName { names: Vec::new() },
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names = presented.iter().filter_map(|name| presented_name(name)).take(5).collect();
            CertificateProblem::OtherName { names }
        }
        CertificateError::Expired => CertificateProblem::Expired { not_after: None, now: None },
        CertificateError::ExpiredContext { time, not_after } => {
            CertificateProblem::Expired { not_after: Some(not_after.as_secs()), now: Some(time.as_secs()) }
        }
        CertificateError::NotValidYet => CertificateProblem::NotYetValid { not_before: None, now: None },
        CertificateError::NotValidYetContext { time, not_before } => {
            CertificateProblem::NotYetValid { not_before: Some(not_before.as_secs()), now: Some(time.as_secs()) }
        }
        CertificateError::Revoked => CertificateProblem::Revoked,
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            CertificateProblem::Other("it is not meant for a TLS server".to_owned())
        }
        CertificateError::BadSignature => CertificateProblem::Other("its signature is not valid".to_owned()),
        CertificateError::BadEncoding => CertificateProblem::Other("it cannot be read".to_owned()),
        _ => CertificateProblem::Other("it does not pass verification".to_owned()),
    })
}

/// A name as rustls presents it (`DnsName("a.example")`, `IpAddress(10.0.0.1)`) in plain form, made safe for
/// a terminal; other kinds of name are left out.
fn presented_name(presented: &str) -> Option<String> {
    let plain = presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| presented.strip_prefix("IpAddress(")?.strip_suffix(')'))?;
    Some(crate::redact::terminal_safe(plain))
}

/// A TLS connection over the transport below it.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").field("inner", &self.stream.sock.inner()).finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_verdicts_become_problems_in_words() {
        let cert = |error| problem(&rustls::Error::InvalidCertificate(error));
        assert_eq!(
            cert(CertificateError::UnknownIssuer),
            Some(CertificateProblem::UnknownIssuer { self_signed: false })
        );
        let expired = CertificateError::ExpiredContext {
            time: rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
            not_after: rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_580_515_200)),
        };
        assert_eq!(
            cert(expired),
            Some(CertificateProblem::Expired { not_after: Some(1_580_515_200), now: Some(1_800_000_000) })
        );
        let name = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("login.example").unwrap().to_owned(),
            presented: vec![
                "DnsName(\"other.example\")".into(),
                "IpAddress(10.0.0.1)".into(),
                "DirectoryName".into(),
                "DnsName(\"evil\u{1b}[2J\")".into(),
            ],
        };
        let Some(CertificateProblem::OtherName { names }) = cert(name) else { panic!("a name mismatch") };
        assert_eq!(names, ["other.example", "10.0.0.1", "evil?[2J"]);
        assert_eq!(problem(&rustls::Error::HandshakeNotComplete), None);
    }
}
