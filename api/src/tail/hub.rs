//! The fan-out behind the live tail: one reader of the processed-records stream per API
//! instance, many subscribers.
//!
//! The reader decodes each batch once, and for each record runs each distinct (project,
//! query) of the current subscribers once, however many subscribers share it. Each subscriber
//! has a bounded buffer: when it is full the record is dropped for that subscriber and counted,
//! and the subscriber is told how many it missed (`skipped`) — a slow client costs a counter,
//! never unbounded memory, and never slows the others.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nexuslog_bus::Bus;
use nexuslog_common::backoff::Backoff;
use nexuslog_common::shutdown::Shutdown;
use nexuslog_query::{Query, Record};
use nexuslog_schemas::wire::Codec;
use nexuslog_schemas::LogRecord;
use serde_json::Value;
use tokio::sync::mpsc;

/// Limits of the live tail (`tail.*` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct TailLimits {
    /// Open tails per user or API key.
    pub per_caller: usize,
    /// Open tails on this API instance.
    pub per_instance: usize,
    /// Records held for one subscriber before it starts missing some.
    pub buffer: usize,
}

impl Default for TailLimits {
    fn default() -> Self {
        Self { per_caller: 5, per_instance: 2000, buffer: 1000 }
    }
}

/// Why a subscription was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    PerCaller(usize),
    PerInstance(usize),
}

struct Sub {
    project_id: String,
    /// The canonical form of the query: subscribers with equal ones share one evaluation.
    query_key: String,
    query: Arc<Query>,
    caller: String,
    tx: mpsc::Sender<Arc<Value>>,
    skipped: Arc<AtomicU64>,
}

#[derive(Default)]
struct Subscribers {
    next_id: u64,
    by_id: HashMap<u64, Sub>,
    per_caller: HashMap<String, usize>,
    /// The process is stopping: no new tails.
    closed: bool,
}

pub struct TailHub {
    limits: TailLimits,
    subs: Mutex<Subscribers>,
    /// Records read from the stream (tests and metrics).
    read: AtomicU64,
}

/// One open tail; dropping it unsubscribes.
pub struct Subscription {
    id: u64,
    hub: Arc<TailHub>,
    pub rx: mpsc::Receiver<Arc<Value>>,
    skipped: Arc<AtomicU64>,
}

impl Subscription {
    /// Records dropped for this subscriber since the last call.
    pub fn take_skipped(&self) -> u64 {
        self.skipped.swap(0, Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id);
    }
}

impl TailHub {
    pub fn new(limits: TailLimits) -> Arc<Self> {
        Arc::new(Self { limits, subs: Mutex::default(), read: AtomicU64::new(0) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Subscribers> {
        self.subs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn subscribers(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Opens a tail of `project_id` filtered by `query` for `caller`.
    ///
    /// # Errors
    /// When the caller or the instance is at its limit.
    pub fn subscribe(self: &Arc<Self>, project_id: &str, query: Query, caller: &str) -> Result<Subscription, Refused> {
        let mut subs = self.lock();
        if subs.closed || subs.by_id.len() >= self.limits.per_instance {
            return Err(Refused::PerInstance(self.limits.per_instance));
        }
        let mine = subs.per_caller.get(caller).copied().unwrap_or(0);
        if mine >= self.limits.per_caller {
            return Err(Refused::PerCaller(self.limits.per_caller));
        }
        let (tx, rx) = mpsc::channel(self.limits.buffer.max(1));
        let skipped = Arc::new(AtomicU64::new(0));
        subs.next_id += 1;
        let id = subs.next_id;
        let query_key = query.to_string();
        subs.by_id.insert(
            id,
            Sub { project_id: project_id.to_owned(), query_key, query: Arc::new(query), caller: caller.to_owned(), tx, skipped: skipped.clone() },
        );
        *subs.per_caller.entry(caller.to_owned()).or_default() += 1;
        metrics::gauge!("nexuslog_tail_subscribers").set(subs.by_id.len() as f64);
        Ok(Subscription { id, hub: self.clone(), rx, skipped })
    }

    fn unsubscribe(&self, id: u64) {
        let mut subs = self.lock();
        if let Some(s) = subs.by_id.remove(&id) {
            if let Some(n) = subs.per_caller.get_mut(&s.caller) {
                *n -= 1;
                if *n == 0 {
                    subs.per_caller.remove(&s.caller);
                }
            }
        }
        metrics::gauge!("nexuslog_tail_subscribers").set(subs.by_id.len() as f64);
    }

    /// Delivers a batch of records to the subscribers whose project and query match.
    pub fn publish(&self, records: &[LogRecord]) {
        self.read.fetch_add(records.len() as u64, Ordering::Relaxed);
        // (project, query) → its subscribers' senders, taken under the lock, used outside it.
        type Targets = Vec<(mpsc::Sender<Arc<Value>>, Arc<AtomicU64>)>;
        let mut groups: HashMap<(String, String), (Arc<Query>, Targets)> = HashMap::new();
        {
            let subs = self.lock();
            if subs.by_id.is_empty() {
                return;
            }
            for s in subs.by_id.values() {
                let entry = groups.entry((s.project_id.clone(), s.query_key.clone())).or_insert_with(|| (s.query.clone(), Vec::new()));
                entry.1.push((s.tx.clone(), s.skipped.clone()));
            }
        }
        let mut by_project: HashMap<&str, Vec<(&Arc<Query>, &Targets)>> = HashMap::new();
        for ((project, _), (query, targets)) in &groups {
            by_project.entry(project.as_str()).or_default().push((query, targets));
        }
        for record in records {
            let Some(queries) = by_project.get(record.project_id.as_str()) else { continue };
            let r = Record::new(record);
            let mut json: Option<Arc<Value>> = None;
            for (query, targets) in queries {
                if !r.matches(query) {
                    continue;
                }
                let value = json.get_or_insert_with(|| Arc::new(crate::search::record_json(record))).clone();
                for (tx, skipped) in targets.iter() {
                    if tx.try_send(value.clone()).is_err() {
                        // Full (a slow reader) or closed (leaving): counted, never waited for.
                        skipped.fetch_add(1, Ordering::Relaxed);
                        metrics::counter!("nexuslog_tail_skipped_total").increment(1);
                    }
                }
            }
        }
    }

    /// Reads the processed-records stream from its end until `shutdown`, publishing each batch.
    pub async fn run(self: Arc<Self>, bus: Arc<dyn Bus>, codec: Codec, topic: String, shutdown: Shutdown) {
        self.read(bus, codec, topic, &shutdown).await;
        // Every open tail ends (its channel closes), so the HTTP server's graceful stop does not
        // wait on endless responses; new ones are refused as the instance is full.
        let mut subs = self.lock();
        subs.by_id.clear();
        subs.per_caller.clear();
        subs.closed = true;
    }

    async fn read(&self, bus: Arc<dyn Bus>, codec: Codec, topic: String, shutdown: &Shutdown) {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        while !shutdown.is_triggered() {
            let mut reader = match bus.tail(std::slice::from_ref(&topic)).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "live tail cannot read the stream; retrying");
                    backoff.pause(shutdown).await;
                    continue;
                }
            };
            loop {
                let batch = tokio::select! {
                    r = reader.poll(2000, Duration::from_millis(100)) => r,
                    () = shutdown.wait() => return,
                };
                match batch {
                    Ok(batch) => {
                        backoff.reset();
                        let mut records = Vec::with_capacity(batch.len());
                        for rec in &batch {
                            match codec.decode::<LogRecord>(&rec.payload).await {
                                Ok(r) => records.push(r),
                                Err(e) => tracing::debug!(error = %e, "live tail skipped an undecodable record"),
                            }
                        }
                        self.publish(&records);
                    }
                    Err(e) => {
                        // A fresh reader starts at the end again: a tail shows what happens now.
                        tracing::warn!(error = %e, "live tail read failed; reopening");
                        backoff.pause(shutdown).await;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexuslog_schemas::{Level, ParseStatus, SourceKind, TimestampSource};

    fn rec(project: &str, message: &str) -> LogRecord {
        LogRecord {
            id: message.into(),
            project_id: project.into(),
            timestamp: 1,
            timestamp_source: TimestampSource::Event,
            received_at: 1,
            level: Level::Info,
            message: message.into(),
            host: None,
            service: None,
            source: SourceKind::Http,
            fields: Default::default(),
            parse_status: ParseStatus::Ok,
            parse_errors: Vec::new(),
            trace_id: None,
            span_id: None,
        }
    }

    fn q(s: &str) -> Query {
        nexuslog_query::parse(s).expect("query")
    }

    #[tokio::test]
    async fn subscribers_get_their_projects_matching_records() {
        let hub = TailHub::new(TailLimits::default());
        let mut a = hub.subscribe("p1", q("error"), "u1").expect("subscribe");
        let mut all = hub.subscribe("p1", q(""), "u2").expect("subscribe");
        let mut other = hub.subscribe("p2", q("error"), "u3").expect("subscribe");
        hub.publish(&[rec("p1", "an error"), rec("p1", "fine"), rec("p2", "other error"), rec("p3", "error elsewhere")]);
        let got = |s: &mut Subscription| {
            let mut v = Vec::new();
            while let Ok(x) = s.rx.try_recv() {
                v.push(x["message"].as_str().unwrap_or_default().to_owned());
            }
            v
        };
        assert_eq!(got(&mut a), vec!["an error"]);
        assert_eq!(got(&mut all), vec!["an error", "fine"]);
        assert_eq!(got(&mut other), vec!["other error"]);
    }

    #[tokio::test]
    async fn a_full_buffer_counts_skips_and_limits_refuse() {
        let hub = TailHub::new(TailLimits { per_caller: 2, per_instance: 3, buffer: 2 });
        let slow = hub.subscribe("p", q(""), "u1").expect("subscribe");
        let records: Vec<LogRecord> = (0..5).map(|i| rec("p", &format!("m{i}"))).collect();
        hub.publish(&records);
        assert_eq!(slow.take_skipped(), 3, "two buffered, three skipped");
        assert_eq!(slow.take_skipped(), 0);
        let _second = hub.subscribe("p", q(""), "u1").expect("second");
        assert_eq!(hub.subscribe("p", q(""), "u1").err(), Some(Refused::PerCaller(2)));
        let _third = hub.subscribe("p", q(""), "u2").expect("third");
        assert_eq!(hub.subscribe("p", q(""), "u3").err(), Some(Refused::PerInstance(3)));
        drop(slow);
        assert_eq!(hub.subscribers(), 2, "dropping a subscription frees its place");
        hub.subscribe("p", q(""), "u1").expect("room again");
    }
}
