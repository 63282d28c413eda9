//! `loadtest`: drives a NexusLog deployment and checks that nothing acknowledged is lost or
//! duplicated.
//!
//! - `run`: load + verification against a NexusLog that is already running;
//! - `chaos`: starts NexusLog itself (roles as separate processes), kills roles with SIGKILL and
//!   restarts Kafka during the load, then verifies;
//! - `bench`: raw Kafka / OpenSearch ceilings vs. the gateway and the sink, and freshness;
//! - `syslog-bench`: syslog over TCP into NexusLog beside rsyslog on the same stream;
//! - `pipeline-bench`: the processor's lines/s per core for grok and logfmt rules vs JSON only;
//! - `query-bench`: search and aggregation p50/p99 on Tantivy and OpenSearch over generated
//!   events, and NexusLog's overhead over the same requests sent straight to OpenSearch;
//! - `alert-bench`: ingest acknowledgment → webhook latency of alert rules (embedded and
//!   distributed), and the processor's throughput with 0, 10 and 100 rules;
//! - `standalone-bench`: the embedded default under a burst of realistic events, against a
//!   Tantivy-only ceiling: ingest rate, time to searchable, CPU, memory and disk per event;
//! - `tail-bench`: ingest acknowledgment → live-tail subscriber latency with 1, 100 and 1000
//!   subscribers on one API instance (embedded and distributed), and the API's CPU and RSS.

mod alert_bench;
mod bench;
mod chaos;
mod instance;
mod launch;
mod ledger;
mod load;
mod pipeline_bench;
mod probe;
mod query_bench;
mod report;
mod session;
mod standalone_bench;
mod ingest_bench;
mod syslog_bench;
mod tail_bench;
mod abuse;
mod verify;

use std::path::PathBuf;

// The same allocator as `nexuslog`, so in-process measurements (pipeline-bench) match it.
#[global_allocator]
static GLOBAL: nexuslog_alloc::MiMalloc = nexuslog_alloc::MiMalloc;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rand::{Rng, SeedableRng};

use crate::launch::{Cluster, ClusterSpec, Mode};
use crate::load::LoadConfig;
use crate::session::VerifyConfig;

/// Load generator, verifier, chaos harness and benchmark for NexusLog.
///
/// Every event carries the run id and a unique `seq`; after sending, the search API is polled
/// until every acknowledged event is found. Reported: sent, acked, found, lost (acked, never
/// found), duplicated (one event under two document ids), throughput and freshness
/// (acknowledgment → searchable). With --json the last line of stdout is one JSON object.
#[derive(Debug, Parser)]
#[command(name = "loadtest", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load and verify a NexusLog that is already running.
    Run(RunArgs),
    /// Start NexusLog (on the real services, or on its embedded defaults with `--mode
    /// embedded`), load it while killing roles (SIGKILL) and restarting Kafka, then verify.
    /// Exit status 1 when anything was lost or duplicated.
    Chaos(ChaosArgs),
    /// Compare the gateway and the sink with the raw Kafka and OpenSearch ceilings on the same
    /// events, and measure end-to-end freshness (starts its own NexusLog like `chaos`).
    Bench(bench::BenchArgs),
    /// TCP syslog messages/s into a standalone NexusLog beside rsyslog's own rate on the same
    /// stream (starts both itself), printed as a ratio.
    SyslogBench(syslog_bench::SyslogBenchArgs),
    /// The processor's per-event work (decode, normalize, pipeline, encode) in lines/s per
    /// core: grok (nginx combined) and logfmt rules as ratios to JSON events without rules.
    PipelineBench(pipeline_bench::PipelineBenchArgs),
    /// Search and aggregation latency (p50/p99) over generated events (10 M by default) on
    /// Tantivy and OpenSearch; on OpenSearch also the same requests sent straight to it, as the
    /// ceiling. Exit status 1 when an answer disagrees with the generated data.
    QueryBench(query_bench::QueryBenchArgs),
    /// Alert latency, from the ingest acknowledgment of the event crossing a rule's threshold
    /// to the webhook receiver's receipt (p50/p99 over N rules under background load; starts
    /// its own NexusLog, standalone embedded or distributed), and the processor's events/s per
    /// core with 0, 10 and 100 rules as ratios to 0 rules. Exit status 1 when a notification
    /// is missing, repeated or carries a wrong value.
    AlertBench(alert_bench::AlertBenchArgs),
    /// Live-tail latency, from the ingest acknowledgment of a probe event to its record
    /// arriving at each Server-Sent Events subscriber (p50/p99/max with 1, 100 and 1000
    /// subscribers on one API instance, under background load; starts its own NexusLog,
    /// standalone embedded or distributed), with the CPU and RSS of the process serving the
    /// tails. Exit status 1 when a probe is missing at any subscriber.
    TailBench(tail_bench::TailBenchArgs),
    /// What an attacker or an unlucky operator does, one after another under a load of good
    /// events (starts its own NexusLog): oversized events, a gzip bomb, slow-loris and 10 000
    /// idle connections, a flood of bad keys, parallel login guesses, a catastrophic regex rule,
    /// events dated 2000 and 2099, a schema-registry stop/start (distributed). Checks /healthz
    /// p99 < 500 ms, RSS under a bound and every acknowledged event searchable; prints one JSON
    /// line. Exit status 1 when something did not hold.
    Abuse(abuse::AbuseArgs),
    /// The embedded default (`nexuslog standalone`) under a burst of realistic JSON events (500 000
    /// over 4 connections by default): acknowledged events/s, last ack → all searchable, the
    /// searchable rate as a ratio of a Tantivy-only ceiling measured in the same run, server CPU
    /// seconds per million events, peak RSS, disk bytes per event (bus, index), query p50/p99
    /// and freshness (by probes) at half the maximum rate. Exit status 1 when the freshness
    /// phase lost or duplicated an event or never found a probe.
    StandaloneBench(standalone_bench::StandaloneBenchArgs),
    /// The drop-in ingest protocols beside `/v1/logs/bulk`: the same events as an Elasticsearch
    /// `_bulk` and as OTLP/HTTP protobuf, acknowledged events/s of each and their ratio to
    /// `/v1/logs/bulk` (standalone or distributed).
    IngestBench(ingest_bench::IngestBenchArgs),
}

/// The shape of the load.
#[derive(Debug, Clone, Args)]
struct LoadArgs {
    /// Events to send.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// Target events per second; 0 = as fast as possible. `chaos` default: spread over ~45 s.
    #[arg(long)]
    rate: Option<u64>,
    /// Events per request.
    #[arg(long, default_value_t = 500)]
    batch: u64,
    /// Approximate bytes per JSON event (padded).
    #[arg(long, default_value_t = 256)]
    event_size: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds to wait, after sending ended, for every acknowledged event to be searchable.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// Seconds one request is retried (same Idempotency-Key) before it is given up.
    #[arg(long, default_value_t = 180)]
    retry_deadline: u64,
    /// Milliseconds between search polls while following the run.
    #[arg(long, default_value_t = 150)]
    poll_ms: u64,
    /// Print the summary as JSON (last line of stdout); hides the progress bar.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Base URL of the ingest gateway.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Base URL of the search API (default: --url).
    #[arg(long)]
    search_url: Option<String>,
    /// API key with ingest and read scopes.
    #[arg(long, env = "NEXUSLOG_LOADTEST_API_KEY", hide_env_values = true)]
    api_key: String,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Debug, Args)]
struct ChaosArgs {
    /// Which processes make up the deployment.
    #[arg(long, value_enum, default_value = "distributed")]
    mode: Mode,
    /// Kafka restarts (data kept) during the run; 0 skips them.
    #[arg(long, default_value_t = 1)]
    kafka_restarts: u32,
    /// Seed of the chaos schedule (random when absent; printed for replay).
    #[arg(long)]
    seed: Option<u64>,
    /// The nexuslog binary to run (default: build it with `cargo build --release`). The test
    /// suite passes its debug build: chaos checks what is lost or duplicated, not speed.
    #[arg(long)]
    nexuslog_bin: Option<PathBuf>,
    #[command(flatten)]
    load: LoadArgs,
}

fn main() -> ExitCode {
    nexuslog_alloc::tune();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            r = dispatch(cli) => r,
            // Dropping the work future drops the cluster, which SIGKILLs its children.
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command; `Ok(false)` when it ran but found loss or duplicates.
async fn dispatch(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Run(a) => run(a).await,
        Command::Chaos(a) => chaos(a).await,
        Command::Bench(a) => bench::bench(a).await,
        Command::SyslogBench(a) => syslog_bench::syslog_bench(a).await,
        Command::PipelineBench(a) => pipeline_bench::pipeline_bench(&a).map(|()| true),
        Command::QueryBench(a) => query_bench::query_bench(a).await,
        Command::AlertBench(a) => alert_bench::alert_bench(a).await,
        Command::TailBench(a) => tail_bench::tail_bench(a).await,
        Command::Abuse(a) => abuse::abuse(a).await,
        Command::StandaloneBench(a) => standalone_bench::standalone_bench(a).await,
        Command::IngestBench(a) => ingest_bench::ingest_bench(a).await,
    }
}

fn new_run_id() -> String {
    // Lowercase: it becomes part of Kafka topic and OpenSearch index names.
    format!("lt{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

fn load_config(
    a: &LoadArgs,
    url: &str,
    api_key: &str,
    run_id: &str,
    default_rate: u64,
) -> LoadConfig {
    LoadConfig {
        url: url.to_owned(),
        api_key: api_key.to_owned(),
        run_id: run_id.to_owned(),
        events: a.events,
        rate: a.rate.unwrap_or(default_rate),
        batch: a.batch.max(1),
        event_size: a.event_size,
        concurrency: a.concurrency.max(1),
        retry_deadline: Duration::from_secs(a.retry_deadline),
        request_timeout: Duration::from_secs(60),
    }
}

fn verify_config(a: &LoadArgs, search_url: &str) -> VerifyConfig {
    VerifyConfig {
        search_url: search_url.to_owned(),
        timeout: Duration::from_secs(a.timeout),
        poll_every: Duration::from_millis(a.poll_ms.max(10)),
    }
}

async fn run(a: RunArgs) -> anyhow::Result<bool> {
    let run_id = new_run_id();
    let pb = report::progress(a.load.events, a.load.json);
    report::note(
        &pb,
        &format!("run {run_id}: {} events to {}", a.load.events, a.url),
    );
    let cfg = load_config(&a.load, &a.url, &a.api_key, &run_id, 0);
    let search = a.search_url.clone().unwrap_or_else(|| a.url.clone());
    let (summary, ()) =
        session::measure(cfg, &verify_config(&a.load, &search), &pb, |_, _| async {}).await?;
    summary.print(a.load.json);
    Ok(summary.ok)
}

/// A run directory under the temp dir, for role logs and build/service output.
fn run_dir(run_id: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join("nexuslog-loadtest").join(run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// `nxl_` + 32 alphanumerics: the bootstrap key format every role registers idempotently.
fn new_api_key(rng: &mut impl Rng) -> String {
    let tail: String = (0..32)
        .map(|_| char::from(rng.sample(rand::distr::Alphanumeric)))
        .collect();
    format!("nxl_{tail}")
}

/// Services up, binary built, roles started: the common start of `chaos` and `bench`.
async fn deploy(
    mode: Mode,
    run_id: &str,
    pb: &indicatif::ProgressBar,
    rng: &mut impl Rng,
    nexuslog_bin: Option<&std::path::Path>,
) -> anyhow::Result<(Cluster, String, PathBuf)> {
    let root = launch::repo_root()?;
    let dir = run_dir(run_id)?;
    report::note(pb, &format!("run {run_id}: logs in {}", dir.display()));
    let services = if mode.uses_services() {
        report::note(
            pb,
            "starting the services (infra/services up) and building nexuslog (release)",
        );
        launch::ensure_services(&root, &dir).await?
    } else {
        std::collections::BTreeMap::new()
    };
    let bin = instance::binary(nexuslog_bin, &dir).await?;
    let api_key = new_api_key(rng);
    let mut cluster = Cluster::new(&ClusterSpec {
        mode,
        root: &root,
        bin: &bin,
        services: &services,
        run_dir: &dir,
        run_id,
        api_key: &api_key,
    })?;
    cluster.start_all().await?;
    report::note(
        pb,
        &format!(
            "roles up ({mode:?}): ingest {}, search {}",
            cluster.url(mode.ingest_role())?,
            cluster.url(mode.search_role())?
        ),
    );
    Ok((cluster, api_key, dir))
}

async fn chaos(a: ChaosArgs) -> anyhow::Result<bool> {
    let run_id = new_run_id();
    let seed = a.seed.unwrap_or_else(|| rand::rng().random());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let pb = report::progress(a.load.events, a.load.json);
    let (cluster, api_key, dir) = deploy(a.mode, &run_id, &pb, &mut rng, a.nexuslog_bin.as_deref()).await?;
    let (ingest, search) = (
        cluster.url(a.mode.ingest_role())?,
        cluster.url(a.mode.search_role())?,
    );
    let logs = cluster.logs();
    let cluster = Arc::new(tokio::sync::Mutex::new(cluster));

    // Without services there is no Kafka to restart.
    let kafka_restarts = if a.mode.uses_services() { a.kafka_restarts } else { 0 };
    let steps = chaos::plan(
        a.mode.victims(),
        a.load.events,
        kafka_restarts,
        &mut rng,
    );
    let plan_text: Vec<String> = steps
        .iter()
        .map(|s| format!("{:?}@{:.0}%", s.action, s.at * 100.0))
        .collect();
    report::note(
        &pb,
        &format!("chaos plan (seed {seed}): {}", plan_text.join(", ")),
    );
    // Spread the load over ~45 s by default so the kills land while it is flowing.
    let default_rate = (a.load.events / 45).clamp(200, 8_000);
    let cfg = load_config(&a.load, &ingest, &api_key, &run_id, default_rate);
    let total = a.load.events;
    let (note_pb, chaos_cluster) = (pb.clone(), cluster.clone());
    let (mut summary, chaos_log) = session::measure(
        cfg,
        &verify_config(&a.load, &search),
        &pb,
        move |counters, load_done| {
            chaos::execute(
                chaos_cluster,
                steps,
                move || counters.settled_events.load(Ordering::Relaxed),
                total,
                move || load_done.load(Ordering::SeqCst),
                rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed),
                move |line| report::note(&note_pb, &line),
            )
        },
    )
    .await?;
    cluster.lock().await.shutdown().await;

    let x = &mut summary.extra_fields;
    x.insert("mode".into(), format!("{:?}", a.mode).to_lowercase().into());
    x.insert("seed".into(), seed.into());
    x.insert("kills".into(), serde_json::to_value(&chaos_log.kills)?);
    x.insert("kafka_restarts".into(), chaos_log.kafka_restarts.into());
    x.insert(
        "chaos_errors".into(),
        serde_json::to_value(&chaos_log.errors)?,
    );
    x.insert("run_dir".into(), dir.display().to_string().into());
    x.insert(
        "role_logs".into(),
        logs.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .into(),
    );
    let kafka_ok = chaos_log.kafka_restarts >= kafka_restarts;
    let every_victim = a
        .mode
        .victims()
        .iter()
        .all(|v| chaos_log.kills.get(*v).copied().unwrap_or(0) >= 1);
    summary.ok = summary.ok && kafka_ok && every_victim && chaos_log.errors.is_empty();
    summary.print(a.load.json);
    Ok(summary.ok)
}
