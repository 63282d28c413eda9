//! The acceptor against a real rustls client over loopback: it serves the files' certificate,
//! serves a replaced one to the next connection, keeps the last good one when a replacement
//! does not load, and names the setting of a file it cannot use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nexuslog_tls::{ReloadingAcceptor, TlsFiles, HTTP_ALPN};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Pki {
    dir: tempfile::TempDir,
    ca_params: CertificateParams,
    ca_key: KeyPair,
    ca_der: CertificateDer<'static>,
}

impl Pki {
    fn new() -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_der = ca_params.self_signed(&ca_key).expect("ca").der().clone();
        Self { dir: tempfile::tempdir().expect("tempdir"), ca_params, ca_key, ca_der }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a new leaf for `localhost` to `cert.pem`/`key.pem`; returns its DER.
    fn issue_leaf(&self) -> CertificateDer<'static> {
        let key = KeyPair::generate().expect("key");
        let issuer = Issuer::from_params(&self.ca_params, &self.ca_key);
        let cert = CertificateParams::new(vec!["localhost".to_owned()]).expect("params").signed_by(&key, &issuer).expect("leaf");
        // Written next to the files and renamed over them, as a Secret update does.
        std::fs::write(self.path("key.tmp"), key.serialize_pem()).expect("write");
        std::fs::rename(self.path("key.tmp"), self.path("key.pem")).expect("rename");
        std::fs::write(self.path("cert.tmp"), cert.pem()).expect("write");
        std::fs::rename(self.path("cert.tmp"), self.path("cert.pem")).expect("rename");
        cert.der().clone()
    }

    fn files(&self) -> TlsFiles {
        TlsFiles { prefix: "http", cert: s(&self.path("cert.pem")), key: s(&self.path("key.pem")), client_ca: None }
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Completes a handshake with a client that trusts the CA; the server's certificate and the
/// ALPN protocol agreed.
async fn handshake(acceptor: &ReloadingAcceptor, ca: &CertificateDer<'static>) -> (CertificateDer<'static>, Option<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server_acceptor = acceptor.acceptor();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut tls = server_acceptor.accept(tcp).await.expect("server handshake");
        tls.write_all(b"ok").await.expect("write");
        tls.shutdown().await.ok();
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).expect("root");
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut tls = connector.connect(ServerName::try_from("localhost").expect("name"), tcp).await.expect("client handshake");
    let mut buf = Vec::new();
    tls.read_to_end(&mut buf).await.expect("read");
    assert_eq!(buf, b"ok");
    let (_, conn) = tls.get_ref();
    let cert = conn.peer_certificates().expect("certificate").first().expect("leaf").clone().into_owned();
    let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
    server.await.expect("server task");
    (cert, alpn)
}

#[tokio::test]
async fn serves_the_files_and_follows_a_replacement() {
    let pki = Pki::new();
    let first = pki.issue_leaf();
    let acceptor = ReloadingAcceptor::new(pki.files(), HTTP_ALPN).expect("load");
    let (served, alpn) = handshake(&acceptor, &pki.ca_der).await;
    assert_eq!(served, first);
    assert_eq!(alpn.as_deref(), Some(&b"h2"[..]));
    assert!(!acceptor.reload_if_changed().expect("check"), "nothing changed");

    let second = pki.issue_leaf();
    assert_ne!(first, second);
    assert!(acceptor.reload_if_changed().expect("reload"));
    assert_eq!(handshake(&acceptor, &pki.ca_der).await.0, second);
}

#[tokio::test]
async fn a_replacement_that_does_not_load_keeps_the_last_good_pair() {
    let pki = Pki::new();
    let good = pki.issue_leaf();
    let acceptor = ReloadingAcceptor::new(pki.files(), HTTP_ALPN).expect("load");
    // The key of another certificate: a rotation caught halfway.
    std::fs::write(pki.path("key.pem"), KeyPair::generate().expect("key").serialize_pem()).expect("write");
    let e = acceptor.reload_if_changed().expect_err("mismatched pair");
    assert!(e.to_string().contains("http.tls_key"), "{e}");
    assert_eq!(handshake(&acceptor, &pki.ca_der).await.0, good);
    // Once the rotation completes, the new pair is taken.
    let next = pki.issue_leaf();
    assert!(acceptor.reload_if_changed().expect("reload"));
    assert_eq!(handshake(&acceptor, &pki.ca_der).await.0, next);
}

#[test]
fn errors_name_the_setting_and_the_file() {
    let pki = Pki::new();
    pki.issue_leaf();
    let missing = TlsFiles { cert: s(&pki.path("nope.pem")), ..pki.files() };
    let e = ReloadingAcceptor::new(missing, HTTP_ALPN).err().expect("missing cert").to_string();
    assert!(e.contains("http.tls_cert") && e.contains("nope.pem"), "{e}");

    std::fs::write(pki.path("empty.pem"), "").expect("write");
    let empty = TlsFiles { cert: s(&pki.path("empty.pem")), ..pki.files() };
    let e = empty.server_config(HTTP_ALPN).expect_err("no certificate").to_string();
    assert!(e.contains("http.tls_cert") && e.contains("no PEM certificate"), "{e}");

    let no_key = TlsFiles { key: s(&pki.path("cert.pem")), ..pki.files() };
    let e = no_key.server_config(HTTP_ALPN).expect_err("no key").to_string();
    assert!(e.contains("http.tls_key"), "{e}");

    let bad_ca = TlsFiles { client_ca: Some(s(&pki.path("missing-ca.pem"))), ..pki.files() };
    let e = bad_ca.server_config(HTTP_ALPN).expect_err("missing CA").to_string();
    assert!(e.contains("http.tls_client_ca") && e.contains("missing-ca.pem"), "{e}");
}
