//! `tail-bench`: how fast a record reaches live-tail subscribers, and what they cost the API.
//!
//! Starts its own NexusLog (`standalone` = one process on embedded storage; `distributed` =
//! gateway, processor, sink and api as separate processes on the real services, the tails on
//! the api process), with `tail.max_per_caller` and `tail.max_per_instance` raised above the
//! largest subscriber count. One read-scope API key opens every tail: `GET /v1/tail?q=<token>`
//! (Server-Sent Events), `<token>` a word only this run's probes carry.
//!
//! A steady background load of events matching no tail runs throughout. First, without any
//! subscriber, the API process's CPU and RSS (the baseline). Then, for each subscriber count in
//! ascending order, subscribers are added up to it (the earlier ones stay), a warm-up event is
//! sent until every subscriber has seen it, and `--probes` probe events follow, one every
//! `--interval-ms`, each alone in its request. A probe's latency at one subscriber is the time
//! its record arrived there minus the time its ingest request's 2xx arrived; p50/p99/max are
//! over every (subscriber, probe) pair of the step. Every subscriber must receive every probe:
//! what is missing after `--timeout`, what the server announced as skipped (a full buffer), and
//! streams that ended are reported, and any missing probe makes the exit status 1.
//!
//! Sampled during each step's probes: CPU (user + sys seconds per wall second, from
//! `/proc/<pid>/stat`) and RSS (`VmRSS` of `/proc/<pid>/status`) of the process serving the
//! tails, and this process's own CPU (the subscribers' side shares the machine).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clap::Args;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::instance::{self, background, Api, Background, Target};
use crate::report::{percentile, round1, round2};

/// The aims of the issue, at [`AIM_AT`] subscribers.
const AIM_P99_STANDALONE_MS: f64 = 1_000.0;
const AIM_P99_DISTRIBUTED_MS: f64 = 1_500.0;
const AIM_AT: usize = 1_000;
/// Subscribers opened at once.
const OPEN_CONCURRENCY: usize = 50;
/// Open files this process (and the NexusLog it starts, which inherits the limit) needs beyond
/// one socket per subscriber.
const FD_MARGIN: u64 = 512;
/// How often RSS is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Args)]
pub struct TailBenchArgs {
    /// Which deployment to start.
    #[arg(long, value_enum, default_value = "standalone")]
    mode: instance::Mode,
    /// Subscriber counts measured, comma-separated; subscribers are added step by step.
    #[arg(long, value_delimiter = ',', default_value = "1,100,1000")]
    subscribers: Vec<usize>,
    /// Background events per second (matching no tail).
    #[arg(long, default_value_t = 2_000)]
    background_rate: u64,
    /// Milliseconds between two probes.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Probes per subscriber count.
    #[arg(long, default_value_t = 300)]
    probes: u64,
    /// Seconds to wait, after a step's last probe was acknowledged, for deliveries still missing.
    #[arg(long, default_value_t = 15)]
    timeout: u64,
    /// Seconds of background load alone before the first subscriber, for the baseline CPU and
    /// RSS (0: none).
    #[arg(long, default_value_t = 10)]
    baseline_secs: u64,
    /// The nexuslog binary (default: built in release mode from this checkout).
    #[arg(long)]
    nexuslog_bin: Option<PathBuf>,
    /// Print the summary as JSON (last line of stdout; the human lines go to stderr).
    #[arg(long)]
    json: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------------
// /proc

/// user + sys clock ticks of a `/proc/<pid>/stat` line (fields 14 and 15; the command name,
/// field 2, may hold spaces and parentheses, so fields are counted after its last `)`).
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// `VmRSS` in KiB of a `/proc/<pid>/status` text.
fn vm_rss_kib(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()
}

/// The soft limit of open files in a `/proc/self/limits` text (`None` when unlimited).
fn soft_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

pub(crate) fn proc_cpu_ticks(pid: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    cpu_ticks(&text).with_context(|| format!("no CPU times in {path}"))
}

fn proc_rss_kib(pid: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    vm_rss_kib(&text).with_context(|| format!("no VmRSS in {path}"))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, Linux's value, when that fails).
pub(crate) fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// Fails early, naming the fix, when `subscribers` sockets cannot be open at once.
fn check_open_files(subscribers: usize) -> anyhow::Result<()> {
    let limits = std::fs::read_to_string("/proc/self/limits").context("reading /proc/self/limits")?;
    let need = subscribers as u64 + FD_MARGIN;
    if let Some(soft) = soft_open_files(&limits) {
        ensure!(
            soft >= need,
            "{subscribers} subscribers need about {need} open files, the limit is {soft}: raise it first (`ulimit -n {need}`)"
        );
    }
    Ok(())
}

/// CPU and memory of the process serving the tails over a window.
#[derive(Debug, Clone, serde::Serialize)]
struct Usage {
    /// user + sys CPU seconds per wall second (1.0 = one core busy).
    api_cpu: f64,
    api_rss_max_mib: f64,
    api_rss_mean_mib: f64,
    /// This process (the subscribers, the probes and the background load), on the same cores.
    loadtest_cpu: f64,
    secs: f64,
}

/// Samples `pid` until [`Sampler::finish`].
struct Sampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<anyhow::Result<Usage>>,
}

impl Sampler {
    fn start(pid: u32, ticks_per_sec: f64) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let pid = pid.to_string();
            let (started, api0, self0) = (Instant::now(), proc_cpu_ticks(&pid)?, proc_cpu_ticks("self")?);
            let mut rss = Vec::new();
            loop {
                rss.push(proc_rss_kib(&pid)? as f64 / 1024.0);
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            let per_sec = |t0: u64, t1: u64| round2(t1.saturating_sub(t0) as f64 / ticks_per_sec / secs);
            Ok(Usage {
                api_cpu: per_sec(api0, proc_cpu_ticks(&pid)?),
                api_rss_max_mib: round1(rss.iter().copied().fold(0.0, f64::max)),
                api_rss_mean_mib: round1(rss.iter().sum::<f64>() / rss.len().max(1) as f64),
                loadtest_cpu: per_sec(self0, proc_cpu_ticks("self")?),
                secs: round2(secs),
            })
        });
        Sampler { stop, task }
    }

    async fn finish(self) -> anyhow::Result<Usage> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await?
    }
}

// ---------------------------------------------------------------------------------------------
// Subscribers

/// One Server-Sent Event: its type (`message` unless named) and its data lines joined.
#[derive(Debug, PartialEq)]
struct SseEvent {
    event: String,
    data: String,
}

/// Takes the next complete event block off `buf`; comments (the heartbeat) come back with empty
/// data.
fn next_event(buf: &mut Vec<u8>) -> Option<SseEvent> {
    let end = buf.windows(2).position(|w| w == b"\n\n")?;
    let block: Vec<u8> = buf.drain(..end + 2).collect();
    let block = String::from_utf8_lossy(&block);
    let mut event = SseEvent { event: "message".into(), data: String::new() };
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            v.trim().clone_into(&mut event.event);
        } else if let Some(v) = line.strip_prefix("data:") {
            event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    Some(event)
}

/// What a record delivered to a tail is.
#[derive(Debug, PartialEq)]
enum Marker {
    Probe(u64),
    Warmup(u64),
    /// Not one of this run's events: the tail's filter let something else through.
    Foreign,
}

fn marker(record: &str) -> Marker {
    let Ok(v) = serde_json::from_str::<Value>(record) else { return Marker::Foreign };
    let fields = &v["fields"];
    match (fields["probe"].as_u64(), fields["warmup"].as_u64()) {
        (Some(n), _) => Marker::Probe(n),
        (None, Some(n)) => Marker::Warmup(n),
        (None, None) => Marker::Foreign,
    }
}

/// What one subscriber received.
#[derive(Debug, Default)]
struct Inbox {
    /// Probe number → when its record arrived (the first time).
    probes: Mutex<HashMap<u64, Instant>>,
    duplicates: AtomicU64,
    /// The highest warm-up number seen (0: none).
    warm: AtomicU64,
    /// Records the server announced as skipped (`event: skipped`).
    skipped: AtomicU64,
    foreign: AtomicU64,
    /// Why the stream ended (`None` while open).
    ended: Mutex<Option<String>>,
}

impl Inbox {
    fn take(&self, e: &SseEvent, at: Instant) {
        match e.event.as_str() {
            _ if e.data.is_empty() => {} // a heartbeat comment
            "message" => match marker(&e.data) {
                Marker::Probe(n) => {
                    if lock(&self.probes).insert(n, at).is_some() {
                        self.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Marker::Warmup(n) => {
                    self.warm.fetch_max(n, Ordering::Relaxed);
                }
                Marker::Foreign => {
                    self.foreign.fetch_add(1, Ordering::Relaxed);
                }
            },
            "skipped" => {
                let n = serde_json::from_str::<Value>(&e.data).ok().and_then(|v| v["count"].as_u64()).unwrap_or(0);
                self.skipped.fetch_add(n, Ordering::Relaxed);
            }
            "closed" => *lock(&self.ended) = Some(format!("closed by the server: {}", e.data)),
            other => *lock(&self.ended) = Some(format!("unexpected event {other}: {}", e.data)),
        }
    }

    fn ended(&self) -> bool {
        lock(&self.ended).is_some()
    }
}

/// Reads one tail until it ends, timing each chunk as it arrives.
async fn read_tail(mut resp: reqwest::Response, inbox: Arc<Inbox>) {
    let mut buf = Vec::new();
    let why = loop {
        match resp.chunk().await {
            Ok(Some(bytes)) => {
                let at = Instant::now();
                buf.extend_from_slice(&bytes);
                while let Some(e) = next_event(&mut buf) {
                    inbox.take(&e, at);
                }
            }
            Ok(None) => break "the stream ended".to_owned(),
            Err(e) => break format!("read error: {e}"),
        }
    };
    lock(&inbox.ended).get_or_insert(why);
}

async fn open_tail(http: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<reqwest::Response> {
    let resp = http.get(url).bearer_auth(key).send().await.context("opening a tail")?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("opening a tail: {status}: {body}");
    }
    let ctype = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    ensure!(ctype.starts_with("text/event-stream"), "a tail answered {ctype}, not an event stream");
    Ok(resp)
}

/// The open tails and their readers.
struct Subscribers {
    http: reqwest::Client,
    url: String,
    key: String,
    inboxes: Vec<Arc<Inbox>>,
    readers: JoinSet<()>,
}

impl Subscribers {
    /// Opens tails until there are `n`.
    async fn grow_to(&mut self, n: usize) -> anyhow::Result<()> {
        while self.inboxes.len() < n {
            let batch = (n - self.inboxes.len()).min(OPEN_CONCURRENCY);
            let mut opening = JoinSet::new();
            for _ in 0..batch {
                let (http, url, key) = (self.http.clone(), self.url.clone(), self.key.clone());
                opening.spawn(async move { open_tail(&http, &url, &key).await });
            }
            while let Some(r) = opening.join_next().await {
                let resp = r??;
                let inbox = Arc::new(Inbox::default());
                self.inboxes.push(inbox.clone());
                self.readers.spawn(read_tail(resp, inbox));
            }
        }
        Ok(())
    }

    fn skipped(&self) -> u64 {
        self.inboxes.iter().map(|i| i.skipped.load(Ordering::Relaxed)).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Probes

struct Probes {
    api: Arc<Api>,
    token: String,
    next_probe: u64,
    next_warmup: u64,
}

impl Probes {
    fn probe(&self, n: u64) -> Value {
        json!({"level": "info", "service": "tail-bench", "message": format!("tail probe {} {n}", self.token), "probe": n})
    }

    /// Sends warm-up events (one every 250 ms) until every subscriber has seen one.
    async fn warm_up(&mut self, subs: &Subscribers) -> anyhow::Result<()> {
        let first = self.next_warmup + 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            self.next_warmup += 1;
            let event = json!({"level": "info", "service": "tail-bench", "message": format!("tail warm-up {} {}", self.token, self.next_warmup), "warmup": self.next_warmup});
            self.api.ingest(&[event]).await.context("sending a warm-up event")?;
            let wait_until = Instant::now() + Duration::from_millis(250);
            while Instant::now() < wait_until {
                if subs.inboxes.iter().all(|i| i.warm.load(Ordering::Relaxed) >= first) {
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let ended = subs.inboxes.iter().filter(|i| i.ended()).count();
            ensure!(ended == 0, "{ended} tails ended during the warm-up");
            ensure!(Instant::now() < deadline, "not every subscriber saw a warm-up event within 60 s");
        }
    }

    /// `count` probes, one every `interval`, each alone in its request; returns each probe's
    /// acknowledgment time and the number not acknowledged.
    async fn send(&mut self, count: u64, interval: Duration) -> (HashMap<u64, Instant>, u64) {
        let started = Instant::now();
        let mut sending = JoinSet::new();
        for k in 0..count {
            tokio::time::sleep_until((started + interval * u32::try_from(k).unwrap_or(u32::MAX)).into()).await;
            self.next_probe += 1;
            let (n, event, api) = (self.next_probe, self.probe(self.next_probe), self.api.clone());
            sending.spawn(async move { (n, api.ingest(&[event]).await) });
        }
        let (mut acks, mut errors) = (HashMap::new(), 0);
        while let Some(r) = sending.join_next().await {
            match r {
                Ok((n, Ok(at))) => {
                    acks.insert(n, at);
                }
                Ok((_, Err(e))) => {
                    errors += 1;
                    eprintln!("  a probe was not acknowledged: {e:#}");
                }
                Err(e) => {
                    errors += 1;
                    eprintln!("  a probe's sender failed: {e}");
                }
            }
        }
        (acks, errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Figures

#[derive(Debug, Default, PartialEq)]
struct Deliveries {
    /// Sorted latencies in ms (receipt − acknowledgment; 0 when the record came first).
    latencies: Vec<f64>,
    missing: usize,
    subscribers_missing: usize,
    before_ack: usize,
}

/// Every (subscriber, acknowledged probe) pair: its latency, or missing.
fn deliveries<'a>(acks: &HashMap<u64, Instant>, received: impl Iterator<Item = &'a HashMap<u64, Instant>>) -> Deliveries {
    let mut d = Deliveries::default();
    for got in received {
        let mut missed = false;
        for (n, ack) in acks {
            match got.get(n) {
                Some(at) => match at.checked_duration_since(*ack) {
                    Some(l) => d.latencies.push(l.as_secs_f64() * 1000.0),
                    None => {
                        d.before_ack += 1;
                        d.latencies.push(0.0);
                    }
                },
                None => {
                    d.missing += 1;
                    missed = true;
                }
            }
        }
        d.subscribers_missing += usize::from(missed);
    }
    d.latencies.sort_by(f64::total_cmp);
    d
}

#[derive(Debug, serde::Serialize)]
struct Step {
    subscribers: usize,
    probes_sent: u64,
    probes_acked: usize,
    send_errors: u64,
    /// Subscribers × acknowledged probes.
    expected: usize,
    received: usize,
    missing: usize,
    subscribers_missing: usize,
    /// Records the server announced as skipped to some subscriber during the step.
    skipped: u64,
    duplicates: u64,
    foreign: u64,
    ended_streams: usize,
    before_ack: usize,
    p50_ms: Option<f64>,
    p90_ms: Option<f64>,
    p99_ms: Option<f64>,
    max_ms: Option<f64>,
    min_ms: Option<f64>,
    /// p99 / the aim of the mode.
    p99_to_aim: Option<f64>,
    usage: Usage,
    background_events_per_sec: f64,
}

#[derive(Debug, serde::Serialize)]
struct Report {
    mode: &'static str,
    background_rate_target: u64,
    interval_ms: u64,
    probes_per_step: u64,
    aim_p99_ms: f64,
    aim_at_subscribers: usize,
    /// `None` when no step had that many subscribers.
    aim_met: Option<bool>,
    baseline: Option<Usage>,
    steps: Vec<Step>,
    background_failed: u64,
    background_skipped: u64,
}

fn aim_of(mode: instance::Mode) -> f64 {
    match mode {
        instance::Mode::Standalone => AIM_P99_STANDALONE_MS,
        instance::Mode::Distributed => AIM_P99_DISTRIBUTED_MS,
    }
}

// ---------------------------------------------------------------------------------------------
// The run

struct Run<'a> {
    a: &'a TailBenchArgs,
    pid: u32,
    ticks_per_sec: f64,
    bg: Arc<Background>,
}

impl Run<'_> {
    async fn step(&self, subs: &mut Subscribers, probes: &mut Probes, n: usize) -> anyhow::Result<Step> {
        subs.grow_to(n).await?;
        probes.warm_up(subs).await?;
        eprintln!("  {n} subscribers open and warm; {} probes, one every {} ms", self.a.probes, self.a.interval_ms);
        let (skipped0, dup0, foreign0) = (subs.skipped(), sum(subs, |i| &i.duplicates), sum(subs, |i| &i.foreign));
        let bg0 = self.bg.acked.load(Ordering::Relaxed);
        let sampler = Sampler::start(self.pid, self.ticks_per_sec);
        let (acks, send_errors) = probes.send(self.a.probes, Duration::from_millis(self.a.interval_ms)).await;
        let usage = sampler.finish().await?;
        let bg_rate = (self.bg.acked.load(Ordering::Relaxed) - bg0) as f64 / usage.secs.max(1e-9);

        let deadline = Instant::now() + Duration::from_secs(self.a.timeout);
        while Instant::now() < deadline {
            let all = subs.inboxes.iter().all(|i| {
                let got = lock(&i.probes);
                acks.keys().all(|k| got.contains_key(k)) || i.ended()
            });
            if all {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let received: Vec<HashMap<u64, Instant>> = subs.inboxes.iter().map(|i| lock(&i.probes).clone()).collect();
        let d = deliveries(&acks, received.iter());
        let aim = aim_of(self.a.mode);
        let p99 = percentile(&d.latencies, 0.99);
        Ok(Step {
            subscribers: n,
            probes_sent: self.a.probes,
            probes_acked: acks.len(),
            send_errors,
            expected: acks.len() * n,
            received: d.latencies.len(),
            missing: d.missing,
            subscribers_missing: d.subscribers_missing,
            skipped: subs.skipped() - skipped0,
            duplicates: sum(subs, |i| &i.duplicates) - dup0,
            foreign: sum(subs, |i| &i.foreign) - foreign0,
            ended_streams: subs.inboxes.iter().filter(|i| i.ended()).count(),
            before_ack: d.before_ack,
            p50_ms: percentile(&d.latencies, 0.5).map(round1),
            p90_ms: percentile(&d.latencies, 0.9).map(round1),
            p99_ms: p99.map(round1),
            max_ms: d.latencies.last().copied().map(round1),
            min_ms: d.latencies.first().copied().map(round1),
            p99_to_aim: p99.map(|p| round2(p / aim)),
            usage,
            background_events_per_sec: bg_rate.round(),
        })
    }
}

fn sum(subs: &Subscribers, counter: impl Fn(&Inbox) -> &AtomicU64) -> u64 {
    subs.inboxes.iter().map(|i| counter(i).load(Ordering::Relaxed)).sum()
}

async fn measure(a: &TailBenchArgs, run_id: &str, target: &Target, steps: &[usize]) -> anyhow::Result<Report> {
    let pid = target.api_pid().context("the API process has no pid (it exited?)")?;
    let api = Arc::new(Api::connect(target).await?);
    let key = api.admin_post("/v1/projects/default/api-keys", &json!({"name": "tail-bench", "scopes": ["read"]})).await?;
    let key = key["key"].as_str().context("the new API key has no secret")?.to_owned();
    let token = format!("{run_id}probe");
    // No overall timeout: the tails stay open for the whole run.
    let http = reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build()?;
    let mut subs =
        Subscribers { http, url: format!("{}/v1/tail?q={token}", target.api), key, inboxes: Vec::new(), readers: JoinSet::new() };
    let mut probes = Probes { api: api.clone(), token, next_probe: 0, next_warmup: 0 };

    let stop = Arc::new(AtomicBool::new(false));
    let bg = Arc::new(Background::default());
    let bg_task = tokio::spawn(background(api.clone(), run_id.to_owned(), a.background_rate, stop.clone(), bg.clone()));
    eprintln!("  background load {} events/s; API process pid {pid}", a.background_rate);
    let run = Run { a, pid, ticks_per_sec: clock_ticks(), bg: bg.clone() };
    let result = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let baseline = if a.baseline_secs > 0 {
            let sampler = Sampler::start(pid, run.ticks_per_sec);
            tokio::time::sleep(Duration::from_secs(a.baseline_secs)).await;
            let u = sampler.finish().await?;
            eprintln!("  baseline (no subscriber): API CPU {:.2}, RSS {:.0} MiB", u.api_cpu, u.api_rss_max_mib);
            Some(u)
        } else {
            None
        };
        let mut done = Vec::new();
        for &n in steps {
            let s = run.step(&mut subs, &mut probes, n).await?;
            eprintln!(
                "  {n} subscribers: p50 {:?} p99 {:?} max {:?} ms; missing {}, skipped {}; API CPU {:.2}, RSS {:.0} MiB",
                s.p50_ms, s.p99_ms, s.max_ms, s.missing, s.skipped, s.usage.api_cpu, s.usage.api_rss_max_mib
            );
            done.push(s);
        }
        anyhow::Ok((baseline, done))
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = bg_task.await;
    subs.readers.abort_all();
    let (baseline, steps) = result?;
    let aim = aim_of(a.mode);
    let aim_met = steps.iter().find(|s| s.subscribers == AIM_AT).map(|s| s.missing == 0 && s.p99_ms.is_some_and(|p| p <= aim));
    Ok(Report {
        mode: a.mode.name(),
        background_rate_target: a.background_rate,
        interval_ms: a.interval_ms,
        probes_per_step: a.probes,
        aim_p99_ms: aim,
        aim_at_subscribers: AIM_AT,
        aim_met,
        baseline,
        steps,
        background_failed: bg.failed.load(Ordering::Relaxed),
        background_skipped: bg.skipped.load(Ordering::Relaxed),
    })
}

fn table(r: &Report) -> Vec<String> {
    let opt = |x: Option<f64>| x.map_or("-".to_owned(), |v| format!("{v:.1}"));
    let mut lines = vec![
        format!(
            "live tail, {}: ingest ack of a probe → its record received by a subscriber, ms ({} probes per step, one every {} ms; background {} events/s matching no tail)",
            r.mode, r.probes_per_step, r.interval_ms, r.background_rate_target
        ),
        format!(
            "  {:>11} {:>8} {:>8} {:>8} {:>8} {:>16} {:>8} {:>8} {:>8} {:>13} {:>9}",
            "subscribers", "p50", "p99", "max", "p99/aim", "received", "missing", "skipped", "API CPU", "API RSS max", "client CPU"
        ),
    ];
    if let Some(u) = &r.baseline {
        lines.push(format!(
            "  {:>11} {:>8} {:>8} {:>8} {:>8} {:>16} {:>8} {:>8} {:>8.2} {:>9.0} MiB {:>9.2}",
            0, "-", "-", "-", "-", "-", "-", "-", u.api_cpu, u.api_rss_max_mib, u.loadtest_cpu
        ));
    }
    for s in &r.steps {
        lines.push(format!(
            "  {:>11} {:>8} {:>8} {:>8} {:>8} {:>16} {:>8} {:>8} {:>8.2} {:>9.0} MiB {:>9.2}",
            s.subscribers,
            opt(s.p50_ms),
            opt(s.p99_ms),
            opt(s.max_ms),
            s.p99_to_aim.map_or("-".to_owned(), |v| format!("{v:.2}")),
            format!("{}/{}", s.received, s.expected),
            s.missing,
            s.skipped,
            s.usage.api_cpu,
            s.usage.api_rss_max_mib,
            s.usage.loadtest_cpu
        ));
    }
    let verdict = match r.aim_met {
        Some(true) => "met",
        Some(false) => "missed",
        None => "not measured",
    };
    lines.push(format!("  aim: p99 ≤ {:.0} ms at {} subscribers ({}): {verdict}", r.aim_p99_ms, r.aim_at_subscribers, r.mode));
    for s in &r.steps {
        let odd = [s.send_errors as usize, s.subscribers_missing, s.ended_streams, s.duplicates as usize, s.foreign as usize, s.before_ack];
        if odd.iter().any(|&x| x > 0) {
            lines.push(format!(
                "  at {}: {} probes not acknowledged, {} subscribers missing some, {} streams ended, {} duplicates, {} foreign records, {} received before the ack",
                s.subscribers, s.send_errors, s.subscribers_missing, s.ended_streams, s.duplicates, s.foreign, s.before_ack
            ));
        }
    }
    lines.push(format!(
        "  CPU: seconds per wall second (1.0 = one core) of the process serving the tails{} and of this client; background failed {}, skipped {}",
        if r.mode == "standalone" { " (every role)" } else { " (the api role)" },
        r.background_failed,
        r.background_skipped
    ));
    lines
}

/// # Errors
/// When NexusLog cannot be started or configured, or a tail cannot be opened.
pub async fn tail_bench(a: TailBenchArgs) -> anyhow::Result<bool> {
    let mut steps: Vec<usize> = a.subscribers.clone();
    steps.sort_unstable();
    steps.dedup();
    steps.retain(|&n| n > 0);
    let max = *steps.last().context("--subscribers names no positive count")?;
    ensure!(a.probes > 0 && a.interval_ms > 0, "--probes and --interval-ms must be positive");
    check_open_files(max)?;

    let run_id = crate::new_run_id();
    let dir = crate::run_dir(&run_id)?;
    let bin = instance::binary(a.nexuslog_bin.as_deref(), &dir).await?;
    // Room for every subscriber on one key and one instance (with some to spare for stragglers).
    let limit = (max + 100).to_string();
    let env = [("NEXUSLOG_TAIL_MAX_PER_CALLER".to_owned(), limit.clone()), ("NEXUSLOG_TAIL_MAX_PER_INSTANCE".to_owned(), limit)];
    eprintln!("tail-bench {run_id}: starting nexuslog ({}); logs in {}", a.mode.name(), dir.display());
    let target = Target::start(a.mode, &bin, &dir, &run_id, &env).await?;
    let result = measure(&a, &run_id, &target, &steps).await;
    let logs: Vec<String> = target.logs.iter().map(|p| p.display().to_string()).collect();
    target.stop().await;
    let report = result?;

    let ok = report.steps.iter().all(|s| s.missing == 0 && s.send_errors == 0 && s.ended_streams == 0);
    for l in table(&report) {
        if a.json {
            eprintln!("{l}");
        } else {
            println!("{l}");
        }
    }
    if a.json {
        let mut summary = serde_json::to_value(&report)?;
        if let Some(o) = summary.as_object_mut() {
            o.insert("run_id".into(), run_id.into());
            o.insert("ok".into(), ok.into());
            o.insert("run_dir".into(), dir.display().to_string().into());
            o.insert("logs".into(), logs.into());
        }
        println!("{summary}");
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_are_read() {
        // A command name with a space and a parenthesis; utime 1200, stime 34.
        let stat = "4242 (nexus log) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 1200 34 0 0 20 0 9 0 100 2000000 5000";
        assert_eq!(cpu_ticks(stat), Some(1234));
        assert_eq!(cpu_ticks("garbage"), None);
        let status = "Name:\tnexuslog\nVmPeak:\t  999 kB\nVmRSS:\t   81920 kB\nThreads:\t9\n";
        assert_eq!(vm_rss_kib(status), Some(81920));
        assert_eq!(vm_rss_kib("Name:\tx\n"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(soft_open_files(limits), Some(1024));
        assert_eq!(soft_open_files("Max open files            unlimited            unlimited            files\n"), None);
    }

    #[test]
    fn server_sent_events_are_split_and_marked() {
        let mut buf = b": heartbeat\n\ndata: {\"fields\":{\"probe\":7}}\n\nevent: skipped\ndata: {\"count\":3}\n\ndata: {\"fie".to_vec();
        assert_eq!(next_event(&mut buf), Some(SseEvent { event: "message".into(), data: String::new() }));
        let probe = next_event(&mut buf).expect("a record");
        assert_eq!(marker(&probe.data), Marker::Probe(7));
        assert_eq!(next_event(&mut buf), Some(SseEvent { event: "skipped".into(), data: "{\"count\":3}".into() }));
        assert_eq!(next_event(&mut buf), None, "an incomplete block waits for more");
        buf.extend_from_slice(b"lds\":{\"warmup\":2}}\n\n");
        assert_eq!(next_event(&mut buf).map(|e| marker(&e.data)), Some(Marker::Warmup(2)));
        assert_eq!(marker("{\"message\":\"background\",\"fields\":{}}"), Marker::Foreign);

        let inbox = Inbox::default();
        let at = Instant::now();
        for e in [
            SseEvent { event: "skipped".into(), data: "{\"count\":3}".into() },
            SseEvent { event: "message".into(), data: "{\"fields\":{\"probe\":1}}".into() },
        ] {
            inbox.take(&e, at);
            inbox.take(&e, at);
        }
        assert_eq!((inbox.skipped.load(Ordering::Relaxed), inbox.duplicates.load(Ordering::Relaxed)), (6, 1));
    }

    #[test]
    fn deliveries_count_latency_missing_and_early_records() {
        let t0 = Instant::now();
        let ms = |m: u64| t0 + Duration::from_millis(m);
        let acks: HashMap<u64, Instant> = [(1, ms(100)), (2, ms(200))].into();
        let complete: HashMap<u64, Instant> = [(1, ms(150)), (2, ms(210)), (99, ms(5))].into();
        let partial: HashMap<u64, Instant> = [(1, ms(90))].into();
        let d = deliveries(&acks, [&complete, &partial].into_iter());
        assert_eq!(d.missing, 1);
        assert_eq!(d.subscribers_missing, 1);
        assert_eq!(d.before_ack, 1, "probe 1 reached the second subscriber before its ack");
        let rounded: Vec<f64> = d.latencies.iter().map(|l| l.round()).collect();
        assert_eq!(rounded, vec![0.0, 10.0, 50.0]);
        assert_eq!(percentile(&d.latencies, 0.99).map(f64::round), Some(50.0));
    }
}
