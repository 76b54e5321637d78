//! How HTTPS servers are verified: the bundled web PKI roots (default), a private CA from
//! `--ca-cert`, or none at all with `--insecure`. It builds ureq's TLS settings and reads PEM
//! bundles; it does not open files (config does) or print the `--insecure` warning (app does).

use super::Tls;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// ureq's TLS settings for `tls`. rustls always; never OpenSSL (DESIGN §7).
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
}
