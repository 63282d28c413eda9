//! `standalone-bench`: the embedded default (`nexuslog standalone`, what a new user tries first)
//! under the workload a user comparing single-node log stores would run, beside the ceiling of
//! its own index: the same documents written straight into Tantivy, no HTTP, no bus.
//!
//! 1. Ceiling: the corpus normalized in-process, then indexed with `TantivyLogStore::index` in
//!    batches of the sink's size (no HTTP, no bus, no processor).
//! 2. Burst: the corpus (realistic JSON, ~330 bytes) over `connections` connections of
//!    `batch`-event NDJSON requests: acknowledged events/s, then seconds from the last
//!    acknowledgment until search counts every event. The server's CPU seconds and peak RSS
//!    over the whole run come from `/proc`.
//! 3. Disk: bytes per event of the data directory (bus and index apart) once every consumer
//!    caught up.
//! 4. Queries: a term query and a filter with the newest 100, p50/p99 over `queries` requests.
//! 5. Freshness: a steady load at half the maximum rate, acknowledgment → searchable. The
//!    maximum is what the node sustains end to end (the burst's searchable rate) by default;
//!    half the acknowledged rate, which the index may not keep up with, builds a backlog
//!    whose age is then what freshness measures (`--freshness-basis acknowledged`). Read by
//!    probes (`probe.rs`): a single event every 100 ms beside the load, searched for by a term
//!    of its own every 25 ms; the load itself is counted for losses and duplicates.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use hdrhistogram::Histogram;
use nexuslog_logstore::LogStore;
use nexuslog_schemas::{LogRecord, RawEvent, SourceKind};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::instance::{self, Target};
use crate::load::LoadConfig;
use crate::probe::{self, ProbeConfig};
use crate::report::{self, round2};

/// The sink's largest batch in standalone mode (`logstore.tantivy.commit_max_records`): the
/// ceiling commits batches of the same size, each as new records.
const CEILING_BATCH: usize = 50_000;
const SERVICES: [&str; 8] = ["checkout", "payments", "search", "auth", "catalog", "cart", "shipping", "gateway"];
const PATHS: [&str; 6] = ["/api/v1/orders", "/api/v1/cart", "/api/v1/users", "/api/v1/search", "/health", "/api/v1/payments"];

#[derive(Debug, clap::Args)]
pub struct StandaloneBenchArgs {
    /// Events in the burst (and in the ceiling).
    #[arg(long, default_value_t = 500_000)]
    events: u64,
    /// Events per request.
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Connections sending at once.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Requests per query kind for the latency figures.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Seconds of the freshness phase (0 skips it).
    #[arg(long, default_value_t = 20)]
    freshness_secs: u64,
    /// The `nexuslog` binary to measure (default: a release build of this checkout).
    #[arg(long)]
    nexuslog_bin: Option<std::path::PathBuf>,
    /// Print the result as JSON (last line of stdout).
    #[arg(long)]
    json: bool,
    /// Configuration for the measured instance, as `NEXUSLOG_KEY=value` (repeatable): the
    /// instance otherwise runs on defaults, whatever the caller's environment holds.
    #[arg(long = "env", value_name = "NEXUSLOG_KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Measure only the Tantivy-only ceiling (phase 1): quick to rerun when tuning the store.
    #[arg(long)]
    ceiling_only: bool,
    /// Which maximum rate the freshness phase runs at half of.
    #[arg(long, value_enum, default_value_t = FreshnessBasis::Searchable)]
    freshness_basis: FreshnessBasis,
}

/// The maximum rate the freshness phase halves.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FreshnessBasis {
    /// The burst's end-to-end rate: events searchable per second.
    Searchable,
    /// The burst's acknowledged rate.
    Acknowledged,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if k.starts_with("NEXUSLOG_") => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected NEXUSLOG_KEY=VALUE, got `{s}`")),
    }
}

/// One realistic event of about 330 bytes: an access-log-like JSON object with the usual
/// fields, the run id and a unique `seq`.
pub fn event(rng: &mut impl Rng, run: &str, seq: u64) -> String {
    let level = match rng.random_range(0..100) {
        0..=1 => "error",
        2..=7 => "warn",
        8..=19 => "debug",
        _ => "info",
    };
    let status = match level {
        "error" => 500,
        "warn" => 404,
        _ => 200,
    };
    let path = PATHS[rng.random_range(0..PATHS.len())];
    let ms = rng.random_range(1..900);
    json!({
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": level,
        "service": SERVICES[rng.random_range(0..SERVICES.len())],
        "host": format!("web-{:02}", rng.random_range(0..16)),
        "message": format!("GET {path}/{} {status} in {ms} ms", rng.random_range(1000..99999)),
        "http.method": "GET",
        "http.status": status,
        "duration_ms": ms,
        "bytes": rng.random_range(200..90_000),
        "client_ip": format!("10.{}.{}.{}", rng.random_range(0..256), rng.random_range(0..256), rng.random_range(1..255)),
        "user_id": format!("u-{}", rng.random_range(0..50_000)),
        "trace_id": format!("{:032x}", rng.random::<u128>()),
        "run": run,
        "seq": seq,
    })
    .to_string()
}

/// The corpus as request bodies of `batch` events each.
fn corpus(run: &str, events: u64, batch: u64) -> Vec<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    (0..events.div_ceil(batch))
        .map(|b| {
            let mut body = String::with_capacity(batch as usize * 340);
            for seq in b * batch..((b + 1) * batch).min(events) {
                body.push_str(&event(&mut rng, run, seq));
                body.push('\n');
            }
            body
        })
        .collect()
}

/// Phase 1: the corpus's records written straight into a fresh Tantivy store; events/s.
async fn tantivy_ceiling(bodies: &[String], dir: &Path) -> anyhow::Result<f64> {
    let mut records: Vec<LogRecord> = Vec::new();
    let now = nexuslog_common::now_micros();
    for (i, line) in bodies.iter().flat_map(|b| b.lines()).enumerate() {
        let raw = RawEvent {
            ingest_id: format!("ceiling-{i}"),
            project_id: "bench".into(),
            source: SourceKind::Http,
            received_at: now,
            remote_addr: None,
            payload: line.as_bytes().to_vec(),
            metadata: BTreeMap::new(),
        };
        match nexuslog_pipeline::process(&raw, &nexuslog_pipeline::Pipeline::default(), None) {
            Ok(nexuslog_pipeline::Outcome::Record(r)) => records.push(r),
            other => bail!("the corpus did not normalize: {other:?}"),
        }
    }
    let store = nexuslog_logstore::TantivyLogStore::open(&dir.join("ceiling")).context("opening the ceiling's Tantivy store")?;
    let started = Instant::now();
    for chunk in records.chunks(CEILING_BATCH) {
        store.index_unseen(chunk).await.context("indexing into the ceiling's store")?;
    }
    let rate = records.len() as f64 / started.elapsed().as_secs_f64();
    drop(store);
    let _ = std::fs::remove_dir_all(dir.join("ceiling"));
    Ok(rate)
}

/// CPU seconds (user + system) a process used so far.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    Ok(crate::tail_bench::proc_cpu_ticks(&pid.to_string())? as f64 / crate::tail_bench::clock_ticks())
}

/// Peak resident memory (VmHWM) of a process, MiB.
fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).context("VmHWM")?.trim().trim_end_matches("kB").trim().parse()?;
    Ok(round2(kib / 1024.0))
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(p).map_or(0, |rd| rd.filter_map(Result::ok).map(|e| dir_bytes(&e.path())).sum())
}

/// Bytes under `p` by file extension: for an index, by Tantivy's file kinds (`store` the stored
/// documents, `term` the term dictionaries, `idx`/`pos` postings and positions, `fast` columns),
/// which says where the index's bytes per event go.
fn bytes_by_extension(p: &Path, into: &mut std::collections::BTreeMap<String, u64>) {
    let Ok(rd) = std::fs::read_dir(p) else { return };
    for e in rd.filter_map(Result::ok) {
        let path = e.path();
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => bytes_by_extension(&path, into),
            Ok(m) => *into.entry(path.extension().map_or_else(String::new, |x| x.to_string_lossy().into_owned())).or_default() += m.len(),
            Err(_) => {}
        }
    }
}

/// Phase 2: the corpus over `connections` connections; (first send → last ack, acked events).
async fn burst(target: &Target, bodies: Arc<Vec<String>>, connections: usize, pb: &indicatif::ProgressBar) -> anyhow::Result<(Duration, u64)> {
    let next = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (http, bodies, next, acked, url, key, pb) =
            (http.clone(), bodies.clone(), next.clone(), acked.clone(), format!("{}/v1/logs/bulk", target.ingest), target.api_key.clone(), pb.clone());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(body) = bodies.get(i) else { return Ok::<(), anyhow::Error>(()) };
                loop {
                    let resp = http.post(&url).bearer_auth(&key).header("content-type", "application/x-ndjson").body(body.clone()).send().await?;
                    let status = resp.status();
                    let v: Value = resp.json().await.unwrap_or(Value::Null);
                    if status.as_u16() == 429 || status.as_u16() == 503 {
                        // Backpressure is part of the product: honour it and count the wait.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                    ensure!(status.is_success(), "ingest answered {status}: {v}");
                    let n = v["accepted"].as_u64().unwrap_or(0);
                    acked.fetch_add(n, Ordering::Relaxed);
                    pb.inc(n);
                    break;
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok((started.elapsed(), acked.load(Ordering::Relaxed)))
}

/// Phase 4: p50/p99 (ms) of one query over `n` requests.
async fn query_latency(http: &reqwest::Client, target: &Target, q: &str, limit: &str, n: usize) -> anyhow::Result<(f64, f64)> {
    let mut h = Histogram::<u64>::new(3)?;
    for _ in 0..n {
        let t = Instant::now();
        let resp = http.get(format!("{}/v1/search", target.api)).query(&[("q", q), ("from", "now-1d"), ("limit", limit)]).bearer_auth(&target.api_key).send().await?;
        ensure!(resp.status().is_success(), "search {q:?}: {}", resp.status());
        let _ = resp.bytes().await?;
        h.record(t.elapsed().as_micros() as u64)?;
    }
    Ok((round2(h.value_at_quantile(0.5) as f64 / 1000.0), round2(h.value_at_quantile(0.99) as f64 / 1000.0)))
}

pub async fn standalone_bench(a: StandaloneBenchArgs) -> anyhow::Result<bool> {
    let run_id = crate::new_run_id();
    let dir = std::env::temp_dir().join(format!("nexuslog-standalone-bench-{run_id}"));
    std::fs::create_dir_all(&dir)?;
    let pb = report::progress(a.events, a.json);
    let say = |l: &str| report::note(&pb, l);

    say(&format!("generating {} events", a.events));
    let bodies = Arc::new(corpus(&run_id, a.events, a.batch.max(1)));
    let input_bytes: usize = bodies.iter().map(String::len).sum();

    say("phase 1/5: Tantivy-only ceiling (the same documents, no HTTP, no bus)");
    let ceiling = tantivy_ceiling(&bodies, &dir).await?;
    if a.ceiling_only {
        pb.finish_and_clear();
        let _ = std::fs::remove_dir_all(&dir);
        println!("{}", json!({ "run_id": run_id, "events": a.events, "tantivy_ceiling_events_per_sec": round2(ceiling) }));
        return Ok(true);
    }

    say("phase 2/5: burst over HTTP into `nexuslog standalone`");
    let bin = instance::binary(a.nexuslog_bin.as_deref(), &dir).await?;
    let target = Target::start(instance::Mode::Standalone, &bin, &dir, &run_id, &a.env).await?;
    let pid = target.api_pid().context("the standalone process has no pid")?;
    let cpu0 = cpu_seconds(pid)?;
    let (send, acked) = burst(&target, bodies.clone(), a.connections, &pb).await?;
    let last_ack = Instant::now();
    ensure!(acked == a.events, "{acked} of {} events acknowledged", a.events);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let run_q = format!("run:{run_id}");
    let deadline = last_ack + Duration::from_secs(900);
    loop {
        if crate::verify::count(&http, &target.api, &target.api_key, &run_q).await? >= a.events {
            break;
        }
        if Instant::now() > deadline {
            bail!("not every event searchable 900 s after the last acknowledgment; log {}", dir.display());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let to_searchable = last_ack.elapsed();
    let cpu = cpu_seconds(pid)? - cpu0;
    let ack_rate = a.events as f64 / send.as_secs_f64();
    let searchable_rate = a.events as f64 / (send + to_searchable).as_secs_f64();

    // The burst's own peak, apart from the freshness phase's.
    let burst_rss = peak_rss_mib(pid)?;

    say("phase 3/5: data directory once every consumer caught up and merges settled");
    // The sink's commit is what search saw; give the bus's own bookkeeping a moment to settle,
    // then wait for the index's background merges to finish: while one runs, its inputs and
    // its output are both on disk, so the size would depend on when it was read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let data = dir.join("nexuslog-data");
    let settle_deadline = Instant::now() + Duration::from_secs(60);
    let (mut last, mut unchanged) = (dir_bytes(&data.join("index")), 0);
    while unchanged < 3 && Instant::now() < settle_deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = dir_bytes(&data.join("index"));
        unchanged = if now == last { unchanged + 1 } else { 0 };
        last = now;
    }
    // Including the merges the burst set off, which run after it is searchable.
    let cpu_settled = cpu_seconds(pid)? - cpu0;
    let mut index_kinds = std::collections::BTreeMap::new();
    bytes_by_extension(&data.join("index"), &mut index_kinds);
    index_kinds.retain(|_, b| *b > 0);
    let (bus, index, total) = (dir_bytes(&data.join("bus")), index_kinds.values().sum::<u64>(), dir_bytes(&data));

    say("phase 4/5: query latency");
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let user = format!("user_id:u-{}", rng.random_range(0..50_000));
    let term = query_latency(&http, &target, &user, "100", a.queries).await?;
    let filter = query_latency(&http, &target, "level:error AND service:checkout", "100", a.queries).await?;

    let mut fresh = Value::Null;
    if a.freshness_secs > 0 {
        let max = match a.freshness_basis {
            FreshnessBasis::Searchable => searchable_rate,
            FreshnessBasis::Acknowledged => ack_rate,
        };
        say(&format!("phase 5/5: freshness at half the {:?} rate", a.freshness_basis));
        let rate = ((max / 2.0) as u64).max(100);
        let cfg = LoadConfig {
            url: target.ingest.clone(),
            api_key: target.api_key.clone(),
            run_id: format!("{run_id}f"),
            events: rate * a.freshness_secs,
            rate,
            batch: (rate / 20).clamp(10, a.batch.max(10)),
            event_size: 330,
            concurrency: a.connections.max(1),
            retry_deadline: Duration::from_secs(120),
            request_timeout: Duration::from_secs(60),
        };
        // The run is followed gently (its scans load the server); freshness is the probes'.
        let verify = crate::session::VerifyConfig { search_url: target.api.clone(), timeout: Duration::from_secs(120), poll_every: Duration::from_secs(2) };
        let probes = ProbeConfig {
            ingest: target.ingest.clone(),
            api: target.api.clone(),
            api_key: target.api_key.clone(),
            run: format!("{run_id}p"),
            every: Duration::from_millis(100),
            poll: Duration::from_millis(25),
            timeout: Duration::from_secs(60),
        };
        let (summary, probed) = crate::session::measure(cfg, &verify, &pb, |_, load_done| probe::run(probes, load_done)).await?;
        let probed = probed?;
        fresh = json!({
            "basis": format!("{:?}", a.freshness_basis).to_lowercase(),
            "rate": rate,
            "latency": probed.latency,
            "probes_missing": probed.missing,
            "probes_unacknowledged": probed.unacknowledged,
            "lost": summary.lost,
            "duplicated": summary.duplicated,
        });
    }
    let rss = peak_rss_mib(pid)?;
    let log = target.logs.first().map(|p| p.display().to_string()).unwrap_or_default();
    target.stop().await;
    pb.finish_and_clear();

    let per_event = |b: u64| round2(b as f64 / a.events as f64);
    let out = json!({
        "run_id": run_id,
        "events": a.events,
        "input_bytes_per_event": per_event(input_bytes as u64),
        "batch": a.batch,
        "connections": a.connections,
        "acked_events_per_sec": round2(ack_rate),
        "last_ack_to_all_searchable_secs": round2(to_searchable.as_secs_f64()),
        "searchable_events_per_sec": round2(searchable_rate),
        "tantivy_ceiling_events_per_sec": round2(ceiling),
        "searchable_vs_ceiling": round2(searchable_rate / ceiling),
        "cpu_secs_per_million_events": round2(cpu / a.events as f64 * 1e6),
        "cpu_secs_per_million_events_with_merges": round2(cpu_settled / a.events as f64 * 1e6),
        "peak_rss_mib": rss,
        "peak_rss_burst_mib": burst_rss,
        "disk_bytes_per_event": { "total": per_event(total), "bus": per_event(bus), "index": per_event(index), "index_by_kind": index_kinds.iter().map(|(k, b)| (k.clone(), json!(per_event(*b)))).collect::<serde_json::Map<_, _>>() },
        "term_query_ms": { "p50": term.0, "p99": term.1 },
        "filter_newest_100_ms": { "p50": filter.0, "p99": filter.1 },
        "freshness": fresh,
        "log": log,
    });
    let lines = [
        format!("standalone-bench {run_id}: {} events of ~{:.0} B, {} per request, {} connections", a.events, input_bytes as f64 / a.events as f64, a.batch, a.connections),
        format!("  acknowledged:                 {ack_rate:.0} ev/s"),
        format!("  last ack → all searchable:    {:.1} s (searchable throughput {searchable_rate:.0} ev/s = {:.2} of the Tantivy-only ceiling {ceiling:.0} ev/s)", to_searchable.as_secs_f64(), searchable_rate / ceiling),
        format!(
            "  server CPU:                   {:.1} CPU-s per million events ({:.1} with the merges it set off); peak RSS {rss} MiB ({burst_rss} MiB until the burst was searchable)",
            cpu / a.events as f64 * 1e6,
            cpu_settled / a.events as f64 * 1e6
        ),
        format!(
            "  disk per event:               {} B (bus {}, index {}: {})",
            per_event(total),
            per_event(bus),
            per_event(index),
            index_kinds.iter().map(|(k, b)| format!("{k} {}", per_event(*b))).collect::<Vec<_>>().join(", ")
        ),
        format!("  term query p50/p99:           {} / {} ms; filter + newest 100: {} / {} ms", term.0, term.1, filter.0, filter.1),
        format!("  freshness at half the maximum: {fresh}"),
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
    let ok = fresh.is_null() || (fresh["lost"] == json!(0) && fresh["duplicated"] == json!(0) && fresh["probes_missing"] == json!(0));
    if ok {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_realistic_json_of_about_330_bytes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let sizes: Vec<usize> = (0..1000).map(|i| event(&mut rng, "lt0123456789", i).len()).collect();
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!((300..=360).contains(&mean), "mean {mean}");
        let v: Value = serde_json::from_str(&event(&mut rng, "r", 5)).expect("JSON");
        assert_eq!((v["seq"].as_u64(), v["run"].as_str()), (Some(5), Some("r")));
    }
}
