//! Trust in a `--ca-cert` certificate that the server presents as its own. The self-signed
//! certificate most people make (`openssl req -x509 …`) is marked CA:TRUE, and webpki refuses a
//! CA as an end entity (`CaUsedAsEndEntity`) where curl's `--cacert` accepts it. This verifier
//! wraps rustls's own and overrules only that one refusal, only for a certificate byte-identical
//! to a given one, and only after the checks webpki makes on an end entity besides its CA flag:
//! the validity period, serverAuth among its extended key usages, and the host in the URL. It
//! builds no chains and reads no DER beyond the few fields those checks need.

use chrono::NaiveDate;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier, verify_server_name};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use std::sync::Arc;
use std::time::Duration;

/// rustls's web PKI verifier over the `--ca-cert` roots, which also accepts a server whose
/// certificate is one of those roots.
#[derive(Debug)]
pub struct Verifier {
    inner: Arc<WebPkiServerVerifier>,
    /// The `--ca-cert` certificates (DER), compared byte for byte with a server's.
    pinned: Vec<Vec<u8>>,
}

impl Verifier {
    /// Fails only when no certificate in `certs` parses as a trust anchor.
    pub fn new(certs: &[Vec<u8>], provider: Arc<CryptoProvider>) -> Result<Self, VerifierBuilderError> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(certs.iter().map(|c| CertificateDer::from(c.as_slice())));
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build()?;
        Ok(Self { inner, pinned: certs.to_vec() })
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(e) if is_ca_used_as_end_entity(&e) && self.pinned.iter().any(|p| p[..] == end_entity[..]) => {
                check_end_entity(end_entity, now)?;
                verify_server_name(&ParsedCertificate::try_from(end_entity)?, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// rustls passes webpki's `CaUsedAsEndEntity` on as an opaque `Other` certificate error.
fn is_ca_used_as_end_entity(e: &Error) -> bool {
    matches!(e, Error::InvalidCertificate(CertificateError::Other(other))
        if matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity)))
}

/// webpki's checks on an end entity other than its CA flag, with the errors webpki gives
/// (webpki checks the validity period before the CA flag; checked again here so that trust
/// never rests on the order of its checks).
fn check_end_entity(der: &[u8], now: UnixTime) -> Result<(), Error> {
    let f = fields(der).ok_or(CertificateError::BadEncoding)?;
    let at = |secs| UnixTime::since_unix_epoch(Duration::from_secs(secs));
    let now_s = now.as_secs();
    if f.not_before > f.not_after {
        return Err(CertificateError::Expired.into());
    }
    if now_s < f.not_before {
        return Err(CertificateError::NotValidYetContext { time: now, not_before: at(f.not_before) }.into());
    }
    if now_s > f.not_after {
        return Err(CertificateError::ExpiredContext { time: now, not_after: at(f.not_after) }.into());
    }
    if !f.server_auth {
        return Err(CertificateError::InvalidPurpose.into());
    }
    Ok(())
}

/// What the checks read from a certificate.
#[derive(Debug, PartialEq)]
struct Fields {
    /// notBefore and notAfter in seconds since 1970 (earlier times count as 0).
    not_before: u64,
    not_after: u64,
    /// No extended key usage extension, or one that lists serverAuth.
    server_auth: bool,
}

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const BOOLEAN: u8 = 0x01;
const OCTET_STRING: u8 = 0x04;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version` and `[3] EXPLICIT Extensions` in TBSCertificate.
const VERSION: u8 = 0xa0;
const EXTENSIONS: u8 = 0xa3;
/// 2.5.29.37 and 1.3.6.1.5.5.7.3.1, the contents of their DER encodings.
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];

/// Reads the fields from a DER certificate (RFC 5280 §4.1); `None` if it is malformed.
fn fields(der: &[u8]) -> Option<Fields> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (mut tbs, _) = expect(cert, SEQUENCE)?;
    if tbs.first() == Some(&VERSION) {
        tbs = element(tbs)?.2;
    }
    for _ in 0..3 {
        tbs = element(tbs)?.2; // serialNumber, signature, issuer
    }
    let (validity, mut tbs) = expect(tbs, SEQUENCE)?;
    let (tag, not_before, rest) = element(validity)?;
    let not_before = time(tag, not_before)?;
    let (tag, not_after, rest) = element(rest)?;
    let not_after = time(tag, not_after)?;
    if !rest.is_empty() {
        return None;
    }
    for _ in 0..2 {
        tbs = element(tbs)?.2; // subject, subjectPublicKeyInfo
    }
    let mut server_auth = true;
    while !tbs.is_empty() {
        let (tag, contents, rest) = element(tbs)?;
        if tag == EXTENSIONS {
            server_auth = allows_server_auth(contents)?;
        }
        tbs = rest;
    }
    let secs = |t: i64| u64::try_from(t).unwrap_or(0);
    Some(Fields { not_before: secs(not_before), not_after: secs(not_after), server_auth })
}

/// Whether the extensions allow serverAuth: webpki requires it when the extension is present,
/// and refuses an empty one.
fn allows_server_auth(extensions: &[u8]) -> Option<bool> {
    let (mut list, _) = expect(extensions, SEQUENCE)?;
    while !list.is_empty() {
        let (extension, rest) = expect(list, SEQUENCE)?;
        list = rest;
        let (oid, mut extension) = expect(extension, OID)?;
        if oid != EXT_KEY_USAGE {
            continue;
        }
        if extension.first() == Some(&BOOLEAN) {
            extension = element(extension)?.2; // critical
        }
        let (value, _) = expect(extension, OCTET_STRING)?;
        let (mut purposes, _) = expect(value, SEQUENCE)?;
        let mut found = false;
        while !purposes.is_empty() {
            let (purpose, rest) = expect(purposes, OID)?;
            found |= purpose == SERVER_AUTH;
            purposes = rest;
        }
        return Some(found);
    }
    Some(true)
}

/// A UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`), the
/// two forms RFC 5280 allows, as seconds since 1970.
fn time(tag: u8, s: &[u8]) -> Option<i64> {
    let number = |at: usize, len: usize| {
        let digits = s.get(at..at + len)?;
        digits.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let (year, at) = match (tag, s.len()) {
        (UTC_TIME, 13) => (number(0, 2).map(|y| if y >= 50 { 1900 + y } else { 2000 + y })?, 2),
        (GENERALIZED_TIME, 15) => (number(0, 4)?, 4),
        _ => return None,
    };
    if s.last() != Some(&b'Z') {
        return None;
    }
    let part = |i: usize| number(at + 2 * i, 2);
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, part(0)?, part(1)?)?;
    Some(date.and_hms_opt(part(2)?, part(3)?, part(4)?)?.and_utc().timestamp())
}

/// The contents of the element at the start of `input` if its tag is `tag`, and what follows.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, contents, rest) = element(input)?;
    (t == tag).then_some((contents, rest))
}

/// The element at the start of `input`: its tag, its contents, and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len, rest) = rest.split_at(n);
        (len.iter().fold(0usize, |l, &b| l << 8 | usize::from(b)), rest)
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, date_time_ymd};

    /// A self-signed CA certificate for `names`, shaped by `edit`.
    fn self_signed(names: &[&str], edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("test names are valid");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        edit(&mut params);
        let key = KeyPair::generate().expect("key generation");
        params.self_signed(&key).expect("self-signing").der().to_vec()
    }

    fn verify(pinned: &[Vec<u8>], served: &[u8], host: &str) -> Result<ServerCertVerified, Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Verifier::new(pinned, provider).expect("roots parse");
        let name = ServerName::try_from(host.to_string()).expect("valid name");
        verifier.verify_server_cert(&CertificateDer::from(served), &[], &name, &[], UnixTime::now())
    }

    fn certificate_error(r: Result<ServerCertVerified, Error>) -> String {
        match r {
            Err(Error::InvalidCertificate(e)) => format!("{e:?}"),
            other => panic!("expected a certificate error, got {other:?}"),
        }
    }

    #[test]
    fn a_given_self_signed_ca_is_trusted_as_the_server_for_its_names() {
        let cert = self_signed(&["localhost", "127.0.0.1"], |_| {});
        assert!(verify(std::slice::from_ref(&cert), &cert, "localhost").is_ok());
        assert!(verify(std::slice::from_ref(&cert), &cert, "127.0.0.1").is_ok());
        let other = self_signed(&["localhost"], |_| {});
        assert!(verify(&[other, cert.clone()], &cert, "localhost").is_ok(), "any certificate of the bundle");
    }

    #[test]
    fn everything_else_is_refused_as_before() {
        let cert = self_signed(&["localhost"], |_| {});
        let other = self_signed(&["localhost"], |_| {});
        assert!(certificate_error(verify(&[other], &cert, "localhost")).contains("CaUsedAsEndEntity"));
        let e = certificate_error(verify(std::slice::from_ref(&cert), &cert, "example.com"));
        assert!(e.starts_with("NotValidForName"), "{e}");
        let expired = self_signed(&["localhost"], |p| {
            p.not_before = date_time_ymd(2000, 1, 1);
            p.not_after = date_time_ymd(2001, 1, 1);
        });
        let e = certificate_error(verify(std::slice::from_ref(&expired), &expired, "localhost"));
        assert!(e.starts_with("Expired"), "{e}");
        let client_only = self_signed(&["localhost"], |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        });
        let e = certificate_error(verify(std::slice::from_ref(&client_only), &client_only, "localhost"));
        assert!(e.starts_with("InvalidPurpose"), "{e}");
    }

    #[test]
    fn check_end_entity_reads_its_own_verdicts() {
        let early = self_signed(&["localhost"], |p| p.not_before = date_time_ymd(2200, 1, 1));
        let e = check_end_entity(&early, UnixTime::now()).unwrap_err();
        assert!(matches!(e, Error::InvalidCertificate(CertificateError::NotValidYetContext { .. })), "{e:?}");
        let expired = self_signed(&["localhost"], |p| p.not_after = date_time_ymd(2001, 1, 1));
        let e = check_end_entity(&expired, UnixTime::now()).unwrap_err();
        assert!(matches!(e, Error::InvalidCertificate(CertificateError::ExpiredContext { .. })), "{e:?}");
        let e = check_end_entity(b"\x30\x03\x02\x01\x01", UnixTime::now()).unwrap_err();
        assert_eq!(e, Error::InvalidCertificate(CertificateError::BadEncoding));
        assert!(check_end_entity(&self_signed(&["localhost"], |_| {}), UnixTime::now()).is_ok());
    }

    #[test]
    fn fields_are_read_from_the_der() {
        let day = |y, m, d| u64::try_from(date_time_ymd(y, m, d).unix_timestamp()).expect("after 1970");
        let cert = self_signed(&["localhost"], |p| {
            p.not_before = date_time_ymd(2001, 2, 3); // UTCTime
            p.not_after = date_time_ymd(2051, 4, 5); // GeneralizedTime
        });
        let want = Fields { not_before: day(2001, 2, 3), not_after: day(2051, 4, 5), server_auth: true };
        assert_eq!(fields(&cert), Some(want));
        let eku = |purposes: Vec<ExtendedKeyUsagePurpose>| {
            fields(&self_signed(&["localhost"], |p| p.extended_key_usages = purposes)).map(|f| f.server_auth)
        };
        assert_eq!(eku(vec![ExtendedKeyUsagePurpose::ServerAuth]), Some(true));
        let both = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
        assert_eq!(eku(both), Some(true));
        assert_eq!(eku(vec![ExtendedKeyUsagePurpose::ClientAuth]), Some(false));
        // rcgen's default start, 1975, and a start before 1970, which counts as 0.
        assert_eq!(fields(&self_signed(&[], |_| {})).map(|f| f.not_before), Some(day(1975, 1, 1)));
        let old = self_signed(&[], |p| p.not_before = date_time_ymd(1960, 1, 1));
        assert_eq!(fields(&old).map(|f| f.not_before), Some(0));
        // Cut short anywhere, the outer length claims more than is there.
        for cut in [0, 1, 10, cert.len() / 2, cert.len() - 1] {
            assert_eq!(fields(&cert[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn both_time_forms_of_rfc_5280_are_read_and_nothing_else() {
        assert_eq!(time(UTC_TIME, b"700101000000Z"), Some(0));
        assert_eq!(time(UTC_TIME, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(time(UTC_TIME, b"500101000000Z"), Some(-631_152_000));
        assert_eq!(time(GENERALIZED_TIME, b"20500101000000Z"), Some(2_524_608_000));
        assert_eq!(time(GENERALIZED_TIME, b"19700101000001Z"), Some(1));
        for (tag, bad) in [
            (UTC_TIME, &b"20500101000000Z"[..]),
            (GENERALIZED_TIME, b"500101000000Z"),
            (UTC_TIME, b"7001010000000"),
            (UTC_TIME, b"701301000000Z"),
            (UTC_TIME, b"700230000000Z"),
            (UTC_TIME, b"700101250000Z"),
            (UTC_TIME, b"70010100000aZ"),
            (UTC_TIME, b"70-101000000Z"),
            (GENERALIZED_TIME, b"2050010100000Z"),
            (OCTET_STRING, b"700101000000Z"),
        ] {
            assert_eq!(time(tag, bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn der_lengths_short_and_long() {
        assert_eq!(element(&[0x04, 0x02, 1, 2, 3]), Some((0x04, &[1u8, 2][..], &[3u8][..])));
        let long: Vec<u8> = [0x04, 0x81, 0x80].into_iter().chain([7u8; 0x80]).collect();
        assert_eq!(element(&long).map(|e| e.1.len()), Some(0x80));
        assert_eq!(element(&[0x04, 0x03, 1, 2]), None);
        assert_eq!(element(&[0x04, 0x80]), None);
        assert_eq!(element(&[0x04, 0x82, 0x01]), None);
        assert_eq!(element(&[0x04]), None);
    }
}
