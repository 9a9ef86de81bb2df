//! TLS for tests: certificates made by `rcgen` under a test CA, written as
//! PEM files, and a rustls client over a socket with read deadlines.

use super::{Client, READ_DEADLINE};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A test certificate authority that issues ECDSA P-256 leaves.
pub struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pub der: CertificateDer<'static>,
}

/// A leaf as written: its PEM files and its DER (what a client is shown).
#[derive(Clone)]
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: CertificateDer<'static>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            der: cert.der().clone(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// Issue a leaf for `names`, valid from yesterday for `days` more days
    /// (negative: already expired), written as `dir/stem.crt` and
    /// `dir/stem.key`.
    pub fn issue(&self, dir: &Path, stem: &str, names: &[&str], days: i64) -> Leaf {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        let now = time_now();
        params.not_before = now - time::Duration::days(2);
        params.not_after = now + time::Duration::days(days);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let leaf = Leaf {
            cert: dir.join(format!("{stem}.crt")),
            key: dir.join(format!("{stem}.key")),
            der: cert.der().clone(),
        };
        std::fs::write(&leaf.cert, cert.pem()).unwrap();
        std::fs::write(&leaf.key, key.serialize_pem()).unwrap();
        leaf
    }
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// A client configuration: protocol versions, ALPN offers; it accepts
/// whatever certificate the server shows (tests compare it themselves) but
/// still checks the handshake signatures. Resumption is on (rustls's
/// in-memory store): connections made with the same configuration resume.
pub fn client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// TLS 1.3 and 1.2, offering `http/1.1`, as curl does without HTTP/2.
pub fn default_client_config() -> Arc<ClientConfig> {
    client_config(rustls::ALL_VERSIONS, &[b"http/1.1"])
}

/// [`default_client_config`] without resumption: every handshake is full
/// and shows the certificate the server holds now.
pub fn fresh_client_config() -> Arc<ClientConfig> {
    let mut config = (*default_client_config()).clone();
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// A TLS connection to `addr` naming `server_name` (SNI), handshaken.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// Connect and complete the handshake; the error if it fails.
pub fn try_connect(
    addr: SocketAddr,
    server_name: &str,
    config: &Arc<ClientConfig>,
) -> Result<TlsStream, std::io::Error> {
    let tcp = TcpStream::connect_timeout(&addr, READ_DEADLINE)?;
    tcp.set_read_timeout(Some(READ_DEADLINE))?;
    tcp.set_write_timeout(Some(READ_DEADLINE))?;
    let name = ServerName::try_from(server_name.to_owned()).unwrap();
    let connection = ClientConnection::new(Arc::clone(config), name).unwrap();
    let mut stream = StreamOwned::new(connection, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// [`try_connect`] that must succeed, as a [`Client`].
pub fn connect(
    addr: SocketAddr,
    server_name: &str,
    config: &Arc<ClientConfig>,
) -> Client<TlsStream> {
    Client::over(try_connect(addr, server_name, config).expect("TLS handshake"))
}

/// The certificate the server showed on `stream`.
pub fn server_leaf(stream: &TlsStream) -> CertificateDer<'static> {
    stream.conn.peer_certificates().expect("a certificate")[0].clone()
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
