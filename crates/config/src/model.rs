//! The configuration structs. Every field's doc comment is the user's reference; the README's
//! table is generated from `nexuslog config keys`.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory for the embedded backends' data (log, index, SQLite, state checkpoints).
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub bus: BusConfig,
    pub logstore: LogStoreConfig,
    pub metastore: MetaStoreConfig,
    pub state: StateConfig,
    pub schema_registry: SchemaRegistryConfig,
    pub syslog: SyslogConfig,
    pub bootstrap: BootstrapConfig,
    pub auth: AuthConfig,
    pub alerting: AlertingConfig,
    pub tail: TailConfig,
    pub log: LogConfig,
    pub otel: OtelConfig,
    pub secrets: SecretsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("nexuslog-data"),
            http: HttpConfig::default(),
            bus: BusConfig::default(),
            logstore: LogStoreConfig::default(),
            metastore: MetaStoreConfig::default(),
            state: StateConfig::default(),
            schema_registry: SchemaRegistryConfig::default(),
            syslog: SyslogConfig::default(),
            bootstrap: BootstrapConfig::default(),
            auth: AuthConfig::default(),
            alerting: AlertingConfig::default(),
            tail: TailConfig::default(),
            log: LogConfig::default(),
            otel: OtelConfig::default(),
            secrets: SecretsConfig::default(),
        }
    }
}

/// The HTTP listener (ingest and API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address the HTTP server binds (`NEXUSLOG_HTTP_ADDR`). Port 8000 as in the design document.
    pub addr: SocketAddr,
    /// Largest accepted request body after decompression, in bytes; larger requests get 413.
    pub max_body_bytes: u64,
    /// Largest single event, in bytes; larger lines are rejected individually.
    pub max_event_bytes: u64,
    /// Events per second each API key may send (bursts up to one second's worth); above it
    /// requests get 429 with Retry-After. 0 means no limit.
    pub rate_limit_events_per_sec: u64,
    /// Ingest requests handled at once; more get 503 with Retry-After instead of queueing.
    pub max_in_flight: u64,
    /// Open HTTP connections at most; past it new connections wait in the listen backlog until
    /// one closes. Keep it below the process's open-file limit (`ulimit -n`).
    pub max_connections: u64,
    /// Seconds for a request's headers to arrive before the connection is closed (slow loris);
    /// also how long a kept-alive connection may sit idle. Behind a load balancer that reuses
    /// connections, set it above the balancer's idle timeout.
    pub header_read_timeout_secs: u64,
    /// Seconds for an ingest request's body to arrive once its key was accepted; slower bodies
    /// get 408 and their connection is closed. The key is checked before the body is read.
    pub body_read_timeout_secs: u64,
    /// A second listener for OTLP logs over gRPC only (`LogsService/Export`), e.g.
    /// `0.0.0.0:4317`, the port OpenTelemetry exporters use by default; empty for none. The
    /// HTTP port serves the same gRPC method either way.
    pub otlp_grpc_addr: String,
    /// PEM certificate chain: with `tls_key`, the HTTP port (and the OTLP gRPC port) speak
    /// HTTPS only — TLS 1.2 and 1.3, HTTP/2 or HTTP/1.1 by ALPN. Both files are reloaded when
    /// they change on disk; open connections keep their session.
    pub tls_cert: String,
    /// PEM private key of `tls_cert`.
    pub tls_key: String,
    /// PEM CA bundle; when set, every HTTPS client must present a certificate it signed
    /// (mutual TLS), health probes included.
    pub tls_client_ca: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([0, 0, 0, 0], 8000)),
            max_body_bytes: 10 * 1024 * 1024,
            max_event_bytes: 1024 * 1024,
            rate_limit_events_per_sec: 0,
            max_in_flight: 256,
            max_connections: 16_384,
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 60,
            otlp_grpc_addr: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_client_ca: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusKind {
    /// Durable log embedded in the process (standalone).
    Embedded,
    /// Apache Kafka through librdkafka.
    Kafka,
}

/// The message bus between gateway, processors and sinks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `embedded` or `kafka`.
    pub kind: BusKind,
    /// Prefix of every topic name: `<prefix>raw`, `<prefix>logs`, `<prefix>alerts`, `<prefix>deadletter`.
    pub topic_prefix: String,
    /// Largest record NexusLog writes to the bus. Topics NexusLog creates and the Kafka client
    /// allow this plus 64 KiB of framing; a processed record that would be larger has its
    /// message (then its largest fields) truncated with a marker, so no record can stall a
    /// partition. Must leave 64 KiB above `http.max_event_bytes` and `syslog.max_message_bytes`.
    pub max_record_bytes: u64,
    /// Records on the bus not yet committed by the processors and sinks, at most; above it
    /// HTTP ingest answers 503 with Retry-After and syslog TCP connections are not read until
    /// the pipeline catches up (UDP is never held). Bounds the time from acknowledgment to
    /// searchable after a burst, and keeps a long sink outage from outgrowing the bus's
    /// retention. 0: no bound.
    pub max_backlog_records: u64,
    /// Embedded log only: bytes of records it may hold (compressed, as stored). Retention never
    /// deletes what a consumer has not processed, so a pipeline stopped for long grows the
    /// log without bound; over this cap the oldest records are deleted even unprocessed, each
    /// counted in `nexuslog_bus_cap_deleted_records_total{consumed="false"}` and logged as an
    /// error. 0: no cap.
    pub embedded_max_bytes: u64,
    pub kafka: KafkaConfig,
}

/// Room above `bus.max_record_bytes` for a record's key, headers and batch framing, and room
/// below it for the envelope of a raw event around its payload.
pub const RECORD_HEADROOM_BYTES: u64 = 64 * 1024;

impl Default for BusConfig {
    fn default() -> Self {
        Self { kind: BusKind::Embedded, topic_prefix: "nexuslog.".into(), max_record_bytes: 4 << 20, max_backlog_records: 1_000_000, embedded_max_bytes: 0, kafka: KafkaConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap brokers, `host:port`, comma-separated in the environment.
    pub brokers: Vec<String>,
    /// Partitions of topics NexusLog creates.
    pub partitions: i64,
    /// Replication factor of topics NexusLog creates.
    pub replication_factor: i64,
    /// Name of this process among the replicas of its role, stable across restarts (a pod
    /// name): processors derive their Kafka transactional id from it, so a restarted process
    /// fences its own unfinished transactions, and two live processes with the same value fence
    /// each other. Empty: `<host name>-<random suffix>`, the suffix generated once and kept in
    /// `data_dir/instance/`, one per process running on that data directory at a time (a
    /// restart gets its id back; a second process beside it gets another).
    pub instance_id: String,
    /// How the client talks to the brokers (librdkafka's `security.protocol`): `plaintext`,
    /// `ssl`, `sasl_plaintext` or `sasl_ssl`.
    pub security_protocol: KafkaSecurityProtocol,
    /// SASL mechanism with `sasl_*`: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: String,
    pub sasl_username: String,
    pub sasl_password: Secret,
    /// With `ssl`/`sasl_ssl`: PEM file of the CA that signed the brokers' certificates (empty:
    /// the system's roots).
    pub tls_ca: String,
    /// PEM client certificate and key, for brokers that authenticate clients by certificate.
    pub tls_cert: String,
    pub tls_key: String,
    /// Further librdkafka properties, `name=value` (e.g. `fetch.wait.max.ms=100`), for what
    /// has no setting of its own. Properties NexusLog's guarantees rest on (group, offsets,
    /// transactions, idempotence) are refused.
    pub properties: Vec<String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: vec!["127.0.0.1:9092".into()],
            partitions: 6,
            replication_factor: 1,
            instance_id: String::new(),
            security_protocol: KafkaSecurityProtocol::Plaintext,
            sasl_mechanism: "PLAIN".into(),
            sasl_username: String::new(),
            sasl_password: Secret::default(),
            tls_ca: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            properties: Vec::new(),
        }
    }
}

/// librdkafka properties `bus.kafka.properties` may not set: NexusLog sets them per client, and
/// its no-loss, no-duplicate guarantees depend on their values.
const RESERVED_KAFKA_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "isolation.level",
    "transactional.id",
    "enable.idempotence",
    "acks",
    "message.max.bytes",
];

impl KafkaConfig {
    /// The librdkafka properties of the security settings and of `properties`.
    pub fn client_properties(&self) -> Vec<(String, String)> {
        let mut props = Vec::new();
        let tls = matches!(self.security_protocol, KafkaSecurityProtocol::Ssl | KafkaSecurityProtocol::SaslSsl);
        if self.security_protocol != KafkaSecurityProtocol::Plaintext {
            props.push(("security.protocol".into(), self.security_protocol.as_str().into()));
        }
        if matches!(self.security_protocol, KafkaSecurityProtocol::SaslPlaintext | KafkaSecurityProtocol::SaslSsl) {
            props.push(("sasl.mechanism".into(), self.sasl_mechanism.clone()));
            props.push(("sasl.username".into(), self.sasl_username.clone()));
            props.push(("sasl.password".into(), self.sasl_password.expose().to_owned()));
        }
        if tls {
            for (prop, path) in [("ssl.ca.location", &self.tls_ca), ("ssl.certificate.location", &self.tls_cert), ("ssl.key.location", &self.tls_key)] {
                if !path.is_empty() {
                    props.push((prop.into(), path.clone()));
                }
            }
        }
        props.extend(self.properties.iter().filter_map(|p| p.split_once('=')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())));
        props
    }

    fn validate(&self) -> Result<(), Invalid> {
        let sasl = matches!(self.security_protocol, KafkaSecurityProtocol::SaslPlaintext | KafkaSecurityProtocol::SaslSsl);
        if sasl {
            if !matches!(self.sasl_mechanism.as_str(), "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512") {
                return Err(("bus.kafka.sasl_mechanism", format!("{:?} is not supported", self.sasl_mechanism), "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"));
            }
            if self.sasl_username.is_empty() {
                return Err(("bus.kafka.sasl_username", format!("is required with security_protocol = {}", self.security_protocol.as_str()), "the SASL user name"));
            }
        }
        if self.tls_cert.is_empty() != self.tls_key.is_empty() {
            return Err(("bus.kafka.tls_cert", "a client certificate needs both tls_cert and tls_key".into(), "both files, or neither"));
        }
        for p in &self.properties {
            let Some((k, _)) = p.split_once('=') else {
                return Err(("bus.kafka.properties", format!("{p:?} is not name=value"), "librdkafka properties as name=value"));
            };
            if RESERVED_KAFKA_PROPERTIES.contains(&k.trim()) {
                return Err(("bus.kafka.properties", format!("{:?} is set by NexusLog itself", k.trim()), "librdkafka properties other than those NexusLog manages"));
            }
        }
        Ok(())
    }
}

/// librdkafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KafkaSecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl KafkaSecurityProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStoreKind {
    /// Tantivy index in `data_dir` (standalone).
    Tantivy,
    /// OpenSearch through its bulk and search APIs.
    Opensearch,
}

/// Where log records are indexed and searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogStoreConfig {
    /// `tantivy` or `opensearch`.
    pub kind: LogStoreKind,
    /// Prefix of index names (`<prefix><project>-<yyyy.mm.dd>`).
    pub index_prefix: String,
    /// Days of logs kept before whole daily indices are deleted.
    pub retention_days: i64,
    /// Events stamped further back than this many days (0: `retention_days`) keep their time as
    /// the field `event.original_timestamp` but are indexed at their receipt time: a reset
    /// device clock must not land in a day retention deletes next hour, nor open one daily
    /// partition per distinct date.
    pub max_event_age_days: i64,
    /// Likewise for events stamped more than this many seconds ahead of their receipt.
    pub max_event_ahead_secs: i64,
    /// Most records the sink writes to the log store in one bulk write.
    pub bulk_max_records: u64,
    /// Largest bulk write, in bytes: the sink stops filling a batch at this many bytes of
    /// records, and OpenSearch gets requests whose body is at most this large (a batch goes as
    /// several requests; a document larger than this alone). A request OpenSearch or a proxy
    /// refuses with 413 is halved until it passes; a single document still refused is
    /// dead-lettered with the reason. Keep it below OpenSearch's `http.max_content_length`
    /// (100 MiB) and any proxy's body limit.
    pub bulk_max_bytes: u64,
    /// OpenSearch: `_bulk` requests of one write in flight at once (a batch of at least 1 000
    /// records is split into that many parts). Each request into a shard is indexed by one write
    /// thread; more requests keep more of them busy. Order does not matter: documents have ids.
    pub bulk_concurrency: u32,
    pub opensearch: OpenSearchConfig,
    pub tantivy: TantivyConfig,
}

/// How the sink writes to the embedded Tantivy store. Each batch is one commit and one new
/// segment that background merges rewrite later, so batches here are far larger than
/// OpenSearch's bulk requests (`bulk_max_records`/`bulk_max_bytes` do not apply).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TantivyConfig {
    /// Commits are at most this far apart, and a record waiting when one starts is in the next:
    /// the freshness/throughput dial. Under a backlog batches follow each other at once, up to
    /// the bounds below, whatever this says.
    pub commit_interval_ms: u64,
    /// Most records per commit.
    pub commit_max_records: u64,
    /// Most bytes of records (as read from the bus) per commit: bounds the sink's memory.
    pub commit_max_bytes: u64,
}

impl Default for TantivyConfig {
    fn default() -> Self {
        Self { commit_interval_ms: 250, commit_max_records: 50_000, commit_max_bytes: 64 << 20 }
    }
}

impl Default for LogStoreConfig {
    fn default() -> Self {
        Self {
            kind: LogStoreKind::Tantivy,
            index_prefix: "nexuslog-".into(),
            retention_days: 14,
            max_event_age_days: 0,
            max_event_ahead_secs: 86_400,
            bulk_max_records: 5_000,
            bulk_max_bytes: 10 << 20,
            bulk_concurrency: 2,
            opensearch: OpenSearchConfig::default(),
            tantivy: TantivyConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpenSearchConfig {
    /// Base URL, e.g. `http://127.0.0.1:9200`.
    pub url: String,
    /// Basic-auth user; empty for none.
    pub username: String,
    pub password: Secret,
    /// With an `https://` URL: PEM file of the CA that signed the cluster's certificate
    /// (empty: the system's roots).
    pub tls_ca: String,
    /// PEM client certificate and key, for clusters that authenticate clients by certificate.
    pub tls_cert: String,
    pub tls_key: String,
    /// Verify the cluster's certificate and host name. Turning it off (a test cluster with a
    /// self-signed certificate) is logged as a warning at every start.
    pub tls_verify: bool,
}

impl Default for OpenSearchConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:9200".into(),
            username: String::new(),
            password: Secret::default(),
            tls_ca: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_verify: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetaStoreKind {
    /// SQLite file in `data_dir` (standalone).
    Sqlite,
    /// PostgreSQL through deadpool-postgres.
    Postgres,
}

/// Users, projects, keys, rules, dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetaStoreConfig {
    /// `sqlite` or `postgres`.
    pub kind: MetaStoreKind,
    pub postgres: PostgresConfig,
}

impl Default for MetaStoreConfig {
    fn default() -> Self {
        Self { kind: MetaStoreKind::Sqlite, postgres: PostgresConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    /// Connection URL, `postgres://user:password@host:port/db` (a secret: it may hold a password).
    pub url: Secret,
    /// Connections in the pool.
    pub pool_size: i64,
    /// TLS, as libpq's `sslmode`: `disable`, `prefer` (TLS when offered, unverified),
    /// `require` (TLS or nothing; verified against `tls_ca` when set), `verify-ca`,
    /// `verify-full` (CA and host name). Overrides an `sslmode` in the URL.
    pub sslmode: PgSslMode,
    /// PEM file of the CA that signed the server's certificate (`verify-ca`, `verify-full`).
    pub tls_ca: String,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self { url: Secret::new("postgres://nexuslog:nexuslog@127.0.0.1:5432/nexuslog"), pool_size: 8, sslmode: PgSslMode::Prefer, tls_ca: String::new() }
    }
}

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PgSslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// In-process, checkpointed to `data_dir` (standalone).
    Memory,
    /// Redis.
    Redis,
}

/// Shared state: rate limits, key-revocation cache, alert windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateConfig {
    /// `memory` or `redis`.
    pub kind: StateKind,
    pub redis: RedisConfig,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self { kind: StateKind::Memory, redis: RedisConfig::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://host:port/db`, or `rediss://` for TLS (a secret: it may hold a password).
    pub url: Secret,
    /// With `rediss://`: PEM file of the CA that signed the server's certificate (empty: the
    /// system's roots).
    pub tls_ca: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: Secret::new("redis://127.0.0.1:6379"), tls_ca: String::new() }
    }
}

/// The schema registry used in distributed mode.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchemaRegistryConfig {
    /// Base URL of a Confluent-compatible registry; empty to use the compiled-in schema ids.
    pub url: String,
    /// With an `https://` URL: PEM file of the CA that signed the registry's certificate
    /// (empty: the system's roots).
    pub tls_ca: String,
}

/// Syslog listeners of the gateway. An empty address disables that listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogConfig {
    /// TCP listener (octet counting or newline framing, detected per frame), e.g. `0.0.0.0:601`.
    pub tcp_addr: String,
    /// TLS listener; needs `tls_cert` and `tls_key`.
    pub tls_addr: String,
    /// UDP listener (one message per datagram).
    pub udp_addr: String,
    /// Slug of the project for messages that carry no API key (`[nexuslog@<PEN> key="..."]`);
    /// empty means such messages are refused (counted and dead-lettered).
    pub default_project: String,
    /// PEM certificate chain of the TLS listener.
    pub tls_cert: String,
    /// PEM private key of the TLS listener.
    pub tls_key: String,
    /// PEM CA bundle; when set, TLS clients must present a certificate it signed, and the
    /// certificate's common name, if it is a project slug, selects the project.
    pub tls_client_ca: String,
    /// Largest accepted message; longer frames are dead-lettered.
    pub max_message_bytes: u64,
    /// Connections idle longer than this are closed.
    pub idle_timeout_secs: u64,
    /// Concurrent TCP/TLS connections; more are refused.
    pub max_connections: u64,
    /// Bytes of messages one connection (or the UDP listener) gathers before writing them to
    /// the bus; a batch may pass it by one socket read (64 KiB). Bounds memory per connection.
    pub max_batch_bytes: u64,
    /// Seconds a TLS client certificate's name → project lookup is remembered, including "no
    /// such project": a project created (or deleted) later is accepted (or refused) within this.
    pub project_cache_ttl_secs: u64,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        Self {
            tcp_addr: String::new(),
            tls_addr: String::new(),
            udp_addr: String::new(),
            default_project: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            tls_client_ca: String::new(),
            max_message_bytes: 64 * 1024,
            idle_timeout_secs: 600,
            max_connections: 1024,
            max_batch_bytes: 4 << 20,
            project_cache_ttl_secs: 60,
        }
    }
}

/// Values used once, at first start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootstrapConfig {
    /// Ingest API key of the default project; generated and printed once when empty.
    pub api_key: Secret,
    /// Password of the first admin; generated and printed once when empty.
    pub admin_password: Secret,
}

/// User sign-in: sessions, tokens, throttling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Secret signing access tokens (HS256), at least 32 characters. When empty, one is generated
    /// at first start and kept in the metadata store, shared by every API replica.
    pub jwt_secret: Secret,
    /// Lifetime of an access token, in seconds. Logout and revocation end it sooner.
    pub access_token_ttl_secs: u64,
    /// Lifetime of a login session (its refresh token), in days; each refresh extends it.
    pub session_ttl_days: u64,
    /// Failed sign-ins (and invitation acceptances) for one account from one client address
    /// before that client is locked out of that account for `lockout_secs`. Counted per client,
    /// so nobody can lock a well-known account (`admin@localhost`) out for everyone.
    pub max_failed_logins: u32,
    /// Failed sign-ins from one client address, whatever the account, before that client is
    /// locked out for `lockout_secs`.
    pub max_failed_logins_per_ip: u32,
    /// How long a lockout lasts, in seconds (failures are counted over the same window).
    pub lockout_secs: u64,
    /// How long an invitation can be accepted, in hours.
    pub invitation_ttl_hours: u64,
    /// Argon2 password checks (sign-in, invitation, password change) running at once in one
    /// API process; each holds ~19 MiB and a core for tens of milliseconds. 0: one per CPU core.
    pub max_password_checks: u32,
    /// How long a sign-in waits for a password-check slot before it is answered 503 with
    /// `Retry-After`, in milliseconds.
    pub password_check_wait_ms: u64,
    /// Seconds during which the refresh token that a refresh replaced still works, answering
    /// with the same new refresh token, so two browser tabs refreshing at once keep the session.
    /// Presented after this window it is a replay: the session ends. 0: no grace.
    pub refresh_grace_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: Secret::default(),
            access_token_ttl_secs: 900,
            session_ttl_days: 30,
            max_failed_logins: 5,
            max_failed_logins_per_ip: 50,
            lockout_secs: 900,
            invitation_ttl_hours: 72,
            max_password_checks: 0,
            password_check_wait_ms: 2000,
            refresh_grace_secs: 30,
        }
    }
}

/// Alert notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    /// Let webhook and chat channels post to loopback and private addresses (link-local and
    /// cloud metadata addresses are refused regardless). Off by default: an alert rule must not
    /// become a way to reach internal services.
    pub allow_private_targets: bool,
    /// Attempts per notification before it is marked failed (exponential backoff with jitter).
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; doubled at each further retry.
    pub retry_initial_ms: u64,
    /// Base URL of this NexusLog as users reach it, for the links in notifications.
    pub public_url: String,
    /// Most notifications per minute for one rule to one channel; the excess is recorded as
    /// `throttled` and not sent (a flapping rule must not flood a pager). 0: no limit.
    pub throttle_per_minute: u32,
    pub smtp: SmtpConfig,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            max_attempts: 5,
            retry_initial_ms: 1000,
            public_url: "http://127.0.0.1:8080".into(),
            throttle_per_minute: 20,
            smtp: SmtpConfig::default(),
        }
    }
}

/// The live tail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TailConfig {
    /// Open live tails per user or API key (429 past it).
    pub max_per_caller: u32,
    /// Open live tails per API instance (429 past it).
    pub max_per_instance: u32,
    /// Records buffered per open tail; a client slower than the stream misses records past it
    /// and is told how many (`event: skipped`).
    pub buffer: u32,
}

impl Default for TailConfig {
    fn default() -> Self {
        Self { max_per_caller: 5, max_per_instance: 2000, buffer: 1000 }
    }
}

/// How a connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

/// The mail server email channels send through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Mail server host; empty: email channels cannot deliver (each attempt says so).
    pub host: String,
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub tls: SmtpTls,
    /// Login, when the server wants one.
    pub user: String,
    pub password: Secret,
    /// Sender address of notifications.
    pub from: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self { host: String::new(), port: 587, tls: SmtpTls::Starttls, user: String::new(), password: Secret::default(), from: "NexusLog <nexuslog@localhost>".into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// NexusLog's own logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `info,nexuslog_bus=debug`.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".into(), format: LogFormat::Text }
    }
}

/// NexusLog's own traces, exported over OpenTelemetry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtelConfig {
    /// Base URL of an OTLP/HTTP receiver (an OpenTelemetry Collector, Jaeger, Tempo), e.g.
    /// `http://127.0.0.1:4318`; spans go to `<endpoint>/v1/traces` as protobuf. Empty: no
    /// tracing, and no trace context in bus records. The standard `OTEL_TRACES_SAMPLER`,
    /// `OTEL_BSP_*` and `OTEL_SERVICE_NAME` variables apply.
    pub endpoint: String,
}

/// The key that encrypts the credentials NexusLog stores (alert channels' secrets, tokens and
/// token-bearing URLs; each project's redaction hashing key).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretsConfig {
    /// A file of AES-256 keys, one per line (64 hex characters); the first encrypts, all
    /// decrypt, so a new key goes on the first line and old ones stay below it until
    /// everything is re-encrypted. Empty: standalone mode creates `<data_dir>/secrets.key`;
    /// the distributed roles store credentials in clear and warn at start.
    pub key_file: String,
}

/// A more helpful "expected" than the type name, for keys whose type says little.
pub(crate) fn expected_hint(key: &str) -> Option<&'static str> {
    Some(match key {
        "http.addr" => "an address like 0.0.0.0:8000",
        "bus.kind" => "one of: embedded, kafka",
        "logstore.kind" => "one of: tantivy, opensearch",
        "metastore.kind" => "one of: sqlite, postgres",
        "state.kind" => "one of: memory, redis",
        "log.format" => "one of: text, json",
        _ => return None,
    })
}

type Invalid = (&'static str, String, &'static str);

impl Config {
    /// The oldest an event's own time may be, in days, before it is indexed at receipt time.
    pub fn max_event_age_days(&self) -> i64 {
        if self.logstore.max_event_age_days > 0 {
            self.logstore.max_event_age_days
        } else {
            self.logstore.retention_days
        }
    }

    /// Checks what types alone cannot: ranges, URL schemes, and values the chosen backends need.
    pub(crate) fn validate(&self) -> Result<(), Invalid> {
        if self.http.max_body_bytes == 0 {
            return Err(("http.max_body_bytes", "must not be 0".into(), "a positive number of bytes"));
        }
        if self.http.max_event_bytes == 0 || self.http.max_event_bytes > self.http.max_body_bytes {
            return Err((
                "http.max_event_bytes",
                format!("{} is outside 1..=http.max_body_bytes ({})", self.http.max_event_bytes, self.http.max_body_bytes),
                "a positive number of bytes no larger than http.max_body_bytes",
            ));
        }
        if self.http.max_in_flight == 0 {
            return Err(("http.max_in_flight", "must not be 0".into(), "a positive number of requests"));
        }
        self.bus.kafka.validate()?;
        for (key, value) in [
            ("http.max_connections", self.http.max_connections),
            ("http.header_read_timeout_secs", self.http.header_read_timeout_secs),
            ("http.body_read_timeout_secs", self.http.body_read_timeout_secs),
        ] {
            if value == 0 {
                return Err((key, "must not be 0".into(), "a positive number"));
            }
        }
        for (key, payload) in [("http.max_event_bytes", self.http.max_event_bytes), ("syslog.max_message_bytes", self.syslog.max_message_bytes)] {
            if payload.saturating_add(RECORD_HEADROOM_BYTES) > self.bus.max_record_bytes {
                return Err((
                    "bus.max_record_bytes",
                    format!("{} leaves less than 64 KiB above {key} ({payload})", self.bus.max_record_bytes),
                    "at least 64 KiB more than http.max_event_bytes and syslog.max_message_bytes",
                ));
            }
        }
        if self.bus.kind == BusKind::Kafka {
            if self.bus.kafka.brokers.is_empty() {
                return Err(("bus.kafka.brokers", "is empty".into(), "at least one host:port"));
            }
            for b in &self.bus.kafka.brokers {
                let ok = b.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                if !ok {
                    return Err(("bus.kafka.brokers", format!("{b:?} is not host:port"), "host:port entries"));
                }
            }
            if self.bus.kafka.partitions < 1 {
                return Err(("bus.kafka.partitions", format!("{} < 1", self.bus.kafka.partitions), "at least 1"));
            }
            if self.bus.kafka.replication_factor < 1 {
                return Err(("bus.kafka.replication_factor", format!("{} < 1", self.bus.kafka.replication_factor), "at least 1"));
            }
        }
        if self.logstore.kind == LogStoreKind::Opensearch && !is_http_url(&self.logstore.opensearch.url) {
            return Err(("logstore.opensearch.url", format!("{:?} is not an http(s) URL", self.logstore.opensearch.url), "http://host:port"));
        }
        if self.logstore.retention_days < 1 {
            return Err(("logstore.retention_days", format!("{} < 1", self.logstore.retention_days), "at least 1 day"));
        }
        if self.logstore.max_event_age_days < 0 {
            return Err(("logstore.max_event_age_days", format!("{} < 0", self.logstore.max_event_age_days), "days, or 0 for logstore.retention_days"));
        }
        if self.logstore.bulk_max_records == 0 {
            return Err(("logstore.bulk_max_records", "must not be 0".into(), "a positive number of records"));
        }
        if !(1..=16).contains(&self.logstore.bulk_concurrency) {
            return Err(("logstore.bulk_concurrency", format!("{} is out of range", self.logstore.bulk_concurrency), "1 to 16"));
        }
        if self.logstore.bulk_max_bytes == 0 {
            return Err(("logstore.bulk_max_bytes", "must not be 0".into(), "a positive number of bytes"));
        }
        if self.logstore.tantivy.commit_max_records == 0 {
            return Err(("logstore.tantivy.commit_max_records", "must not be 0".into(), "a positive number of records"));
        }
        if self.logstore.tantivy.commit_max_bytes == 0 {
            return Err(("logstore.tantivy.commit_max_bytes", "must not be 0".into(), "a positive number of bytes"));
        }
        if self.logstore.max_event_ahead_secs < 0 {
            return Err(("logstore.max_event_ahead_secs", format!("{} < 0", self.logstore.max_event_ahead_secs), "a number of seconds"));
        }
        if self.metastore.kind == MetaStoreKind::Postgres {
            let url = self.metastore.postgres.url.expose();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(("metastore.postgres.url", "does not start with postgres://".into(), "postgres://user:password@host:port/db"));
            }
            if self.metastore.postgres.pool_size < 1 {
                return Err(("metastore.postgres.pool_size", format!("{} < 1", self.metastore.postgres.pool_size), "at least 1"));
            }
        }
        if self.state.kind == StateKind::Redis {
            let url = self.state.redis.url.expose();
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(("state.redis.url", "does not start with redis:// or rediss://".into(), "redis://host:port"));
            }
        }
        for (key, addr) in [
            ("syslog.tcp_addr", &self.syslog.tcp_addr),
            ("syslog.tls_addr", &self.syslog.tls_addr),
            ("syslog.udp_addr", &self.syslog.udp_addr),
            ("http.otlp_grpc_addr", &self.http.otlp_grpc_addr),
        ] {
            if !addr.is_empty() && addr.parse::<SocketAddr>().is_err() {
                return Err((key, format!("{addr:?} is not an address"), "host:port, e.g. 0.0.0.0:601 or 0.0.0.0:4317, or empty to disable"));
            }
        }
        if !self.syslog.tls_addr.is_empty() && (self.syslog.tls_cert.is_empty() || self.syslog.tls_key.is_empty()) {
            return Err(("syslog.tls_cert", "the TLS listener needs a certificate and key".into(), "paths to PEM files in syslog.tls_cert and syslog.tls_key"));
        }
        if self.http.tls_cert.is_empty() != self.http.tls_key.is_empty() {
            let missing = if self.http.tls_cert.is_empty() { "http.tls_cert" } else { "http.tls_key" };
            return Err((missing, "HTTPS needs both a certificate and a key".into(), "paths to PEM files in http.tls_cert and http.tls_key, or neither for plain HTTP"));
        }
        if !self.http.tls_client_ca.is_empty() && self.http.tls_cert.is_empty() {
            return Err(("http.tls_client_ca", "client certificates need HTTPS".into(), "set http.tls_cert and http.tls_key too"));
        }
        let key = self.bootstrap.api_key.expose();
        if !key.is_empty() {
            let body = key.strip_prefix("nxl_").unwrap_or_default();
            let problem = if !key.starts_with("nxl_") {
                Some("does not start with nxl_".to_owned())
            } else if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Some("has characters other than letters and digits after nxl_".to_owned())
            } else if body.len() != 32 {
                Some(format!("has {} characters after nxl_, not 32", body.len()))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(("bootstrap.api_key", problem, "nxl_ followed by 32 letters or digits, like generated keys: nxl_$(openssl rand -hex 16)"));
            }
        }
        let secret = self.auth.jwt_secret.expose();
        if !secret.is_empty() && secret.len() < 32 {
            return Err(("auth.jwt_secret", format!("is {} characters long", secret.len()), "at least 32 characters, or empty to generate one"));
        }
        for (key, value) in [
            ("auth.access_token_ttl_secs", self.auth.access_token_ttl_secs),
            ("auth.session_ttl_days", self.auth.session_ttl_days),
            ("auth.lockout_secs", self.auth.lockout_secs),
            ("auth.invitation_ttl_hours", self.auth.invitation_ttl_hours),
            ("auth.max_failed_logins", u64::from(self.auth.max_failed_logins)),
            ("auth.max_failed_logins_per_ip", u64::from(self.auth.max_failed_logins_per_ip)),
        ] {
            if value == 0 {
                return Err((key, "must not be 0".into(), "a positive number"));
            }
        }
        if self.syslog.max_batch_bytes == 0 {
            return Err(("syslog.max_batch_bytes", "must not be 0".into(), "a positive number of bytes"));
        }
        if self.syslog.max_message_bytes < 480 {
            return Err(("syslog.max_message_bytes", format!("{} is below 480", self.syslog.max_message_bytes), "at least 480 bytes (RFC 5424 minimum)"));
        }
        if !self.otel.endpoint.is_empty() && !is_http_url(&self.otel.endpoint) {
            return Err(("otel.endpoint", format!("{:?} is not an http(s) URL", self.otel.endpoint), "an OTLP/HTTP base URL like http://127.0.0.1:4318, or empty"));
        }
        if !self.schema_registry.url.is_empty() && !is_http_url(&self.schema_registry.url) {
            return Err(("schema_registry.url", format!("{:?} is not an http(s) URL", self.schema_registry.url), "http://host:port/path or empty"));
        }
        Ok(())
    }
}

fn is_http_url(s: &str) -> bool {
    let rest = s.strip_prefix("http://").or_else(|| s.strip_prefix("https://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
}
