//! [`Bus`] embedded in the process, on redb: the standalone default.
//!
//! Layout (one redb file): `batches` maps (topic, partition, first offset) → the records one
//! write appended to that partition, zstd-compressed together (`batch.rs`); `heads` holds the
//! next offset of each partition; `topics` the partition count of each topic; `offsets` the
//! committed position of each (group, topic, partition).
//!
//! Durability: every write transaction commits with `Durability::Immediate` (fsync) before any
//! caller is answered, so an acknowledged produce or commit survives `kill -9` and power loss.
//! Concurrent writes are group-committed by one writer thread: many produce calls share one
//! fsync. `commit_with_outputs` writes outputs and offsets in the same transaction, which is
//! what makes it atomic.
//!
//! Consumer groups: this bus lives in one process, so a group has one member; a second
//! consumer of the same group would read the same records (standalone never does that).
//! Retention: records older than `retention` are deleted by the writer thread, whole
//! partitions prefix by prefix — never past the slowest consumer group's committed offset on a
//! topic that groups consume, so an acknowledged event waits for its processor however long
//! the node was down (the lag is reported instead). Transient topics (processed records) are
//! cut every few seconds below the slowest group's committed offset: kept only while needed.
//! redb reuses the pages deletes free but never shrinks the file, so once half of a file of
//! 64 MiB or more is free (a burst's processed records, indexed and cut) the writer thread
//! compacts it, pausing writes and reads for that time (`Store::compact_if_sparse`).

mod batch;
mod cap;
mod store;
mod writer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use self::store::Store;
use self::writer::{WriteRequest, Writer};
use crate::{Bus, BusError, Consumer, InRecord, OutRecord, PartitionLag, Position};

/// Settings of the embedded bus.
#[derive(Debug, Clone)]
pub struct EmbeddedBusConfig {
    /// Records older than this are deleted.
    pub retention: Duration,
    /// Pending write requests before `produce` answers `QueueFull` (the gateway answers 503).
    pub queue_capacity: usize,
    /// Topics whose records are deleted as soon as every consumer group reading them has
    /// committed past them, whatever `retention` says: intermediate results that can be made
    /// again from the topic before them (processed records, made from the raw topic, which
    /// keeps `retention` for replay).
    pub transient_topics: Vec<String>,
    /// Bytes of records the log may hold; over it the oldest records go, consumed or not, and
    /// those no consumer group had processed are counted as lost (see `cap.rs`). 0: no cap,
    /// records wait for their consumers however long that takes.
    pub max_bytes: u64,
}

impl Default for EmbeddedBusConfig {
    fn default() -> Self {
        Self { retention: Duration::from_secs(7 * 24 * 3600), queue_capacity: 4096, transient_topics: Vec::new(), max_bytes: 0 }
    }
}

/// The embedded durable log.
pub struct EmbeddedBus {
    store: Arc<Store>,
    writer: Writer,
    appended: Arc<Notify>,
    partitions: RwLock<HashMap<String, u32>>,
}

impl std::fmt::Debug for EmbeddedBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedBus").finish_non_exhaustive()
    }
}

fn partition_for(key: Option<&[u8]>, partitions: u32, round_robin: &mut u32) -> u32 {
    match key {
        Some(k) => {
            // FNV-1a: stable across runs and versions, unlike the std hasher's contract.
            let mut h: u32 = 0x811c_9dc5;
            for b in k {
                h ^= u32::from(*b);
                h = h.wrapping_mul(0x0100_0193);
            }
            h % partitions
        }
        None => {
            *round_robin = round_robin.wrapping_add(1);
            *round_robin % partitions
        }
    }
}

impl EmbeddedBus {
    /// Opens (or creates) the log at `path`.
    ///
    /// # Errors
    /// When the file cannot be opened or is not a redb database.
    pub fn open(path: &Path, config: EmbeddedBusConfig) -> Result<Self, BusError> {
        let store = Arc::new(Store::open(path)?);
        let partitions = RwLock::new(store.topics()?);
        let appended = Arc::new(Notify::new());
        if config.max_bytes > 0 {
            store.measure()?;
        }
        let writer = Writer::start(store.clone(), appended.clone(), &config)?;
        Ok(Self { store, writer, appended, partitions })
    }

    fn partitions_of(&self, topic: &str) -> Result<u32, BusError> {
        let map = self.partitions.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(topic).copied().ok_or_else(|| BusError::Rejected(format!("unknown topic {topic}")))
    }

    /// Assigns partitions to records; fails if a topic does not exist.
    fn place(&self, records: Vec<OutRecord>) -> Result<Vec<(u32, OutRecord)>, BusError> {
        let mut rr = 0u32;
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let n = self.partitions_of(&r.topic)?;
            out.push((partition_for(r.key.as_deref(), n, &mut rr), r));
        }
        Ok(out)
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    async fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), BusError> {
        let n = u32::try_from(partitions.max(1)).unwrap_or(1);
        let store = self.store.clone();
        let t = topic.to_owned();
        let actual = tokio::task::spawn_blocking(move || store.create_topic(&t, n))
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))??;
        self.partitions.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(topic.to_owned(), actual);
        Ok(())
    }

    async fn produce(&self, records: Vec<OutRecord>) -> Result<(), BusError> {
        if records.is_empty() {
            return Ok(());
        }
        let placed = self.place(records)?;
        let batches = batch::pack_placed(writer::now_micros(), &placed);
        self.writer.submit(WriteRequest { batches, offsets: None }).await
    }

    async fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BusError> {
        let mut positions = HashMap::new();
        for t in topics {
            let n = self.partitions_of(t)?;
            let committed = self.store.committed(group, t)?;
            for p in 0..n {
                positions.insert((t.clone(), p), committed.get(&p).copied().unwrap_or(0));
            }
        }
        Ok(Box::new(EmbeddedConsumer {
            store: self.store.clone(),
            writer: self.writer.clone(),
            appended: self.appended.clone(),
            group: group.to_owned(),
            positions,
            bus_partitions: self.partitions.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
        }))
    }

    async fn tail(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BusError> {
        let mut positions = HashMap::new();
        for t in topics {
            let n = self.partitions_of(t)?;
            let heads = self.store.heads(t)?;
            for p in 0..n {
                positions.insert((t.clone(), p), heads.get(&p).copied().unwrap_or(0));
            }
        }
        Ok(Box::new(EmbeddedConsumer {
            store: self.store.clone(),
            writer: self.writer.clone(),
            appended: self.appended.clone(),
            // Not a group anyone commits for: a tail reader never calls commit.
            group: String::new(),
            positions,
            bus_partitions: self.partitions.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
        }))
    }

    async fn last_record(&self, topic: &str, partition: i32) -> Result<Option<InRecord>, BusError> {
        let p = u32::try_from(partition).map_err(|_| BusError::Rejected(format!("partition {partition}")))?;
        self.store.last(topic, p)
    }

    async fn delete_before(&self, topic: &str, partition: i32, offset: i64) -> Result<(), BusError> {
        let p = u32::try_from(partition).map_err(|_| BusError::Rejected(format!("partition {partition}")))?;
        self.store.delete_before(topic, p, u64::try_from(offset).unwrap_or(0))
    }

    async fn health(&self) -> Result<(), BusError> {
        self.writer.health()
    }

    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, BusError> {
        let n = self.partitions_of(topic)?;
        let (store, group, topic) = (self.store.clone(), group.to_owned(), topic.to_owned());
        let (heads, committed) = tokio::task::spawn_blocking(move || Ok::<_, BusError>((store.heads(&topic)?, store.committed(&group, &topic)?)))
            .await
            .map_err(|e| BusError::Unavailable(e.to_string()))??;
        Ok((0..n)
            .map(|p| {
                let behind = heads.get(&p).copied().unwrap_or(0).saturating_sub(committed.get(&p).copied().unwrap_or(0));
                PartitionLag { partition: i32::try_from(p).unwrap_or(i32::MAX), records: i64::try_from(behind).unwrap_or(i64::MAX) }
            })
            .collect())
    }
}

struct EmbeddedConsumer {
    store: Arc<Store>,
    writer: Writer,
    appended: Arc<Notify>,
    group: String,
    /// Next offset to read per (topic, partition).
    positions: HashMap<(String, u32), u64>,
    bus_partitions: HashMap<String, u32>,
}

impl EmbeddedConsumer {
    fn offsets(&self, positions: &[Position]) -> Result<Vec<(String, u32, u64)>, BusError> {
        positions
            .iter()
            .map(|p| {
                let part = u32::try_from(p.partition).map_err(|_| BusError::Rejected(format!("partition {}", p.partition)))?;
                let off = u64::try_from(p.next_offset).map_err(|_| BusError::Rejected(format!("offset {}", p.next_offset)))?;
                Ok((p.topic.clone(), part, off))
            })
            .collect()
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<InRecord>, BusError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before reading, so an append between the read and the wait still wakes us.
            let notified = self.appended.notified();
            let mut from: Vec<(String, u32, u64)> = self.positions.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect();
            from.sort();
            let store = self.store.clone();
            let got = tokio::task::spawn_blocking(move || store.read_many(&from, max))
                .await
                .map_err(|e| BusError::Unavailable(e.to_string()))??;
            if !got.is_empty() {
                for r in &got {
                    let part = u32::try_from(r.partition).unwrap_or_default();
                    self.positions.insert((r.topic.clone(), part), u64::try_from(r.offset).unwrap_or_default() + 1);
                }
                return Ok(got);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn commit(&mut self, positions: &[Position]) -> Result<(), BusError> {
        if positions.is_empty() {
            return Ok(());
        }
        let offsets = self.offsets(positions)?;
        self.writer.submit(WriteRequest { batches: Vec::new(), offsets: Some((self.group.clone(), offsets)) }).await
    }

    async fn commit_with_outputs(&mut self, outputs: Vec<OutRecord>, positions: &[Position]) -> Result<(), BusError> {
        let mut rr = 0u32;
        let mut placed = Vec::with_capacity(outputs.len());
        for r in outputs {
            let n = *self.bus_partitions.get(&r.topic).ok_or_else(|| BusError::Rejected(format!("unknown topic {}", r.topic)))?;
            placed.push((partition_for(r.key.as_deref(), n, &mut rr), r));
        }
        let offsets = self.offsets(positions)?;
        self.writer
            .submit(WriteRequest { batches: batch::pack_placed(writer::now_micros(), &placed), offsets: Some((self.group.clone(), offsets)) })
            .await
            .map_err(|e| BusError::TransactionAborted(e.to_string()))
    }

    async fn committed(&mut self, topic: &str) -> Result<Vec<Position>, BusError> {
        let map = self.store.committed(&self.group, topic)?;
        let mut out: Vec<Position> =
            map.into_iter().map(|(p, o)| Position { topic: topic.to_owned(), partition: p as i32, next_offset: o as i64 }).collect();
        out.sort_by_key(|p| p.partition);
        Ok(out)
    }
}
