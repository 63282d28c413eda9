//! The indexing loop.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nexuslog_bus::{positions, Bus, BusError, Consumer, InRecord, OutRecord, Position, Topics};
use nexuslog_common::backoff::Backoff;
use nexuslog_common::shutdown::Shutdown;
use nexuslog_logstore::{LogStore, LogStoreError};
use nexuslog_schemas::wire::Codec;
use nexuslog_schemas::{DeadLetter, LogRecord, Stage};

/// Settings of an indexer.
#[derive(Debug, Clone)]
pub struct IndexerConfig {
    pub group: String,
    /// Most records per bulk write.
    pub batch_max: usize,
    /// A batch stops filling once its records (as read from the bus) reach this many bytes, so
    /// a run of large records cannot hold thousands of megabytes in one batch. The log store
    /// bounds each request by its own serialized size as well (OpenSearch: `with_bulk_max_bytes`).
    pub batch_max_bytes: usize,
    /// Batches close at most this often, and a record waiting when one closes is in the next
    /// to close: the freshness/throughput dial (each batch is one bulk request or commit).
    pub linger: Duration,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        Self { group: "nexuslog-indexers".into(), batch_max: 5_000, batch_max_bytes: 10 << 20, linger: Duration::from_millis(200) }
    }
}

/// Bytes of a batch's records as read from the bus.
fn payload_bytes(batch: &[InRecord]) -> usize {
    batch.iter().map(|r| r.payload.len()).sum()
}

/// Logs topic → log store.
pub struct Indexer {
    bus: Arc<dyn Bus>,
    store: Arc<dyn LogStore>,
    codec: Codec,
    topics: Topics,
    config: IndexerConfig,
}

/// The highest offset of each partition when a consumer was created: nothing after it can
/// have reached the store before (a previous run, or this one before the consumer was made
/// again, only saw records that existed then). `None` when it could not be read: every record
/// is then treated as possibly indexed.
type ReplayBound = Option<HashMap<i32, i64>>;

/// A batch as read from the bus, decoded.
struct Decoded {
    batch: Vec<InRecord>,
    records: Vec<LogRecord>,
    /// Each record's place in `batch`, by id (the last, when an id repeats).
    origin: HashMap<String, usize>,
    /// Records that could not be decoded.
    dead: Vec<DeadLetter>,
}

/// What went wrong beside a store: the previous batch's commit, or reading the next batch.
enum Ahead {
    Commit(BusError),
    Poll(BusError),
}

/// The outcome of handling a batch: either everything is safe (commit), or shutdown came first.
enum Handled {
    Safe,
    Interrupted,
}

impl Indexer {
    pub fn new(bus: Arc<dyn Bus>, store: Arc<dyn LogStore>, codec: Codec, topics: Topics, config: IndexerConfig) -> Self {
        Self { bus, store, codec, topics, config }
    }

    /// Runs until `shutdown`.
    ///
    /// # Errors
    /// Only when the consumer cannot be created because of its configuration.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), BusError> {
        let mut consumer: Option<Box<dyn Consumer>> = None;
        let mut bound: ReplayBound = None;
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let mut closed = Instant::now();
        // The next batch, read and decoded while the current one was being written.
        let mut ahead: Option<Decoded> = None;
        // The offsets of the batch stored last, when they wait to be committed during the next
        // batch's store, and when that batch began.
        let mut uncommitted: Option<(Vec<Position>, Instant)> = None;
        while !shutdown.is_triggered() {
            let c = match consumer.as_mut() {
                Some(c) => c,
                None => match self.bus.consumer(&self.config.group, std::slice::from_ref(&self.topics.logs)).await {
                    Ok(c) => {
                        bound = self.replay_bound().await;
                        consumer.insert(c)
                    }
                    Err(e @ BusError::Config(_)) => return Err(e),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot create consumer; retrying");
                        backoff.pause(&shutdown).await;
                        continue;
                    }
                },
            };
            let mut current = match ahead.take() {
                Some(d) => d,
                None => match self.fill_batch(c.as_mut(), closed + self.config.linger, &shutdown).await {
                    Ok(b) if b.is_empty() => continue,
                    Ok(b) => {
                        closed = Instant::now();
                        match self.decode(b, &shutdown).await {
                            Some(d) => d,
                            None => break,
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "poll failed; retrying");
                        consumer = None;
                        backoff.pause(&shutdown).await;
                        continue;
                    }
                },
            };
            let started = Instant::now();
            // Traced requests in the batch (tracing on): a span each, ended once it is stored.
            let traced = nexuslog_bus::trace::BatchSpans::start(&current.batch, |records| {
                tracing::info_span!("sink.index", otel.kind = "consumer", messaging.destination.name = %self.topics.logs, messaging.batch.message_count = i64::try_from(records).unwrap_or(i64::MAX))
            });
            // While the store takes this batch (an OpenSearch bulk is mostly waiting), the
            // previous batch's offsets are committed and the next batch is read and decoded.
            // Offsets are committed only for batches already stored, in order, so neither
            // changes what a restart replays beyond the batches in flight.
            let records = current.records.len();
            let (handled, ahead_read) = tokio::join!(
                async {
                    let h = self.store(&mut current, &bound, &shutdown).await;
                    (h, started.elapsed())
                },
                async {
                    if let Some((stored, started)) = uncommitted.take() {
                        c.commit(&stored).await.map_err(Ahead::Commit)?;
                        metrics::histogram!("nexuslog_sink_batch_duration_seconds").record(started.elapsed().as_secs_f64());
                    }
                    let committed = started.elapsed();
                    let b = self.fill_batch(c.as_mut(), closed + self.config.linger, &shutdown).await.map_err(Ahead::Poll)?;
                    let closed_at = Instant::now();
                    let filled = started.elapsed();
                    // An empty read, or shutdown during the decode: nothing read ahead.
                    let decoded = if b.is_empty() { None } else { self.decode(b, &shutdown).await };
                    // Where a batch's time goes: a sink slower than its store waits on one of these.
                    tracing::debug!(records, next = decoded.as_ref().map_or(0, |d| d.records.len()), ?committed, ?filled, decoded = ?started.elapsed(), "read ahead");
                    Ok::<_, Ahead>((decoded, closed_at))
                }
            );
            let (handled, stored_in) = handled;
            tracing::debug!(records, ?stored_in, "batch stored");
            drop(traced);
            if let Handled::Interrupted = handled {
                break;
            }
            let stored = positions(&current.batch);
            match ahead_read {
                Ok((Some(next), closed_at)) => {
                    // Committed while the next batch is stored.
                    uncommitted = Some((stored, started));
                    ahead = Some(next);
                    closed = closed_at;
                    backoff.reset();
                }
                Ok((None, _)) => match c.commit(&stored).await {
                    // Nothing more to read: commit now, so an idle sink shows no lag.
                    Ok(()) => {
                        metrics::histogram!("nexuslog_sink_batch_duration_seconds").record(started.elapsed().as_secs_f64());
                        backoff.reset();
                    }
                    Err(e) => {
                        // The batch is indexed; it will be replayed and overwritten, never duplicated.
                        tracing::warn!(error = %e, "offset commit failed; the batch will be replayed");
                        consumer = None;
                    }
                },
                Err(Ahead::Commit(e)) => {
                    // Both stored batches will be replayed and overwritten, never duplicated;
                    // a new consumer starts from the last commit.
                    tracing::warn!(error = %e, "offset commit failed; the batch will be replayed");
                    consumer = None;
                }
                Err(Ahead::Poll(e)) => {
                    if let Err(e) = c.commit(&stored).await {
                        tracing::warn!(error = %e, "offset commit failed; the batch will be replayed");
                    }
                    tracing::warn!(error = %e, "poll failed; retrying");
                    consumer = None;
                    backoff.pause(&shutdown).await;
                }
            }
        }
        // A batch stored during shutdown's last round: commit it rather than replay it.
        if let (Some(c), Some((stored, _))) = (consumer.as_mut(), uncommitted.take()) {
            if let Err(e) = c.commit(&stored).await {
                tracing::warn!(error = %e, "offset commit failed at shutdown; the batch will be replayed");
            }
        }
        tracing::info!("indexer stopped");
        Ok(())
    }

    async fn replay_bound(&self) -> ReplayBound {
        let topic = &self.topics.logs;
        let partitions = self.bus.lag(&self.config.group, topic).await.ok()?;
        let mut bound = HashMap::with_capacity(partitions.len());
        for p in partitions {
            let last = self.bus.last_record(topic, p.partition).await.ok()?;
            bound.insert(p.partition, last.map_or(-1, |r| r.offset));
        }
        Some(bound)
    }

    /// A batch closes at `close_at` (the previous one's close + `linger`), or once full; past
    /// `close_at` it takes what is already there and closes. Pacing by the previous close, not by
    /// the first record's arrival, is what bounds a record's wait: records that arrived while
    /// the previous batch was indexed have waited that long already (counting `linger` from
    /// them added a whole indexing time to every record's freshness), and when indexing takes
    /// longer than `linger` batches follow each other with no wait at all.
    async fn fill_batch(&self, c: &mut dyn Consumer, close_at: Instant, shutdown: &Shutdown) -> Result<Vec<InRecord>, BusError> {
        let mut batch = tokio::select! {
            r = c.poll(self.config.batch_max, Duration::from_millis(200)) => r?,
            () = shutdown.wait() => return Ok(Vec::new()),
        };
        let mut bytes = payload_bytes(&batch);
        while !batch.is_empty() && batch.len() < self.config.batch_max && bytes < self.config.batch_max_bytes {
            let left = close_at.saturating_duration_since(Instant::now());
            let more = c.poll(self.config.batch_max - batch.len(), left).await?;
            if more.is_empty() {
                break;
            }
            bytes += payload_bytes(&more);
            batch.extend(more);
        }
        Ok(batch)
    }

    /// Decodes a batch read from the bus; `None` when shutdown came first (a record waiting
    /// for the schema registry).
    async fn decode(&self, batch: Vec<InRecord>, shutdown: &Shutdown) -> Option<Decoded> {
        let mut records = Vec::with_capacity(batch.len());
        let mut origin = HashMap::with_capacity(batch.len());
        let mut dead = Vec::new();
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        for (i, rec) in batch.iter().enumerate() {
            loop {
                match self.codec.decode::<LogRecord>(&rec.payload).await {
                    Ok(r) => {
                        origin.insert(r.id.clone(), i);
                        records.push(r);
                    }
                    // The registry being away says nothing about the record: wait for it.
                    Err(e) if e.is_transient() => {
                        tracing::warn!(error = %e, "cannot decode a log record; retrying");
                        nexuslog_common::health::waiting_on("schema_registry", true);
                        if shutdown.is_triggered() {
                            return None;
                        }
                        backoff.pause(shutdown).await;
                        continue;
                    }
                    Err(e) => dead.push(Self::dead_letter(rec, "undecodable", format!("cannot decode log record: {e}"))),
                }
                break;
            }
        }
        nexuslog_common::health::waiting_on("schema_registry", false);
        Some(Decoded { batch, records, origin, dead })
    }

    /// Indexes a decoded batch; everything that cannot be indexed ends in the dead-letter topic.
    async fn store(&self, d: &mut Decoded, bound: &ReplayBound, shutdown: &Shutdown) -> Handled {
        let (mut records, mut dead, origin, batch) = (std::mem::take(&mut d.records), std::mem::take(&mut d.dead), &d.origin, d.batch.as_slice());
        // Freshness: how long the oldest record of the batch took from the gateway to the store.
        let oldest_received = records.iter().map(|r| r.received_at).min();
        // Several versions of one event in a batch (a multiline event continued by a later
        // request): only the newest, which holds every line, is indexed.
        if origin.len() < records.len() {
            let mut newest: HashMap<&str, usize> = HashMap::with_capacity(origin.len());
            for (i, r) in records.iter().enumerate() {
                newest.insert(r.id.as_str(), i);
            }
            let keep: std::collections::HashSet<usize> = newest.into_values().collect();
            let mut i = 0;
            records.retain(|_| {
                i += 1;
                keep.contains(&(i - 1))
            });
        }
        // A record reaches the store for the first time when its id is unique to one acceptance
        // and its offset is past what any earlier consumer could have seen; a later version of
        // an event replaces the one indexed before.
        let unseen = |r: &LogRecord| {
            nexuslog_common::is_minted_ingest_id(&r.id)
                && !r.fields.contains_key(nexuslog_schemas::REVISION_FIELD)
                && origin.get(&r.id).and_then(|i| batch.get(*i)).zip(bound.as_ref()).is_some_and(|(rec, b)| b.get(&rec.partition).is_some_and(|last| rec.offset > *last))
        };
        let (unseen, seen): (Vec<LogRecord>, Vec<LogRecord>) = records.into_iter().partition(|r| unseen(r));
        for (records, first_time) in [(seen, false), (unseen, true)] {
            if let Handled::Interrupted = self.index_all(records, first_time, origin, batch, &mut dead, shutdown).await {
                return Handled::Interrupted;
            }
        }
        if let Some(received) = oldest_received {
            let delay = (nexuslog_common::now_micros() - received).max(0) as f64 / 1e6;
            metrics::histogram!("nexuslog_sink_event_delay_seconds").record(delay);
        }
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        while !dead.is_empty() {
            let mut out = Vec::with_capacity(dead.len());
            for dl in &dead {
                match self.codec.encode(&self.topics.deadletter, dl).await {
                    Ok(payload) => out.push(OutRecord { topic: self.topics.deadletter.clone(), payload, ..Default::default() }),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot encode dead letter; retrying");
                        break;
                    }
                }
            }
            let result = if out.len() == dead.len() { self.bus.produce(out).await } else { Err(BusError::Unavailable("encoding".into())) };
            match result {
                Ok(()) => {
                    metrics::counter!("nexuslog_sink_dead_letters_total").increment(dead.len() as u64);
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "cannot write dead letters; retrying"),
            }
            if shutdown.is_triggered() {
                return Handled::Interrupted;
            }
            backoff.pause(shutdown).await;
        }
        Handled::Safe
    }

    /// Writes `records` to the store until each is indexed or dead-lettered (into `dead`).
    async fn index_all(
        &self,
        mut records: Vec<LogRecord>,
        mut first_time: bool,
        origin: &HashMap<String, usize>,
        batch: &[InRecord],
        dead: &mut Vec<DeadLetter>,
        shutdown: &Shutdown,
    ) -> Handled {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let started = Instant::now();
        while !records.is_empty() {
            // After any failure part of the records may be in the store: replace from then on.
            let written = if first_time { self.store.index_unseen(&records).await } else { self.store.index(&records).await };
            first_time = false;
            match written {
                Ok(outcome) => {
                    nexuslog_common::health::waiting_on("logstore", false);
                    metrics::counter!("nexuslog_sink_indexed_total").increment(outcome.indexed as u64);
                    let mut retry_ids = std::collections::HashSet::new();
                    for f in outcome.failures {
                        if f.retryable {
                            retry_ids.insert(f.id);
                        } else if let Some(rec) = origin.get(&f.id).and_then(|i| batch.get(*i)) {
                            dead.push(Self::dead_letter(rec, "rejected_by_store", format!("{} ({})", f.reason, f.status)));
                        }
                    }
                    records.retain(|r| retry_ids.contains(&r.id));
                    if !records.is_empty() {
                        metrics::counter!("nexuslog_sink_retries_total", "reason" => "item").increment(records.len() as u64);
                    }
                }
                Err(LogStoreError::Rejected(reason)) => {
                    // The request as a whole was refused (401/403: credentials; 404/405: the URL
                    // or a proxy): that says nothing about the records, which wait, and the
                    // process reports not ready until the store takes them. A document too
                    // large for the store comes back as an item failure, not here.
                    nexuslog_common::health::waiting_on("logstore", true);
                    metrics::counter!("nexuslog_sink_retries_total", "reason" => "refused").increment(records.len() as u64);
                    tracing::warn!(error = %reason, pending = records.len(), "the log store refuses bulk requests; retrying");
                }
                Err(e) => {
                    metrics::counter!("nexuslog_sink_retries_total", "reason" => "request").increment(records.len() as u64);
                    tracing::warn!(error = %e, pending = records.len(), "bulk failed; retrying");
                }
            }
            if records.is_empty() {
                break;
            }
            if shutdown.is_triggered() {
                return Handled::Interrupted;
            }
            if started.elapsed() > Duration::from_secs(60) {
                tracing::error!(pending = records.len(), "log store has refused writes for over a minute; still retrying");
            }
            backoff.pause(shutdown).await;
        }
        Handled::Safe
    }

    fn dead_letter(rec: &InRecord, kind: &str, reason: String) -> DeadLetter {
        let key = rec.key.as_deref().map(|k| String::from_utf8_lossy(k).into_owned());
        DeadLetter {
            id: key.unwrap_or_else(|| format!("{}-{}-{}", rec.topic, rec.partition, rec.offset)),
            project_id: None,
            stage: Stage::Sink,
            reason,
            error_kind: kind.to_owned(),
            original: rec.payload.clone(),
            topic: Some(rec.topic.clone()),
            partition: Some(rec.partition),
            offset: Some(rec.offset),
            failed_at: nexuslog_common::now_micros(),
        }
    }
}
