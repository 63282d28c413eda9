//! Configuration → backend instances. The only place that names concrete backends: role crates
//! receive trait objects.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use nexuslog_bus::{Bus, EmbeddedBus, EmbeddedBusConfig, KafkaBus, KafkaBusConfig};
use nexuslog_config::{BusKind, Config, LogStoreKind, MetaStoreKind, StateKind};
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore, TantivyLogStore};
use nexuslog_metastore::{MetaStore, PostgresMetaStore, SqliteMetaStore};
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
            kc.instance_id = if c.bus.kafka.instance_id.is_empty() { host_name() } else { c.bus.kafka.instance_id.clone() };
            let bus = KafkaBus::new(kc).context("bus.kafka")?;
            reach("bus.kafka.brokers", &brokers, bus.health()).await?;
            Ok(Arc::new(bus))
        }
        BusKind::Embedded => {
            let path = data_path(c, "bus/log.redb")?;
            let bus = EmbeddedBus::open(&path, EmbeddedBusConfig::default())
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
            })
            .context("logstore.opensearch.url")?
            .with_bulk_max_bytes(usize::try_from(c.logstore.bulk_max_bytes).unwrap_or(usize::MAX));
            reach("logstore.opensearch.url", &os.url, store.health()).await?;
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
            let store = PostgresMetaStore::new(pg.url.expose(), size).context("metastore.postgres.url")?;
            reach("metastore.postgres.url", "(hidden: it may hold a password)", store.health()).await?;
            Ok(Arc::new(store))
        }
        MetaStoreKind::Sqlite => {
            let path = data_path(c, "meta.sqlite")?;
            let store = SqliteMetaStore::open(&path).with_context(|| format!("cannot open {} (`data_dir`)", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The shared state, and for the in-process kind the handle to checkpoint it.
pub async fn state(c: &Config) -> anyhow::Result<(Arc<dyn StateStore>, Option<Arc<MemoryState>>)> {
    match c.state.kind {
        StateKind::Redis => {
            let connect = RedisState::connect(c.state.redis.url.expose());
            let store = match tokio::time::timeout(REACH_TIMEOUT, connect).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => bail!("cannot reach `state.redis.url` = (hidden): {e}"),
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

/// This machine's name, for the default instance id.
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
    Ok(Codec::Registry(RegistryCodec::new(&c.schema_registry.url).context("schema_registry.url")?))
}
