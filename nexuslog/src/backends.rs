//! Configuration → backend instances. The only place that names concrete backends: role crates
//! receive trait objects.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use nexuslog_bus::{Bus, EmbeddedBus, EmbeddedBusConfig, KafkaBus, KafkaBusConfig};
use nexuslog_config::{BusKind, Config, LogStoreKind, MetaStoreKind, PgSslMode, StateKind};
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore, TantivyLogStore};
use nexuslog_metastore::{MetaStore, PgTls, PostgresMetaStore, SealingKeys, SqliteMetaStore, SslMode};
use nexuslog_schemas::wire::{Codec, EmbeddedCodec, RegistryCodec};
use nexuslog_state::{MemoryState, RedisState, StateStore};

/// How long start-up waits for a backend to answer before calling it unreachable.
const REACH_TIMEOUT: Duration = Duration::from_secs(15);

/// Runs a health check with a deadline; the error names the configuration key to look at.
async fn reach<E: std::fmt::Display>(key: &str, shown: &str, check: impl std::future::Future<Output = Result<(), E>>) -> anyhow::Result<()> {
    match tokio::time::timeout(REACH_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => bail!("cannot reach `{key}` = {shown}: {e}"),
        Err(_) => bail!("cannot reach `{key}` = {shown}: no answer within {REACH_TIMEOUT:?}"),
    }
}

/// The PEM file of `setting`, read now so that a missing or unusable file stops the start with
/// an error naming the setting; `None` when the setting is empty.
fn pem(setting: &str, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
    if path.is_empty() {
        return Ok(None);
    }
    Ok(Some(nexuslog_tls::client::read_pem(setting, path)?))
}

/// A failed first contact whose cause reads like a certificate problem also names the setting
/// that supplies the CA.
fn tls_hint(e: anyhow::Error, setting: &str) -> anyhow::Error {
    let text = format!("{e:#}").to_lowercase();
    if ["certificate", "unknownissuer", "unknown issuer", "tls", "ssl", "handshake"].iter().any(|w| text.contains(w)) {
        return e.context(format!("a TLS handshake failed: check `{setting}`"));
    }
    e
}

/// Kafka's first contact: name the TLS or SASL setting its error points to.
fn kafka_hint(e: anyhow::Error) -> anyhow::Error {
    let text = format!("{e:#}").to_lowercase();
    // Broker addresses read `sasl_ssl://…`: match librdkafka's phrases, not the protocol names.
    if text.contains("ssl handshake") || text.contains("certificate") {
        return e.context("the TLS handshake failed: check `bus.kafka.tls_ca` (and `bus.kafka.tls_cert`/`bus.kafka.tls_key`)");
    }
    if text.contains("authentication") {
        return e.context("SASL authentication failed: check `bus.kafka.sasl_username`, `bus.kafka.sasl_password` and `bus.kafka.sasl_mechanism`");
    }
    e
}

/// Creates `data_dir/<sub>` and returns it; the error names `data_dir`.
fn data_path(c: &Config, sub: &str) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(&c.data_dir).with_context(|| format!("cannot create `data_dir` = {}", c.data_dir.display()))?;
    Ok(c.data_dir.join(sub))
}

pub async fn bus(c: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    match c.bus.kind {
        BusKind::Kafka => {
            let brokers = c.bus.kafka.brokers.join(",");
            let mut kc = KafkaBusConfig::new(brokers.clone());
            kc.replication_factor = i32::try_from(c.bus.kafka.replication_factor).context("bus.kafka.replication_factor")?;
            kc.max_message_bytes = usize::try_from(c.bus.max_record_bytes + nexuslog_config::RECORD_HEADROOM_BYTES).context("bus.max_record_bytes")?;
            let k = &c.bus.kafka;
            for (setting, path) in [("bus.kafka.tls_ca", &k.tls_ca), ("bus.kafka.tls_cert", &k.tls_cert), ("bus.kafka.tls_key", &k.tls_key)] {
                pem(setting, path)?;
            }
            kc.extra = k.client_properties();
            kc.instance_id = if c.bus.kafka.instance_id.is_empty() { default_instance_id(&c.data_dir)? } else { c.bus.kafka.instance_id.clone() };
            let bus = KafkaBus::new(kc).context("bus.kafka")?;
            reach("bus.kafka.brokers", &brokers, bus.first_contact(REACH_TIMEOUT - Duration::from_secs(1))).await.map_err(kafka_hint)?;
            Ok(Arc::new(bus))
        }
        BusKind::Embedded => {
            let path = data_path(c, "bus/log.redb")?;
            // Processed records are made again from the raw topic when needed (replay): they
            // are kept only until the sink has indexed them.
            let logs = nexuslog_bus::Topics::with_prefix(&c.bus.topic_prefix).logs;
            let bus = EmbeddedBus::open(&path, EmbeddedBusConfig { transient_topics: vec![logs], max_bytes: c.bus.embedded_max_bytes, ..Default::default() })
                .with_context(|| format!("cannot open the embedded log at {} (`data_dir`)", path.display()))?;
            Ok(Arc::new(bus))
        }
    }
}

pub async fn logstore(c: &Config) -> anyhow::Result<Arc<dyn LogStore>> {
    match c.logstore.kind {
        LogStoreKind::Opensearch => {
            let os = &c.logstore.opensearch;
            let store = OpenSearchLogStore::new(&OpenSearchConfig {
                url: os.url.clone(),
                username: (!os.username.is_empty()).then(|| os.username.clone()),
                password: os.password.is_set().then(|| os.password.expose().to_owned()),
                index_prefix: c.logstore.index_prefix.clone(),
                ca_pem: pem("logstore.opensearch.tls_ca", &os.tls_ca)?,
                identity_pem: match (pem("logstore.opensearch.tls_cert", &os.tls_cert)?, pem("logstore.opensearch.tls_key", &os.tls_key)?) {
                    (Some(mut cert), Some(key)) => {
                        cert.push(b'\n');
                        cert.extend(key);
                        Some(cert)
                    }
                    (None, None) => None,
                    _ => bail!("`logstore.opensearch.tls_cert` and `logstore.opensearch.tls_key` go together: set both or neither"),
                },
                verify: os.tls_verify,
            })
            .context("logstore.opensearch.url")?
            .with_bulk_max_bytes(usize::try_from(c.logstore.bulk_max_bytes).unwrap_or(usize::MAX))
            .with_bulk_concurrency(usize::try_from(c.logstore.bulk_concurrency).unwrap_or(1));
            if !os.tls_verify {
                tracing::warn!("`logstore.opensearch.tls_verify` is false: the cluster's certificate is not checked, so anyone on the path can read and change what is indexed");
            }
            reach("logstore.opensearch.url", &os.url, store.health()).await.map_err(|e| tls_hint(e, "logstore.opensearch.tls_ca"))?;
            Ok(Arc::new(store))
        }
        LogStoreKind::Tantivy => {
            let path = data_path(c, "index")?;
            let store = TantivyLogStore::open(&path).with_context(|| format!("cannot open the index at {} (`data_dir`)", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

pub async fn metastore(c: &Config) -> anyhow::Result<Arc<dyn MetaStore>> {
    match c.metastore.kind {
        MetaStoreKind::Postgres => {
            let pg = &c.metastore.postgres;
            let size = usize::try_from(pg.pool_size).context("metastore.postgres.pool_size")?;
            let mode = match pg.sslmode {
                PgSslMode::Disable => SslMode::Disable,
                PgSslMode::Prefer => SslMode::Prefer,
                PgSslMode::Require => SslMode::Require,
                PgSslMode::VerifyCa => SslMode::VerifyCa,
                PgSslMode::VerifyFull => SslMode::VerifyFull,
            };
            if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) && pg.tls_ca.is_empty() {
                bail!("`metastore.postgres.tls_ca` is required with `metastore.postgres.sslmode` = verify-ca or verify-full");
            }
            pem("metastore.postgres.tls_ca", &pg.tls_ca)?;
            let tls = PgTls { mode, ca: (!pg.tls_ca.is_empty()).then(|| ("metastore.postgres.tls_ca".to_owned(), pg.tls_ca.clone())) };
            let mut store = PostgresMetaStore::with_tls(pg.url.expose(), size, &tls).context("metastore.postgres")?;
            reach("metastore.postgres.url", "(hidden: it may hold a password)", store.health()).await.map_err(|e| tls_hint(e, "metastore.postgres.tls_ca/sslmode"))?;
            if let Some(keys) = sealing_keys(c)? {
                store = store.with_sealing(keys);
            }
            Ok(Arc::new(store))
        }
        MetaStoreKind::Sqlite => {
            let path = data_path(c, "meta.sqlite")?;
            let store = SqliteMetaStore::open(&path).with_context(|| format!("cannot open {} (`data_dir`)", path.display()))?;
            let keys = match sealing_keys(c)? {
                Some(keys) => keys,
                None => SealingKeys::load_or_create(&data_path(c, "secrets.key")?)?,
            };
            Ok(Arc::new(store.with_sealing(keys)))
        }
    }
}

/// The keys of `secrets.key_file`, when set. Without it, the embedded metadata store keeps a key
/// file in `data_dir`; PostgreSQL stores credentials in clear, which is said at start.
fn sealing_keys(c: &Config) -> anyhow::Result<Option<SealingKeys>> {
    if c.secrets.key_file.is_empty() {
        if c.metastore.kind == MetaStoreKind::Postgres {
            tracing::warn!("`secrets.key_file` is not set: alert channels' credentials are stored in PostgreSQL in clear");
        }
        return Ok(None);
    }
    Ok(Some(SealingKeys::load(Path::new(&c.secrets.key_file))?))
}

/// The shared state, and for the in-process kind the handle to checkpoint it.
pub async fn state(c: &Config) -> anyhow::Result<(Arc<dyn StateStore>, Option<Arc<MemoryState>>)> {
    match c.state.kind {
        StateKind::Redis => {
            let ca = pem("state.redis.tls_ca", &c.state.redis.tls_ca)?;
            let connect = RedisState::connect_with_ca(c.state.redis.url.expose(), ca);
            let store = match tokio::time::timeout(REACH_TIMEOUT, connect).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(tls_hint(anyhow::anyhow!("cannot reach `state.redis.url` = (hidden): {e}"), "state.redis.tls_ca")),
                Err(_) => bail!("cannot reach `state.redis.url` = (hidden): no answer within {REACH_TIMEOUT:?}"),
            };
            reach("state.redis.url", "(hidden)", store.health()).await?;
            Ok((Arc::new(store), None))
        }
        StateKind::Memory => {
            let path = data_path(c, "state.json")?;
            let state = Arc::new(MemoryState::open(&path).with_context(|| format!("cannot read {} (`data_dir`)", path.display()))?);
            Ok((state.clone(), Some(state)))
        }
    }
}

/// Processes that may share one data directory at once, each with a default instance id of its own.
const INSTANCE_SLOTS: usize = 64;

/// The default `bus.kafka.instance_id` of this process, claimed once (every bus it opens uses it).
fn default_instance_id(data_dir: &Path) -> anyhow::Result<String> {
    static CLAIMED: std::sync::Mutex<Option<(String, std::fs::File)>> = std::sync::Mutex::new(None);
    let mut claimed = CLAIMED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((id, _)) = claimed.as_ref() {
        return Ok(id.clone());
    }
    let (id, lock) = claim_instance_id(data_dir)?;
    tracing::info!(instance_id = %id, "no bus.kafka.instance_id configured: using this data directory's");
    *claimed = Some((id.clone(), lock));
    Ok(id)
}

/// A default instance id: `<host name>-<8 random characters>`, generated once per slot and kept
/// in `data_dir/instance/slot-<n>`; the slot's file stays locked while the returned file is
/// open. Processors derive their Kafka transactional id from the instance id, so:
/// - a restart on the same data directory gets the same id back (its producer fences the
///   unfinished transactions of the process it replaces);
/// - a second process on the same host — another data directory, or the same one while the
///   first holds slot 0 — gets another id, so the two never fence each other (with the bare
///   host name they did, each start aborting the other's transactions).
///
/// # Errors
/// When the directory cannot be written, or every slot is held.
fn claim_instance_id(data_dir: &Path) -> anyhow::Result<(String, std::fs::File)> {
    use std::io::{Read, Seek, Write};
    let dir = data_dir.join("instance");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {} (`data_dir`) for the default `bus.kafka.instance_id`", dir.display()))?;
    for slot in 0..INSTANCE_SLOTS {
        let path = dir.join(format!("slot-{slot}"));
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {} (`data_dir`)", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {} (`data_dir`)", path.display())),
        }
        let mut kept = String::new();
        file.read_to_string(&mut kept).with_context(|| format!("cannot read {}", path.display()))?;
        let kept = kept.trim();
        if !kept.is_empty() && kept.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Ok((kept.to_owned(), file));
        }
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let id = format!("{}-{}", host_name(), &suffix[..8]);
        file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(id.as_bytes())).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {} (`data_dir`)", path.display()))?;
        return Ok((id, file));
    }
    bail!("{INSTANCE_SLOTS} NexusLog processes already use `data_dir` = {}: give this one its own `data_dir` or set `bus.kafka.instance_id`", data_dir.display())
}

/// This machine's name, the readable part of the default instance id.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "nexuslog".into())
}

pub fn codec(c: &Config) -> anyhow::Result<Codec> {
    if c.schema_registry.url.is_empty() {
        return Ok(Codec::Embedded(EmbeddedCodec));
    }
    let ca = pem("schema_registry.tls_ca", &c.schema_registry.tls_ca)?;
    Ok(Codec::Registry(RegistryCodec::with_ca(&c.schema_registry.url, ca.as_deref()).context("schema_registry")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_on_one_host_get_distinct_instance_ids_and_a_restart_gets_its_own_back() {
        let (a_dir, b_dir) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
        let (first, first_lock) = claim_instance_id(a_dir.path()).expect("claim");
        assert!(first.starts_with(&format!("{}-", host_name())) && first.len() == host_name().len() + 9, "{first}");
        // A second process on the same data directory while the first runs: another id.
        let (second, _second_lock) = claim_instance_id(a_dir.path()).expect("claim");
        assert_ne!(first, second, "two live processes on one data directory must not share a transactional identity");
        // A process on the same host with a data directory of its own: another id too.
        let (other, _other_lock) = claim_instance_id(b_dir.path()).expect("claim");
        assert_ne!(other, first);
        assert_ne!(other, second);
        // The first process restarts: it gets its id back, so its producer fences its own zombie.
        drop(first_lock);
        let (again, _again_lock) = claim_instance_id(a_dir.path()).expect("claim");
        assert_eq!(again, first);
    }
}
