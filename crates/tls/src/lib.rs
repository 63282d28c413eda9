//! Server-side TLS for NexusLog's listeners (HTTP, OTLP gRPC, syslog): a rustls configuration
//! built from PEM files, and a [`ReloadingAcceptor`] that rebuilds it when the files change on
//! disk, so certificates rotated by cert-manager or a Kubernetes Secret take effect without a
//! restart. A rebuild affects new connections only: an open connection keeps the session it
//! negotiated.
//!
//! Only TLS 1.2 and 1.3 are offered (rustls implements nothing older).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use nexuslog_common::shutdown::Shutdown;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
pub use tokio_rustls::server::TlsStream;
pub use tokio_rustls::TlsAcceptor;

pub mod client;

/// ALPN identifiers an HTTP listener offers: HTTP/2 first, then HTTP/1.1.
pub const HTTP_ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

/// How often the certificate files are checked for changes.
pub const RELOAD_CHECK_EVERY: Duration = Duration::from_secs(2);

/// A file could not be read or used; the message names the setting and the path.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{setting} {path}: {reason}")]
    File { setting: String, path: String, reason: String },
    #[error("{settings}: {reason}")]
    Config { settings: String, reason: String },
}

/// Where a listener's certificate, key and optional client CA come from, and the settings
/// prefix that names them in errors (`http` → `http.tls_cert`).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub prefix: &'static str,
    pub cert: String,
    pub key: String,
    /// With a client CA, clients must present a certificate it signed (mutual TLS).
    pub client_ca: Option<String>,
}

impl TlsFiles {
    fn setting(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }

    fn file_error(&self, name: &str, path: &str, reason: impl std::fmt::Display) -> TlsError {
        TlsError::File { setting: self.setting(name), path: path.to_owned(), reason: reason.to_string() }
    }

    /// A hash of the files' contents; a change of any of them changes it. Reading a file that
    /// is being replaced may fail, which the caller treats as "try again later".
    fn fingerprint(&self) -> std::io::Result<u64> {
        let mut h = DefaultHasher::new();
        for path in [Some(&self.cert), Some(&self.key), self.client_ca.as_ref()].into_iter().flatten() {
            std::fs::read(path)?.hash(&mut h);
        }
        Ok(h.finish())
    }

    /// Builds the rustls configuration, offering `alpn` (e.g. [`HTTP_ALPN`]; empty for none).
    ///
    /// # Errors
    /// A [`TlsError`] naming the setting whose file is missing, unreadable or unusable, or the
    /// certificate and key that do not belong together.
    pub fn server_config(&self, alpn: &[&[u8]]) -> Result<ServerConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| self.file_error("tls_cert", &self.cert, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.file_error("tls_cert", &self.cert, e))?;
        if certs.is_empty() {
            return Err(self.file_error("tls_cert", &self.cert, "no PEM certificate in the file"));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| self.file_error("tls_key", &self.key, e))?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config { settings: self.setting("tls_cert"), reason: e.to_string() })?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for c in CertificateDer::pem_file_iter(ca).map_err(|e| self.file_error("tls_client_ca", ca, e))? {
                    roots.add(c.map_err(|e| self.file_error("tls_client_ca", ca, e))?).map_err(|e| self.file_error("tls_client_ca", ca, e))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| self.file_error("tls_client_ca", ca, e))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Config { settings: format!("{}/{}", self.setting("tls_cert"), self.setting("tls_key")), reason: e.to_string() })?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// A TLS acceptor that follows its files: [`ReloadingAcceptor::acceptor`] hands out the
/// current configuration, and [`ReloadingAcceptor::watch`] swaps in a new one when the files
/// change. A change that does not load (a rotation caught between writing the certificate and
/// the key) keeps the previous configuration and is retried at the next check.
pub struct ReloadingAcceptor {
    files: TlsFiles,
    alpn: Vec<Vec<u8>>,
    current: RwLock<(u64, TlsAcceptor)>,
}

impl ReloadingAcceptor {
    /// Loads the files once; errors here stop the process at start, naming the setting.
    ///
    /// # Errors
    /// As [`TlsFiles::server_config`].
    pub fn new(files: TlsFiles, alpn: &[&[u8]]) -> Result<Arc<Self>, TlsError> {
        // Loading first: its errors name the file at fault, the fingerprint's would not.
        let acceptor = TlsAcceptor::from(Arc::new(files.server_config(alpn)?));
        let fingerprint = files.fingerprint().map_err(|e| files.file_error("tls_cert", &files.cert, e))?;
        Ok(Arc::new(Self { files, alpn: alpn.iter().map(|p| p.to_vec()).collect(), current: RwLock::new((fingerprint, acceptor)) }))
    }

    /// The acceptor for the next connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).1.clone()
    }

    /// Reloads when the files' contents changed: `Ok(true)` when a new configuration is in
    /// use, `Ok(false)` when nothing changed.
    ///
    /// # Errors
    /// The files changed but do not load; the previous configuration stays in use.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let Ok(fingerprint) = self.files.fingerprint() else {
            // Mid-replacement (a Secret's symlink swap): look again at the next check.
            return Ok(false);
        };
        if fingerprint == self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).0 {
            return Ok(false);
        }
        let alpn: Vec<&[u8]> = self.alpn.iter().map(Vec::as_slice).collect();
        let acceptor = TlsAcceptor::from(Arc::new(self.files.server_config(&alpn)?));
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = (fingerprint, acceptor);
        Ok(true)
    }

    /// Checks the files every `every` until `stop`, logging each reload and each failed one.
    pub async fn watch(self: Arc<Self>, every: Duration, stop: Shutdown) {
        let mut last_error = None;
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = stop.wait() => return,
            }
            match self.reload_if_changed() {
                Ok(true) => {
                    tracing::info!(cert = %self.files.cert, listener = self.files.prefix, "TLS certificate reloaded");
                    last_error = None;
                }
                Ok(false) => {}
                Err(e) => {
                    // Once per distinct error, not every two seconds.
                    let text = e.to_string();
                    if last_error.as_ref() != Some(&text) {
                        tracing::warn!(error = %text, "TLS files changed but cannot be loaded; keeping the previous certificate");
                        last_error = Some(text);
                    }
                }
            }
        }
    }
}

/// The common name of a verified client certificate.
pub fn peer_common_name(conn: &rustls::ServerConnection) -> Option<String> {
    let cert = conn.peer_certificates()?.first()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?.as_str().ok()?.to_owned();
    Some(cn)
}
