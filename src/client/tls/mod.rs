//! How HTTPS servers are verified: the bundled web PKI roots (default), a private CA from
//! `--ca-cert`, or none at all with `--insecure`. It builds ureq's TLS settings and the agent,
//! whose connector chain is ureq's (CONNECT proxies, TCP, TLS) with our own TCP step, whose
//! reads the kernel stamps (`transport`), for every mode and for plain http; for `--ca-cert` the
//! TLS step is ours too, so that a self-signed server certificate given there is trusted
//! (`pinned` says when); and it reads PEM bundles. It does not open files (config does) or print
//! the `--insecure` warning (commands does).

mod pinned;

use super::Tls;
use super::transport::{ConnBuffers, StampedTcpConnector, Tracked, time_left};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, NextTimeout, RustlsConnector,
    Transport, TransportAdapter,
};

/// ureq's TLS settings for `tls`. rustls always; never OpenSSL, so a static build links no system TLS library. With `--ca-cert`
/// the agent's own TLS step verifies instead (see `agent`); the roots here then go unused.
pub fn config(tls: &Tls) -> TlsConfig {
    let builder = TlsConfig::builder();
    match tls {
        Tls::WebPki => builder.root_certs(RootCerts::WebPki),
        Tls::CaCerts(ders) => {
            let certs: Vec<Certificate<'static>> =
                ders.iter().map(|d| Certificate::from_der(d).to_owned()).collect();
            builder.root_certs(RootCerts::new_with_certs(&certs))
        }
        Tls::Insecure => builder.disable_verification(true),
    }
    .build()
}

/// `count` agents for `config`, sharing one connector chain: ureq's default (CONNECT proxies,
/// then TCP, then TLS for `https`) with our TCP step in place of ureq's, so every read is stamped
/// whatever the scheme and TLS mode (rustls then wraps it, and a stamp is the ciphertext's
/// arrival). The TLS step is ureq's own for the web roots and `--insecure`, which verify as
/// `config` says; for `--ca-cert` it is ours, since ureq's TLS settings take no custom verifier.
/// The SOCKS step ureq's chain has only logs a warning without ureq's `socks-proxy` feature, and
/// is left out.
pub fn agents(config: ureq::config::Config, tls: &Tls, count: usize) -> Vec<ureq::Agent> {
    if config.proxy().is_some() {
        let tcp = ().chain(ConnectProxyConnector::default()).chain(StampedTcpConnector::new());
        with_tls(config, tls, tcp, count)
    } else {
        with_tls(config, tls, ().chain(StampedTcpConnector::new()), count)
    }
}

/// The chain `tcp` with the TLS step `tls` asks for, shared by `count` agents.
fn with_tls<T: Connector<Out = impl Transport>>(
    config: ureq::config::Config,
    tls: &Tls,
    tcp: T,
    count: usize,
) -> Vec<ureq::Agent> {
    match tls {
        Tls::CaCerts(ders) => shared(config, Arc::new(tcp.chain(CaCertTls::new(ders))), count),
        Tls::WebPki | Tls::Insecure => shared(config, Arc::new(tcp.chain(RustlsConnector::default())), count),
    }
}

fn shared<C: Connector>(config: ureq::config::Config, chain: Arc<C>, count: usize) -> Vec<ureq::Agent> {
    (0..count)
        .map(|_| ureq::Agent::with_parts(config.clone(), Shared(chain.clone()), DefaultResolver::default()))
        .collect()
}

/// A connector chain that several agents use; its connections are `Tracked`, so that a request
/// knows whether it had a new one.
#[derive(Debug)]
struct Shared<C>(Arc<C>);

impl<In: Transport, C: Connector<In>> Connector<In> for Shared<C> {
    type Out = Tracked<C::Out>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(self.0.connect(details, chained)?.map(Tracked::new))
    }
}

/// ureq's rustls connector for `--ca-cert`, with the rustls settings built here: the ring
/// provider, every TLS version, and the verifier of `pinned`.
#[derive(Debug)]
struct CaCertTls {
    config: Arc<ClientConfig>,
}

impl CaCertTls {
    fn new(ders: &[Vec<u8>]) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = pinned::Verifier::new(ders, provider.clone())
            .expect("pem_certificates lets no --ca-cert bundle through that rustls cannot parse");
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .expect("ring supports every TLS version rustls has")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Self { config: Arc::new(config) }
    }
}

impl<In: Transport> Connector<In> for CaCertTls {
    type Out = Either<In, TlsTransport>;

    /// Wraps the chained transport in TLS for `https` unless it already is (ureq's own steps).
    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else { return Ok(None) };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let name = ServerName::try_from(bare)
            .map_err(|_| ureq::Error::Tls("the host in the URL is not a valid DNS name or IP address"))?
            .to_owned();
        let mut conn = ClientConnection::new(self.config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(time_left(details));
        conn.complete_io(&mut sock)?;
        let buffers =
            ConnBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream: StreamOwned::new(conn, sock) })))
    }
}

/// A TLS connection over the chained transport, as ureq's `RustlsTransport` (which only ureq
/// can make).
struct TlsTransport {
    buffers: ConnBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        self.stream.write_all(&self.buffers.output()[..amount])?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let amount = self.stream.read(self.buffers.input_append_buf())?;
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

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").field("chained", &self.stream.sock.inner()).finish()
    }
}

/// The DER bytes of every certificate in a PEM bundle; an error says what is wrong with it.
pub fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c.der().to_vec()),
            Ok(_) => {} // a private key beside the chain is harmless here
            Err(e) => return Err(format!("is not valid PEM ({e}): give the CA certificate in PEM form")),
        }
    }
    // Checked here, not at the first request: rustls would skip a broken one in silence.
    for (i, der) in certs.iter().enumerate() {
        if RootCertStore::empty().add(CertificateDer::from(der.as_slice())).is_err() {
            return Err(format!(
                "holds a certificate (number {} in the file) that is not valid X.509: give the CA \
                 certificate in PEM form (`openssl x509 -in FILE -noout -text` shows what is wrong)",
                i + 1
            ));
        }
    }
    if certs.is_empty() {
        return Err(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----): give the CA certificate in PEM form"
                .into(),
        );
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused() {
        let err = pem_certificates(b"hello\n").unwrap_err();
        assert!(err.starts_with("holds no PEM certificate"), "{err}");
        assert!(pem_certificates(b"").is_err());
    }

    #[test]
    fn a_certificate_that_is_not_x509_is_refused() {
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = pem_certificates(pem).unwrap_err();
        assert!(
            err.starts_with("holds a certificate (number 1 in the file) that is not valid X.509"),
            "{err}"
        );
    }
}
