//! Client-side TLS for connections to backends that take a rustls configuration (PostgreSQL).
//! The other clients (librdkafka, reqwest for OpenSearch and the schema registry, redis) take
//! PEM bytes or paths and verify on their own; [`read_pem`] gives them the same errors.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::TlsError;

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCheck {
    /// Signed by the CA and issued for the host name connected to.
    Full,
    /// Signed by the CA, whatever name it carries (PostgreSQL's `verify-ca`).
    ChainOnly,
    /// Encrypted, not authenticated (PostgreSQL's `require` without a CA): protects against
    /// listeners on the wire, not against a server pretending to be the database.
    Nothing,
}

/// PEM files of a client connection, with the settings that name them in errors.
#[derive(Debug, Clone, Default)]
pub struct ClientFiles {
    /// `(setting, path)` of the CA that signed the server's certificate.
    pub ca: Option<(String, String)>,
    /// `(setting, path)` of a client certificate and of its key, for mutual TLS.
    pub cert: Option<(String, String)>,
    pub key: Option<(String, String)>,
}

/// Reads a PEM file whole, checking that it holds at least one PEM block.
///
/// # Errors
/// A [`TlsError::File`] naming `setting`.
pub fn read_pem(setting: &str, path: &str) -> Result<Vec<u8>, TlsError> {
    let err = |reason: String| TlsError::File { setting: setting.to_owned(), path: path.to_owned(), reason };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(err("no PEM block in the file".into()));
    }
    Ok(bytes)
}

fn roots(setting: &str, path: &str) -> Result<RootCertStore, TlsError> {
    let err = |reason: String| TlsError::File { setting: setting.to_owned(), path: path.to_owned(), reason };
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))? {
        roots.add(c.map_err(|e| err(e.to_string()))?).map_err(|e| err(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    Ok(roots)
}

/// Builds a rustls client configuration.
///
/// # Errors
/// A [`TlsError`] naming the setting whose file is missing or unusable, or
/// [`ServerCheck::Full`]/[`ServerCheck::ChainOnly`] without a CA.
pub fn client_config(files: &ClientFiles, check: ServerCheck) -> Result<ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config { settings: "tls".into(), reason: e.to_string() })?;
    let verifier: Arc<dyn ServerCertVerifier> = match (check, &files.ca) {
        (ServerCheck::Nothing, _) => Arc::new(AcceptAny(provider.clone())),
        (_, None) => return Err(TlsError::Config { settings: "tls_ca".into(), reason: "a CA file is needed to verify the server".into() }),
        (check, Some((setting, path))) => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots(setting, path)?), provider.clone())
                .build()
                .map_err(|e| TlsError::File { setting: setting.clone(), path: path.clone(), reason: e.to_string() })?;
            if check == ServerCheck::Full {
                webpki
            } else {
                Arc::new(ChainOnly(webpki))
            }
        }
    };
    let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
    match (&files.cert, &files.key) {
        (Some((cert_setting, cert)), Some((key_setting, key))) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(Iterator::collect)
                .map_err(|e| TlsError::File { setting: cert_setting.clone(), path: cert.clone(), reason: e.to_string() })?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::File { setting: key_setting.clone(), path: key.clone(), reason: e.to_string() })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::Config { settings: format!("{cert_setting}/{key_setting}"), reason: e.to_string() })
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some((s, _)), None) | (None, Some((s, _))) => Err(TlsError::Config { settings: s.clone(), reason: "a client certificate needs both its certificate and its key".into() }),
    }
}

/// Checks the chain and signatures but not the name.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(&self, end_entity: &CertificateDer<'_>, intermediates: &[CertificateDer<'_>], server_name: &ServerName<'_>, ocsp: &[u8], now: UnixTime) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. })) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Accepts any certificate, still checking that the handshake is signed by it.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(&self, _: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: &ServerName<'_>, _: &[u8], _: UnixTime) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
