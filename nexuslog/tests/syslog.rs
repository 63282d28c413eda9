//! Syslog ingest proven with the senders people really run: rsyslog (TCP and TLS forwarding),
//! syslog-ng (RFC 5424 octet-counted and RFC 3164 newline-framed) and logger(1) (UDP, TCP
//! octet-counted, TCP newline), each message checked through the search API for its host,
//! service, level and text. Also: project routing by an API key in structured data, refusal of
//! a bad key, dead-lettering of garbage without losing the connection, and project selection by
//! a TLS client certificate.
//!
//! Needs rsyslog, syslog-ng, logger and openssl: `bash scripts/syslog-deps.sh` (run by
//! `scripts/test.sh`) installs them. A missing tool fails the test with that hint.

#[allow(dead_code)] // each test binary uses part of the shared helpers
mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nexuslog_common::testing::wait_until;
use serde_json::Value;

const INSTALL_HINT: &str = "run `bash scripts/syslog-deps.sh` (scripts/test.sh runs it) to install rsyslog, syslog-ng, logger and openssl";

// ---------------------------------------------------------------------------------------------
// Tools and processes
// ---------------------------------------------------------------------------------------------

/// `n` distinct free TCP ports: all are held at once while picking, so none is handed out
/// twice (a port picked and released at once is often the next one the kernel hands out).
fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<std::net::TcpListener> = (0..N)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    std::array::from_fn(|i| held[i].local_addr().expect("local addr").port())
}

fn free_port() -> u16 {
    free_ports::<1>()[0]
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

fn find_tool(name: &str, candidates: &[&str]) -> PathBuf {
    for c in candidates {
        let p = PathBuf::from(c);
        if p.is_file() {
            return p;
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` not found: {INSTALL_HINT}");
}

fn rsyslogd() -> PathBuf {
    find_tool("rsyslogd", &["/usr/sbin/rsyslogd"])
}

fn logger() -> PathBuf {
    find_tool("logger", &["/usr/bin/logger"])
}

fn openssl() -> PathBuf {
    find_tool("openssl", &["/usr/bin/openssl"])
}

/// The wrapper `scripts/syslog-deps.sh` writes around the unpacked syslog-ng.
fn syslog_ng() -> PathBuf {
    let cache = std::env::var_os("NEXUSLOG_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nexuslog")
        });
    let run = cache.join("syslog-ng/run.sh");
    assert!(
        run.is_file(),
        "syslog-ng not found at {}: {INSTALL_HINT}",
        run.display()
    );
    run
}

/// A daemon we started; killed and reaped when dropped.
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn spawn(name: &'static str, mut cmd: Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).expect("daemon log file");
        let err = file.try_clone().expect("daemon log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self { name, child, log }
    }

    /// Fails (with the daemon's log) when it exited.
    fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("{} exited ({status}); its output:\n{log}", self.name);
        }
    }

    /// Waits until the daemon accepts TCP connections on `port`.
    async fn wait_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            self.assert_alive();
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "{} not listening on {port} after 20s; its output:\n{log}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- output of {} ---\n{log}", self.name);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a short-lived command to completion within `timeout`, failing with its output.
async fn run_bounded(mut cmd: Command, what: &str, timeout: Duration) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let out = child.wait_with_output().expect("output");
    assert!(
        status.success(),
        "{what} failed ({status}): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One message sent with logger(1): `args` pick the transport and format.
async fn send_logger(args: &[&str], tag: &str, priority: &str, text: &str) {
    let mut cmd = Command::new(logger());
    cmd.args(args).args(["-t", tag, "-p", priority, "--", text]);
    run_bounded(
        cmd,
        &format!("logger {}", args.join(" ")),
        Duration::from_secs(10),
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// Certificates
// ---------------------------------------------------------------------------------------------

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate with
/// CN=`default`, made with the openssl CLI for this test run.
struct Certs {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

async fn openssl_run(dir: &Path, args: &[&str]) {
    let mut cmd = Command::new(openssl());
    cmd.current_dir(dir).args(args);
    run_bounded(
        cmd,
        &format!("openssl {}", args.join(" ")),
        Duration::from_secs(30),
    )
    .await;
}

async fn issue(dir: &Path, name: &str, cn: &str, ext: &str, serial: &str) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let ext_file = format!("{name}.ext");
    std::fs::write(dir.join(&ext_file), ext).expect("ext file");
    openssl_run(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &key,
        ],
    )
    .await;
    openssl_run(
        dir,
        &[
            "req",
            "-new",
            "-key",
            &key,
            "-subj",
            &format!("/CN={cn}"),
            "-out",
            &csr,
        ],
    )
    .await;
    openssl_run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            serial,
            "-days",
            "2",
            "-extfile",
            &ext_file,
            "-out",
            &format!("{name}.pem"),
        ],
    )
    .await;
}

impl Certs {
    async fn generate(dir: &Path) -> Self {
        openssl_run(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ca.key",
            ],
        )
        .await;
        openssl_run(
            dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                "/CN=NexusLog test CA",
                "-days",
                "2",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        )
        .await;
        let leaf = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n";
        issue(
            dir,
            "server",
            "localhost",
            &format!(
                "{leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
            ),
            "2",
        )
        .await;
        issue(
            dir,
            "client",
            "default",
            &format!("{leaf}extendedKeyUsage=clientAuth\n"),
            "3",
        )
        .await;
        Self {
            ca: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client.key"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// NexusLog with syslog listeners
// ---------------------------------------------------------------------------------------------

struct Gateway {
    node: support::Node,
    tcp: u16,
    tls: u16,
    udp: u16,
    _data: tempfile::TempDir,
}

/// Starts standalone NexusLog with TCP, TLS and UDP listeners. `default_project` empty means
/// none; `client_ca` requires client certificates on TLS.
async fn start_gateway(
    certs: &Certs,
    default_project: &str,
    client_ca: bool,
    extra_key: Option<(&str, &str)>,
) -> Gateway {
    let data = tempfile::tempdir().expect("tempdir");
    if let Some((slug, secret)) = extra_key {
        create_project_with_key(data.path(), slug, secret).await;
    }
    let [http, tcp, tls] = free_ports::<3>();
    let udp = free_udp_port();
    let mut env = support::standalone_env(data.path());
    env.extend([
        ("NEXUSLOG_HTTP_ADDR".to_owned(), format!("127.0.0.1:{http}")),
        (
            "NEXUSLOG_SYSLOG_TCP_ADDR".to_owned(),
            format!("127.0.0.1:{tcp}"),
        ),
        (
            "NEXUSLOG_SYSLOG_TLS_ADDR".to_owned(),
            format!("127.0.0.1:{tls}"),
        ),
        (
            "NEXUSLOG_SYSLOG_UDP_ADDR".to_owned(),
            format!("127.0.0.1:{udp}"),
        ),
        (
            "NEXUSLOG_SYSLOG_DEFAULT_PROJECT".to_owned(),
            default_project.to_owned(),
        ),
        (
            "NEXUSLOG_SYSLOG_TLS_CERT".to_owned(),
            certs.server_cert.display().to_string(),
        ),
        (
            "NEXUSLOG_SYSLOG_TLS_KEY".to_owned(),
            certs.server_key.display().to_string(),
        ),
    ]);
    if client_ca {
        env.push((
            "NEXUSLOG_SYSLOG_TLS_CLIENT_CA".to_owned(),
            certs.ca.display().to_string(),
        ));
    }
    let node = support::start(&[], env, &support::test_key()).await;
    Gateway {
        node,
        tcp,
        tls,
        udp,
        _data: data,
    }
}

/// A second project with an ingest+read key whose secret the test chooses (the API generates
/// secrets), written to the SQLite metastore before start.
async fn create_project_with_key(data_dir: &Path, slug: &str, secret: &str) {
    use nexuslog_metastore::MetaStore;
    let store = nexuslog_metastore::SqliteMetaStore::open(&data_dir.join("meta.sqlite"))
        .expect("open metastore");
    store.migrate().await.expect("migrate");
    let project = store
        .create_project(slug, slug)
        .await
        .expect("create project");
    let key = nexuslog_metastore::keys::from_secret(secret);
    let row = nexuslog_metastore::ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        project_id: project.id,
        name: "syslog-test".into(),
        source: "syslog".into(),
        prefix: key.prefix,
        key_hash: key.hash,
        scopes: "ingest,read".into(),
        created_by: "test".into(),
        created_at: 0,
        revoked_at: None,
        last_used_at: None,
        expires_at: None,
    };
    store.create_api_key(&row).await.expect("create key");
}

async fn search(url: &str, key: &str, q: &str) -> Option<Value> {
    let resp = reqwest::Client::new()
        .get(format!("{url}/v1/search"))
        .query(&[("q", q), ("from", "now-15m"), ("limit", "50")])
        .bearer_auth(key)
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

/// What a message must look like once searchable.
struct Expect<'a> {
    text: &'a str,
    host: &'a str,
    service: &'a str,
    level: &'a str,
    format: &'a str,
}

/// One message sent through a relay and what search must show for it.
struct Check {
    tok: String,
    text: String,
    host: String,
    app: String,
    level: &'static str,
    format: &'static str,
}

/// Sends one logger(1) message per (app, priority, level) to a relay's TCP input (octet
/// counted, RFC 5424), each with a unique marker.
async fn send_through_relay(port: u16, label: &str, relay: &str, format: &'static str, apps: &[(&str, &str, &'static str)]) -> Vec<Check> {
    let p = port.to_string();
    let mut checks = Vec::new();
    for (app, prio, level) in apps {
        let tok = marker(label);
        let text = format!("{tok} from {app} via {relay}");
        send_logger(&["-n", "127.0.0.1", "-P", &p, "-T", "--octet-count", "--rfc5424"], app, prio, &text).await;
        checks.push(Check { tok, text, host: hostname(), app: (*app).to_owned(), level, format });
    }
    checks
}

/// Sends a raw RFC 5424 frame with a foreign hostname through a relay: the relay must pass
/// the hostname it received.
fn send_foreign_host(port: u16, label: &str, pri: u8, host: &str, app: &str, level: &'static str, format: &'static str) -> Check {
    let tok = marker(label);
    let text = format!("{tok} from {host}");
    send_tcp(port, &rfc5424_frame(pri, host, app, &text));
    Check { tok, text, host: host.into(), app: app.into(), level, format }
}

/// Every check is found, while the relay stays alive.
async fn expect_checks(url: &str, key: &str, checks: &[Check], relay: &mut Daemon) {
    for c in checks {
        relay.assert_alive();
        let want = Expect { text: &c.text, host: &c.host, service: &c.app, level: c.level, format: c.format };
        expect_found(url, key, &c.tok, &want).await;
    }
}

/// A unique, single-token marker to search for.
fn marker(label: &str) -> String {
    format!(
        "{label}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// Waits until the message whose text contains `token` is searchable with `key`, and checks it.
async fn expect_found(url: &str, key: &str, token: &str, want: &Expect<'_>) -> Value {
    let hit = wait_until(
        &format!("message {token} searchable"),
        Duration::from_secs(60),
        || async {
            let v = search(url, key, token).await?;
            let hits = v["hits"].as_array()?;
            (!hits.is_empty()).then(|| hits.clone())
        },
    )
    .await;
    assert_eq!(hit.len(), 1, "exactly one copy of {token}: {hit:?}");
    let h = &hit[0];
    assert_eq!(h["message"], want.text, "message of {token}: {h}");
    assert_eq!(h["host"], want.host, "host of {token}: {h}");
    assert_eq!(h["service"], want.service, "service of {token}: {h}");
    assert_eq!(h["level"], want.level, "level of {token}: {h}");
    assert_eq!(
        h["fields"]["syslog.format"], want.format,
        "format of {token}: {h}"
    );
    h.clone()
}

async fn metric(url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .expect("hostname")
}

/// A raw RFC 5424 frame with a chosen hostname (logger(1) always sends the local one).
fn rfc5424_frame(pri: u8, host: &str, app: &str, text: &str) -> Vec<u8> {
    let msg = format!("<{pri}>1 - {host} {app} 4242 - - {text}");
    format!("{} {msg}", msg.len()).into_bytes()
}

fn send_tcp(port: u16, bytes: &[u8]) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(bytes).expect("write");
    s.flush().expect("flush");
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logger_over_udp_tcp_octet_counted_and_tcp_newline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(dir.path()).await;
    let other_key = support::test_key();
    let gw = start_gateway(&certs, "default", false, Some(("teamb", &other_key))).await;
    let (url, key) = (gw.node.url.clone(), gw.node.api_key.clone());
    let host = hostname();
    let (tcp, udp) = (gw.tcp.to_string(), gw.udp.to_string());

    // UDP, RFC 5424.
    let udp_tok = marker("udp");
    let udp_text = format!("{udp_tok} cache miss ratio high");
    send_logger(
        &["-n", "127.0.0.1", "-P", &udp, "-d", "--rfc5424"],
        "cachesvc",
        "local3.warning",
        &udp_text,
    )
    .await;
    // TCP, RFC 5424, octet counted.
    let oct_tok = marker("oct");
    let oct_text = format!("{oct_tok} payment declined");
    send_logger(
        &[
            "-n",
            "127.0.0.1",
            "-P",
            &tcp,
            "-T",
            "--octet-count",
            "--rfc5424",
        ],
        "payments",
        "user.err",
        &oct_text,
    )
    .await;
    // TCP, RFC 3164, newline framed.
    let bsd_tok = marker("bsd");
    let bsd_text = format!("{bsd_tok} cron job started");
    send_logger(
        &["-n", "127.0.0.1", "-P", &tcp, "-T", "--rfc3164"],
        "crond",
        "cron.info",
        &bsd_text,
    )
    .await;

    expect_found(
        &url,
        &key,
        &udp_tok,
        &Expect {
            text: &udp_text,
            host: &host,
            service: "cachesvc",
            level: "warn",
            format: "rfc5424",
        },
    )
    .await;
    let h = expect_found(
        &url,
        &key,
        &oct_tok,
        &Expect {
            text: &oct_text,
            host: &host,
            service: "payments",
            level: "error",
            format: "rfc5424",
        },
    )
    .await;
    assert_eq!(h["fields"]["syslog.facility"], "user", "{h}");
    assert_eq!(h["fields"]["syslog.severity"], "err", "{h}");
    let h = expect_found(
        &url,
        &key,
        &bsd_tok,
        &Expect {
            text: &bsd_text,
            host: &host,
            service: "crond",
            level: "info",
            format: "rfc3164",
        },
    )
    .await;
    assert_eq!(h["fields"]["syslog.facility"], "cron", "{h}");

    // A valid key in structured data routes to its project, not the listener default.
    let routed_tok = marker("routed");
    let routed_text = format!("{routed_tok} routed by key");
    let sd_param = format!("key=\"{other_key}\"");
    send_logger(
        &[
            "-n",
            "127.0.0.1",
            "-P",
            &tcp,
            "-T",
            "--octet-count",
            "--rfc5424",
            "--sd-id",
            "nexuslog@32473",
            "--sd-param",
            &sd_param,
        ],
        "teamb-app",
        "daemon.notice",
        &routed_text,
    )
    .await;
    let h = expect_found(
        &url,
        &other_key,
        &routed_tok,
        &Expect {
            text: &routed_text,
            host: &host,
            service: "teamb-app",
            level: "info",
            format: "rfc5424",
        },
    )
    .await;
    assert!(
        h["fields"].get("sd.nexuslog@32473.key").is_none(),
        "the key is never stored: {h}"
    );
    let in_default = search(&url, &key, &routed_tok).await.expect("search");
    assert_eq!(
        in_default["total"], 0,
        "a keyed message is not in the default project: {in_default}"
    );

    // An invalid key is refused: counted, dead-lettered, not searchable anywhere.
    let refused_before = metric(&url, "nexuslog_syslog_refused_total").await;
    let bad_tok = marker("badkey");
    let bad_param = format!("key=\"nxl_{}\"", "x".repeat(32));
    send_logger(
        &[
            "-n",
            "127.0.0.1",
            "-P",
            &tcp,
            "-T",
            "--octet-count",
            "--rfc5424",
            "--sd-id",
            "nexuslog@32473",
            "--sd-param",
            &bad_param,
        ],
        "intruder",
        "user.err",
        &format!("{bad_tok} should be refused"),
    )
    .await;
    wait_until("refusal counted", Duration::from_secs(30), || async {
        (metric(&url, "nexuslog_syslog_refused_total").await > refused_before).then_some(())
    })
    .await;

    // Garbage on a TCP connection is dead-lettered and the same connection keeps working.
    let good_tok = marker("aftergarbage");
    let good_text = format!("{good_tok} still serving");
    let mut stream = Vec::new();
    stream.extend_from_slice(b"\x01\x02\x03 binary junk \xff\xfe\n");
    stream.extend_from_slice(&rfc5424_frame(13, "edge-7", "survivor", &good_text));
    send_tcp(gw.tcp, &stream);
    expect_found(
        &url,
        &key,
        &good_tok,
        &Expect {
            text: &good_text,
            host: "edge-7",
            service: "survivor",
            level: "info",
            format: "rfc5424",
        },
    )
    .await;
    assert_eq!(
        search(&url, &key, &bad_tok).await.expect("search")["total"],
        0,
        "refused message not in the default project"
    );
    assert_eq!(
        search(&url, &other_key, &bad_tok).await.expect("search")["total"],
        0,
        "refused message not in another project"
    );

    // The dead letters, read from the embedded log once NexusLog has stopped.
    let data_dir = gw._data.path().to_path_buf();
    let Gateway { node, _data, .. } = gw;
    drop(node);
    let letters = support::embedded_dead_letters(&data_dir).await;
    let garbage = letters
        .iter()
        .find(|l| l.error_kind == "invalid_syslog")
        .unwrap_or_else(|| panic!("garbage dead-lettered: {letters:?}"));
    assert_eq!(
        garbage.original, b"\x01\x02\x03 binary junk \xff\xfe",
        "{garbage:?}"
    );
    let refused = letters
        .iter()
        .find(|l| l.error_kind == "invalid_api_key")
        .unwrap_or_else(|| panic!("bad key dead-lettered: {letters:?}"));
    assert!(
        String::from_utf8_lossy(&refused.original).contains(&bad_tok),
        "{refused:?}"
    );
    drop(_data);
}

/// An rsyslog instance: one imtcp input per forwarding ruleset.
struct Rsyslog {
    daemon: Daemon,
    _dir: tempfile::TempDir,
}

/// Starts rsyslogd with `rulesets`: (input port, action parameters). The CA (and optionally a
/// client certificate) are set globally for the gtls driver.
async fn start_rsyslog(certs: &Certs, client_cert: bool, rulesets: &[(u16, String)]) -> Rsyslog {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).expect("workdir");
    let mut global = format!(
        "global(workDirectory=\"{}\" defaultNetstreamDriverCAFile=\"{}\"",
        work.display(),
        certs.ca.display()
    );
    if client_cert {
        global.push_str(&format!(
            " defaultNetstreamDriverCertFile=\"{}\" defaultNetstreamDriverKeyFile=\"{}\"",
            certs.client_cert.display(),
            certs.client_key.display()
        ));
    }
    global.push_str(")\n");
    let mut conf = global;
    conf.push_str("module(load=\"imtcp\")\n");
    for (i, (port, action)) in rulesets.iter().enumerate() {
        conf.push_str(&format!(
            "ruleset(name=\"fwd{i}\") {{ action(type=\"omfwd\" target=\"127.0.0.1\" {action}) }}\n"
        ));
        conf.push_str(&format!(
            "input(type=\"imtcp\" port=\"{port}\" ruleset=\"fwd{i}\")\n"
        ));
    }
    let conf_path = dir.path().join("rsyslog.conf");
    std::fs::write(&conf_path, &conf).expect("rsyslog.conf");
    let mut cmd = Command::new(rsyslogd());
    cmd.arg("-n")
        .arg("-f")
        .arg(&conf_path)
        .arg("-i")
        .arg(dir.path().join("rsyslog.pid"));
    let mut daemon = Daemon::spawn("rsyslogd", cmd, dir.path().join("rsyslogd.log"));
    for (port, _) in rulesets {
        daemon.wait_listening(*port).await;
    }
    Rsyslog { daemon, _dir: dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsyslog_forwards_over_tcp_and_tls() {
    let rsyslogd = rsyslogd();
    let _ = logger();
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(dir.path()).await;
    let gw = start_gateway(&certs, "default", false, None).await;
    let (url, key) = (gw.node.url.clone(), gw.node.api_key.clone());

    let [in_tcp, in_tls] = free_ports::<2>();
    let proto23 = "protocol=\"tcp\" TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\"";
    let rulesets = [
        (in_tcp, format!("port=\"{}\" {proto23}", gw.tcp)),
        (
            in_tls,
            format!("port=\"{}\" {proto23} StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/certvalid\"", gw.tls),
        ),
    ];
    let mut rs = start_rsyslog(&certs, false, &rulesets).await;
    eprintln!("rsyslogd {} up", rsyslogd.display());

    let apps = [("nginx", "local7.err", "error"), ("sshd", "auth.warning", "warn"), ("kernel-x", "kern.crit", "fatal"), ("backup", "user.debug", "debug")];
    let mut checks = Vec::new();
    for (label, port) in [("rstcp", in_tcp), ("rstls", in_tls)] {
        checks.extend(send_through_relay(port, label, "rsyslog", "rfc5424", &apps).await);
        checks.push(send_foreign_host(port, label, 4 * 8 + 5, "core-router-2", "bgpd", "info", "rfc5424"));
    }
    expect_checks(&url, &key, &checks, &mut rs.daemon).await;
    let tls_conns = metric(&url, "nexuslog_syslog_connections_total{listener=\"tls\"}").await;
    assert!(
        tls_conns >= 1.0,
        "rsyslog's TLS ruleset used the TLS listener"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_certificate_common_name_selects_the_project() {
    let _ = rsyslogd();
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(dir.path()).await;
    // No default project: only the certificate's CN (`default`) can attribute these messages.
    let gw = start_gateway(&certs, "", true, None).await;
    let (url, key) = (gw.node.url.clone(), gw.node.api_key.clone());
    let in_tls = free_port();
    let action = format!(
        "port=\"{}\" protocol=\"tcp\" TCP_Framing=\"octet-counted\" template=\"RSYSLOG_SyslogProtocol23Format\" StreamDriver=\"gtls\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/certvalid\"",
        gw.tls
    );
    let mut rs = start_rsyslog(&certs, true, &[(in_tls, action)]).await;
    let tok = marker("mtls");
    let text = format!("{tok} over mutual TLS");
    send_logger(
        &[
            "-n",
            "127.0.0.1",
            "-P",
            &in_tls.to_string(),
            "-T",
            "--octet-count",
            "--rfc5424",
        ],
        "vault",
        "authpriv.notice",
        &text,
    )
    .await;
    expect_found(
        &url,
        &key,
        &tok,
        &Expect {
            text: &text,
            host: &hostname(),
            service: "vault",
            level: "info",
            format: "rfc5424",
        },
    )
    .await;
    rs.daemon.assert_alive();

    // Plain TCP has no certificate and no default project: refused.
    let refused_before = metric(&url, "nexuslog_syslog_refused_total").await;
    let tok = marker("anon");
    send_tcp(
        gw.tcp,
        &rfc5424_frame(14, "anon-host", "anon", &format!("{tok} nobody's")),
    );
    wait_until("refusal counted", Duration::from_secs(30), || async {
        (metric(&url, "nexuslog_syslog_refused_total").await > refused_before).then_some(())
    })
    .await;
    assert_eq!(search(&url, &key, &tok).await.expect("search")["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_ng_forwards_rfc5424_and_rfc3164() {
    let sng = syslog_ng();
    let _ = logger();
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = Certs::generate(dir.path()).await;
    let gw = start_gateway(&certs, "default", false, None).await;
    let (url, key) = (gw.node.url.clone(), gw.node.api_key.clone());

    let [in5424, in3164] = free_ports::<2>();
    let conf = format!(
        r#"@version: 3.38
options {{ keep-hostname(yes); chain-hostnames(no); use-dns(no); use-fqdn(no); dns-cache(no); stats-freq(0); }};
source s_5424 {{ syslog(ip("127.0.0.1") port({in5424}) transport("tcp")); }};
source s_3164 {{ syslog(ip("127.0.0.1") port({in3164}) transport("tcp")); }};
destination d_5424 {{ syslog("127.0.0.1" port({gw}) transport("tcp") persist-name("d_5424")); }};
destination d_3164 {{ network("127.0.0.1" port({gw}) transport("tcp") persist-name("d_3164")); }};
log {{ source(s_5424); destination(d_5424); }};
log {{ source(s_3164); destination(d_3164); }};
"#,
        gw = gw.tcp
    );
    let d = dir.path();
    std::fs::write(d.join("syslog-ng.conf"), conf).expect("syslog-ng.conf");
    let mut cmd = Command::new(&sng);
    cmd.args(["-F", "-e", "--no-caps"])
        .arg("-f")
        .arg(d.join("syslog-ng.conf"))
        .arg("-R")
        .arg(d.join("syslog-ng.persist"))
        .arg("-p")
        .arg(d.join("syslog-ng.pid"))
        .arg("-c")
        .arg(d.join("syslog-ng.ctl"));
    let mut daemon = Daemon::spawn("syslog-ng", cmd, d.join("syslog-ng.log"));
    daemon.wait_listening(in5424).await;
    daemon.wait_listening(in3164).await;

    let apps = [("postgres", "local0.err", "error"), ("haproxy", "local1.warning", "warn"), ("systemd", "daemon.info", "info"), ("app-debug", "user.debug", "debug")];
    let mut checks = Vec::new();
    for (label, port, format) in [("ng5424", in5424, "rfc5424"), ("ng3164", in3164, "rfc3164")] {
        checks.extend(send_through_relay(port, label, "syslog-ng", format, &apps).await);
        checks.push(send_foreign_host(port, label, 23 * 8 + 2, "access-sw-9", "stp", "fatal", format));
    }
    expect_checks(&url, &key, &checks, &mut daemon).await;
}

/// Multiline over syslog TCP: a stack trace sent one frame per line by two hosts behind one
/// connection (a relay) is joined per host, in the frames' order, by a project's `multiline`
/// rule; the hosts' lines never join each other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiline_traces_over_tcp_are_joined_per_host() {
    const PASSWORD: &str = "admin password for syslog tests";
    let data = tempfile::tempdir().expect("tempdir");
    let [tcp] = free_ports::<1>();
    let mut env = support::with_admin_password(support::standalone_env(data.path()), PASSWORD);
    env.push(("NEXUSLOG_SYSLOG_TCP_ADDR".to_owned(), format!("127.0.0.1:{tcp}")));
    env.push(("NEXUSLOG_SYSLOG_DEFAULT_PROJECT".to_owned(), "default".to_owned()));
    let node = support::start(&[], env, &support::test_key()).await;
    let admin = support::login(&node.url, "admin@localhost", PASSWORD).await;
    let rule = serde_json::json!({ "name": "traces", "when": { "source": "syslog", "service": "billing" }, "steps": [ { "multiline": { "kind": "java" } } ] });
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/projects/default/pipeline/rules", node.url))
        .bearer_auth(&admin)
        .json(&rule)
        .send()
        .await
        .expect("create rule");
    assert_eq!(resp.status(), 201);

    let frames = |tok: &str| -> Vec<u8> {
        [
            ("web-1", format!("ERROR {tok} charge failed on web-1")),
            ("web-2", format!("ERROR {tok} charge failed on web-2")),
            ("web-1", "java.lang.IllegalStateException: declined".to_owned()),
            ("web-2", "at com.example.Billing.retry(Billing.java:7)".to_owned()),
            ("web-1", "at com.example.Billing.charge(Billing.java:42)".to_owned()),
        ]
        .iter()
        .flat_map(|(host, text)| rfc5424_frame(11, host, "billing", text))
        .collect()
    };
    // The gateway reads rules every 2 s: send until a trace arrives joined.
    let hits = wait_until("frames joined per host", Duration::from_secs(60), || async {
        let tok = marker("ml");
        send_tcp(tcp, &frames(&tok));
        let found = wait_until(&format!("{tok} searchable"), Duration::from_secs(30), || async {
            let v = search(&node.url, &node.api_key, &tok).await?;
            let hits = v["hits"].as_array().cloned().unwrap_or_default();
            (hits.len() >= 2).then_some(hits)
        })
        .await;
        found.iter().all(|h| h["message"].as_str().is_some_and(|m| m.contains('\n'))).then_some((tok, found))
    })
    .await;
    let (tok, hits) = hits;
    let message = |host: &str| hits.iter().find(|h| h["host"] == serde_json::json!(host)).and_then(|h| h["message"].as_str()).unwrap_or_default().to_owned();
    assert_eq!(hits.len(), 2, "{hits:#?}");
    assert_eq!(message("web-1"), format!("ERROR {tok} charge failed on web-1\njava.lang.IllegalStateException: declined\nat com.example.Billing.charge(Billing.java:42)"));
    assert_eq!(message("web-2"), format!("ERROR {tok} charge failed on web-2\nat com.example.Billing.retry(Billing.java:7)"));
}
