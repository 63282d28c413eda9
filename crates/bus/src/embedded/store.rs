//! The redb tables of the embedded bus and the reads and writes on them.
//!
//! Records are written as compressed batches (`batches`, see `batch.rs`), one row per partition
//! per write. The `log` table of single-record rows is what versions before batches wrote: it is
//! still read (its offsets all precede the batches'), expired and deleted, never written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};

use super::batch::{self, Packed};
use crate::{BusError, Headers, InRecord, OutRecord};

/// (topic, partition, offset) → `[append time µs: u64][key length: u32, u32::MAX for none][key][payload]`,
/// or, for a record with headers, the append time's top bit set (`HEADERS_FLAG`) and
/// `[count: u16]([name length: u16][name][value length: u32][value])*` between key and payload.
const LOG: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("log");
/// (topic, partition, first offset) → a batch of records (`batch.rs`).
pub(super) const BATCHES: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("batches");
/// (topic, partition) → next offset.
const HEADS: TableDefinition<(&str, u32), u64> = TableDefinition::new("heads");
/// topic → partition count.
const TOPICS: TableDefinition<&str, u32> = TableDefinition::new("topics");
/// (group, topic, partition) → committed next offset.
pub(super) const OFFSETS: TableDefinition<(&str, &str, u32), u64> = TableDefinition::new("offsets");

/// Page cache of the embedded log.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

pub(super) fn err(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(format!("embedded log: {e}"))
}

pub(super) struct Store {
    /// Every transaction begins and ends under a shared hold of this lock, so `compact`, which
    /// holds it alone, finds none open.
    db: RwLock<Database>,
    path: PathBuf,
    /// Bytes of the batches in the log, kept up to date by every write and delete once
    /// `cap::measure` has counted them (only with a size cap: counting reads the whole log).
    pub(super) batch_bytes: AtomicU64,
    /// Bytes of batches deleted since the file was last looked at for compaction.
    deleted_since_check: AtomicU64,
}

/// Compaction relocates every live page behind the free ones and pauses writes meanwhile (about
/// 70 ms for 56 MB here); with more live data than this the pause would be long, and the free
/// pages are left to be reused by later writes, as they always are.
const COMPACT_UP_TO_LIVE_BYTES: u64 = 512 << 20;

/// What a compaction did.
#[derive(Debug)]
pub(super) struct Compacted {
    pub before: u64,
    pub after: u64,
    pub took: Duration,
}

/// Set in the append time of a value that carries headers. Append times are microseconds since
/// 1970 (below 2^53 for the next 200 000 years), so values written before headers existed
/// never have it and read as before.
const HEADERS_FLAG: u64 = 1 << 63;

pub(super) fn encode(append_micros: u64, r: &OutRecord) -> Vec<u8> {
    let key_len = r.key.as_ref().map_or(u32::MAX, |k| u32::try_from(k.len()).unwrap_or(u32::MAX - 1));
    let headers_len: usize = r.headers.iter().map(|(n, v)| 6 + n.len() + v.len()).sum();
    let mut v = Vec::with_capacity(12 + r.key.as_ref().map_or(0, Vec::len) + headers_len + 2 + r.payload.len());
    let at = if r.headers.is_empty() { append_micros } else { append_micros | HEADERS_FLAG };
    v.extend_from_slice(&at.to_be_bytes());
    v.extend_from_slice(&key_len.to_be_bytes());
    if let Some(k) = &r.key {
        v.extend_from_slice(k);
    }
    if !r.headers.is_empty() {
        // Header names are short (`traceparent`) and few; longer ones are cut, never written wrong.
        let count = u16::try_from(r.headers.len()).unwrap_or(u16::MAX);
        v.extend_from_slice(&count.to_be_bytes());
        for (name, value) in r.headers.iter().take(usize::from(count)) {
            let name = &name.as_bytes()[..name.len().min(usize::from(u16::MAX))];
            let value = &value[..value.len().min(u32::MAX as usize)];
            v.extend_from_slice(&(name.len() as u16).to_be_bytes());
            v.extend_from_slice(name);
            v.extend_from_slice(&(value.len() as u32).to_be_bytes());
            v.extend_from_slice(value);
        }
    }
    v.extend_from_slice(&r.payload);
    v
}

/// A stored value, decoded.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Stored {
    pub append_micros: u64,
    pub key: Option<Vec<u8>>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

/// The append time of a stored value, without decoding the rest.
fn append_micros(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?) & !HEADERS_FLAG)
}

/// Takes `n` bytes off the front of `rest`.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
    *rest = tail;
    Some(head)
}

/// A stored value in either format (with or without headers); `None` for a value this code did
/// not write.
pub(super) fn decode(v: &[u8]) -> Option<Stored> {
    let mut rest = v;
    let at = u64::from_be_bytes(take(&mut rest, 8)?.try_into().ok()?);
    let key_len = u32::from_be_bytes(take(&mut rest, 4)?.try_into().ok()?);
    let key = if key_len == u32::MAX { None } else { Some(take(&mut rest, key_len as usize)?.to_vec()) };
    let mut headers = Vec::new();
    if at & HEADERS_FLAG != 0 {
        let count = u16::from_be_bytes(take(&mut rest, 2)?.try_into().ok()?);
        headers.reserve(usize::from(count));
        for _ in 0..count {
            let name_len = u16::from_be_bytes(take(&mut rest, 2)?.try_into().ok()?);
            let name = String::from_utf8(take(&mut rest, usize::from(name_len))?.to_vec()).ok()?;
            let value_len = u32::from_be_bytes(take(&mut rest, 4)?.try_into().ok()?);
            headers.push((name, take(&mut rest, value_len as usize)?.to_vec()));
        }
    }
    Some(Stored { append_micros: at & !HEADERS_FLAG, key, headers, payload: rest.to_vec() })
}

impl Store {
    pub(super) fn open(path: &Path) -> Result<Self, BusError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        // redb caches up to 1 GiB by default; the log is read mostly at its tail, so a small
        // cache serves it and keeps the standalone process's memory modest.
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(err)?;
        let txn = db.begin_write().map_err(err)?;
        {
            txn.open_table(LOG).map_err(err)?;
            txn.open_table(BATCHES).map_err(err)?;
            txn.open_table(HEADS).map_err(err)?;
            txn.open_table(TOPICS).map_err(err)?;
            txn.open_table(OFFSETS).map_err(err)?;
        }
        txn.commit().map_err(err)?;
        Ok(Self { db: RwLock::new(db), path: path.to_owned(), batch_bytes: AtomicU64::new(0), deleted_since_check: AtomicU64::new(0) })
    }

    pub(super) fn db(&self) -> RwLockReadGuard<'_, Database> {
        self.db.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns the file's free pages to the file system once it is `from_bytes` or larger and
    /// at least half of it is free pages. redb reuses free pages for later writes but never gives
    /// them back: after a burst, the processed records' backlog (deleted once indexed) left the
    /// log three times the size of what it holds. `None`: nothing to do, or a transaction was
    /// open (the next call tries again).
    pub(super) fn compact_if_sparse(&self, from_bytes: u64) -> Result<Option<Compacted>, BusError> {
        let before = std::fs::metadata(&self.path).map_err(err)?.len();
        // The file grows ahead of its data: a quarter of it deleted is worth counting the pages.
        if before < from_bytes || self.deleted_since_check.load(Ordering::Relaxed) < before / 4 {
            return Ok(None);
        }
        self.deleted_since_check.store(0, Ordering::Relaxed);
        let live = {
            let db = self.db();
            // A delete's pages are free only once a later transaction committed: commit an
            // empty one, so the count below sees them.
            db.begin_write().map_err(err)?.commit().map_err(err)?;
            let txn = db.begin_write().map_err(err)?;
            let stats = txn.stats().map_err(err)?;
            txn.abort().map_err(err)?;
            stats.allocated_pages() * stats.page_size() as u64
        };
        if live > before / 2 || live > COMPACT_UP_TO_LIVE_BYTES {
            return Ok(None);
        }
        let started = Instant::now();
        let mut db = self.db.write().unwrap_or_else(PoisonError::into_inner);
        // Each pass moves pages toward the front; a few suffice (one, measured).
        for _ in 0..8 {
            match db.compact() {
                Ok(true) => {}
                Ok(false) => break,
                Err(redb::CompactionError::TransactionInProgress) => return Ok(None),
                Err(e) => return Err(err(e)),
            }
        }
        drop(db);
        let after = std::fs::metadata(&self.path).map_err(err)?.len();
        Ok(Some(Compacted { before, after, took: started.elapsed() }))
    }

    pub(super) fn topics(&self) -> Result<HashMap<String, u32>, BusError> {
        let db = self.db();
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(TOPICS).map_err(err)?;
        let mut out = HashMap::new();
        for row in t.iter().map_err(err)? {
            let (k, v) = row.map_err(err)?;
            out.insert(k.value().to_owned(), v.value());
        }
        Ok(out)
    }

    /// Creates `topic` with `partitions` unless it exists; returns its partition count.
    pub(super) fn create_topic(&self, topic: &str, partitions: u32) -> Result<u32, BusError> {
        let db = self.db();
        let txn = db.begin_write().map_err(err)?;
        let actual = {
            let mut t = txn.open_table(TOPICS).map_err(err)?;
            let existing = t.get(topic).map_err(err)?.map(|v| v.value());
            match existing {
                Some(n) => n,
                None => {
                    t.insert(topic, partitions).map_err(err)?;
                    partitions
                }
            }
        };
        txn.commit().map_err(err)?;
        Ok(actual)
    }

    /// Writes several requests' batches and offsets in one durable transaction; each batch
    /// gets the next offsets of its partition, in the order given.
    pub(super) fn write(&self, packed: &[&Packed], offsets: &[(&str, &(String, u32, u64))]) -> Result<(), BusError> {
        let db = self.db();
        let mut txn = db.begin_write().map_err(err)?;
        txn.set_durability(Durability::Immediate).map_err(err)?;
        let mut added = 0;
        {
            let mut batches = txn.open_table(BATCHES).map_err(err)?;
            let mut heads = txn.open_table(HEADS).map_err(err)?;
            let mut next: HashMap<(&str, u32), u64> = HashMap::new();
            for b in packed {
                let key = (b.topic.as_str(), b.partition);
                let base = match next.get(&key) {
                    Some(o) => *o,
                    None => heads.get(key).map_err(err)?.map_or(0, |v| v.value()),
                };
                batches.insert((key.0, key.1, base), b.value.as_slice()).map_err(err)?;
                next.insert(key, base + b.count);
                added += b.value.len() as u64;
            }
            for (key, offset) in next {
                heads.insert(key, offset).map_err(err)?;
            }
            let mut committed = txn.open_table(OFFSETS).map_err(err)?;
            for (group, (topic, partition, offset)) in offsets {
                committed.insert((*group, topic.as_str(), *partition), *offset).map_err(err)?;
            }
        }
        txn.commit().map_err(err)?;
        self.batch_bytes.fetch_add(added, Ordering::Relaxed);
        Ok(())
    }

    /// Counts `n` bytes of batches as deleted.
    pub(super) fn freed(&self, n: u64) {
        let _ = self.batch_bytes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some(b.saturating_sub(n)));
        self.deleted_since_check.fetch_add(n, Ordering::Relaxed);
    }

    /// Appends up to `max` records starting at each (topic, partition, offset), in that order.
    pub(super) fn read_many(&self, from: &[(String, u32, u64)], max: usize) -> Result<Vec<InRecord>, BusError> {
        let db = self.db();
        let txn = db.begin_read().map_err(err)?;
        let log = txn.open_table(LOG).map_err(err)?;
        let batches = txn.open_table(BATCHES).map_err(err)?;
        let mut out = Vec::new();
        // Share `max` so one busy partition cannot starve the others.
        let per_partition = (max / from.len().max(1)).max(1);
        for (topic, partition, offset) in from {
            let want = per_partition.min(max.saturating_sub(out.len()));
            if want == 0 {
                break;
            }
            let before = out.len();
            let record = |off: u64, s: Stored| InRecord {
                topic: topic.clone(),
                partition: *partition as i32,
                offset: off as i64,
                key: s.key,
                payload: s.payload,
                headers: s.headers,
            };
            // Rows of the single-record format first: they precede every batch.
            for row in log.range((topic.as_str(), *partition, *offset)..(topic.as_str(), *partition, u64::MAX)).map_err(err)?.take(want) {
                let (k, v) = row.map_err(err)?;
                let off = k.value().2;
                let stored = decode(v.value()).ok_or_else(|| err(format!("corrupt record at {topic}/{partition}/{off}")))?;
                out.push(record(off, stored));
            }
            // The batch holding `offset` (it may start before it), then the ones after.
            let start = match batches.range((topic.as_str(), *partition, 0)..=(topic.as_str(), *partition, *offset)).map_err(err)?.next_back() {
                Some(row) => row.map_err(err)?.0.value().2,
                None => *offset,
            };
            'batches: for row in batches.range((topic.as_str(), *partition, start)..(topic.as_str(), *partition, u64::MAX)).map_err(err)? {
                if out.len() - before >= want {
                    break;
                }
                let (k, v) = row.map_err(err)?;
                let base = k.value().2;
                let records = batch::unpack(v.value()).ok_or_else(|| err(format!("corrupt batch at {topic}/{partition}/{base}")))?;
                for (off, stored) in (base..).zip(records) {
                    if out.len() - before >= want {
                        break 'batches;
                    }
                    if off >= *offset {
                        out.push(record(off, stored));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The next offset of each partition of `topic` that has records.
    pub(super) fn heads(&self, topic: &str) -> Result<HashMap<u32, u64>, BusError> {
        let db = self.db();
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(HEADS).map_err(err)?;
        let mut out = HashMap::new();
        for row in t.range((topic, 0)..=(topic, u32::MAX)).map_err(err)? {
            let (k, v) = row.map_err(err)?;
            out.insert(k.value().1, v.value());
        }
        Ok(out)
    }

    pub(super) fn last(&self, topic: &str, partition: u32) -> Result<Option<InRecord>, BusError> {
        let db = self.db();
        let txn = db.begin_read().map_err(err)?;
        let batches = txn.open_table(BATCHES).map_err(err)?;
        let make = |offset: u64, s: Stored| InRecord { topic: topic.to_owned(), partition: partition as i32, offset: offset as i64, key: s.key, payload: s.payload, headers: s.headers };
        if let Some(row) = batches.range((topic, partition, 0)..=(topic, partition, u64::MAX)).map_err(err)?.next_back() {
            let (k, v) = row.map_err(err)?;
            let base = k.value().2;
            let records = batch::unpack(v.value()).ok_or_else(|| err(format!("corrupt batch at {topic}/{partition}/{base}")))?;
            let n = records.len() as u64;
            return Ok(records.into_iter().last().map(|s| make(base + n - 1, s)));
        }
        let log = txn.open_table(LOG).map_err(err)?;
        let mut range = log.range((topic, partition, 0)..=(topic, partition, u64::MAX)).map_err(err)?;
        let Some(row) = range.next_back() else { return Ok(None) };
        let (k, v) = row.map_err(err)?;
        let offset = k.value().2;
        let stored = decode(v.value()).ok_or_else(|| err(format!("corrupt record at {topic}/{partition}/{offset}")))?;
        Ok(Some(make(offset, stored)))
    }

    pub(super) fn delete_before(&self, topic: &str, partition: u32, offset: u64) -> Result<(), BusError> {
        let db = self.db();
        let txn = db.begin_write().map_err(err)?;
        let mut freed = 0;
        {
            let mut log = txn.open_table(LOG).map_err(err)?;
            log.retain_in((topic, partition, 0)..(topic, partition, offset), |_, _| false).map_err(err)?;
            // Whole batches only: one that holds `offset` stays (readers skip what precedes it).
            let mut batches = txn.open_table(BATCHES).map_err(err)?;
            batches
                .retain_in((topic, partition, 0)..(topic, partition, offset), |k, v| {
                    let keep = batch::header(v).is_none_or(|(n, _)| k.2 + n > offset);
                    if !keep {
                        freed += v.len() as u64;
                    }
                    keep
                })
                .map_err(err)?;
        }
        txn.commit().map_err(err)?;
        self.freed(freed);
        Ok(())
    }

    /// Deletes the records of `topics` that every group reading them has committed (whole
    /// batches; the single-record rows of older versions too). A topic no group committed on
    /// keeps everything. Returns how many records went.
    pub(super) fn cut_consumed(&self, topics: &[String]) -> Result<usize, BusError> {
        let partitions = self.topics()?;
        let db = self.db();
        let txn = db.begin_write().map_err(err)?;
        let mut deleted = 0;
        let mut freed = 0;
        {
            let floors = consumed_floors(&txn.open_table(OFFSETS).map_err(err)?)?;
            let mut log = txn.open_table(LOG).map_err(err)?;
            let mut batches = txn.open_table(BATCHES).map_err(err)?;
            for topic in topics {
                let (Some((groups, committed)), Some(n)) = (floors.get(topic.as_str()), partitions.get(topic)) else { continue };
                for p in 0..*n {
                    let floor = groups.iter().map(|g| committed.get(&(g.clone(), p)).copied().unwrap_or(0)).min().unwrap_or(0);
                    let t = topic.as_str();
                    log.retain_in((t, p, 0)..(t, p, floor), |_, _| false).map_err(err)?;
                    let mut gone = Vec::new();
                    for row in batches.range((t, p, 0)..(t, p, floor)).map_err(err)? {
                        let (k, v) = row.map_err(err)?;
                        match batch::header(v.value()) {
                            Some((count, _)) if k.value().2 + count <= floor => {
                                gone.push(k.value().2);
                                deleted += count as usize;
                                freed += v.value().len() as u64;
                            }
                            _ => break,
                        }
                    }
                    for base in gone {
                        batches.remove((t, p, base)).map_err(err)?;
                    }
                }
            }
        }
        txn.commit().map_err(err)?;
        self.freed(freed);
        Ok(deleted)
    }

    pub(super) fn committed(&self, group: &str, topic: &str) -> Result<HashMap<u32, u64>, BusError> {
        let db = self.db();
        let txn = db.begin_read().map_err(err)?;
        let t = txn.open_table(OFFSETS).map_err(err)?;
        let mut out = HashMap::new();
        for row in t.range((group, topic, 0)..=(group, topic, u32::MAX)).map_err(err)? {
            let (k, v) = row.map_err(err)?;
            out.insert(k.value().2, v.value());
        }
        Ok(out)
    }

    /// Deletes records appended before `cutoff_micros`, at most `budget` of them per call so the
    /// writer thread is never blocked for long — but never a record a consumer group has not
    /// committed yet: on a topic some group consumes, a partition keeps everything from the
    /// slowest group's committed offset (a node back after a week offline still processes
    /// what it acknowledged). Topics no group has committed on (dead letters) expire by age.
    pub(super) fn expire(&self, cutoff_micros: u64, budget: usize) -> Result<Expired, BusError> {
        let topics = self.topics()?;
        let db = self.db();
        let txn = db.begin_write().map_err(err)?;
        let mut out = Expired::default();
        let mut freed = 0;
        {
            let floors = consumed_floors(&txn.open_table(OFFSETS).map_err(err)?)?;
            let mut log = txn.open_table(LOG).map_err(err)?;
            let mut batches = txn.open_table(BATCHES).map_err(err)?;
            for (topic, partitions) in &topics {
                for p in 0..*partitions {
                    let floor = floors.get(topic.as_str()).map(|(groups, committed)| {
                        groups.iter().map(|g| committed.get(&(g.clone(), p)).copied().unwrap_or(0)).min().unwrap_or(0)
                    });
                    let mut expired = Vec::new();
                    for row in log.range((topic.as_str(), p, 0)..(topic.as_str(), p, u64::MAX)).map_err(err)? {
                        let (k, v) = row.map_err(err)?;
                        let at = append_micros(v.value()).unwrap_or(0);
                        if at >= cutoff_micros || out.deleted + expired.len() >= budget {
                            break;
                        }
                        if floor.is_some_and(|f| k.value().2 >= f) {
                            // Old enough, but not yet consumed: kept, and reported.
                            out.held += 1;
                            break;
                        }
                        expired.push(k.value().2);
                    }
                    for off in &expired {
                        log.remove((topic.as_str(), p, *off)).map_err(err)?;
                    }
                    out.deleted += expired.len();
                    if !expired.is_empty() && out.deleted < budget {
                        // The single-record rows were not all expired: no batch can be.
                        let old_left = log.range((topic.as_str(), p, 0)..(topic.as_str(), p, u64::MAX)).map_err(err)?.next().is_some();
                        if old_left {
                            continue;
                        }
                    }
                    let mut gone = Vec::new();
                    for row in batches.range((topic.as_str(), p, 0)..(topic.as_str(), p, u64::MAX)).map_err(err)? {
                        let (k, v) = row.map_err(err)?;
                        let base = k.value().2;
                        let Some((count, at)) = batch::header(v.value()) else { break };
                        if at >= cutoff_micros || out.deleted >= budget {
                            break;
                        }
                        if floor.is_some_and(|f| base + count > f) {
                            out.held += 1;
                            break;
                        }
                        gone.push(base);
                        out.deleted += count as usize;
                        freed += v.value().len() as u64;
                    }
                    for base in gone {
                        batches.remove((topic.as_str(), p, base)).map_err(err)?;
                    }
                }
            }
        }
        txn.commit().map_err(err)?;
        self.freed(freed);
        Ok(out)
    }
}

/// What a retention pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Expired {
    pub deleted: usize,
    /// Partitions whose oldest record is past retention but not yet committed by every group.
    pub held: usize,
}

/// topic → (the groups that committed on it, (group, partition) → committed next offset).
pub(super) type Floors = HashMap<String, (Vec<String>, HashMap<(String, u32), u64>)>;

pub(super) fn consumed_floors(offsets: &impl ReadableTable<(&'static str, &'static str, u32), u64>) -> Result<Floors, BusError> {
    let mut floors: Floors = HashMap::new();
    for row in offsets.iter().map_err(err)? {
        let (k, v) = row.map_err(err)?;
        let (group, topic, partition) = k.value();
        let (groups, committed) = floors.entry(topic.to_owned()).or_default();
        if !groups.iter().any(|g| g == group) {
            groups.push(group.to_owned());
        }
        committed.insert((group.to_owned(), partition), v.value());
    }
    Ok(floors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_encoding_roundtrips() {
        let with_headers = vec![("traceparent".to_owned(), b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_vec()), ("empty".to_owned(), vec![])];
        for key in [None, Some(vec![]), Some(b"k".to_vec())] {
            for headers in [vec![], with_headers.clone()] {
                let r = OutRecord { topic: "t".into(), key: key.clone(), payload: b"payload".to_vec(), headers: headers.clone() };
                let want = Stored { append_micros: 42, key: key.clone(), headers, payload: b"payload".to_vec() };
                assert_eq!(decode(&encode(42, &r)), Some(want));
            }
        }
        assert_eq!(decode(b"short"), None);
        let mut cut = encode(42, &OutRecord { headers: with_headers, ..Default::default() });
        cut.truncate(20);
        assert_eq!(decode(&cut), None, "a header running past the value is corrupt, not a payload");
    }

    /// Values written before headers existed (the format of 8acd3c0 and earlier) read unchanged.
    #[test]
    fn values_without_the_headers_flag_read_as_before() {
        let mut old = Vec::new();
        old.extend_from_slice(&1_733_000_000_000_000u64.to_be_bytes());
        old.extend_from_slice(&3u32.to_be_bytes());
        old.extend_from_slice(b"keypayload");
        let want = Stored { append_micros: 1_733_000_000_000_000, key: Some(b"key".to_vec()), headers: vec![], payload: b"payload".to_vec() };
        assert_eq!(decode(&old), Some(want));
        let mut no_key = Vec::new();
        no_key.extend_from_slice(&7u64.to_be_bytes());
        no_key.extend_from_slice(&u32::MAX.to_be_bytes());
        no_key.extend_from_slice(b"p");
        assert_eq!(decode(&no_key).map(|s| (s.key, s.payload)), Some((None, b"p".to_vec())));
        assert_eq!(append_micros(&encode(9, &OutRecord { headers: vec![("a".into(), vec![1])], ..Default::default() })), Some(9));
    }

    #[test]
    fn retention_keeps_what_a_group_has_not_committed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("raw", 1).expect("topic");
        store.create_topic("deadletter", 1).expect("topic");
        let raw: Vec<OutRecord> = (0..10).map(|i| OutRecord { topic: "raw".into(), payload: vec![i], ..Default::default() }).collect();
        let dead: Vec<OutRecord> = (0..3).map(|i| OutRecord { topic: "deadletter".into(), payload: vec![i], ..Default::default() }).collect();
        // One write per record (one batch each), so retention can stop at any record.
        for r in raw.iter().chain(&dead) {
            let packed = batch::pack_placed(1_000, &[(0, r.clone())]);
            store.write(&packed.iter().collect::<Vec<_>>(), &[]).expect("write");
        }
        // The processors committed up to offset 4 of 10; a second group only up to 6.
        let (slow, fast) = (("raw".to_owned(), 0, 4), ("raw".to_owned(), 0, 6));
        store.write(&[], &[("processors", &slow), ("other", &fast)]).expect("write");

        // A week later every record is past retention.
        let out = store.expire(u64::MAX, 1000).expect("expire");
        assert_eq!(out, Expired { deleted: 4 + 3, held: 1 });
        let left = store.read_many(&[("raw".to_owned(), 0, 0)], 100).expect("read");
        assert_eq!(left.iter().map(|r| r.offset).collect::<Vec<_>>(), (4..10).collect::<Vec<_>>(), "from the slowest group's offset on");
        assert!(store.read_many(&[("deadletter".to_owned(), 0, 0)], 100).expect("read").is_empty(), "unconsumed topics expire by age");
    }

    fn offsets(records: &[InRecord]) -> Vec<i64> {
        records.iter().map(|r| r.offset).collect()
    }

    /// A log written before batches existed: its single-record rows are read first, then the
    /// batches that follow them; deleting and reading at any offset spans both.
    #[test]
    fn single_record_rows_of_older_versions_read_before_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("raw", 1).expect("topic");
        let db = store.db();
        let txn = db.begin_write().expect("txn");
        {
            let mut log = txn.open_table(LOG).expect("log");
            for off in 0..3u64 {
                let r = OutRecord { topic: "raw".into(), payload: vec![off as u8], ..Default::default() };
                log.insert(("raw", 0, off), encode(5, &r).as_slice()).expect("insert");
            }
            txn.open_table(HEADS).expect("heads").insert(("raw", 0), 3).expect("head");
        }
        txn.commit().expect("commit");
        let new: Vec<(u32, OutRecord)> = (3..7u8).map(|i| (0, OutRecord { topic: "raw".into(), payload: vec![i], ..Default::default() })).collect();
        store.write(&batch::pack_placed(6, &new).iter().collect::<Vec<_>>(), &[]).expect("write");

        let all = store.read_many(&[("raw".to_owned(), 0, 0)], 100).expect("read");
        assert_eq!(offsets(&all), (0..7).collect::<Vec<_>>());
        assert!(all.iter().all(|r| r.payload == vec![r.offset as u8]), "each offset has its own record");
        assert_eq!(offsets(&store.read_many(&[("raw".to_owned(), 0, 5)], 100).expect("read")), vec![5, 6], "from inside a batch");
        assert_eq!(offsets(&store.read_many(&[("raw".to_owned(), 0, 1)], 3).expect("read")), vec![1, 2, 3], "`max` spans both formats");
        assert_eq!(store.last("raw", 0).expect("last").map(|r| r.offset), Some(6));

        store.delete_before("raw", 0, 4).expect("delete");
        // The batch holding offset 4 starts at 3 and stays whole; readers start where they ask.
        assert_eq!(offsets(&store.read_many(&[("raw".to_owned(), 0, 0)], 100).expect("read")), vec![3, 4, 5, 6]);
        assert_eq!(offsets(&store.read_many(&[("raw".to_owned(), 0, 4)], 100).expect("read")), vec![4, 5, 6]);
        store.delete_before("raw", 0, 7).expect("delete");
        assert!(store.read_many(&[("raw".to_owned(), 0, 0)], 100).expect("read").is_empty());
        assert_eq!(store.heads("raw").expect("heads").get(&0), Some(&7), "offsets go on after deletes");
    }

    #[test]
    fn transient_topics_keep_only_what_a_group_still_needs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("logs", 1).expect("topic");
        for i in 0..5u8 {
            let r = OutRecord { topic: "logs".into(), payload: vec![i], ..Default::default() };
            store.write(&batch::pack_placed(1, &[(0, r)]).iter().collect::<Vec<_>>(), &[]).expect("write");
        }
        assert_eq!(store.cut_consumed(&["logs".to_owned()]).expect("cut"), 0, "no group committed yet: everything stays");
        let (slow, fast) = (("logs".to_owned(), 0, 2), ("logs".to_owned(), 0, 4));
        store.write(&[], &[("sink", &slow), ("other", &fast)]).expect("commit");
        assert_eq!(store.cut_consumed(&["logs".to_owned()]).expect("cut"), 2);
        assert_eq!(offsets(&store.read_many(&[("logs".to_owned(), 0, 0)], 100).expect("read")), vec![2, 3, 4], "from the slowest group on");
    }

    /// A burst's transient records, once consumed and cut, leave the file mostly free pages:
    /// compaction gives them back, and what the log still holds reads as before.
    #[test]
    fn compaction_returns_the_pages_of_deleted_records_and_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("raw", 1).expect("topic");
        store.create_topic("logs", 1).expect("topic");
        // Incompressible payloads, so the batches take the space they say.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        };
        let raw: Vec<(u32, OutRecord)> = (0..10).map(|_| (0, OutRecord { topic: "raw".into(), payload: noise(100), ..Default::default() })).collect();
        store.write(&batch::pack_placed(1, &raw).iter().collect::<Vec<_>>(), &[]).expect("write raw");
        for _ in 0..400 {
            let r = OutRecord { topic: "logs".into(), payload: noise(20_000), ..Default::default() };
            store.write(&batch::pack_placed(1, &[(0, r)]).iter().collect::<Vec<_>>(), &[]).expect("write logs");
        }
        assert!(store.compact_if_sparse(1 << 20).expect("check").is_none(), "nothing deleted yet: no compaction");
        store.write(&[], &[("sink", &("logs".to_owned(), 0, 400))]).expect("commit");
        assert_eq!(store.cut_consumed(&["logs".to_owned()]).expect("cut"), 400);

        let c = store.compact_if_sparse(1 << 20).expect("compact").expect("compacted");
        assert!(c.after < c.before / 2, "{c:?}");
        let left = store.read_many(&[("raw".to_owned(), 0, 0)], 100).expect("read");
        assert_eq!(left.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(), raw.iter().map(|(_, r)| r.payload.clone()).collect::<Vec<_>>());
        assert_eq!(store.committed("sink", "logs").expect("offsets").get(&0), Some(&400));
        assert!(store.compact_if_sparse(1 << 20).expect("check").is_none(), "nothing deleted since");
        let more = OutRecord { topic: "logs".into(), payload: b"after".to_vec(), ..Default::default() };
        store.write(&batch::pack_placed(2, &[(0, more)]).iter().collect::<Vec<_>>(), &[]).expect("write after");
        assert_eq!(offsets(&store.read_many(&[("logs".to_owned(), 0, 400)], 10).expect("read")), vec![400], "offsets go on");
    }
}
