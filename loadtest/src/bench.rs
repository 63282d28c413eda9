//! `bench`: how close NexusLog's gateway and sink come to the raw ceilings of their backends,
//! measured in one run on the same events, plus end-to-end freshness.
//!
//! Phases (roles are separate processes, like `chaos`):
//! 1. Kafka ceiling: the events, Avro-encoded as `RawEvent`s (what the gateway produces), sent
//!    straight to a fresh topic with rdkafka (acks=all, idempotent, lz4, linger 5 ms: the
//!    gateway's producer settings), `batch` records per awaited send, `concurrency` at once.
//! 2. Gateway: the same events over HTTP with the same batch and concurrency, processor and
//!    sink stopped, so the gateway has the machine to itself as the raw producer had.
//! 3. OpenSearch ceiling: the same events, normalized and serialized as the log store's own
//!    documents (`OpenSearchLogStore::document`) before the clock starts, bulk-indexed into a
//!    fresh index made with the store's settings and mappings, as the sink sends them: batches
//!    of `SINK_BATCH`, each as `SINK_CONCURRENCY` requests at once, one batch after another.
//!    Then the same records through the log store's own writes (`OpenSearchLogStore::index`,
//!    `SINK_BATCH` at a time) with no bus: what the store's client adds, apart from the sink.
//! 4. Processor, then sink, alone: the processor drains the raw topic (time until its committed
//!    offsets reach the end), is stopped, then the sink indexes the pre-loaded logs topic (time
//!    from its start until search counts every event: includes consumer join and refresh).
//! 5. Freshness: every role running, a steady load at half the slowest stage's rate, acknowledgment
//!    → searchable per event.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use nexuslog_schemas::wire::EmbeddedCodec;
use nexuslog_schemas::{RawEvent, SourceKind};
use rand::SeedableRng;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::{json, Value};

use crate::launch::Mode;
use crate::load::{self, LoadConfig, LoadCounters};
use crate::report::{self, round2};

/// The sink's bulk size (`IndexerConfig::batch_max`).
const SINK_BATCH: u64 = 5_000;
/// Requests a sink batch goes as, at once (`logstore.bulk_concurrency`).
const SINK_CONCURRENCY: u64 = 2;
/// The processors' consumer group (`ProcessorConfig::group`).
const PROCESSOR_GROUP: &str = "nexuslog-processors";
/// Longest any drain phase may take.
const PHASE_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Events per phase.
    #[arg(long, default_value_t = 50_000)]
    events: u64,
    /// Events per request (and per awaited Kafka send in the ceiling).
    #[arg(long, default_value_t = 500)]
    batch: u64,
    /// Approximate bytes per JSON event.
    #[arg(long, default_value_t = 256)]
    event_size: usize,
    /// Requests (and raw Kafka batches) in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Print the result as JSON (last line of stdout).
    #[arg(long)]
    json: bool,
}

fn rate(n: u64, d: Duration) -> f64 {
    round2(n as f64 / d.as_secs_f64().max(1e-9))
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

/// Phase 1: the events as RawEvents straight into Kafka.
async fn kafka_ceiling(
    brokers: &str,
    topic: &str,
    run: &str,
    a: &BenchArgs,
) -> anyhow::Result<Duration> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "30000")
        .create()
        .context("creating the Kafka producer")?;
    let codec = EmbeddedCodec;
    let mut payloads = Vec::with_capacity(a.events as usize);
    for seq in 0..a.events {
        let id = uuid::Uuid::new_v4().to_string();
        let raw = RawEvent {
            ingest_id: id,
            project_id: "bench".into(),
            source: SourceKind::Http,
            received_at: load::wall_ms() * 1000,
            remote_addr: Some("127.0.0.1:40000".into()),
            payload: load::event_line(run, seq, a.event_size).into_bytes(),
            metadata: BTreeMap::new(),
        };
        payloads.push((
            raw.ingest_id.clone(),
            codec.encode(&raw).context("encoding a RawEvent")?,
        ));
    }
    let payloads = std::sync::Arc::new(payloads);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let batches = a.events.div_ceil(a.batch.max(1));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..a.concurrency.max(1) {
        let (producer, payloads, next, topic, batch) = (
            producer.clone(),
            payloads.clone(),
            next.clone(),
            topic.to_owned(),
            a.batch.max(1),
        );
        tasks.spawn(async move {
            loop {
                let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if b >= batches {
                    return Ok::<(), anyhow::Error>(());
                }
                let lo = (b * batch) as usize;
                let hi = ((b + 1) * batch).min(payloads.len() as u64) as usize;
                // Like the gateway: enqueue the whole batch, then await every delivery report.
                let mut pending = Vec::with_capacity(hi - lo);
                for (key, payload) in &payloads[lo..hi] {
                    let rec = FutureRecord::to(&topic)
                        .key(key.as_bytes())
                        .payload(payload.as_slice());
                    pending.push(
                        producer
                            .send_result(rec)
                            .map_err(|(e, _)| anyhow::anyhow!("enqueue: {e}"))?,
                    );
                }
                for p in pending {
                    match p.await {
                        Ok(Ok(_)) => {}
                        Ok(Err((e, _))) => bail!("delivery: {e}"),
                        Err(_) => bail!("delivery report dropped"),
                    }
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(started.elapsed())
}

/// OpenSearch's CPU over a phase, from the pid file `infra/services` keeps: on a machine the
/// sink and Kafka share with it, a sink slower than the raw ceiling may be OpenSearch getting
/// fewer cores, not the sink waiting.
struct OpenSearchCpu {
    pid: Option<u32>,
    started: Instant,
    cpu: f64,
}

impl OpenSearchCpu {
    fn start() -> Self {
        let dir = std::env::var("NEXUSLOG_SERVICES_DIR").map_or_else(|_| std::env::temp_dir().join("nexuslog-services"), std::path::PathBuf::from);
        let pid = std::fs::read_to_string(dir.join("opensearch.pid")).ok().and_then(|p| p.trim().parse().ok());
        let cpu = pid.and_then(|p| crate::standalone_bench::cpu_seconds(p).ok()).unwrap_or(0.0);
        Self { pid, started: Instant::now(), cpu }
    }

    /// Cores used since `start` (`None` without a pid file).
    fn cores(&self) -> Option<f64> {
        let now = crate::standalone_bench::cpu_seconds(self.pid?).ok()?;
        Some((now - self.cpu) / self.started.elapsed().as_secs_f64().max(1e-9))
    }
}

fn cores(c: Option<f64>) -> String {
    c.map_or_else(|| "unknown".to_owned(), |c| format!("{c:.2}"))
}

/// The bench's events as the processor makes them into log records (pipeline defaults).
fn records(run: &str, a: &BenchArgs) -> anyhow::Result<Vec<nexuslog_schemas::LogRecord>> {
    let received_at = nexuslog_common::now_micros();
    (0..a.events)
        .map(|s| {
            let raw = nexuslog_schemas::RawEvent {
                // The load sends each request with an `Idempotency-Key`, so the gateway derives
                // the events' ids from it (UUIDv5: random, not ordered by time). OpenSearch looks
                // each `_id` up as it indexes, so the ceiling's ids are of the same kind.
                ingest_id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, format!("{run}\u{0}{s}").as_bytes()).to_string(),
                project_id: "bench".into(),
                source: nexuslog_schemas::SourceKind::Http,
                received_at,
                remote_addr: Some("127.0.0.1:40000".into()),
                payload: load::event_line(run, s, a.event_size).into_bytes(),
                // What the gateway adds to each event (`provenance`): the key's name.
                metadata: [("ingest.api_key".to_owned(), "bench".to_owned())].into(),
            };
            match nexuslog_pipeline::process(&raw, &nexuslog_pipeline::Pipeline::default(), None) {
                Ok(nexuslog_pipeline::Outcome::Record(r)) => Ok(r),
                other => bail!("the bench's event did not normalize: {other:?}"),
            }
        })
        .collect()
}

/// The log store on the test OpenSearch (plain HTTP, no credentials) under `prefix`.
fn plain_store(os_url: &str, prefix: &str) -> anyhow::Result<nexuslog_logstore::OpenSearchLogStore> {
    Ok(nexuslog_logstore::OpenSearchLogStore::new(&nexuslog_logstore::OpenSearchConfig {
        url: os_url.trim_end_matches('/').to_owned(),
        username: None,
        password: None,
        index_prefix: prefix.to_owned(),
        ca_pem: None,
        identity_pem: None,
        verify: true,
    })?)
}

/// Phase 3b: the same records through the log store's own writes (`OpenSearchLogStore::index`,
/// `SINK_BATCH` at a time, as the sink calls it) with no bus: beside the raw ceiling, what the
/// store's client and requests cost apart from the sink's reading, decoding and committing.
async fn store_alone(os_url: &str, prefix: &str, run: &str, a: &BenchArgs) -> anyhow::Result<Duration> {
    use nexuslog_logstore::LogStore as _;
    let store = plain_store(os_url, prefix)?
    .with_bulk_concurrency(usize::try_from(SINK_CONCURRENCY)?);
    // Its own index template: a prefix under the cluster's (`<run>-`) would overlap its template.
    store.prepare().await?;
    let records = records(run, a)?;
    let started = Instant::now();
    for batch in records.chunks(usize::try_from(SINK_BATCH)?) {
        let outcome = store.index(batch).await?;
        ensure!(outcome.failures.is_empty(), "the store refused documents: {:?}", outcome.failures.first());
    }
    store.refresh().await?;
    Ok(started.elapsed())
}

/// Phase 3: the events as documents straight into OpenSearch, `SINK_BATCH` per bulk request;
/// the time and OpenSearch's cores meanwhile.
async fn opensearch_ceiling(
    os_url: &str,
    index: &str,
    run: &str,
    a: &BenchArgs,
) -> anyhow::Result<(Duration, Option<f64>)> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let base = os_url.trim_end_matches('/');
    // The log store's own index definition and documents (what the sink sends for these
    // events), serialized before the clock starts: the ceiling is OpenSearch taking the sink's
    // writes, and the ratio what the sink itself adds.
    let store = plain_store(base, &format!("{index}-"))?;
    let resp = http.put(format!("{base}/{index}")).json(&store.index_definition()).send().await?;
    if !resp.status().is_success() {
        bail!(
            "creating index {index}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    let per_request = usize::try_from(SINK_BATCH.div_ceil(SINK_CONCURRENCY))?;
    let mut bodies = Vec::new();
    for part in records(run, a)?.chunks(per_request) {
        let mut body = String::new();
        for record in part {
            body.push_str(&json!({"index": {"_index": index, "_id": record.id}}).to_string());
            body.push('\n');
            body.push_str(&nexuslog_logstore::OpenSearchLogStore::document(record));
            body.push('\n');
        }
        bodies.push(body);
    }
    let started = Instant::now();
    let os_cpu = OpenSearchCpu::start();
    let send = |body: String| {
        let request = http.post(format!("{base}/_bulk")).header("content-type", "application/x-ndjson").body(body);
        async move {
            let v: Value = request.send().await?.json().await?;
            if v.get("errors").and_then(Value::as_bool).unwrap_or(true) {
                bail!("bulk reported errors: {}", v.to_string().chars().take(300).collect::<String>());
            }
            anyhow::Ok(())
        }
    };
    let mut bodies = bodies.into_iter().peekable();
    while bodies.peek().is_some() {
        let batch: Vec<_> = bodies.by_ref().take(SINK_CONCURRENCY as usize).map(send).collect();
        for answer in futures::future::join_all(batch).await {
            answer?;
        }
    }
    // Searchable, like the sink's measure: wait for the refresh.
    http.post(format!("{base}/{index}/_refresh")).send().await?;
    Ok((started.elapsed(), os_cpu.cores()))
}

/// True when the processors' committed offsets on `topic` reached the end of every partition.
fn processor_caught_up(brokers: &str, topic: &str) -> anyhow::Result<bool> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", PROCESSOR_GROUP)
        .create()?;
    let t = Duration::from_secs(10);
    let md = c.fetch_metadata(Some(topic), t)?;
    let mut list = TopicPartitionList::new();
    let mut ends = Vec::new();
    for tp in md.topics().iter().flat_map(|x| x.partitions()) {
        list.add_partition(topic, tp.id());
        ends.push((tp.id(), c.fetch_watermarks(topic, tp.id(), t)?.1));
    }
    let committed = c.committed_offsets(list, t)?;
    for (p, high) in ends {
        let at = committed.find_partition(topic, p).map(|e| e.offset());
        let done = match at {
            Some(Offset::Offset(o)) => o >= high,
            _ => high == 0,
        };
        if !done {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn wait_for(
    what: &str,
    mut check: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + PHASE_TIMEOUT;
    loop {
        if check().await.unwrap_or(false) {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("timed out after {PHASE_TIMEOUT:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn bench(a: BenchArgs) -> anyhow::Result<bool> {
    let run_id = crate::new_run_id();
    let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
    let pb = report::progress(0, true);
    let say = |l: &str| report::note(&pb, l);
    let (mut cluster, api_key, dir) =
        crate::deploy(Mode::Distributed, &run_id, &pb, &mut rng, None).await?;
    let services = crate::launch::ensure_services(&crate::launch::repo_root()?, &dir).await?;
    let brokers = services
        .get("NEXUSLOG_TEST_KAFKA_BROKERS")
        .cloned()
        .context("kafka brokers")?;
    let os_url = services
        .get("NEXUSLOG_TEST_OPENSEARCH_URL")
        .cloned()
        .context("opensearch url")?;
    let (ingest, search) = (cluster.url("gateway")?, cluster.url("api")?);

    say("phase 1/5: raw Kafka ceiling");
    let kafka_time = kafka_ceiling(&brokers, &format!("{run_id}.bench-raw"), &run_id, &a).await?;
    let kafka_rate = rate(a.events, kafka_time);

    say("phase 2/5: gateway HTTP ingest (processor and sink stopped)");
    cluster.stop("processor", Duration::from_secs(15)).await?;
    cluster.stop("sink", Duration::from_secs(15)).await?;
    let gw = gateway_load(&ingest, &api_key, &run_id, &a, 0, a.events).await?;
    if gw.1 != a.events {
        bail!(
            "gateway acknowledged {} of {} events; see {}",
            gw.1,
            a.events,
            dir.display()
        );
    }
    let gateway_rate = rate(a.events, gw.0);

    say("phase 3/5: raw OpenSearch bulk ceiling, then the log store alone");
    let (os_time, os_cores) = opensearch_ceiling(&os_url, &format!("{run_id}-bench-raw"), &run_id, &a).await?;
    let os_rate = rate(a.events, os_time);
    let store_rate = rate(a.events, store_alone(&os_url, &format!("bench-store-{run_id}-"), &run_id, &a).await?);

    say("phase 4/5: processor alone, then sink alone on the pre-loaded logs topic");
    let t0 = Instant::now();
    cluster.start("processor").await?;
    let raw_topic = format!("{run_id}.raw");
    let done = wait_for("the processor to drain the raw topic", async || {
        let (b, t) = (brokers.clone(), raw_topic.clone());
        tokio::task::spawn_blocking(move || processor_caught_up(&b, &t)).await?
    })
    .await?;
    let processor_rate = rate(a.events, done - t0);
    cluster.stop("processor", Duration::from_secs(15)).await?;
    let t1 = Instant::now();
    cluster.start("sink").await?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    // Also the steady rate: from the first count above zero to the last, which leaves out the
    // start-up and group join (the raw ceiling has neither) and keeps one refresh at each end.
    let mut first: Option<(Instant, u64)> = None;
    // OpenSearch's CPU over the same steady stretch.
    let mut os_cpu = None;
    let done = wait_for("the sink to make every event searchable", async || {
        let n = crate::verify::count(&http, &search, &api_key, &format!("run:{run_id}")).await?;
        if n > 0 && first.is_none() {
            first = Some((Instant::now(), n));
            os_cpu = Some(OpenSearchCpu::start());
        }
        Ok(n >= a.events)
    })
    .await?;
    let sink_rate = rate(a.events, done - t1);
    let os_cores_beside_sink = os_cpu.and_then(|c| c.cores());
    // The sink's own CPU for the phase: low while the rate is below the ceiling says it waits.
    let sink_cpu = cluster.pid("sink").and_then(|p| crate::standalone_bench::cpu_seconds(p).ok());
    let sink_steady_rate = first.filter(|(at, n)| *n < a.events && done > *at).map_or(sink_rate, |(at, n)| rate(a.events - n, done - at));

    say("phase 5/5: end-to-end freshness at half the slowest stage's rate, every role running");
    cluster.start("processor").await?;
    let fresh_run = format!("{run_id}f");
    // Half the slowest stage: a steady state the pipeline can hold, so freshness measures the
    // pipeline's latency rather than the drain of a backlog.
    let slowest = gateway_rate.min(processor_rate).min(sink_rate);
    let fresh_rate = ((slowest / 2.0) as u64).max(100);
    let fresh_events = (fresh_rate * 20).min(a.events);
    let cfg = LoadConfig {
        url: ingest.clone(),
        api_key: api_key.clone(),
        run_id: fresh_run,
        events: fresh_events,
        rate: fresh_rate,
        batch: a.batch.max(1),
        event_size: a.event_size,
        concurrency: a.concurrency.max(1),
        retry_deadline: Duration::from_secs(120),
        request_timeout: Duration::from_secs(60),
    };
    // The run is followed gently, for loss and duplicates (its scans load the cluster and read
    // late by their own duration); freshness is read by probes, as in `standalone-bench`.
    let verify = crate::session::VerifyConfig {
        search_url: search.clone(),
        timeout: Duration::from_secs(120),
        poll_every: Duration::from_secs(2),
    };
    let probes = crate::probe::ProbeConfig {
        ingest: ingest.clone(),
        api: search.clone(),
        api_key: api_key.clone(),
        run: format!("{run_id}p"),
        every: Duration::from_millis(100),
        poll: Duration::from_millis(25),
        timeout: Duration::from_secs(60),
    };
    let (fresh, probed) = crate::session::measure(cfg, &verify, &pb, |_, load_done| crate::probe::run(probes, load_done)).await?;
    let probed = probed?;
    cluster.shutdown().await;

    let out = json!({
        "run_id": run_id,
        "events": a.events,
        "batch": a.batch,
        "event_size": a.event_size,
        "concurrency": a.concurrency,
        "kafka_raw_events_per_sec": kafka_rate,
        "gateway_events_per_sec": gateway_rate,
        "gateway_vs_kafka_raw": ratio(gateway_rate, kafka_rate),
        "opensearch_raw_events_per_sec": os_rate,
        "sink_events_per_sec": sink_rate,
        "sink_vs_opensearch_raw": ratio(sink_rate, os_rate),
        "opensearch_store_alone_events_per_sec": store_rate,
        "opensearch_cores_raw": os_cores,
        "opensearch_cores_beside_sink": os_cores_beside_sink,
        "store_alone_vs_opensearch_raw": ratio(store_rate, os_rate),
        "sink_steady_events_per_sec": sink_steady_rate,
        "sink_cpu_secs_per_million_events": sink_cpu.map(|c| round2(c / a.events as f64 * 1e6)),
        "sink_steady_vs_opensearch_raw": ratio(sink_steady_rate, os_rate),
        "processor_events_per_sec": processor_rate,
        "freshness_rate": fresh_rate,
        "freshness": probed.latency,
        "freshness_probes_missing": probed.missing,
        "freshness_lost": fresh.lost,
        "freshness_duplicated": fresh.duplicated,
        "run_dir": dir.display().to_string(),
    });
    let fresh_text = format!(
        "p50 {} ms, p99 {} ms ({} probes beside {} ev/s, {} missing)",
        probed.latency["p50_ms"], probed.latency["p99_ms"], probed.latency["samples"], fresh_rate, probed.missing
    );
    let lines = [
        format!("bench {run_id}: {} events of ~{} B, batch {}, concurrency {}", a.events, a.event_size, a.batch, a.concurrency),
        format!("  (a) Kafka raw ceiling (rdkafka, acks=all, idempotent): {kafka_rate:.0} ev/s"),
        format!("      gateway HTTP ingest:                               {gateway_rate:.0} ev/s  => {:.1}% of raw", 100.0 * ratio(gateway_rate, kafka_rate)),
        format!("  (b) OpenSearch raw bulk ceiling ({SINK_BATCH}/batch as {SINK_CONCURRENCY} requests at once): {os_rate:.0} ev/s"),
        format!("      log store alone (its own writes, no bus):          {store_rate:.0} ev/s  => {:.1}% of raw", 100.0 * ratio(store_rate, os_rate)),
        format!("      OpenSearch's CPU: raw ceiling {}, beside the sink {} cores (what the sink and Kafka take, OpenSearch lacks)", cores(os_cores), cores(os_cores_beside_sink)),
        format!("      sink alone on a pre-loaded logs topic:             {sink_rate:.0} ev/s  => {:.1}% of raw", 100.0 * ratio(sink_rate, os_rate)),
        "      (sink time = its start → search counts every event: includes start-up, group join, 1 s refresh)".into(),
        format!("      sink, first → last event searchable (steady rate):  {sink_steady_rate:.0} ev/s  => {:.1}% of raw", 100.0 * ratio(sink_steady_rate, os_rate)),
        format!("      sink process CPU (start-up included):              {} CPU-s per million events", sink_cpu.map_or("?".into(), |c| format!("{:.1}", c / a.events as f64 * 1e6))),
        format!("      processor alone (raw → logs, transactional):       {processor_rate:.0} ev/s"),
        format!("  (c) end-to-end freshness (ack → searchable):          {fresh_text}"),
    ];
    for l in &lines {
        if a.json {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    if a.json {
        println!("{out}");
    }
    Ok(fresh.ok && probed.missing == 0)
}

/// The gateway phase: returns (send duration, acked events).
async fn gateway_load(
    url: &str,
    key: &str,
    run: &str,
    a: &BenchArgs,
    rate: u64,
    events: u64,
) -> anyhow::Result<(Duration, u64)> {
    let cfg = LoadConfig {
        url: url.to_owned(),
        api_key: key.to_owned(),
        run_id: run.to_owned(),
        events,
        rate,
        batch: a.batch.max(1),
        event_size: a.event_size,
        concurrency: a.concurrency.max(1),
        retry_deadline: Duration::from_secs(120),
        request_timeout: Duration::from_secs(60),
    };
    let ledger = std::sync::Arc::new(std::sync::Mutex::new(crate::ledger::Ledger::new(
        events, cfg.batch,
    )));
    let stats = load::run(
        cfg,
        ledger.clone(),
        std::sync::Arc::new(LoadCounters::default()),
        Instant::now(),
    )
    .await?;
    let acked = ledger
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .progress()
        .0;
    Ok((stats.duration, acked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_rates() {
        assert_eq!(ratio(50.0, 100.0), 0.5);
        assert_eq!(ratio(1.0, 0.0), 0.0);
        assert_eq!(rate(1000, Duration::from_millis(500)), 2000.0);
    }
}
