//! The processing loop: poll a batch, turn it into outputs, commit outputs and offsets in one
//! transaction.

use std::sync::Arc;
use std::time::Duration;

use nexuslog_bus::trace::BatchSpans;
use nexuslog_bus::{positions, Bus, BusError, Consumer, InRecord, OutRecord, Topics};
use nexuslog_common::backoff::Backoff;
use nexuslog_common::shutdown::Shutdown;
use nexuslog_schemas::wire::Codec;
use nexuslog_schemas::{DeadLetter, LogRecord, RawEvent, SchemaError, Stage};

use nexuslog_alerting::{Collector, PartialBatch};
use nexuslog_pipeline::{Outcome, Pipeline, TimeWindow};

use crate::alerting::{AlertRuleRegistry, AlertRules};
use crate::bound;
use crate::pipelines::{PipelineRegistry, Snapshot};

/// Longest an idle processor stays silent towards the alert evaluator: its heartbeat lets
/// windows close (and absence rules fire) when no events arrive.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// Settings of a processor.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// Consumer group shared by all processor replicas.
    pub group: String,
    /// Most records per transaction: larger batches amortize the commit, smaller ones bound
    /// the replay after a crash.
    pub batch_max: usize,
    /// How long a poll waits for the first record.
    pub poll_wait: Duration,
    pub limits: OutputLimits,
}

impl Default for ProcessorConfig {
    fn default() -> Self {
        Self { group: "nexuslog-processors".into(), batch_max: 5_000, poll_wait: Duration::from_millis(100), limits: OutputLimits::default() }
    }
}

/// What every log record is held to on its way out.
#[derive(Debug, Clone, Copy)]
pub struct OutputLimits {
    /// Largest output record (`bus.max_record_bytes`): larger log records are shrunk to fit
    /// (see `bound`), so none can abort a transaction again and again.
    pub max_record_bytes: usize,
    /// Event times outside it are indexed at receipt (`logstore.max_event_age_days`, …).
    pub time_window: TimeWindow,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self { max_record_bytes: 4 << 20, time_window: TimeWindow::new(14, 86_400) }
    }
}

/// Raw topic → logs topic (and dead-letter topic).
pub struct Processor {
    bus: Arc<dyn Bus>,
    codec: Codec,
    topics: Topics,
    config: ProcessorConfig,
    pipelines: Arc<PipelineRegistry>,
    alert_rules: Arc<AlertRuleRegistry>,
}

/// The pipeline of a project with none: normalization only.
fn no_rules() -> &'static Pipeline {
    static EMPTY: std::sync::OnceLock<Pipeline> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Pipeline::default)
}

/// Longest dead-letter reason kept: reasons quote input, and a dead letter must fit the bus
/// next to its original (a raw record, itself under the limit).
const MAX_REASON_BYTES: usize = 4096;

/// Holds a log record to `limits` (time window, then size) and encodes it; `Ok(None)` when
/// even the shortened record does not fit.
async fn finish(codec: &Codec, topic: &str, limits: &OutputLimits, record: &mut LogRecord) -> Result<Option<Vec<u8>>, SchemaError> {
    if limits.time_window.apply(record) {
        metrics::counter!("nexuslog_processor_timestamps_out_of_window_total").increment(1);
    }
    encode_bounded(codec, topic, record, limits.max_record_bytes).await
}

/// Encodes a log record no larger than `max` bytes, shrinking it if needed; `Ok(None)` when
/// even the shrunk record does not fit.
async fn encode_bounded(codec: &Codec, topic: &str, record: &mut LogRecord, max: usize) -> Result<Option<Vec<u8>>, SchemaError> {
    let mut payload = codec.encode(topic, &*record).await?;
    let mut attempts = 0;
    while payload.len() > max {
        attempts += 1;
        if attempts > bound::FIT_ATTEMPTS || !bound::shrink(record, payload.len() - max) {
            return Ok(None);
        }
        payload = codec.encode(topic, &*record).await?;
    }
    if attempts > 0 {
        metrics::counter!("nexuslog_processor_records_truncated_total").increment(1);
    }
    Ok(Some(payload))
}

/// Turns one consumed raw record into its output: a log record, a dead letter saying why, or
/// nothing when the project's pipeline drops it. A log record is also shown to `alerts`, when
/// given: the alert rules in force and the batch's collector of partial aggregates. A log
/// record is at most `limits.max_record_bytes` (shrunk to fit, see `bound`), and indexed at
/// receipt time when its own time is outside `limits.time_window`.
///
/// # Errors
/// When the schema registry is unreachable (to decode the event, encode its record, or encode
/// a dead letter): the batch is then retried, not skipped or dead-lettered.
pub async fn process_record(
    codec: &Codec,
    topics: &Topics,
    limits: &OutputLimits,
    pipelines: &Snapshot,
    rec: &InRecord,
    alerts: Option<(&AlertRules, &mut Collector)>,
) -> Result<Option<OutRecord>, SchemaError> {
    let failure = match codec.decode::<RawEvent>(&rec.payload).await {
        Ok(raw) => {
            let pipeline = pipelines.get(&raw.project_id).map_or(no_rules(), |p| p.as_ref());
            match nexuslog_pipeline::process(&raw, pipeline, None) {
                Ok(Outcome::Record(mut record)) => match finish(codec, &topics.logs, limits, &mut record).await {
                    Ok(Some(payload)) => {
                        // A later version of an event (a multiline event continued) was
                        // counted as its first version.
                        if let Some((rules, collector)) = alerts.filter(|_| !record.fields.contains_key(nexuslog_schemas::REVISION_FIELD)) {
                            collector.observe(&record, rules.of_project(&record.project_id));
                        }
                        return Ok(Some(OutRecord { topic: topics.logs.clone(), key: Some(record.id.into_bytes()), payload, ..Default::default() }));
                    }
                    Ok(None) => (
                        Some(raw.ingest_id),
                        Some(raw.project_id),
                        "record_too_large",
                        format!("the processed record does not fit bus.max_record_bytes ({}) even shortened", limits.max_record_bytes),
                        raw.payload,
                    ),
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => (Some(raw.ingest_id), Some(raw.project_id), "encode_failed", e.to_string(), raw.payload),
                },
                Ok(Outcome::Dropped { .. }) => return Ok(None),
                Ok(Outcome::DeadLetter { reason, .. }) => (Some(raw.ingest_id), Some(raw.project_id), "pipeline_failed", reason, raw.payload),
                Err(e) => (Some(raw.ingest_id), Some(raw.project_id), e.kind(), e.to_string(), raw.payload),
            }
        }
        // The registry being away says nothing about the record: the batch waits for it.
        Err(e) if e.is_transient() => return Err(e),
        Err(e) => (None, None, "undecodable", format!("cannot decode raw event: {e}"), rec.payload.clone()),
    };
    let (id, project_id, kind, mut reason, original) = failure;
    if reason.len() > MAX_REASON_BYTES {
        let mut at = MAX_REASON_BYTES;
        while !reason.is_char_boundary(at) {
            at -= 1;
        }
        reason.truncate(at);
        reason.push('…');
    }
    metrics::counter!("nexuslog_processor_dead_letters_total", "kind" => kind).increment(1);
    let dl = DeadLetter {
        id: id.unwrap_or_else(|| format!("{}-{}-{}", rec.topic, rec.partition, rec.offset)),
        project_id,
        stage: Stage::Processor,
        reason,
        error_kind: kind.to_owned(),
        original,
        topic: Some(rec.topic.clone()),
        partition: Some(rec.partition),
        offset: Some(rec.offset),
        failed_at: nexuslog_common::now_micros(),
    };
    let payload = codec.encode(&topics.deadletter, &dl).await?;
    Ok(Some(OutRecord { topic: topics.deadletter.clone(), payload, ..Default::default() }))
}

/// Records per parallel chunk: large enough that spawning is noise, small enough that a
/// batch spreads over every core.
const CHUNK: usize = 512;

/// Processes a batch on all cores, keeping the input order in the output; every record of the
/// batch sees the same pipelines and alert rules. When any alert rule is in force, the batch's
/// partial aggregates are one more output, to the partials topic, in the same transaction.
async fn process_batch(
    codec: &Codec,
    topics: &Topics,
    limits: OutputLimits,
    pipelines: &Snapshot,
    rules: &Arc<AlertRules>,
    batch: &[InRecord],
    traced: Option<&Arc<BatchSpans>>,
) -> Result<Vec<OutRecord>, SchemaError> {
    let alerting = !rules.is_empty();
    let mut handles = Vec::new();
    for chunk in batch.chunks(CHUNK) {
        let (codec, topics, pipelines, rules, chunk) = (codec.clone(), topics.clone(), pipelines.clone(), rules.clone(), chunk.to_vec());
        let traced = traced.cloned();
        handles.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(chunk.len());
            let mut collector = Collector::default();
            for rec in &chunk {
                let alerts = alerting.then_some((rules.as_ref(), &mut collector));
                if let Some(mut output) = process_record(&codec, &topics, &limits, &pipelines, rec, alerts).await? {
                    // The record's trace goes on to the sink through its output.
                    if let Some(headers) = traced.as_deref().and_then(|t| t.headers_for(rec)) {
                        output.headers = headers.clone();
                    }
                    out.push(output);
                }
            }
            Ok::<_, SchemaError>((out, collector))
        }));
    }
    let mut outputs = Vec::with_capacity(batch.len() + 1);
    let mut collector = Collector::default();
    for h in handles {
        match h.await {
            Ok(chunk) => {
                let (out, c) = chunk?;
                outputs.extend(out);
                collector.merge(c);
            }
            Err(e) => return Err(SchemaError::Wire(format!("processing task failed: {e}"))),
        }
    }
    if alerting {
        outputs.push(partials_record(topics, &collector.finish()));
    }
    Ok(outputs)
}

fn partials_record(topics: &Topics, batch: &PartialBatch) -> OutRecord {
    // Serializing plain structs of numbers and strings cannot fail.
    let payload = serde_json::to_vec(batch).unwrap_or_default();
    OutRecord { topic: topics.alert_partials.clone(), payload, ..Default::default() }
}

impl Processor {
    pub fn new(
        bus: Arc<dyn Bus>,
        codec: Codec,
        topics: Topics,
        config: ProcessorConfig,
        pipelines: Arc<PipelineRegistry>,
        alert_rules: Arc<AlertRuleRegistry>,
    ) -> Self {
        Self { bus, codec, topics, config, pipelines, alert_rules }
    }

    /// Runs until `shutdown`; every batch handled before it is committed.
    ///
    /// # Errors
    /// Never for transient bus trouble (it retries with backoff); only if the consumer cannot
    /// be created at all.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), BusError> {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let mut consumer: Option<Box<dyn Consumer>> = None;
        let mut last_heartbeat = std::time::Instant::now();
        while !shutdown.is_triggered() {
            let c = match consumer.as_mut() {
                Some(c) => c,
                None => {
                    match self.bus.consumer(&self.config.group, std::slice::from_ref(&self.topics.raw)).await {
                        Ok(c) => consumer.insert(c),
                        Err(e @ BusError::Config(_)) => return Err(e),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot create consumer; retrying");
                            backoff.pause(&shutdown).await;
                            continue;
                        }
                    }
                }
            };
            let batch = tokio::select! {
                r = c.poll(self.config.batch_max, self.config.poll_wait) => r,
                () = shutdown.wait() => break,
            };
            let rules = self.alert_rules.snapshot();
            let batch = match batch {
                Ok(b) if b.is_empty() => {
                    if !rules.is_empty() && last_heartbeat.elapsed() >= HEARTBEAT_EVERY {
                        last_heartbeat = std::time::Instant::now();
                        let beat = partials_record(&self.topics, &PartialBatch::heartbeat(nexuslog_common::now_micros()));
                        if let Err(e) = c.commit_with_outputs(vec![beat], &[]).await {
                            tracing::warn!(error = %e, "alert heartbeat failed");
                            consumer = None;
                        }
                    }
                    continue;
                }
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "poll failed; retrying");
                    backoff.pause(&shutdown).await;
                    continue;
                }
            };
            let started = std::time::Instant::now();
            // Traced requests in the batch (tracing on): a span each, ended after the commit.
            let traced = BatchSpans::start(&batch, |records| {
                tracing::info_span!(
                    "processor.process",
                    otel.kind = "consumer",
                    messaging.destination.name = %self.topics.raw,
                    messaging.batch.message_count = i64::try_from(records).unwrap_or(i64::MAX),
                    messaging.consumer.group.name = %self.config.group,
                )
            })
            .map(Arc::new);
            let outputs = match process_batch(&self.codec, &self.topics, self.config.limits, &self.pipelines.snapshot(), &rules, &batch, traced.as_ref()).await {
                Ok(o) => {
                    nexuslog_common::health::waiting_on("schema_registry", false);
                    o
                }
                Err(e) => {
                    // Nothing is committed: the batch is read again once the registry answers.
                    tracing::warn!(error = %e, records = batch.len(), "cannot process the batch; retrying it");
                    metrics::counter!("nexuslog_processor_batch_retries_total").increment(1);
                    nexuslog_common::health::waiting_on("schema_registry", e.is_transient());
                    consumer = None;
                    backoff.pause(&shutdown).await;
                    continue;
                }
            };
            // Not interrupted by shutdown: a started transaction is finished, then we stop.
            match c.commit_with_outputs(outputs, &positions(&batch)).await {
                Ok(()) => {
                    backoff.reset();
                    metrics::counter!("nexuslog_processor_records_total").increment(batch.len() as u64);
                    metrics::histogram!("nexuslog_processor_batch_duration_seconds").record(started.elapsed().as_secs_f64());
                }
                Err(e) => {
                    // Nothing of the batch is visible; a fresh consumer resumes from the
                    // committed offsets and processes it again.
                    tracing::warn!(error = %e, records = batch.len(), "transaction failed; replaying from committed offsets");
                    consumer = None;
                    backoff.pause(&shutdown).await;
                }
            }
        }
        tracing::info!("processor stopped");
        Ok(())
    }
}
