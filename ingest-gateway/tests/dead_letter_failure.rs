//! A request whose valid events were written but whose refused lines could not be
//! dead-lettered is answered 200 with what was written and `dead_lettered: false`: a 503
//! there would make the client send the written events again.
//!
//! The dead-letter write is made to fail by a bus wrapper refusing that one topic: a real bus
//! (Kafka or the embedded log) cannot be told to fail one topic while the others work. Every
//! other call goes to a real embedded log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use nexuslog_bus::{Bus, BusError, Consumer, EmbeddedBus, EmbeddedBusConfig, InRecord, OutRecord, PartitionLag, Topics};
use nexuslog_ingest_gateway::{router, Gateway, GatewayLimits, Ingest};
use nexuslog_metastore::{keys, ApiKey, KeyCache, MetaStore, SqliteMetaStore};
use nexuslog_schemas::wire::{Codec, EmbeddedCodec};
use serde_json::Value;

/// The embedded log, except that produce to `refused_topic` fails as an outage would.
struct RefusingTopic {
    inner: EmbeddedBus,
    refused_topic: String,
}

#[async_trait]
impl Bus for RefusingTopic {
    async fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), BusError> {
        self.inner.create_topic(topic, partitions).await
    }
    async fn produce(&self, records: Vec<OutRecord>) -> Result<(), BusError> {
        if records.iter().any(|r| r.topic == self.refused_topic) {
            return Err(BusError::Unavailable(format!("{} is not available", self.refused_topic)));
        }
        self.inner.produce(records).await
    }
    async fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BusError> {
        self.inner.consumer(group, topics).await
    }
    async fn tail(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BusError> {
        self.inner.tail(topics).await
    }
    async fn health(&self) -> Result<(), BusError> {
        self.inner.health().await
    }
    async fn last_record(&self, topic: &str, partition: i32) -> Result<Option<InRecord>, BusError> {
        self.inner.last_record(topic, partition).await
    }
    async fn delete_before(&self, topic: &str, partition: i32, offset: i64) -> Result<(), BusError> {
        self.inner.delete_before(topic, partition, offset).await
    }
    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, BusError> {
        self.inner.lag(group, topic).await
    }
}

/// Reads everything on `topic` (a fresh group, from the start).
async fn records(bus: &dyn Bus, topic: &str, want: usize) -> Vec<InRecord> {
    let mut consumer = bus.consumer("reader", &[topic.to_owned()]).await.expect("consumer");
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while got.len() < want && std::time::Instant::now() < deadline {
        got.extend(consumer.poll(100, Duration::from_millis(200)).await.expect("poll"));
    }
    got
}

#[tokio::test]
async fn events_written_before_a_failed_dead_letter_are_answered_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let meta = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).expect("sqlite");
    meta.migrate().await.expect("migrate");
    let project = meta.create_project("p", "P").await.expect("project");
    let new = keys::generate();
    let key = ApiKey {
        id: "k1".into(),
        project_id: project.id.clone(),
        name: "ci".into(),
        source: String::new(),
        prefix: new.prefix.clone(),
        key_hash: new.hash.clone(),
        scopes: "ingest".into(),
        created_by: "bootstrap".into(),
        created_at: 1,
        revoked_at: None,
        last_used_at: None,
        expires_at: None,
    };
    meta.create_api_key(&key).await.expect("key");
    let meta: Arc<dyn MetaStore> = Arc::new(meta);

    let topics = Topics::with_prefix("t.");
    let body = "{\"message\":\"kept 1\"}\n{\"message\": \"cut off\n{\"message\":\"kept 2\"}\n";

    // The dead-letter topic refuses writes.
    let failing = serve(dir.path().join("failing.redb"), &topics, &topics.deadletter, meta.clone()).await;
    let (status, answer) = send(&failing, &new.secret, body).await;
    assert_eq!(status, 200, "the events were written: an error would make the client write them again");
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["rejected"][0]["line"], 2, "{answer}");
    assert_eq!(answer["dead_lettered"], false, "the answer says the refused line was not kept: {answer}");
    assert_eq!(records(failing.bus.as_ref(), &topics.raw, 2).await.len(), 2, "both valid events are on the raw topic");

    // The same request where the dead-letter write works: no flag, the line is kept.
    let healthy = serve(dir.path().join("healthy.redb"), &topics, "no-such-topic", meta).await;
    let (status, answer) = send(&healthy, &new.secret, body).await;
    assert_eq!(status, 200);
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert!(answer.get("dead_lettered").is_none(), "{answer}");
    assert_eq!(records(healthy.bus.as_ref(), &topics.deadletter, 1).await.len(), 1, "the refused line is dead-lettered");
}

struct Served {
    addr: SocketAddr,
    bus: Arc<RefusingTopic>,
}

/// A gateway on an embedded log at `path` whose `refused_topic` fails every write.
async fn serve(path: std::path::PathBuf, topics: &Topics, refused_topic: &str, meta: Arc<dyn MetaStore>) -> Served {
    let log = EmbeddedBus::open(&path, EmbeddedBusConfig::default()).expect("embedded log");
    let bus = Arc::new(RefusingTopic { inner: log, refused_topic: refused_topic.to_owned() });
    for t in topics.partitioned() {
        bus.create_topic(t, 2).await.expect("topic");
    }
    let ingest = Ingest::new(bus.clone(), Codec::Embedded(EmbeddedCodec), topics.clone(), 4 << 20);
    let gw = Gateway::new(ingest, KeyCache::new(meta), GatewayLimits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router(gw).into_make_service_with_connect_info::<SocketAddr>()).await });
    Served { addr, bus }
}

async fn send(to: &Served, secret: &str, body: &'static str) -> (u16, Value) {
    let resp = reqwest::Client::new().post(format!("http://{}/v1/logs/bulk", to.addr)).bearer_auth(secret).body(body).send().await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json answer"))
}
