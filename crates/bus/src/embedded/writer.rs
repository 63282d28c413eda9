//! The writer thread: group commit of produce and offset-commit requests.
//!
//! Requests queue in a bounded channel; the thread takes everything queued (up to a bound),
//! writes it in one fsynced transaction, and answers every request. Under load, hundreds of
//! requests share one fsync; alone, a request waits for one fsync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Notify};

use super::store::Store;
use super::EmbeddedBusConfig;
use super::batch::Packed;
use crate::BusError;

/// Most requests merged into one transaction: bounds the transaction's size and latency.
const MAX_GROUP: usize = 512;
/// How often retention runs, and how many records one pass may delete.
const RETENTION_EVERY: Duration = Duration::from_secs(60);
const RETENTION_BUDGET: usize = 100_000;
/// How often transient topics are cut below their consumers' committed offsets: often, so their
/// pages are reused by the next writes instead of growing the file.
const TRANSIENT_EVERY: Duration = Duration::from_secs(2);
/// Below this size the log file is never compacted: its free pages are not worth a pause.
const COMPACT_FROM_BYTES: u64 = 64 << 20;

/// A consumer group and the positions it commits: (group, [(topic, partition, next offset)]).
pub(super) type GroupOffsets = (String, Vec<(String, u32, u64)>);

pub(super) struct WriteRequest {
    /// Records packed by the caller (`batch::pack_placed`).
    pub batches: Vec<Packed>,
    pub offsets: Option<GroupOffsets>,
}

type Job = (WriteRequest, oneshot::Sender<Result<(), String>>);

#[derive(Clone)]
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
    failed: Arc<AtomicBool>,
}

impl Writer {
    pub(super) fn start(store: Arc<Store>, appended: Arc<Notify>, config: &EmbeddedBusConfig) -> Result<Self, BusError> {
        let (tx, rx) = mpsc::channel::<Job>(config.queue_capacity.max(1));
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        let config = config.clone();
        std::thread::Builder::new()
            .name("nexuslog-embedded-log".into())
            .spawn(move || run(&store, &appended, rx, &flag, &config))
            .map_err(|e| BusError::Unavailable(format!("cannot start the embedded log writer: {e}")))?;
        Ok(Self { tx, failed })
    }

    /// Queues a request and waits until it is durable.
    pub(super) async fn submit(&self, req: WriteRequest) -> Result<(), BusError> {
        let (done, answer) = oneshot::channel();
        self.tx.try_send((req, done)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => BusError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => BusError::Unavailable("embedded log writer stopped".into()),
        })?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(BusError::Unavailable(e)),
            Err(_) => Err(BusError::Unavailable("embedded log writer stopped".into())),
        }
    }

    pub(super) fn health(&self) -> Result<(), BusError> {
        if self.failed.load(Ordering::Relaxed) || self.tx.is_closed() {
            return Err(BusError::Unavailable("the embedded log's last write failed".into()));
        }
        Ok(())
    }
}

pub(super) fn now_micros() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

fn run(store: &Store, appended: &Notify, mut rx: mpsc::Receiver<Job>, failed: &AtomicBool, config: &EmbeddedBusConfig) {
    // Only to wait for the next request with a timeout, so housekeeping also runs when no
    // request comes (the last records of a burst are cut, and the file compacted, at rest).
    let waiter = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "embedded log writer cannot start");
            failed.store(true, Ordering::Relaxed);
            return;
        }
    };
    let mut chores = Chores { last_retention: Instant::now(), last_transient: Instant::now() };
    loop {
        // The timer is made inside `block_on`: it needs the runtime it runs on.
        let first = match waiter.block_on(async { tokio::time::timeout(TRANSIENT_EVERY, rx.recv()).await }) {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_idle) => {
                chores.run(store, config);
                continue;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let batches: Vec<&Packed> = jobs.iter().flat_map(|(r, _)| r.batches.iter()).collect();
        let offsets: Vec<(&str, &(String, u32, u64))> = jobs
            .iter()
            .filter_map(|(r, _)| r.offsets.as_ref())
            .flat_map(|(group, list)| list.iter().map(move |o| (group.as_str(), o)))
            .collect();
        let result = store.write(&batches, &offsets).map_err(|e| e.to_string());
        failed.store(result.is_err(), Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::error!(error = %e, "embedded log write failed");
        }
        let any_records = !batches.is_empty();
        for (_, done) in jobs {
            let _ = done.send(result.clone());
        }
        if any_records && result.is_ok() {
            appended.notify_waiters();
        }
        chores.run(store, config);
    }
}

/// Deletes and compaction, between writes on the writer thread (so they never race a write).
struct Chores {
    last_retention: Instant,
    last_transient: Instant,
}

impl Chores {
    fn run(&mut self, store: &Store, config: &EmbeddedBusConfig) {
        let transient = config.transient_topics.as_slice();
        if !transient.is_empty() && self.last_transient.elapsed() > TRANSIENT_EVERY {
            self.last_transient = Instant::now();
            match store.cut_consumed(transient) {
                Ok(n) if n > 0 => tracing::debug!(deleted = n, "consumed records of transient topics deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deleting consumed records of transient topics failed"),
            }
            match store.compact_if_sparse(COMPACT_FROM_BYTES) {
                Ok(Some(c)) => {
                    metrics::counter!("nexuslog_bus_compactions_total").increment(1);
                    tracing::info!(before = c.before, after = c.after, took_ms = c.took.as_millis() as u64, "embedded log compacted");
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "embedded log compaction failed"),
            }
        }
        if config.max_bytes > 0 && store.batch_bytes() > config.max_bytes {
            enforce_cap(store, config.max_bytes);
        }
        if self.last_retention.elapsed() > RETENTION_EVERY {
            self.last_retention = Instant::now();
            let cutoff = now_micros().saturating_sub(u64::try_from(config.retention.as_micros()).unwrap_or(u64::MAX));
            match store.expire(cutoff, RETENTION_BUDGET) {
                Ok(out) => {
                    if out.deleted > 0 {
                        tracing::info!(deleted = out.deleted, "embedded log retention");
                    }
                    if out.held > 0 {
                        // Not deleted: acknowledged events wait for their consumers (see the
                        // consumer lag metric) however old they are.
                        tracing::warn!(partitions = out.held, "embedded log retention kept records past retention that a consumer group has not processed yet");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "embedded log retention failed"),
            }
        }
    }
}

/// Brings the log back to 90 % of `max_bytes` (so the next writes do not start over at once),
/// counting and logging what no consumer had processed yet.
fn enforce_cap(store: &Store, max_bytes: u64) {
    let free = store.batch_bytes().saturating_sub(max_bytes / 10 * 9);
    match store.shed(free, RETENTION_BUDGET as u64) {
        Ok(shed) => {
            metrics::counter!("nexuslog_bus_cap_deleted_records_total", "consumed" => "true").increment(shed.consumed);
            if shed.lost > 0 {
                metrics::counter!("nexuslog_bus_cap_deleted_records_total", "consumed" => "false").increment(shed.lost);
                tracing::error!(lost = shed.lost, max_bytes, "embedded log over its size cap (bus.embedded_max_bytes): deleted records no consumer had processed; they are lost");
            }
        }
        Err(e) => tracing::warn!(error = %e, "embedded log size cap failed"),
    }
}
