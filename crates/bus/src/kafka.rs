//! [`Bus`] on Apache Kafka through rdkafka.
//!
//! Producer: idempotent, `acks=all`; `produce` awaits every delivery report. Consumers:
//! `enable.auto.commit=false`, `isolation.level=read_committed`. Each consumer that calls
//! `commit_with_outputs` gets its own transactional producer, and the offsets go into the
//! transaction with the consumer's group metadata (KIP-447), so a zombie instance is fenced
//! by the group generation.
//!
//! librdkafka's blocking calls (commit, transaction steps, metadata) run on `spawn_blocking`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::{Bus, BusError, Consumer, InRecord, OutRecord, PartitionLag, Position};

/// How long librdkafka may take for one blocking call before we call the bus unavailable.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connection settings for [`KafkaBus`].
#[derive(Debug, Clone)]
pub struct KafkaBusConfig {
    pub brokers: String,
    pub replication_factor: i32,
    /// Stable name of this process among the replicas of its role. Transactional ids derive
    /// from it, so a restarted processor fences its crashed predecessor at once and aborts its
    /// open transaction, instead of readers waiting for the transaction timeout.
    pub instance_id: String,
    /// Largest record the client may produce, framing included; also the `max.message.bytes`
    /// of topics NexusLog creates, so what the client accepts the broker accepts too.
    pub max_message_bytes: usize,
    /// Extra librdkafka properties (e.g. `linger.ms`), applied last.
    pub extra: Vec<(String, String)>,
}

impl KafkaBusConfig {
    pub fn new(brokers: impl Into<String>) -> Self {
        Self { brokers: brokers.into(), replication_factor: 1, instance_id: "nexuslog".into(), max_message_bytes: (4 << 20) + (64 << 10), extra: Vec::new() }
    }

    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        c.set("message.max.bytes", self.max_message_bytes.to_string());
        for (k, v) in &self.extra {
            c.set(k, v);
        }
        c
    }
}

/// Kafka as the bus.
pub struct KafkaBus {
    config: KafkaBusConfig,
    producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus").field("brokers", &self.config.brokers).finish_non_exhaustive()
    }
}

fn classify(e: &KafkaError) -> BusError {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::QueueFull) => BusError::QueueFull,
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::UnknownTopicOrPartition
            | RDKafkaErrorCode::InvalidMessage,
        ) => BusError::Rejected(e.to_string()),
        _ => BusError::Unavailable(e.to_string()),
    }
}

/// Longest the async side waits for a blocking librdkafka call. Most calls take
/// `CALL_TIMEOUT` themselves, but some (a synchronous offset commit) have no timeout of their
/// own and can wait for a group coordinator that librdkafka never finds again after a broker
/// restart: the caller then gets an error and starts over with a fresh client, and the stuck
/// thread is left behind instead of stalling the pipeline.
const BLOCKING_LIMIT: Duration = Duration::from_secs(45);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, KafkaError> + Send + 'static) -> Result<T, BusError> {
    match tokio::time::timeout(BLOCKING_LIMIT, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(r)) => r.map_err(|e| classify(&e)),
        Ok(Err(join)) => Err(BusError::Unavailable(format!("blocking kafka call panicked: {join}"))),
        Err(_) => {
            tracing::warn!(limit = ?BLOCKING_LIMIT, "a librdkafka call is stuck; giving up on it");
            Err(BusError::Unavailable(format!("kafka call did not return within {BLOCKING_LIMIT:?}")))
        }
    }
}

/// Destroys librdkafka clients on a thread of their own: closing a consumer leaves its group
/// and destroying a producer flushes, and either can wait a long time (without end, in some
/// librdkafka versions) on a broker that just restarted. Dropped inline, that wait would hold
/// an async worker thread and with it the pipeline.
fn close_in_background(what: &'static str, clients: impl Send + 'static) {
    let spawned = std::thread::Builder::new().name("kafka-close".into()).spawn(move || {
        let started = std::time::Instant::now();
        drop(clients);
        if started.elapsed() > CALL_TIMEOUT {
            tracing::warn!(client = what, took = ?started.elapsed(), "closing a kafka client was slow");
        }
    });
    if let Err(e) = spawned {
        // The clients went down with the failed spawn's closure, inline.
        tracing::warn!(error = %e, "cannot start a thread to close a kafka client");
    }
}

/// Keeps the last error librdkafka reported, so a failed first contact can say why (a refused
/// certificate or SASL login shows up in the metadata call only as "broker transport failure").
#[derive(Default)]
struct LastError(std::sync::Mutex<Option<String>>);

impl rdkafka::ClientContext for LastError {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel as L;
        if matches!(level, L::Emerg | L::Alert | L::Critical | L::Error) {
            tracing::error!(target: "librdkafka", "{fac}: {message}");
            *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(message.to_owned());
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::error!(target: "librdkafka", "{error}: {reason}");
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason.to_owned());
    }
}

impl rdkafka::consumer::ConsumerContext for LastError {}

impl KafkaBus {
    /// The first contact with the brokers, with a fresh client: on failure the error carries
    /// librdkafka's own reason (TLS handshake, SASL authentication), not only "unreachable".
    ///
    /// # Errors
    /// [`BusError::Unavailable`] with that reason.
    pub async fn first_contact(&self, timeout: Duration) -> Result<(), BusError> {
        let client: BaseConsumer<LastError> =
            self.config.client().create_with_context(LastError::default()).map_err(|e| BusError::Config(e.to_string()))?;
        let result = tokio::task::spawn_blocking(move || {
            let r = client.fetch_metadata(None, timeout).map(|_| ());
            if r.is_err() {
                // Log lines and error events wait in the client's queue until it is polled.
                for _ in 0..5 {
                    let _ = client.poll(Duration::from_millis(20));
                }
            }
            (r, client.context().0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take())
        })
        .await;
        match result {
            Ok((Ok(()), _)) => Ok(()),
            Ok((Err(e), Some(reason))) => Err(BusError::Unavailable(format!("{e}; librdkafka: {reason}"))),
            Ok((Err(e), None)) => Err(classify(&e)),
            Err(join) => Err(BusError::Unavailable(format!("first contact panicked: {join}"))),
        }
    }

    /// # Errors
    /// When librdkafka refuses the configuration.
    pub fn new(config: KafkaBusConfig) -> Result<Self, BusError> {
        let producer: FutureProducer = config
            .client()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            // Batching: a few ms of linger turns many small HTTP requests into few produce calls.
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            .set("message.timeout.ms", "30000")
            .create()
            .map_err(|e| BusError::Config(e.to_string()))?;
        let admin = config.client().create().map_err(|e| BusError::Config(e.to_string()))?;
        Ok(Self { config, producer, admin })
    }
}

fn future_record<'a>(r: &'a OutRecord) -> FutureRecord<'a, [u8], [u8]> {
    let mut fr = FutureRecord::to(&r.topic).payload(r.payload.as_slice());
    if let Some(k) = &r.key {
        fr = fr.key(k.as_slice());
    }
    // No header list at all for records without headers: librdkafka then allocates nothing.
    if !r.headers.is_empty() {
        let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
        for (name, value) in &r.headers {
            headers = headers.insert(Header { key: name, value: Some(value.as_slice()) });
        }
        fr = fr.headers(headers);
    }
    fr
}

/// A consumed message as an [`InRecord`]; a header without a value reads as an empty one.
fn in_record(m: &BorrowedMessage<'_>) -> InRecord {
    let headers = m.headers().map_or_else(Vec::new, |hs| {
        hs.iter().map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec).unwrap_or_default())).collect()
    });
    InRecord {
        topic: m.topic().to_owned(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        headers,
    }
}

/// Enqueues every record, then awaits every delivery report.
///
/// A full local queue is not an error: the reports of what is already queued are awaited
/// and the record is enqueued again. Failing there would answer the caller "not written"
/// while the records before it still reach the broker, and a client retrying that answer
/// would write them twice. On any error, the reports of what was queued are awaited first,
/// so nothing is left in flight behind the answer.
async fn send_all(producer: &FutureProducer, records: &[OutRecord]) -> Result<(), BusError> {
    let mut pending = Vec::with_capacity(records.len());
    let mut first_error = None;
    for r in records {
        loop {
            match producer.send_result(future_record(r)) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) if !pending.is_empty() => {
                    tracing::debug!(queued = pending.len(), "producer queue full: awaiting what is queued");
                    if let Err(e) = await_reports(std::mem::take(&mut pending)).await {
                        first_error.get_or_insert(e);
                    }
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // Queued by other callers sharing the producer: let librdkafka send some.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((e, _)) => {
                    first_error.get_or_insert(classify(&e));
                    break;
                }
            }
        }
        if first_error.is_some() {
            break;
        }
    }
    let drained = await_reports(pending).await;
    match first_error {
        Some(e) => Err(e),
        None => drained,
    }
}

/// Awaits every delivery report; the first failure, after all of them arrived.
async fn await_reports(pending: Vec<DeliveryFuture>) -> Result<(), BusError> {
    let mut first = None;
    for f in pending {
        let failed = match f.await {
            Ok(Ok(_)) => None,
            Ok(Err((e, _))) => Some(classify(&e)),
            Err(_) => Some(BusError::Unavailable("producer dropped a delivery report".into())),
        };
        if let Some(e) = failed {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

/// How long a consumer may go between polls before it leaves its group; also the longest a
/// rebalance waits for members to rejoin (see `consumer`).
const MAX_POLL_INTERVAL_MS: &str = "30000";

#[async_trait]
impl Bus for KafkaBus {
    async fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), BusError> {
        let max = self.config.max_message_bytes.to_string();
        let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(self.config.replication_factor)).set("max.message.bytes", &max);
        let opts = AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT));
        let results = self.admin.create_topics([&new], &opts).await.map_err(|e| classify(&e))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((t, code)) => return Err(BusError::Unavailable(format!("create topic {t}: {code}"))),
            }
        }
        Ok(())
    }

    async fn produce(&self, records: Vec<OutRecord>) -> Result<(), BusError> {
        send_all(&self.producer, &records).await
    }

    async fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BusError> {
        let consumer: StreamConsumer = self
            .config
            .client()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .set("session.timeout.ms", "10000")
            // The broker waits up to this long for every member to rejoin a rebalance. With
            // the default (300 s), a group whose coordinator restarted could sit in one
            // JoinGroup for five minutes while acknowledged events waited. A member that goes
            // 30 s without polling (a sink retrying a refused bulk) leaves the group instead;
            // its uncommitted batch is replayed, and deterministic ids keep that idempotent.
            .set("max.poll.interval.ms", MAX_POLL_INTERVAL_MS)
            .create()
            .map_err(|e| BusError::Config(e.to_string()))?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(|e| classify(&e))?;
        Ok(Box::new(KafkaConsumer {
            consumer: Background::new("consumer", Arc::new(consumer)),
            config: self.config.clone(),
            group: group.to_owned(),
            topics: topics.to_vec(),
            txn_producer: None,
        }))
    }

    async fn tail(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BusError> {
        // A group of its own that never commits: it starts at the end (`latest`) and leaves
        // nothing behind but an empty group the broker forgets.
        let group = format!("nexuslog-tail-{}-{}", self.config.instance_id, uuid::Uuid::new_v4().simple());
        let consumer: StreamConsumer = self
            .config
            .client()
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "latest")
            .set("isolation.level", "read_committed")
            .set("session.timeout.ms", "10000")
            .set("max.poll.interval.ms", MAX_POLL_INTERVAL_MS)
            .create()
            .map_err(|e| BusError::Config(e.to_string()))?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&names).map_err(|e| classify(&e))?;
        Ok(Box::new(KafkaConsumer { consumer: Background::new("tail consumer", Arc::new(consumer)), config: self.config.clone(), group, topics: topics.to_vec(), txn_producer: None }))
    }

    async fn last_record(&self, topic: &str, partition: i32) -> Result<Option<InRecord>, BusError> {
        let consumer: BaseConsumer = self
            .config
            .client()
            .set("group.id", format!("nexuslog-last-record-{}", self.config.instance_id))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .set("enable.partition.eof", "true")
            .create()
            .map_err(|e| BusError::Config(e.to_string()))?;
        let topic = topic.to_owned();
        blocking(move || last_committed(&consumer, &topic, partition)).await
    }

    async fn delete_before(&self, topic: &str, partition: i32, offset: i64) -> Result<(), BusError> {
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(offset)).map_err(|e| classify(&e))?;
        let opts = AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT));
        let result = self.admin.delete_records(&list, &opts).await.map_err(|e| classify(&e))?;
        for e in result.elements() {
            if let Err(err) = e.error() {
                return Err(classify(&err));
            }
        }
        Ok(())
    }

    async fn health(&self) -> Result<(), BusError> {
        let producer = self.producer.clone();
        blocking(move || producer.client().fetch_metadata(None, Duration::from_secs(5)).map(|_| ())).await
    }

    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, BusError> {
        // A client that names the group but never subscribes: it reads the group's committed
        // offsets without joining it, so it cannot trigger a rebalance of the real members.
        let consumer: BaseConsumer = self
            .config
            .client()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed")
            .create()
            .map_err(|e| BusError::Config(e.to_string()))?;
        let topic = topic.to_owned();
        blocking(move || group_lag(&consumer, &topic)).await
    }
}

/// Per partition of `topic`: the high watermark minus the group's committed offset (the low
/// watermark when it committed nothing).
fn group_lag(consumer: &BaseConsumer, topic: &str) -> Result<Vec<PartitionLag>, KafkaError> {
    let metadata = consumer.fetch_metadata(Some(topic), CALL_TIMEOUT)?;
    let mut list = TopicPartitionList::new();
    for t in metadata.topics() {
        for p in t.partitions() {
            list.add_partition(topic, p.id());
        }
    }
    let committed = consumer.committed_offsets(list, CALL_TIMEOUT)?;
    let mut out = Vec::new();
    for e in committed.elements() {
        let (low, high) = consumer.fetch_watermarks(topic, e.partition(), CALL_TIMEOUT)?;
        let from = match e.offset() {
            Offset::Offset(o) => o,
            _ => low,
        };
        out.push(PartitionLag { partition: e.partition(), records: (high - from).max(0) });
    }
    out.sort_by_key(|l| l.partition);
    Ok(out)
}

/// Reads the tail of a partition and returns its last committed record. Transaction markers
/// take offsets too, so the tail is read from a little before the high watermark, further back
/// while it holds no data record. The read ends at the partition's end as librdkafka reports it
/// (`enable.partition.eof`: the last stable offset under read_committed, so a partition ending
/// in a commit marker does not wait), or, as a fallback, when nothing arrives for a while.
/// Records of an aborted transaction are never delivered.
fn last_committed(consumer: &BaseConsumer, topic: &str, partition: i32) -> Result<Option<InRecord>, KafkaError> {
    const QUIET: Duration = Duration::from_secs(2);
    let (low, high) = consumer.fetch_watermarks(topic, partition, CALL_TIMEOUT)?;
    let mut back = 16;
    loop {
        let start = (high - back).max(low);
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(start))?;
        consumer.assign(&list)?;
        let mut last = None;
        let mut quiet_since = std::time::Instant::now();
        while quiet_since.elapsed() < QUIET {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let done = m.offset() + 1 >= high;
                    last = Some(in_record(&m));
                    if done {
                        break;
                    }
                    quiet_since = std::time::Instant::now();
                }
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(e)) => return Err(e),
                None => {}
            }
        }
        if last.is_some() || start == low {
            return Ok(last);
        }
        back *= 8;
    }
}

struct KafkaConsumer {
    consumer: Background<Arc<StreamConsumer>>,
    config: KafkaBusConfig,
    group: String,
    topics: Vec<String>,
    txn_producer: Option<Background<FutureProducer>>,
}

/// A librdkafka client that is closed by [`close_in_background`] when dropped.
struct Background<T: Send + 'static> {
    what: &'static str,
    client: Option<T>,
}

impl<T: Send + 'static> Background<T> {
    fn new(what: &'static str, client: T) -> Self {
        Self { what, client: Some(client) }
    }
}

impl<T: Send + 'static> std::ops::Deref for Background<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.client {
            Some(c) => c,
            None => unreachable!("a client is taken only by drop"),
        }
    }
}

impl<T: Send + 'static> Drop for Background<T> {
    fn drop(&mut self) {
        close_in_background(self.what, self.client.take());
    }
}

fn tpl(positions: &[Position]) -> Result<TopicPartitionList, BusError> {
    let mut list = TopicPartitionList::new();
    for p in positions {
        list.add_partition_offset(&p.topic, p.partition, Offset::Offset(p.next_offset))
            .map_err(|e| classify(&e))?;
    }
    Ok(list)
}

impl KafkaConsumer {
    async fn transactional_producer(&mut self) -> Result<FutureProducer, BusError> {
        if let Some(p) = &self.txn_producer {
            return Ok(FutureProducer::clone(p));
        }
        // Stable across restarts of this instance: `init_transactions` then aborts whatever
        // transaction a killed predecessor left open (read-committed readers would otherwise
        // stall behind it until `transaction.timeout.ms`).
        let id = format!("{}-{}-{}", self.group, self.config.instance_id, self.topics.join(","));
        let producer: FutureProducer = self
            .config
            .client()
            .set("transactional.id", &id)
            // The bound on a reader stall if an instance dies and never comes back.
            .set("transaction.timeout.ms", "10000")
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .create()
            .map_err(|e| BusError::Config(e.to_string()))?;
        let p = producer.clone();
        blocking(move || p.init_transactions(CALL_TIMEOUT)).await?;
        self.txn_producer = Some(Background::new("transactional producer", producer.clone()));
        Ok(producer)
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<InRecord>, BusError> {
        let mut out = Vec::new();
        let mut timeout = wait;
        while out.len() < max {
            let msg = match tokio::time::timeout(timeout, self.consumer.recv()).await {
                Err(_elapsed) => break,
                Ok(Err(e)) => return Err(classify(&e)),
                Ok(Ok(m)) => m,
            };
            out.push(in_record(&msg));
            // After the first record, take only what is already buffered.
            timeout = Duration::from_millis(1);
        }
        Ok(out)
    }

    async fn commit(&mut self, positions: &[Position]) -> Result<(), BusError> {
        if positions.is_empty() {
            return Ok(());
        }
        let list = tpl(positions)?;
        let consumer = self.consumer.clone();
        blocking(move || consumer.commit(&list, CommitMode::Sync)).await
    }

    async fn commit_with_outputs(&mut self, outputs: Vec<OutRecord>, positions: &[Position]) -> Result<(), BusError> {
        let producer = self.transactional_producer().await?;
        let p = producer.clone();
        blocking(move || p.begin_transaction()).await?;
        let result = async {
            send_all(&producer, &outputs).await?;
            if !positions.is_empty() {
                let list = tpl(positions)?;
                let metadata = self.consumer.group_metadata().ok_or_else(|| BusError::Unavailable("no group metadata".into()))?;
                let p = producer.clone();
                blocking(move || p.send_offsets_to_transaction(&list, &metadata, CALL_TIMEOUT)).await?;
            }
            let p = producer.clone();
            blocking(move || p.commit_transaction(CALL_TIMEOUT)).await
        }
        .await;
        if let Err(e) = result {
            let p = producer.clone();
            let _ = blocking(move || p.abort_transaction(CALL_TIMEOUT)).await;
            // The producer may be fenced or in an abortable state: start afresh next time.
            // This clone goes to the background too, lest it be the last one and close inline.
            self.txn_producer = None;
            close_in_background("transactional producer", producer);
            return Err(BusError::TransactionAborted(e.to_string()));
        }
        Ok(())
    }

    async fn committed(&mut self, topic: &str) -> Result<Vec<Position>, BusError> {
        let consumer = self.consumer.clone();
        let topic = topic.to_owned();
        blocking(move || {
            let md = consumer.fetch_metadata(Some(&topic), CALL_TIMEOUT)?;
            let mut list = TopicPartitionList::new();
            for t in md.topics() {
                for p in t.partitions() {
                    list.add_partition(&topic, p.id());
                }
            }
            let committed = consumer.committed_offsets(list, CALL_TIMEOUT)?;
            Ok(committed
                .elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some(Position { topic: e.topic().to_owned(), partition: e.partition(), next_offset: o }),
                    _ => None,
                })
                .collect())
        })
        .await
    }
}
