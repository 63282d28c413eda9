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
use crate::{BusError, OutRecord};

/// Most requests merged into one transaction: bounds the transaction's size and latency.
const MAX_GROUP: usize = 512;
/// How often retention runs, and how many records one pass may delete.
const RETENTION_EVERY: Duration = Duration::from_secs(60);
const RETENTION_BUDGET: usize = 100_000;

/// A consumer group and the positions it commits: (group, [(topic, partition, next offset)]).
pub(super) type GroupOffsets = (String, Vec<(String, u32, u64)>);

pub(super) struct WriteRequest {
    pub records: Vec<(u32, OutRecord)>,
    pub offsets: Option<GroupOffsets>,
}

type Job = (WriteRequest, oneshot::Sender<Result<(), String>>);

#[derive(Clone)]
pub(super) struct Writer {
    tx: mpsc::Sender<Job>,
    failed: Arc<AtomicBool>,
}

impl Writer {
    pub(super) fn start(store: Arc<Store>, appended: Arc<Notify>, capacity: usize, retention: Duration) -> Result<Self, BusError> {
        let (tx, rx) = mpsc::channel::<Job>(capacity.max(1));
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        std::thread::Builder::new()
            .name("nexuslog-embedded-log".into())
            .spawn(move || run(&store, &appended, rx, &flag, retention))
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

fn now_micros() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

fn run(store: &Store, appended: &Notify, mut rx: mpsc::Receiver<Job>, failed: &AtomicBool, retention: Duration) {
    let mut last_retention = Instant::now();
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let records: Vec<(u32, &OutRecord)> = jobs.iter().flat_map(|(r, _)| r.records.iter().map(|(p, rec)| (*p, rec))).collect();
        let offsets: Vec<(&str, &(String, u32, u64))> = jobs
            .iter()
            .filter_map(|(r, _)| r.offsets.as_ref())
            .flat_map(|(group, list)| list.iter().map(move |o| (group.as_str(), o)))
            .collect();
        let result = store.write(&records, &offsets, now_micros()).map_err(|e| e.to_string());
        failed.store(result.is_err(), Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::error!(error = %e, "embedded log write failed");
        }
        let any_records = !records.is_empty();
        for (_, done) in jobs {
            let _ = done.send(result.clone());
        }
        if any_records && result.is_ok() {
            appended.notify_waiters();
        }
        if last_retention.elapsed() > RETENTION_EVERY {
            last_retention = Instant::now();
            let cutoff = now_micros().saturating_sub(u64::try_from(retention.as_micros()).unwrap_or(u64::MAX));
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
