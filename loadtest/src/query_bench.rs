//! `query-bench`: search and aggregation latency of the log stores over many generated events.
//!
//! `--events` records of one project (10 M by default) are generated on the fly, batch by batch,
//! from a seeded RNG (the same data on every store and every run), spread over the 24 h before
//! a fixed end time, and indexed through [`LogStore::index`]; then each query runs
//! `--iterations` times after `--warmups` warm-ups over the whole 24 h, and p50/p99 are
//! reported per store:
//!
//! - a rare term (one event in ~100 000), a phrase (~1 %), a numeric range + term filter,
//!   searched with limit 100;
//! - a `count`, a `date_histogram` split by level (auto interval), `terms` on `service`.
//!
//! On OpenSearch each query is also sent straight to OpenSearch — the exact body the store
//! builds ([`OpenSearchLogStore::search_request`] / [`OpenSearchLogStore::aggregate_request`]),
//! timed over the full HTTP round trip including parsing the answer — alternating with the
//! store's own call, so NexusLog's overhead is a ratio to that ceiling. OpenSearch's shard
//! request cache is turned off on the benchmark's indices (unless `--request-cache`), or every
//! repeat of a `size: 0` aggregation would be answered from the cache.
//!
//! Answers are checked against counts kept while generating (count, rare term, phrase, range +
//! term, top service, histogram total): a store that is fast because it found nothing fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nexuslog_logstore::{
    auto_interval, AggregateQuery, Aggregation, AggregationResult, LogStore, OpenSearchConfig, OpenSearchLogStore, SearchQuery,
    TantivyLogStore, TermKey, EXACT_TOTAL_LIMIT,
};
use nexuslog_query::{FieldRef, Query};
use nexuslog_schemas::{FieldValue, Level, LogRecord, ParseStatus, SourceKind, TimestampSource};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::report::round2;

/// End of the generated day: 2024-03-12T12:00:00Z, so the 24 h span two daily partitions, as
/// a "last 24 hours" query usually does.
const END_MICROS: i64 = 1_710_244_800_000_000;
const DAY_MICROS: i64 = 86_400_000_000;
/// The word of the rare-term query: in about one event in [`RARE_ONE_IN`].
const RARE_WORD: &str = "xyzzyquokka";
const RARE_ONE_IN: u64 = 100_000;
/// The phrase of the phrase query, in about [`PHRASE_SHARE`] of the events.
const PHRASE: &str = "connection reset by peer";
const PHRASE_SHARE: f64 = 0.01;
const VOCABULARY: usize = 5_000;
const SERVICES: usize = 20;
const HOSTS: usize = 50;
const USERS: u64 = 10_000;
/// The range + term query, and what it selects (checked against the generated counts).
const RANGE_TERM_QUERY: &str = "latency_ms:>500 service:svc-3";
const RANGE_TERM_SERVICE: usize = 3;
const RANGE_TERM_MIN_LATENCY: f64 = 500.0;
/// Hits per search.
const SEARCH_LIMIT: usize = 100;
/// Longest wait for a store's background merges to settle after loading.
const SETTLE_MAX: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreChoice {
    Tantivy,
    Opensearch,
    Both,
}

#[derive(Debug, clap::Args)]
pub struct QueryBenchArgs {
    /// Events to generate and load (per store).
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Which stores to measure.
    #[arg(long, value_enum, default_value = "both")]
    store: StoreChoice,
    /// Timed runs of each query.
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Untimed runs of each query first.
    #[arg(long, default_value_t = 3)]
    warmups: usize,
    /// Records per `index` call.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The project the events belong to.
    #[arg(long, default_value = "bench", value_parser = project_name)]
    project: String,
    /// Tantivy's data directory (default: a new temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Leave the loaded data (the project's Tantivy directory, its OpenSearch indices) in place
    /// for a later `--skip-load`; by default both are deleted at the end.
    #[arg(long)]
    keep: bool,
    /// Query data loaded by an earlier run with `--keep` (same --events, --seed, --project,
    /// --data-dir, --index-prefix); the data is still generated, unindexed, for the checks.
    #[arg(long)]
    skip_load: bool,
    /// OpenSearch base URL.
    #[arg(long, env = "NEXUSLOG_TEST_OPENSEARCH_URL", default_value = "http://127.0.0.1:19200")]
    opensearch_url: String,
    /// Prefix of the benchmark's OpenSearch indices and template.
    #[arg(long, default_value = "nxbench-")]
    index_prefix: String,
    /// Keep OpenSearch's shard request cache on (repeated aggregations then come from it).
    #[arg(long)]
    request_cache: bool,
    /// Print the summary as JSON (last line of stdout); hides the progress bar.
    #[arg(long)]
    json: bool,
}

fn project_name(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        Ok(s.to_owned())
    } else {
        Err("lowercase letters, digits, '-' and '_' only".into())
    }
}

// ---- the generated data ----

/// Counts kept while generating, to check the stores' answers.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
struct Expected {
    events: u64,
    rare: u64,
    phrase: u64,
    range_term: u64,
    per_service: BTreeMap<String, u64>,
    per_level: BTreeMap<String, u64>,
}

impl Expected {
    /// The most frequent service and its count.
    fn top_service(&self) -> Option<(&str, u64)> {
        self.per_service.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0))).map(|(k, v)| (k.as_str(), *v))
    }
}

/// Cumulative weights of `n` ranks with weight 1 / (rank + 1)^s: a Zipf-like choice.
fn zipf_table(n: usize, s: f64) -> Vec<f64> {
    let mut acc = 0.0;
    (0..n)
        .map(|r| {
            acc += 1.0 / ((r + 1) as f64).powf(s);
            acc
        })
        .collect()
}

fn pick(table: &[f64], rng: &mut StdRng) -> usize {
    let total = table.last().copied().unwrap_or(1.0);
    let u = rng.random::<f64>() * total;
    table.partition_point(|c| *c <= u).min(table.len() - 1)
}

/// Deterministic, generated in batches; never holds more than one batch.
struct Generator {
    events: u64,
    seed: u64,
    project: String,
    words: Vec<String>,
    word_table: Vec<f64>,
    service_table: Vec<f64>,
    services: Vec<String>,
    hosts: Vec<String>,
    from: i64,
    span: i64,
}

impl Generator {
    fn new(events: u64, seed: u64, project: &str) -> Self {
        // Pronounceable pseudo-words (consonant + vowel syllables), 4 or 6 letters: none is a word
        // of the phrase or the rare word, so the checked counts are exact.
        const C: &[u8] = b"bcdfghjklmnprstvw";
        const V: &[u8] = b"aeiou";
        let syllable = |k: usize| -> [u8; 2] { [C[k % C.len()], V[k / C.len() % V.len()]] };
        let per = C.len() * V.len();
        let words = (0..VOCABULARY)
            .map(|k| {
                let mut w = Vec::with_capacity(6);
                w.extend(syllable(k % per));
                w.extend(syllable(k / per % per));
                if k % 3 == 0 {
                    w.extend(syllable(k * 7 % per));
                }
                String::from_utf8(w).unwrap_or_default()
            })
            .collect();
        Self {
            events,
            seed,
            project: project.to_owned(),
            words,
            word_table: zipf_table(VOCABULARY, 1.0),
            service_table: zipf_table(SERVICES, 0.8),
            services: (0..SERVICES).map(|i| format!("svc-{i}")).collect(),
            hosts: (0..HOSTS).map(|i| format!("web-{i:02}")).collect(),
            from: END_MICROS - DAY_MICROS,
            span: DAY_MICROS,
        }
    }

    fn batches(&self, batch: usize) -> u64 {
        self.events.div_ceil(batch.max(1) as u64)
    }

    /// Batch `b` (events `b * batch ..`), in time order; its own RNG stream, so any batch can be
    /// made alone and the data does not depend on the batch size's threading.
    fn batch(&self, b: u64, batch: usize, expected: &mut Expected) -> Vec<LogRecord> {
        let batch = batch.max(1) as u64;
        let mut rng = StdRng::seed_from_u64(self.seed ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let lo = b * batch;
        let hi = (lo + batch).min(self.events);
        let slot = (self.span as i128 / self.events.max(1) as i128).max(1) as i64;
        let mut out = Vec::with_capacity((hi - lo) as usize);
        for i in lo..hi {
            let ts = self.from + (i as i128 * self.span as i128 / self.events as i128) as i64 + rng.random_range(0..slot);
            let level = match rng.random::<f64>() {
                u if u < 0.80 => Level::Info,
                u if u < 0.88 => Level::Debug,
                u if u < 0.96 => Level::Warn,
                _ => Level::Error,
            };
            let service = pick(&self.service_table, &mut rng);
            let host = rng.random_range(0..HOSTS);
            let n_words = rng.random_range(6..=12usize);
            let phrase = rng.random::<f64>() < PHRASE_SHARE;
            let rare = rng.random_range(0..RARE_ONE_IN) == 0;
            let mut message = String::with_capacity(96);
            let vocab_words = if phrase { n_words - 4 } else { n_words };
            let phrase_at = rng.random_range(0..=vocab_words);
            let rare_at = rng.random_range(0..vocab_words);
            for w in 0..=vocab_words {
                if phrase && w == phrase_at {
                    if !message.is_empty() {
                        message.push(' ');
                    }
                    message.push_str(PHRASE);
                }
                if w == vocab_words {
                    break;
                }
                if !message.is_empty() {
                    message.push(' ');
                }
                if rare && w == rare_at {
                    message.push_str(RARE_WORD);
                } else {
                    message.push_str(&self.words[pick(&self.word_table, &mut rng)]);
                }
            }
            let status = match rng.random::<f64>() {
                u if u < 0.85 => 200,
                u if u < 0.93 => 404,
                u if u < 0.97 => 500,
                _ => 503,
            };
            let latency: f64 = match rng.random::<f64>() {
                u if u < 0.90 => rng.random_range(1.0..200.0),
                u if u < 0.98 => rng.random_range(200.0..1000.0),
                _ => rng.random_range(1000.0..5000.0),
            };
            // Services with an even number write whole milliseconds, the others tenths: one
            // field, two types in the project, as sources mixing loggers do.
            let latency_value = if service.is_multiple_of(2) {
                FieldValue::Long(latency as i64)
            } else {
                FieldValue::Double((latency * 10.0).round() / 10.0)
            };
            let latency_read = match latency_value {
                FieldValue::Long(x) => x as f64,
                FieldValue::Double(x) => x,
                _ => 0.0,
            };
            let user = rng.random_range(0..USERS);
            let id = uuid::Uuid::from_u128(rng.random::<u128>()).to_string();

            expected.events += 1;
            expected.rare += u64::from(rare);
            expected.phrase += u64::from(phrase);
            expected.range_term += u64::from(service == RANGE_TERM_SERVICE && latency_read > RANGE_TERM_MIN_LATENCY);
            *expected.per_service.entry(self.services[service].clone()).or_default() += 1;
            *expected.per_level.entry(level.symbol().to_owned()).or_default() += 1;

            out.push(LogRecord {
                id,
                project_id: self.project.clone(),
                timestamp: ts,
                timestamp_source: TimestampSource::Event,
                received_at: ts + rng.random_range(1_000..500_000),
                level,
                message,
                host: Some(self.hosts[host].clone()),
                service: Some(self.services[service].clone()),
                source: SourceKind::Http,
                fields: BTreeMap::from([
                    ("status".into(), FieldValue::Long(status)),
                    ("latency_ms".into(), latency_value),
                    ("user".into(), FieldValue::String(format!("user-{user}"))),
                ]),
                parse_status: ParseStatus::Ok,
                parse_errors: Vec::new(),
                trace_id: None,
                span_id: None,
            });
        }
        out
    }
}

// ---- loading ----

#[derive(Debug, Clone, Default, serde::Serialize)]
struct LoadStats {
    events: u64,
    /// Start of the first `index` call to the end of `refresh`: what a reader waits for.
    wall_seconds: f64,
    events_per_sec: f64,
    /// Time inside `index` and `refresh` calls (the store's share of the wall time).
    in_store_seconds: f64,
    in_store_events_per_sec: f64,
    /// The generator's own time (on another thread, overlapping the store's).
    generator_seconds: f64,
    retried_records: u64,
    /// After loading, until the store's background merges stopped.
    settle_seconds: f64,
}

fn progress(len: u64, json: bool) -> ProgressBar {
    use std::io::IsTerminal;
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {per_sec} eta {eta} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

/// Batches made on a thread of their own, two ahead of the consumer.
struct Batches {
    rx: tokio::sync::mpsc::Receiver<Vec<LogRecord>>,
    gen: std::thread::JoinHandle<(Expected, Duration)>,
}

impl Batches {
    fn start(g: std::sync::Arc<Generator>, batch: usize) -> Self {
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<LogRecord>>(2);
        let gen = std::thread::spawn(move || {
            let mut expected = Expected::default();
            let mut busy = Duration::ZERO;
            for b in 0..g.batches(batch) {
                let t = Instant::now();
                let records = g.batch(b, batch, &mut expected);
                busy += t.elapsed();
                if tx.blocking_send(records).is_err() {
                    break;
                }
            }
            (expected, busy)
        });
        Self { rx, gen }
    }

    async fn next(&mut self) -> Option<Vec<LogRecord>> {
        self.rx.recv().await
    }

    /// The counts of everything generated and the generator's busy time.
    fn finish(self) -> anyhow::Result<(Expected, Duration)> {
        drop(self.rx);
        self.gen.join().map_err(|_| anyhow::anyhow!("the generator panicked"))
    }
}

/// Only the counts (data loaded by an earlier run).
async fn expected_only(g: std::sync::Arc<Generator>, batch: usize) -> anyhow::Result<Expected> {
    let mut batches = Batches::start(g, batch);
    while batches.next().await.is_some() {}
    Ok(batches.finish()?.0)
}

/// Indexes `records`, retrying what the store calls retryable (whole-call errors included).
async fn index_all(store: &dyn LogStore, records: Vec<LogRecord>) -> anyhow::Result<u64> {
    let mut pending = records;
    let mut retried = 0u64;
    for attempt in 0..8u32 {
        let outcome = match store.index(&pending).await {
            Ok(o) => o,
            Err(_) if attempt < 7 => {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
                retried += pending.len() as u64;
                continue;
            }
            Err(e) => return Err(e).context("indexing a batch"),
        };
        if outcome.failures.is_empty() {
            return Ok(retried);
        }
        if let Some(f) = outcome.failures.iter().find(|f| !f.retryable) {
            bail!("the store refused record {}: {} {}", f.id, f.status, f.reason);
        }
        let again: std::collections::HashSet<&str> = outcome.failures.iter().map(|f| f.id.as_str()).collect();
        pending.retain(|r| again.contains(r.id.as_str()));
        retried += pending.len() as u64;
        tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
    }
    bail!("{} records still failing after 8 attempts", pending.len())
}

async fn load(
    store: &dyn LogStore,
    g: std::sync::Arc<Generator>,
    a: &QueryBenchArgs,
    name: &str,
    pb: &ProgressBar,
) -> anyhow::Result<(Expected, LoadStats)> {
    pb.reset();
    pb.set_length(a.events);
    pb.set_position(0);
    pb.set_message(format!("loading {name}"));
    let mut in_store = Duration::ZERO;
    let mut retried = 0u64;
    let mut done = 0u64;
    let step = (a.events / 10).max(1);
    let started = Instant::now();
    let mut batches = Batches::start(g, a.batch);
    while let Some(records) = batches.next().await {
        let n = records.len() as u64;
        let t = Instant::now();
        retried += index_all(store, records).await?;
        in_store += t.elapsed();
        let before = done;
        done += n;
        pb.inc(n);
        if pb.is_hidden() && done / step != before / step {
            let secs = started.elapsed().as_secs_f64();
            eprintln!("  {name}: {done} / {} events loaded, {secs:.0} s, {:.0} ev/s", a.events, done as f64 / secs.max(1e-9));
        }
    }
    let (expected, gen_time) = batches.finish()?;
    let t = Instant::now();
    store.refresh().await.context("refresh after loading")?;
    in_store += t.elapsed();
    let wall = started.elapsed();
    pb.set_message(String::new());
    Ok((
        expected.clone(),
        LoadStats {
            events: expected.events,
            wall_seconds: round2(wall.as_secs_f64()),
            events_per_sec: round2(expected.events as f64 / wall.as_secs_f64().max(1e-9)),
            in_store_seconds: round2(in_store.as_secs_f64()),
            in_store_events_per_sec: round2(expected.events as f64 / in_store.as_secs_f64().max(1e-9)),
            generator_seconds: round2(gen_time.as_secs_f64()),
            retried_records: retried,
            settle_seconds: 0.0,
        },
    ))
}

/// CPU seconds this process used so far (user + system), from /proc.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Waits until Tantivy's merge threads (in this process) are idle: under 5 % of a core over
/// 5 s, checked until [`SETTLE_MAX`].
async fn settle_tantivy() -> Duration {
    let started = Instant::now();
    let Some(mut last) = own_cpu_seconds() else {
        return Duration::ZERO;
    };
    while started.elapsed() < SETTLE_MAX {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let now = own_cpu_seconds().unwrap_or(last);
        let busy = (now - last) / 5.0;
        last = now;
        if busy < 0.05 {
            break;
        }
    }
    started.elapsed()
}

// ---- the queries ----

#[derive(Debug, Clone)]
enum Work {
    Search(SearchQuery),
    Aggregate(AggregateQuery),
}

struct Case {
    key: &'static str,
    title: String,
    /// p99 aim in ms.
    aim_ms: Option<f64>,
    work: Work,
}

fn cases(project: &str) -> anyhow::Result<Vec<Case>> {
    let (from, to) = (END_MICROS - DAY_MICROS, END_MICROS);
    let search = |q: &str| -> anyhow::Result<Work> {
        Ok(Work::Search(SearchQuery {
            project_id: project.to_owned(),
            query: nexuslog_query::parse(q).map_err(|e| anyhow::anyhow!("query {q:?}: {e}"))?,
            from_micros: from,
            to_micros: to,
            limit: SEARCH_LIMIT,
            ..SearchQuery::default()
        }))
    };
    let agg = |name: &str, a: Aggregation| {
        Work::Aggregate(AggregateQuery {
            project_id: project.to_owned(),
            query: Query::All,
            from_micros: from,
            to_micros: to,
            aggs: vec![(name.to_owned(), a)],
        })
    };
    Ok(vec![
        Case { key: "rare_term", title: format!("rare term `{RARE_WORD}`"), aim_ms: Some(100.0), work: search(RARE_WORD)? },
        Case { key: "phrase", title: format!("phrase `\"{PHRASE}\"`"), aim_ms: None, work: search(&format!("\"{PHRASE}\""))? },
        Case { key: "range_term", title: format!("range + term `{RANGE_TERM_QUERY}`"), aim_ms: None, work: search(RANGE_TERM_QUERY)? },
        Case { key: "count", title: "count (all, 24 h)".into(), aim_ms: Some(200.0), work: agg("count", Aggregation::Count) },
        Case {
            key: "date_histogram",
            title: format!("date_histogram by level ({} s buckets)", auto_interval(from, to) / 1_000_000),
            aim_ms: Some(300.0),
            work: agg(
                "histogram",
                Aggregation::DateHistogram {
                    interval_micros: auto_interval(from, to),
                    split_by: Some(FieldRef::resolve("level")),
                    size: 10,
                },
            ),
        },
        Case {
            key: "terms_service",
            title: "terms on service (size 10)".into(),
            aim_ms: None,
            work: agg("terms", Aggregation::Terms { field: FieldRef::resolve("service"), size: 10 }),
        },
    ])
}

/// What an answer says, for the checks.
#[derive(Debug, Clone, Default)]
struct Answer {
    /// Search total or count.
    matches: u64,
    total_is_lower_bound: bool,
    hits: usize,
    /// Terms: top value and count.
    top: Option<(String, u64)>,
    /// Histogram: sum of its buckets, number of buckets, number of series.
    histogram: Option<(u64, usize, usize)>,
}

async fn run_work(store: &dyn LogStore, w: &Work) -> anyhow::Result<Answer> {
    match w {
        Work::Search(q) => {
            let r = store.search(q).await.context("search")?;
            Ok(Answer { matches: r.total, total_is_lower_bound: r.total_is_lower_bound, hits: r.hits.len(), ..Answer::default() })
        }
        Work::Aggregate(q) => {
            let r = store.aggregate(q).await.context("aggregate")?;
            let mut a = Answer::default();
            for (_, result) in r {
                match result {
                    AggregationResult::Count { value } => a.matches = value,
                    AggregationResult::DateHistogram { buckets, series, .. } => {
                        let sum = buckets.iter().map(|b| b.count).sum();
                        a.matches = sum;
                        a.histogram = Some((sum, buckets.len(), series.len()));
                    }
                    AggregationResult::Terms { buckets, other } => {
                        a.matches = buckets.iter().map(|b| b.count).sum::<u64>() + other;
                        a.top = buckets.first().map(|b| {
                            let key = match &b.key {
                                TermKey::Text(s) => s.clone(),
                                TermKey::Number(x) => x.to_string(),
                                TermKey::Bool(x) => x.to_string(),
                            };
                            (key, b.count)
                        });
                    }
                    _ => {}
                }
            }
            Ok(a)
        }
    }
}

/// Differences between an answer and the generated counts.
fn check(key: &str, a: &Answer, e: &Expected) -> Vec<String> {
    let capped = |n: u64| n.min(EXACT_TOTAL_LIMIT);
    let hits_for = |n: u64| (n as usize).min(SEARCH_LIMIT);
    let mut out = Vec::new();
    let mut want = |what: &str, got: u64, expected: u64| {
        if got != expected {
            out.push(format!("{key}: {what} {got}, expected {expected}"));
        }
    };
    match key {
        "rare_term" => {
            want("total", a.matches, capped(e.rare));
            want("hits", a.hits as u64, hits_for(e.rare) as u64);
        }
        "phrase" => {
            want("total", a.matches, capped(e.phrase));
            want("hits", a.hits as u64, hits_for(e.phrase) as u64);
        }
        "range_term" => {
            want("total", a.matches, capped(e.range_term));
            want("hits", a.hits as u64, hits_for(e.range_term) as u64);
        }
        "count" => want("count", a.matches, e.events),
        "date_histogram" => {
            let (sum, _, series) = a.histogram.unwrap_or_default();
            want("bucket total", sum, e.events);
            want("series", series as u64, e.per_level.len() as u64);
        }
        "terms_service" => {
            want("total", a.matches, e.events);
            match (&a.top, e.top_service()) {
                (Some((k, n)), Some((ek, en))) if k == ek && *n == en => {}
                (got, want) => out.push(format!("terms_service: top {got:?}, expected {want:?}")),
            }
        }
        _ => {}
    }
    out
}

fn histogram() -> Histogram<u64> {
    // Microseconds, 1 µs to 1 h, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    (h.value_at_quantile(q) as f64 / 100.0).round() / 10.0
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record(d.as_micros().max(1) as u64);
}

/// The same `_search` request straight to OpenSearch.
struct Direct {
    http: reqwest::Client,
    url: String,
}

impl Direct {
    async fn send(&self, body: &Value) -> anyhow::Result<Value> {
        let resp = self.http.post(&self.url).json(body).send().await.context("direct search")?;
        let status = resp.status();
        let bytes = resp.bytes().await.context("direct search body")?;
        let v: Value = serde_json::from_slice(&bytes).context("direct search answer")?;
        if !status.is_success() {
            bail!("direct search: {status}: {}", String::from_utf8_lossy(&bytes).chars().take(300).collect::<String>());
        }
        Ok(v)
    }
}

/// Total hits of a direct answer, for a check that both sides found the same.
fn direct_total(v: &Value) -> u64 {
    v.pointer("/hits/total/value").and_then(Value::as_u64).unwrap_or(0)
}

#[derive(Debug, Clone, serde::Serialize)]
struct Timing {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    samples: u64,
}

fn timing(h: &Histogram<u64>) -> Timing {
    Timing { p50_ms: ms(h, 0.5), p99_ms: ms(h, 0.99), max_ms: ms(h, 1.0), samples: h.len() }
}

/// Runs every case on `store` (and straight to OpenSearch with `direct`); returns per-case JSON
/// rows and the failed checks.
async fn measure(
    store: &dyn LogStore,
    direct: Option<(&OpenSearchLogStore, &Direct)>,
    cases: &[Case],
    expected: &Expected,
    a: &QueryBenchArgs,
    name: &str,
    pb: &ProgressBar,
) -> anyhow::Result<(Vec<Value>, Vec<String>)> {
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    let per_case = (a.warmups + a.iterations) as u64 * if direct.is_some() { 2 } else { 1 };
    pb.reset();
    pb.set_length(per_case * cases.len() as u64);
    pb.set_position(0);
    for c in cases {
        pb.set_message(format!("{name}: {}", c.key));
        let body = direct.map(|(os, _)| match &c.work {
            Work::Search(q) => os.search_request(q),
            Work::Aggregate(q) => os.aggregate_request(q),
        });
        let (mut own, mut raw) = (histogram(), histogram());
        let mut answer = Answer::default();
        let mut direct_hits = None;
        for i in 0..a.warmups + a.iterations {
            let timed = i >= a.warmups;
            // Alternate which side goes first, so neither always finds the other's warm caches.
            let direct_first = i % 2 == 1;
            for side in 0..2 {
                let is_direct = (side == 0) == direct_first;
                if is_direct {
                    let (Some((_, d)), Some(body)) = (direct, body.as_ref()) else { continue };
                    let t = Instant::now();
                    let v = d.send(body).await?;
                    let took = t.elapsed();
                    if timed {
                        record(&mut raw, took);
                    } else {
                        direct_hits = Some(direct_total(&v));
                    }
                } else {
                    let t = Instant::now();
                    let got = run_work(store, &c.work).await.with_context(|| format!("{name}: {}", c.key))?;
                    let took = t.elapsed();
                    if timed {
                        record(&mut own, took);
                    } else {
                        answer = got;
                    }
                }
                pb.inc(1);
            }
        }
        if a.warmups == 0 {
            answer = run_work(store, &c.work).await?;
        }
        let mut bad = check(c.key, &answer, expected);
        if let Some(n) = direct_hits {
            // Search totals are capped the same way on both sides; aggregations track them exactly.
            let own_total = match &c.work {
                Work::Search(_) => answer.matches,
                Work::Aggregate(_) => expected.events,
            };
            if n != own_total {
                bad.push(format!("{}: OpenSearch direct total {n}, NexusLog {own_total}", c.key));
            }
        }
        for b in &bad {
            crate::report::note(pb, &format!("  CHECK FAILED ({name}) {b}"));
        }
        failures.extend(bad.into_iter().map(|b| format!("{name}: {b}")));
        let t = timing(&own);
        let mut row = json!({
            "query": c.key,
            "title": c.title,
            "matches": answer.matches,
            "matches_is_lower_bound": answer.total_is_lower_bound,
            "p50_ms": t.p50_ms,
            "p99_ms": t.p99_ms,
            "max_ms": t.max_ms,
            "samples": t.samples,
        });
        if let Some((sum, buckets, series)) = answer.histogram {
            row["histogram"] = json!({ "total": sum, "buckets": buckets, "series": series });
        }
        if let Some(aim) = c.aim_ms {
            row["aim_p99_ms"] = json!(aim);
            row["aim_met"] = json!(t.p99_ms <= aim);
        }
        if direct.is_some() {
            let d = timing(&raw);
            let ratio = |x: f64, y: f64| if y > 0.0 { (x / y * 1000.0).round() / 1000.0 } else { 0.0 };
            row["direct"] = json!(d);
            row["ratio_p50"] = json!(ratio(t.p50_ms, d.p50_ms));
            row["ratio_p99"] = json!(ratio(t.p99_ms, d.p99_ms));
            row["ratio_aim"] = json!(1.15);
            row["ratio_aim_met"] = json!(ratio(t.p50_ms, d.p50_ms) <= 1.15);
        }
        rows.push(row);
    }
    pb.set_message(String::new());
    Ok((rows, failures))
}

// ---- sizes ----

fn dir_size(p: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(p) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

/// Segments per day index of a project in a Tantivy data directory (from each `meta.json`).
fn tantivy_segments(project_dir: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let Ok(days) = std::fs::read_dir(project_dir) else { return out };
    for d in days.filter_map(Result::ok) {
        let meta = d.path().join("meta.json");
        if let Ok(text) = std::fs::read_to_string(&meta) {
            let n = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v.get("segments").and_then(Value::as_array).map(Vec::len))
                .unwrap_or(0);
            out.insert(d.file_name().to_string_lossy().into_owned(), n);
        }
    }
    out
}

// ---- OpenSearch housekeeping, over plain HTTP ----

async fn os_json(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let mut req = http.request(method.clone(), url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("{method} {url}"))?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() && status.as_u16() != 404 {
        bail!("{method} {url}: {status}: {}", text.chars().take(300).collect::<String>());
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Waits until no merge runs on the indices (three quiet checks in a row).
async fn settle_opensearch(http: &reqwest::Client, base: &str, pattern: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut quiet = 0;
    while started.elapsed() < SETTLE_MAX && quiet < 3 {
        let v = os_json(http, reqwest::Method::GET, &format!("{base}/{pattern}/_stats/merge"), None).await?;
        let current = v.pointer("/_all/primaries/merges/current").and_then(Value::as_u64).unwrap_or(0);
        quiet = if current == 0 { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(started.elapsed())
}

async fn os_sizes(http: &reqwest::Client, base: &str, pattern: &str) -> anyhow::Result<Value> {
    let cat = os_json(
        http,
        reqwest::Method::GET,
        &format!("{base}/_cat/indices/{pattern}?format=json&bytes=b&h=index,docs.count,docs.deleted,pri.store.size"),
        None,
    )
    .await?;
    let segs = os_json(http, reqwest::Method::GET, &format!("{base}/{pattern}/_stats/segments"), None).await?;
    let mut indices: Vec<Value> = cat.as_array().cloned().unwrap_or_default();
    indices.sort_by(|a, b| a["index"].as_str().cmp(&b["index"].as_str()));
    let bytes: u64 = indices.iter().filter_map(|i| i["pri.store.size"].as_str()?.parse::<u64>().ok()).sum();
    let docs: u64 = indices.iter().filter_map(|i| i["docs.count"].as_str()?.parse::<u64>().ok()).sum();
    Ok(json!({
        "bytes": bytes,
        "docs": docs,
        "segments": segs.pointer("/_all/primaries/segments/count").and_then(Value::as_u64),
        "indices": indices,
    }))
}

// ---- the command ----

fn say(pb: &ProgressBar, json: bool, line: &str) {
    if json || pb.is_hidden() {
        eprintln!("{line}");
    } else {
        pb.println(line);
    }
}

fn gb(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

pub async fn query_bench(a: QueryBenchArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(a.events > 0, "--events must be positive");
    anyhow::ensure!(a.iterations > 0, "--iterations must be positive");
    let run_tantivy = matches!(a.store, StoreChoice::Tantivy | StoreChoice::Both);
    let run_os = matches!(a.store, StoreChoice::Opensearch | StoreChoice::Both);
    if a.skip_load && run_tantivy && a.data_dir.is_none() {
        bail!("--skip-load with Tantivy needs the --data-dir of the earlier run");
    }
    let pb = progress(a.events, a.json);
    let g = std::sync::Arc::new(Generator::new(a.events, a.seed, &a.project));
    let cases = cases(&a.project)?;
    let (from, to) = (END_MICROS - DAY_MICROS, END_MICROS);
    say(
        &pb,
        a.json,
        &format!(
            "query-bench: {} events of project `{}` over [{}, {}), seed {}; {} timed runs per query after {} warm-ups",
            a.events,
            a.project,
            nexuslog_logstore::rfc3339_micros(from),
            nexuslog_logstore::rfc3339_micros(to),
            a.seed,
            a.iterations,
            a.warmups
        ),
    );

    let mut expected: Option<Expected> = None;
    let mut failures: Vec<String> = Vec::new();
    let mut stores_out: Vec<Value> = Vec::new();
    let mut note_expected = |e: &Expected, failures: &mut Vec<String>| match &expected {
        Some(prev) if prev != e => failures.push("the generator made different data for the second store".into()),
        Some(_) => {}
        None => expected = Some(e.clone()),
    };

    // -- Tantivy --
    let tmp = if run_tantivy && a.data_dir.is_none() {
        Some(tempfile::Builder::new().prefix("nxbench-tantivy-").tempdir().context("creating a temporary directory")?)
    } else {
        None
    };
    if run_tantivy {
        let root = a.data_dir.clone().or_else(|| tmp.as_ref().map(|t| t.path().to_owned())).context("data dir")?;
        let project_dir = root.join(&a.project);
        let mut load_stats = None;
        let e = if a.skip_load {
            anyhow::ensure!(project_dir.exists(), "--skip-load: {} holds nothing to query", project_dir.display());
            say(&pb, a.json, &format!("tantivy: reusing {}; generating the data (unindexed) for the checks", project_dir.display()));
            expected_only(g.clone(), a.batch).await?
        } else {
            if project_dir.exists() {
                say(&pb, a.json, &format!("tantivy: removing the earlier data in {}", project_dir.display()));
                std::fs::remove_dir_all(&project_dir).with_context(|| format!("removing {}", project_dir.display()))?;
            }
            say(&pb, a.json, &format!("tantivy: loading into {}", root.display()));
            let store = TantivyLogStore::open(&root).context("opening the Tantivy store")?;
            let (e, mut stats) = load(&store, g.clone(), &a, "tantivy", &pb).await?;
            say(&pb, a.json, &format!("tantivy: loaded in {:.1} s; waiting for merges to settle", stats.wall_seconds));
            stats.settle_seconds = round2(settle_tantivy().await.as_secs_f64());
            load_stats = Some(stats);
            // Queries go to a store opened afresh, as after a restart: its readers see the
            // merged segments (the loading store's readers reload only on its next write).
            drop(store);
            e
        };
        let store = TantivyLogStore::open(&root).context("opening the Tantivy store")?;
        note_expected(&e, &mut failures);
        let segments = tantivy_segments(&project_dir);
        let bytes = dir_size(&project_dir);
        say(&pb, a.json, &format!("tantivy: {} on disk, segments per day {segments:?}; querying", gb(bytes)));
        let (rows, bad) = measure(&store, None, &cases, &e, &a, "tantivy", &pb).await?;
        failures.extend(bad);
        stores_out.push(json!({
            "store": "tantivy",
            "data_dir": root.display().to_string(),
            "load": load_stats,
            "size_bytes": bytes,
            "segments": segments,
            "queries": rows,
        }));
        drop(store);
        if !a.keep && a.data_dir.is_some() {
            let _ = std::fs::remove_dir_all(&project_dir);
        }
    }
    let tantivy_kept = match tmp {
        Some(t) if a.keep => Some(t.keep()),
        Some(t) => {
            drop(t);
            None
        }
        None => None,
    };

    // -- OpenSearch --
    if run_os {
        let base = a.opensearch_url.trim_end_matches('/').to_owned();
        let store = OpenSearchLogStore::new(&OpenSearchConfig {
            url: base.clone(),
            username: None,
            password: None,
            index_prefix: a.index_prefix.clone(),
            ca_pem: None,
            identity_pem: None,
            verify: true,
        })
        .context("OpenSearch store")?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;
        let pattern = store.index_pattern(&a.project);
        store.health().await.context("OpenSearch health")?;
        store.prepare().await.context("OpenSearch prepare")?;
        let mut load_stats = None;
        let e = if a.skip_load {
            say(&pb, a.json, &format!("opensearch: reusing {pattern}; generating the data (unindexed) for the checks"));
            expected_only(g.clone(), a.batch).await?
        } else {
            os_json(
                &http,
                reqwest::Method::DELETE,
                &format!("{base}/{pattern}?allow_no_indices=true&ignore_unavailable=true&expand_wildcards=all"),
                None,
            )
            .await?;
            say(&pb, a.json, &format!("opensearch: loading into {base}/{pattern}"));
            let (e, mut stats) = load(&store, g.clone(), &a, "opensearch", &pb).await?;
            say(&pb, a.json, &format!("opensearch: loaded in {:.1} s; waiting for merges to settle", stats.wall_seconds));
            stats.settle_seconds = round2(settle_opensearch(&http, &base, &pattern).await?.as_secs_f64());
            load_stats = Some(stats);
            e
        };
        note_expected(&e, &mut failures);
        os_json(
            &http,
            reqwest::Method::PUT,
            &format!("{base}/{pattern}/_settings"),
            Some(json!({ "index": { "requests.cache.enable": a.request_cache } })),
        )
        .await?;
        let sizes = os_sizes(&http, &base, &pattern).await?;
        say(
            &pb,
            a.json,
            &format!(
                "opensearch: {} docs, {} (primaries), {} segments; querying",
                sizes["docs"],
                gb(sizes["bytes"].as_u64().unwrap_or(0)),
                sizes["segments"]
            ),
        );
        let direct = Direct { http: http.clone(), url: format!("{base}/{pattern}/_search?allow_no_indices=true&ignore_unavailable=true") };
        let (rows, bad) = measure(&store, Some((&store, &direct)), &cases, &e, &a, "opensearch", &pb).await?;
        failures.extend(bad);
        stores_out.push(json!({
            "store": "opensearch",
            "url": base,
            "index_pattern": pattern,
            "request_cache": a.request_cache,
            "load": load_stats,
            "size_bytes": sizes["bytes"],
            "segments": sizes["segments"],
            "indices": sizes["indices"],
            "queries": rows,
        }));
        if !a.keep {
            os_json(
                &http,
                reqwest::Method::DELETE,
                &format!("{base}/{pattern}?allow_no_indices=true&ignore_unavailable=true&expand_wildcards=all"),
                None,
            )
            .await?;
            os_json(&http, reqwest::Method::DELETE, &format!("{base}/_index_template/{}template", a.index_prefix), None).await?;
        }
    }
    pb.finish_and_clear();

    let expected = expected.unwrap_or_default();
    let ok = failures.is_empty();
    let out = json!({
        "events": a.events,
        "seed": a.seed,
        "project": a.project,
        "from": nexuslog_logstore::rfc3339_micros(from),
        "to": nexuslog_logstore::rfc3339_micros(to),
        "iterations": a.iterations,
        "warmups": a.warmups,
        "batch": a.batch,
        "expected": expected,
        "stores": stores_out,
        "tantivy_data_kept": tantivy_kept.as_ref().map(|p| p.display().to_string()).or_else(|| (a.keep && run_tantivy).then(|| a.data_dir.as_ref().map(|p| p.display().to_string())).flatten()),
        "check_failures": failures,
        "ok": ok,
    });
    for l in summary_lines(&out) {
        if a.json {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    if a.json {
        println!("{out}");
    }
    Ok(ok)
}

fn summary_lines(out: &Value) -> Vec<String> {
    let e = &out["expected"];
    let mut lines = vec![
        format!(
            "query-bench: {} events over [{}, {}), {} runs per query after {} warm-ups",
            out["events"],
            out["from"].as_str().unwrap_or(""),
            out["to"].as_str().unwrap_or(""),
            out["iterations"],
            out["warmups"]
        ),
        format!("  generated: rare term {}, phrase {}, range + term {} events", e["rare"], e["phrase"], e["range_term"]),
    ];
    let f1 = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.1}"));
    for s in out["stores"].as_array().into_iter().flatten() {
        let name = s["store"].as_str().unwrap_or("?");
        let load = match s["load"].as_object() {
            Some(l) => format!(
                "loaded at {:.0} ev/s ({:.0} s; {:.0} ev/s inside the store's calls; generator {:.0} s; merges settled {:.0} s later)",
                l["events_per_sec"].as_f64().unwrap_or(0.0),
                l["wall_seconds"].as_f64().unwrap_or(0.0),
                l["in_store_events_per_sec"].as_f64().unwrap_or(0.0),
                l["generator_seconds"].as_f64().unwrap_or(0.0),
                l["settle_seconds"].as_f64().unwrap_or(0.0),
            ),
            None => "reused earlier load".into(),
        };
        lines.push(format!("{name}: {load}; {} on disk, segments {}", gb(s["size_bytes"].as_u64().unwrap_or(0)), s["segments"]));
        let direct = name == "opensearch";
        if direct {
            lines.push(format!(
                "  {:<48} {:>9} {:>9} {:>9} {:>10} {:>10} {:>7} {:>7}  aim",
                "query", "matches", "p50 ms", "p99 ms", "direct p50", "direct p99", "x p50", "x p99"
            ));
        } else {
            lines.push(format!("  {:<48} {:>9} {:>9} {:>9}  aim", "query", "matches", "p50 ms", "p99 ms"));
        }
        for q in s["queries"].as_array().into_iter().flatten() {
            let matches = format!("{}{}", q["matches"], if q["matches_is_lower_bound"].as_bool() == Some(true) { "+" } else { "" });
            let mut aims = Vec::new();
            if let Some(aim) = q["aim_p99_ms"].as_f64() {
                let met = q["aim_met"].as_bool() == Some(true);
                aims.push(format!("p99 ≤ {aim:.0} ms {}", if met { "met" } else { "MISSED" }));
            }
            if let Some(met) = q["ratio_aim_met"].as_bool() {
                aims.push(format!("≤ 1.15× direct {}", if met { "met" } else { "MISSED" }));
            }
            let title = q["title"].as_str().unwrap_or("");
            if direct {
                lines.push(format!(
                    "  {:<48} {:>9} {:>9} {:>9} {:>10} {:>10} {:>7} {:>7}  {}",
                    title,
                    matches,
                    f1(&q["p50_ms"]),
                    f1(&q["p99_ms"]),
                    f1(&q["direct"]["p50_ms"]),
                    f1(&q["direct"]["p99_ms"]),
                    q["ratio_p50"].as_f64().map_or("-".into(), |x| format!("{x:.2}")),
                    q["ratio_p99"].as_f64().map_or("-".into(), |x| format!("{x:.2}")),
                    aims.join(", ")
                ));
            } else {
                lines.push(format!("  {:<48} {:>9} {:>9} {:>9}  {}", title, matches, f1(&q["p50_ms"]), f1(&q["p99_ms"]), aims.join(", ")));
            }
        }
    }
    let failures = out["check_failures"].as_array().cloned().unwrap_or_default();
    if failures.is_empty() {
        lines.push("checks: every answer matches the generated data".into());
    } else {
        lines.push(format!("checks: {} FAILED", failures.len()));
        for f in failures {
            lines.push(format!("  {}", f.as_str().unwrap_or("")));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_shaped() {
        let g = Generator::new(20_000, 7, "bench");
        let (mut e1, mut e2) = (Expected::default(), Expected::default());
        let a: Vec<LogRecord> = (0..g.batches(5_000)).flat_map(|b| g.batch(b, 5_000, &mut e1)).collect();
        let b: Vec<LogRecord> = (0..g.batches(5_000)).flat_map(|b| g.batch(b, 5_000, &mut e2)).collect();
        assert_eq!(a, b);
        assert_eq!(e1, e2);
        assert_eq!(e1.events, 20_000);
        assert!(a.iter().all(|r| (END_MICROS - DAY_MICROS..END_MICROS).contains(&r.timestamp)));
        assert!(a.windows(2).all(|w| w[0].timestamp <= w[1].timestamp), "time order");
        let phrase = a.iter().filter(|r| r.message.contains(PHRASE)).count() as u64;
        assert_eq!(phrase, e1.phrase);
        assert!((100..300).contains(&phrase), "{phrase}");
        let words: Vec<usize> = a.iter().map(|r| r.message.split(' ').count()).collect();
        assert!(words.iter().all(|n| (6..=12).contains(n)), "{:?}", words.iter().minmax_like());
        assert_eq!(e1.per_service.len(), SERVICES);
        assert!(g.words.iter().all(|w| !PHRASE.split(' ').any(|p| p == w) && w != RARE_WORD));
        let distinct: std::collections::HashSet<&String> = g.words.iter().collect();
        assert_eq!(distinct.len(), VOCABULARY);
    }

    trait MinMax {
        fn minmax_like(self) -> (usize, usize);
    }
    impl<'a, I: Iterator<Item = &'a usize>> MinMax for I {
        fn minmax_like(self) -> (usize, usize) {
            self.fold((usize::MAX, 0), |(lo, hi), x| (lo.min(*x), hi.max(*x)))
        }
    }

    #[test]
    fn checks_compare_with_the_generated_counts() {
        let e = Expected { events: 10, rare: 2, phrase: 20_000, range_term: 3, ..Expected::default() };
        let a = Answer { matches: 2, hits: 2, ..Answer::default() };
        assert!(check("rare_term", &a, &e).is_empty());
        let a = Answer { matches: EXACT_TOTAL_LIMIT, hits: SEARCH_LIMIT, total_is_lower_bound: true, ..Answer::default() };
        assert!(check("phrase", &a, &e).is_empty());
        assert_eq!(check("count", &Answer { matches: 9, ..Answer::default() }, &e).len(), 1);
    }
}
