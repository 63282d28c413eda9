//! Configuration → backend instances. The only place that names concrete backends: role crates
//! receive trait objects.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use nexuslog_bus::{Bus, KafkaBus, KafkaBusConfig};
use nexuslog_config::{BusKind, Config, LogStoreKind, MetaStoreKind, StateKind};
use nexuslog_logstore::{LogStore, OpenSearchConfig, OpenSearchLogStore};
use nexuslog_metastore::{MetaStore, PostgresMetaStore};
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

fn not_yet(key: &str, value: &str, alternative: &str) -> anyhow::Error {
    anyhow!(
        "`{key}` = {value} is not available in this build yet (it arrives with standalone mode); \
         set {alternative}, e.g. with `bash scripts/run.sh`, which starts the real services"
    )
}

pub async fn bus(c: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    match c.bus.kind {
        BusKind::Kafka => {
            let brokers = c.bus.kafka.brokers.join(",");
            let mut kc = KafkaBusConfig::new(brokers.clone());
            kc.replication_factor = i32::try_from(c.bus.kafka.replication_factor).context("bus.kafka.replication_factor")?;
            let bus = KafkaBus::new(kc).context("bus.kafka")?;
            reach("bus.kafka.brokers", &brokers, bus.health()).await?;
            Ok(Arc::new(bus))
        }
        BusKind::Embedded => Err(not_yet("bus.kind", "embedded", "bus.kind = kafka and bus.kafka.brokers")),
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
            .context("logstore.opensearch.url")?;
            reach("logstore.opensearch.url", &os.url, store.health()).await?;
            Ok(Arc::new(store))
        }
        LogStoreKind::Tantivy => Err(not_yet("logstore.kind", "tantivy", "logstore.kind = opensearch and logstore.opensearch.url")),
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
        MetaStoreKind::Sqlite => Err(not_yet("metastore.kind", "sqlite", "metastore.kind = postgres and metastore.postgres.url")),
    }
}

pub async fn state(c: &Config) -> anyhow::Result<Arc<dyn StateStore>> {
    match c.state.kind {
        StateKind::Redis => {
            let connect = RedisState::connect(c.state.redis.url.expose());
            let store = match tokio::time::timeout(REACH_TIMEOUT, connect).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => bail!("cannot reach `state.redis.url` = (hidden): {e}"),
                Err(_) => bail!("cannot reach `state.redis.url` = (hidden): no answer within {REACH_TIMEOUT:?}"),
            };
            reach("state.redis.url", "(hidden)", store.health()).await?;
            Ok(Arc::new(store))
        }
        StateKind::Memory => Ok(Arc::new(MemoryState::new())),
    }
}

pub fn codec(c: &Config) -> anyhow::Result<Codec> {
    if c.schema_registry.url.is_empty() {
        return Ok(Codec::Embedded(EmbeddedCodec));
    }
    Ok(Codec::Registry(RegistryCodec::new(&c.schema_registry.url).context("schema_registry.url")?))
}
