//! The message bus between the roles: topics, partitions, consumer groups, committed offsets.
//!
//! Delivery contract every implementation keeps:
//! - [`Bus::produce`] returns only once every record is durably accepted (Kafka: `acks=all`
//!   with the idempotent producer), so the gateway may acknowledge its client afterwards.
//! - Consumers never commit on their own: offsets move only through [`Consumer::commit`] or
//!   [`Consumer::commit_with_outputs`], called after the consumer's output is safe.
//! - [`Consumer::commit_with_outputs`] makes the outputs visible and moves the offsets in one
//!   atomic step (Kafka transactions), so a crash in between neither loses nor duplicates.

pub mod conformance;
mod embedded;
mod kafka;
pub mod trace;

use std::time::Duration;

use async_trait::async_trait;
pub use embedded::{EmbeddedBus, EmbeddedBusConfig};
pub use kafka::{KafkaBus, KafkaBusConfig};

/// The topics of one deployment, named `<prefix>raw`, `<prefix>logs`, `<prefix>alerts`,
/// `<prefix>deadletter`, and the alerting internals `<prefix>alert-partials` and
/// `<prefix>alert-state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Raw events from the gateway (Avro `RawEvent`).
    pub raw: String,
    /// Normalized records from the processors (Avro `LogRecord`).
    pub logs: String,
    /// Alert transitions (Avro `AlertEvent`).
    pub alerts: String,
    /// Whatever could not be handled, with the reason (Avro `DeadLetter`).
    pub deadletter: String,
    /// Partial window aggregates from the processors to the alert evaluator (JSON, one
    /// partition: one evaluator sees every rule's partials in one order).
    pub alert_partials: String,
    /// The alert evaluator's state snapshots, written with its offsets; the newest wins.
    pub alert_state: String,
}

impl Topics {
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            raw: format!("{prefix}raw"),
            logs: format!("{prefix}logs"),
            alerts: format!("{prefix}alerts"),
            deadletter: format!("{prefix}deadletter"),
            alert_partials: format!("{prefix}alert-partials"),
            alert_state: format!("{prefix}alert-state"),
        }
    }

    /// The topics spread over partitions (the alerting internals have one each).
    pub fn partitioned(&self) -> [&str; 4] {
        [&self.raw, &self.logs, &self.alerts, &self.deadletter]
    }

    pub fn single_partition(&self) -> [&str; 2] {
        [&self.alert_partials, &self.alert_state]
    }
}

/// Record headers: (name, value) pairs in order, names may repeat (Kafka's model). NexusLog
/// writes only the W3C trace context (`traceparent`, `tracestate`; see [`trace`]), and only
/// when tracing is on: an empty `Vec` costs no allocation, so records without headers (every
/// record when tracing is off) pay nothing.
pub type Headers = Vec<(String, Vec<u8>)>;

/// A record to write. Build with `..Default::default()` for the fields you do not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: String,
    /// Partitioning key; records with the same key keep their order.
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: Headers,
}

/// A record read by a consumer, with its position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: Headers,
}

impl InRecord {
    /// The value of the first header named `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
    }

    /// The position to commit once this record is handled.
    pub fn next_position(&self) -> Position {
        Position { topic: self.topic.clone(), partition: self.partition, next_offset: self.offset + 1 }
    }
}

/// A committed position: the offset of the next record to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    pub next_offset: i64,
}

/// Reduces handled records to the highest next-offset per partition: what to commit.
pub fn positions<'a>(records: impl IntoIterator<Item = &'a InRecord>) -> Vec<Position> {
    let mut best: std::collections::BTreeMap<(String, i32), i64> = std::collections::BTreeMap::new();
    for r in records {
        let e = best.entry((r.topic.clone(), r.partition)).or_insert(r.offset + 1);
        *e = (*e).max(r.offset + 1);
    }
    best.into_iter().map(|((topic, partition), next_offset)| Position { topic, partition, next_offset }).collect()
}

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus cannot be reached or did not answer in time; retrying later may succeed.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The local produce queue is full: back off (the gateway answers 503).
    #[error("bus queue full")]
    QueueFull,
    /// A record was refused for good (too large, unknown topic, ...).
    #[error("record rejected: {0}")]
    Rejected(String),
    /// A transaction could not complete and was aborted; nothing of it is visible. The
    /// consumer must be recreated to resume from the committed position.
    #[error("transaction aborted: {0}")]
    TransactionAborted(String),
    #[error("bus configuration: {0}")]
    Config(String),
}

/// A message bus. Implementations: [`KafkaBus`] and [`EmbeddedBus`].
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Creates a topic if it does not exist (idempotent).
    async fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), BusError>;

    /// Writes records and returns once all of them are durably accepted.
    async fn produce(&self, records: Vec<OutRecord>) -> Result<(), BusError>;

    /// Joins `group` reading `topics` from the group's committed positions (or the earliest
    /// offset for a new group). Only committed transactional output is visible.
    async fn consumer(&self, group: &str, topics: &[String]) -> Result<Box<dyn Consumer>, BusError>;

    /// A reader of `topics` from their current end, in no consumer group: it sees what is
    /// written from now on and never commits (the live tail's source: each API instance reads
    /// everything, nothing is shared or remembered). Only committed transactional output is
    /// visible.
    async fn tail(&self, topics: &[String]) -> Result<Box<dyn Consumer>, BusError>;

    /// Succeeds when the bus answers.
    async fn health(&self) -> Result<(), BusError>;

    /// The newest committed record of a partition, `None` when it has none: how a role restores
    /// the state it keeps as the last record of a changelog topic. The caller makes sure no
    /// transaction of its own is still open (Kafka withholds records behind one).
    async fn last_record(&self, topic: &str, partition: i32) -> Result<Option<InRecord>, BusError>;

    /// Deletes a partition's records before `offset`: retention for changelog topics, where
    /// only the newest record matters.
    async fn delete_before(&self, topic: &str, partition: i32, offset: i64) -> Result<(), BusError>;

    /// How far `group` is behind on `topic`: per partition, the records past the group's
    /// committed offset (from the partition's start when it committed nothing). A snapshot for
    /// monitoring, never a position to act on; on Kafka a transaction's commit marker takes an
    /// offset, so a group at the end of a transactional topic reads 1.
    async fn lag(&self, group: &str, topic: &str) -> Result<Vec<PartitionLag>, BusError>;
}

/// One partition's consumer lag, from [`Bus::lag`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionLag {
    pub partition: i32,
    /// Records written but not yet committed by the group.
    pub records: i64,
}

/// A member of a consumer group.
#[async_trait]
pub trait Consumer: Send {
    /// Up to `max` records; waits at most `wait` for the first one.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<InRecord>, BusError>;

    /// Commits positions (after the records before them are safe downstream).
    async fn commit(&mut self, positions: &[Position]) -> Result<(), BusError>;

    /// Writes `outputs` and commits `positions` atomically.
    async fn commit_with_outputs(&mut self, outputs: Vec<OutRecord>, positions: &[Position]) -> Result<(), BusError>;

    /// The group's committed position for each partition of `topic` (tests, lag metrics).
    async fn committed(&mut self, topic: &str) -> Result<Vec<Position>, BusError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(topic: &str, partition: i32, offset: i64) -> InRecord {
        InRecord { topic: topic.into(), partition, offset, ..Default::default() }
    }

    #[test]
    fn positions_keep_the_highest_offset_per_partition() {
        let rs = [rec("a", 0, 5), rec("a", 0, 3), rec("a", 1, 0), rec("b", 0, 9)];
        let p = positions(&rs);
        assert_eq!(
            p,
            vec![
                Position { topic: "a".into(), partition: 0, next_offset: 6 },
                Position { topic: "a".into(), partition: 1, next_offset: 1 },
                Position { topic: "b".into(), partition: 0, next_offset: 10 },
            ]
        );
    }
}
