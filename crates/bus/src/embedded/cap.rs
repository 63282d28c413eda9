//! The embedded log's size cap (`EmbeddedBusConfig::max_bytes`), the one override of "never
//! delete what a consumer group has not committed".
//!
//! Retention by age keeps a partition's records from the slowest group's committed offset on,
//! however old they are: a node back after a week offline still processes what it
//! acknowledged. On a disk that cannot hold that, an operator may prefer losing the oldest
//! records to a full disk that stops every write; the cap is that choice. Over it, the oldest
//! batches of any partition go first, whether consumed or not, and what no group had
//! processed yet is counted and logged as lost. A partition's newest batch always stays: it
//! holds the last record of a changelog topic (alert state), and its offset.

use std::sync::atomic::Ordering;

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::batch;
use super::store::{consumed_floors, err, Store, BATCHES, OFFSETS};
use crate::BusError;

/// What one pass of the cap deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shed {
    /// Records deleted that every group reading their topic had committed (or no group reads).
    pub consumed: u64,
    /// Records deleted that a group reading their topic had not committed: lost.
    pub lost: u64,
}

impl Store {
    /// Counts the bytes of every batch (reads the whole log); from then on writes and deletes
    /// keep the count.
    pub(super) fn measure(&self) -> Result<u64, BusError> {
        let db = self.db();
        let txn = db.begin_read().map_err(err)?;
        let batches = txn.open_table(BATCHES).map_err(err)?;
        let mut total = 0u64;
        if batches.len().map_err(err)? > 0 {
            for row in batches.iter().map_err(err)? {
                total += row.map_err(err)?.1.value().len() as u64;
            }
        }
        self.batch_bytes.store(total, Ordering::Relaxed);
        Ok(total)
    }

    /// Bytes of batches in the log, as counted since [`Store::measure`].
    pub(super) fn batch_bytes(&self) -> u64 {
        self.batch_bytes.load(Ordering::Relaxed)
    }

    /// Deletes the oldest batches, by append time across all partitions, until `free` bytes
    /// are gone or `budget` records were deleted; never a partition's newest batch.
    pub(super) fn shed(&self, free: u64, budget: u64) -> Result<Shed, BusError> {
        let topics = self.topics()?;
        let db = self.db();
        let txn = db.begin_write().map_err(err)?;
        let mut out = Shed::default();
        let mut freed = 0u64;
        {
            let floors = consumed_floors(&txn.open_table(OFFSETS).map_err(err)?)?;
            let mut batches = txn.open_table(BATCHES).map_err(err)?;
            while freed < free && out.consumed + out.lost < budget {
                // The oldest first batch of any partition that has another batch after it.
                let mut oldest: Option<(u64, &str, u32, u64, u64, u64)> = None;
                for (topic, partitions) in &topics {
                    for p in 0..*partitions {
                        let mut rows = batches.range((topic.as_str(), p, 0)..(topic.as_str(), p, u64::MAX)).map_err(err)?;
                        let Some(first) = rows.next() else { continue };
                        if rows.next().is_none() {
                            continue;
                        }
                        let (k, v) = first.map_err(err)?;
                        let Some((count, at)) = batch::header(v.value()) else { continue };
                        if oldest.is_none_or(|o| at < o.0) {
                            oldest = Some((at, topic.as_str(), p, k.value().2, count, v.value().len() as u64));
                        }
                    }
                }
                let Some((_, topic, p, base, count, bytes)) = oldest else { break };
                batches.remove((topic, p, base)).map_err(err)?;
                freed += bytes;
                let floor = floors.get(topic).map(|(groups, committed)| groups.iter().map(|g| committed.get(&(g.clone(), p)).copied().unwrap_or(0)).min().unwrap_or(0));
                let unconsumed = floor.map_or(0, |f| (base + count).saturating_sub(f.max(base)));
                out.lost += unconsumed;
                out.consumed += count - unconsumed;
            }
        }
        txn.commit().map_err(err)?;
        self.freed(freed);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::batch::pack_placed;
    use super::*;
    use crate::OutRecord;

    fn write_one(store: &Store, topic: &str, partition: u32, at: u64, payload: &str) {
        let r = OutRecord { topic: topic.into(), payload: payload.as_bytes().to_vec(), ..Default::default() };
        let packed = pack_placed(at, &[(partition, r)]);
        store.write(&packed.iter().collect::<Vec<_>>(), &[]).expect("write");
    }

    #[test]
    fn the_count_follows_writes_and_every_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("raw", 2).expect("topic");
        store.create_topic("logs", 1).expect("topic");
        for i in 0..10u64 {
            write_one(&store, "raw", (i % 2) as u32, 1_000 + i, &format!("raw {i} {}", "x".repeat(i as usize * 50)));
            write_one(&store, "logs", 0, 1_000 + i, &format!("log {i}"));
        }
        let counted = store.batch_bytes();
        assert!(counted > 0);
        assert_eq!(store.measure().expect("measure"), counted, "writes counted as a full count finds");

        store.write(&[], &[("sink", &("logs".to_owned(), 0, 4))]).expect("commit");
        assert_eq!(store.cut_consumed(&["logs".to_owned()]).expect("cut"), 4);
        store.delete_before("raw", 0, 4).expect("delete");
        store.expire(1_002, 100).expect("expire");
        let counted = store.batch_bytes();
        assert_eq!(store.measure().expect("measure"), counted, "deletes counted as a full count finds");
    }

    #[test]
    fn the_cap_deletes_oldest_first_counts_what_was_never_consumed_and_keeps_each_newest_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("raw", 1).expect("topic");
        store.create_topic("state", 1).expect("topic");
        write_one(&store, "state", 0, 1, "the only state record");
        for i in 0..10u64 {
            write_one(&store, "raw", 0, 100 + i, &format!("raw {i}"));
        }
        // The processor has committed the first 3 raw records.
        store.write(&[], &[("processor", &("raw".to_owned(), 0, 3))]).expect("commit");
        store.measure().expect("measure");

        // Free everything: only the newest batch of each partition stays.
        let shed = store.shed(u64::MAX, 1_000).expect("shed");
        assert_eq!(shed, Shed { consumed: 3, lost: 6 }, "records 3..9 were never processed: 6 lost, the newest kept");
        assert_eq!(store.read_many(&[("raw".into(), 0, 0)], 100).expect("read").iter().map(|r| r.offset).collect::<Vec<_>>(), [9]);
        assert_eq!(store.last("state", 0).expect("last").map(|r| r.payload), Some(b"the only state record".to_vec()));
        assert_eq!(store.measure().expect("measure"), store.batch_bytes());
    }

    #[test]
    fn the_cap_stops_once_enough_is_freed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("log.redb")).expect("open");
        store.create_topic("a", 1).expect("topic");
        store.create_topic("b", 1).expect("topic");
        for i in 0..5u64 {
            write_one(&store, "a", 0, 10 + 2 * i, &format!("a{i}"));
            write_one(&store, "b", 0, 11 + 2 * i, &format!("b{i}"));
        }
        store.measure().expect("measure");
        // One byte to free: the single oldest batch (a0) goes, nothing else.
        assert_eq!(store.shed(1, 1_000).expect("shed"), Shed { consumed: 1, lost: 0 }, "no group reads these topics: nothing counts as lost");
        let first = |t: &str| store.read_many(&[(t.into(), 0, 0)], 1).expect("read")[0].offset;
        assert_eq!((first("a"), first("b")), (1, 0));
    }
}
