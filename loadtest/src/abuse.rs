//! `loadtest abuse`: what an attacker or an unlucky operator does to a running NexusLog, one
//! thing after another under a steady load of good events, while a prober times `/healthz` and
//! a sampler reads every process's RSS. At the end every acknowledged good (and odd-dated) event
//! must be searchable. Prints one JSON line: what was tried, what held, the health p99 (aim
//! < 500 ms), the largest RSS against `--rss-bound-mib`.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::instance::{self, Api, Target};

#[derive(Debug, clap::Args)]
pub struct AbuseArgs {
    /// Which deployment to start.
    #[arg(long, value_enum, default_value = "standalone")]
    mode: instance::Mode,
    /// Idle connections held open at once (capped by this process's open-file limit).
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// Slow-loris connections, each sending a header byte a second.
    #[arg(long, default_value_t = 200)]
    slow_connections: usize,
    /// Requests with bad keys.
    #[arg(long, default_value_t = 2_000)]
    bad_keys: usize,
    /// Parallel wrong-password logins.
    #[arg(long, default_value_t = 50)]
    login_guesses: usize,
    /// Good events sent over the run (in the background of every attack).
    #[arg(long, default_value_t = 5_000)]
    events: u64,
    /// Largest resident memory any NexusLog process may reach, MiB.
    #[arg(long, default_value_t = 1024)]
    rss_bound_mib: u64,
    /// The nexuslog binary (default: built in release mode from this checkout).
    #[arg(long)]
    nexuslog_bin: Option<PathBuf>,
    /// Print only the JSON summary on stdout (human lines go to stderr either way).
    #[arg(long)]
    json: bool,
}

/// One thing tried and whether NexusLog held.
#[derive(Debug, Serialize)]
struct Attempt {
    name: &'static str,
    held: bool,
    detail: String,
}

/// Every `/healthz` answer time in ms (a failure counts as its timeout).
#[derive(Default)]
struct Health {
    ms: Mutex<Vec<f64>>,
    failures: AtomicU64,
}

const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

async fn probe_health(url: String, stop: Arc<AtomicBool>, health: Arc<Health>) {
    let http = reqwest::Client::builder().timeout(HEALTH_TIMEOUT).pool_max_idle_per_host(1).build().unwrap_or_default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let ok = http.get(format!("{url}/healthz")).send().await.is_ok_and(|r| r.status().is_success());
        let ms = if ok { started.elapsed().as_secs_f64() * 1000.0 } else { HEALTH_TIMEOUT.as_secs_f64() * 1000.0 };
        if !ok {
            health.failures.fetch_add(1, Ordering::Relaxed);
        }
        health.ms.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(ms);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn rss_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()?;
    Some(kib / 1024)
}

async fn sample_rss(pids: Vec<u32>, stop: Arc<AtomicBool>, max: Arc<AtomicU64>) {
    while !stop.load(Ordering::Relaxed) {
        for pid in &pids {
            if let Some(m) = rss_mib(*pid) {
                max.fetch_max(m, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Good events: `abuse <run> good <n>`, in requests of 100, spread over the run.
async fn good_load(api: Arc<Api>, run: String, total: u64, stop: Arc<AtomicBool>, acked: Arc<AtomicU64>) {
    let mut n = 0;
    while n < total && !stop.load(Ordering::Relaxed) {
        let batch: Vec<Value> = (n..(n + 100).min(total)).map(|i| json!({ "message": format!("abuse {run} good {i}"), "run": run, "kind": "good" })).collect();
        // Retried with the same Idempotency-Key: a request that failed mid-attack is not lost.
        let key = format!("{run}-{n}");
        for _ in 0..30 {
            let body: String = batch.iter().map(|e| format!("{e}\n")).collect();
            let sent = api.http.post(format!("{}/v1/logs/bulk", api.ingest)).bearer_auth(&api.api_key).header("Idempotency-Key", &key).body(body).send().await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                acked.fetch_add(batch.len() as u64, Ordering::Relaxed);
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        n += batch.len() as u64;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn status_of(resp: Result<reqwest::Response, reqwest::Error>) -> String {
    match resp {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) => format!("transport error: {e}"),
    }
}

async fn oversized(api: &Api) -> Attempt {
    let huge = format!("{{\"blob\":\"{}\"}}", "x".repeat(2 << 20));
    let status = status_of(api.http.post(format!("{}/v1/logs/bulk", api.ingest)).bearer_auth(&api.api_key).body(huge).send().await).await;
    Attempt { name: "oversized_event", held: status == "400" || status == "413", detail: format!("a 2 MiB event answered {status}") }
}

async fn gzip_bomb(api: &Api) -> anyhow::Result<Attempt> {
    // 256 MiB of zeros compress to about 250 KiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros)?;
    }
    let bomb = gz.finish()?;
    let size = bomb.len();
    let status = status_of(
        api.http.post(format!("{}/v1/logs/bulk", api.ingest)).bearer_auth(&api.api_key).header("Content-Encoding", "gzip").body(bomb).send().await,
    )
    .await;
    Ok(Attempt { name: "gzip_bomb", held: status == "413", detail: format!("{size} bytes inflating to 256 MiB answered {status}") })
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

async fn slow_loris(api: &Api, n: usize) -> Attempt {
    let addr = host_port(&api.ingest);
    let mut conns = Vec::new();
    for _ in 0..n {
        if let Ok(mut c) = tokio::net::TcpStream::connect(&addr).await {
            let _ = c.write_all(b"POST /v1/logs/bulk HTTP/1.1\r\nHost: x\r\n").await;
            conns.push(c);
        }
    }
    let opened = conns.len();
    let started = Instant::now();
    // A header byte a second for up to 40 s; a server with a header timeout closes them.
    while started.elapsed() < Duration::from_secs(40) && !conns.is_empty() {
        let mut open = Vec::with_capacity(conns.len());
        for mut c in conns {
            if c.write_all(b"X").await.is_ok() {
                open.push(c);
            }
        }
        conns = open;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let left = conns.len();
    Attempt { name: "slow_loris", held: left == 0, detail: format!("{opened} connections trickling headers; {left} still open after {:.0} s", started.elapsed().as_secs_f64()) }
}

fn open_file_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

async fn idle_connections(api: &Api, wanted: usize, health: &Health) -> Attempt {
    let n = wanted.min(open_file_limit().saturating_sub(200));
    let addr = host_port(&api.ingest);
    let mut conns = Vec::with_capacity(n);
    let mut refused = 0;
    for _ in 0..n {
        match tokio::net::TcpStream::connect(&addr).await {
            Ok(c) => conns.push(c),
            Err(_) => refused += 1,
        }
    }
    let failures_before = health.failures.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let failed = health.failures.load(Ordering::Relaxed) - failures_before;
    let held = conns.len();
    drop(conns);
    Attempt {
        name: "idle_connections",
        held: failed == 0,
        detail: format!("{held} idle connections held 10 s ({refused} refused at connect; {wanted} wanted, open-file limit allows {n}); health failures meanwhile: {failed}"),
    }
}

async fn bad_keys(api: &Api, n: usize) -> Attempt {
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<String, usize>::new()));
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..32)
        .map(|_| {
            let (http, url, statuses, next) = (api.http.clone(), api.ingest.clone(), statuses.clone(), next.clone());
            tokio::spawn(async move {
                while (next.fetch_add(1, Ordering::Relaxed) as usize) < n {
                    let key = format!("nxl_{}", uuid::Uuid::new_v4().simple());
                    let s = status_of(http.post(format!("{url}/v1/logs/bulk")).bearer_auth(key).body("{\"message\":\"x\"}").send().await).await;
                    *statuses.lock().unwrap_or_else(std::sync::PoisonError::into_inner).entry(s).or_default() += 1;
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let statuses = statuses.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let only_refusals = statuses.keys().all(|s| s == "401" || s == "429");
    Attempt { name: "bad_key_flood", held: only_refusals, detail: format!("{n} requests with random keys: {statuses:?}") }
}

async fn login_guesses(api: &Api, n: usize) -> Attempt {
    let guesses = (0..n).map(|i| {
        let http = api.http.clone();
        let url = format!("{}/v1/auth/login", api.target_api);
        async move { status_of(http.post(url).json(&json!({ "email": "admin@localhost", "password": format!("wrong guess {i}") })).send().await).await }
    });
    let statuses = futures_join(guesses).await;
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for s in statuses {
        *counts.entry(s).or_default() += 1;
    }
    let held = counts.keys().all(|s| matches!(s.as_str(), "401" | "429" | "503"));
    Attempt { name: "parallel_login_guesses", held, detail: format!("{n} parallel wrong passwords for admin@localhost: {counts:?}") }
}

async fn futures_join<F: std::future::Future<Output = String> + Send + 'static>(fs: impl Iterator<Item = F>) -> Vec<String> {
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap_or_else(|e| format!("task failed: {e}")));
    }
    out
}

async fn catastrophic_regex(api: &Api) -> Attempt {
    let rule = json!({ "name": "catastrophic", "when": { "field": { "name": "message", "matches": "(a{1000}){1000}" } }, "steps": [ { "set": { "field": "x", "value": "y" } } ] });
    let started = Instant::now();
    let resp = api.http.post(format!("{}/v1/projects/default/pipeline/rules", api.target_api)).bearer_auth(&api.admin).json(&rule).send().await;
    let took = started.elapsed();
    let status = status_of(resp).await;
    Attempt { name: "catastrophic_regex_rule", held: status == "400" && took < Duration::from_secs(2), detail: format!("a regex of a million repetitions answered {status} in {} ms", took.as_millis()) }
}

async fn odd_dates(api: &Api, run: &str) -> (Attempt, u64) {
    let events = [json!({ "message": format!("abuse {run} dated 2000"), "run": run, "kind": "dated", "timestamp": "2000-01-01T00:00:00Z" }), json!({ "message": format!("abuse {run} dated 2099"), "run": run, "kind": "dated", "timestamp": "2099-12-31T00:00:00Z" })];
    let ok = api.ingest(&events).await.is_ok();
    (Attempt { name: "events_dated_2000_and_2099", held: ok, detail: if ok { "acknowledged; checked searchable at the end".into() } else { "not acknowledged".into() } }, if ok { 2 } else { 0 })
}

async fn registry_outage(mode: instance::Mode) -> Attempt {
    if mode == instance::Mode::Standalone {
        return Attempt { name: "registry_stop_start", held: true, detail: "standalone has no schema registry".into() };
    }
    let root = crate::launch::repo_root().unwrap_or_else(|_| PathBuf::from("."));
    let run = |cmd: &'static str| {
        let root = root.clone();
        async move { tokio::process::Command::new("bash").arg("infra/services").arg(cmd).arg("registry").current_dir(root).output().await.is_ok_and(|o| o.status.success()) }
    };
    let down = run("down").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let up = run("up").await;
    Attempt { name: "registry_stop_start", held: down && up, detail: format!("registry stopped for 10 s under load (down: {down}, up again: {up}); events checked at the end") }
}

async fn count(api: &Api, q: &str) -> Option<u64> {
    let resp = api.http.get(format!("{}/v1/search", api.target_api)).bearer_auth(&api.admin).query(&[("q", q), ("project", "default"), ("from", "now-1d"), ("limit", "1")]).send().await.ok()?;
    resp.json::<Value>().await.ok()?["total"].as_u64()
}

/// # Errors
/// When NexusLog cannot be started or reached at all.
pub async fn abuse(a: AbuseArgs) -> anyhow::Result<bool> {
    let run_id = crate::new_run_id();
    let dir = crate::run_dir(&run_id)?;
    let bin = instance::binary(a.nexuslog_bin.as_deref(), &dir).await?;
    eprintln!("abuse run {run_id} ({}): logs in {}", a.mode.name(), dir.display());
    let target: Target = Target::start(a.mode, &bin, &dir, &run_id, &[]).await?;
    let api = Arc::new(Api::connect(&target).await.context("signing in as the admin")?);
    let stop = Arc::new(AtomicBool::new(false));
    let health = Arc::new(Health::default());
    let rss = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(AtomicU64::new(0));
    let prober = tokio::spawn(probe_health(api.ingest.clone(), stop.clone(), health.clone()));
    let sampler = tokio::spawn(sample_rss(target.pids(), stop.clone(), rss.clone()));
    let load = tokio::spawn(good_load(api.clone(), run_id.clone(), a.events, stop.clone(), acked.clone()));

    let mut attempts = Vec::new();
    let mut step = |a: Attempt| {
        eprintln!("{:<28} {:<5} {}", a.name, if a.held { "held" } else { "FAIL" }, a.detail);
        attempts.push(a);
    };
    step(oversized(&api).await);
    step(gzip_bomb(&api).await?);
    step(slow_loris(&api, a.slow_connections).await);
    step(idle_connections(&api, a.idle_connections, &health).await);
    step(bad_keys(&api, a.bad_keys).await);
    step(catastrophic_regex(&api).await);
    let (dated, dated_acked) = odd_dates(&api, &run_id).await;
    step(dated);
    step(registry_outage(a.mode).await);
    // Last: the guesses may lock this client out of the admin account.
    step(login_guesses(&api, a.login_guesses).await);

    let _ = load.await;
    let want_good = acked.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(180);
    let (mut found_good, mut found_dated) = (0, 0);
    while Instant::now() < deadline {
        found_good = count(&api, &format!("run:{run_id} kind:good")).await.unwrap_or(found_good);
        found_dated = count(&api, &format!("run:{run_id} kind:dated")).await.unwrap_or(found_dated);
        if found_good >= want_good && found_dated >= dated_acked {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let _ = (prober.await, sampler.await);
    let mut ms = health.ms.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1))).copied().unwrap_or(0.0);
    let (p99, max_rss) = (pct(0.99), rss.load(Ordering::Relaxed));
    let all_found = found_good >= want_good && found_dated >= dated_acked;
    let ok = attempts.iter().all(|a| a.held) && p99 < 500.0 && max_rss < a.rss_bound_mib && all_found;
    let summary = json!({
        "run_id": run_id,
        "mode": a.mode.name(),
        "attempts": attempts,
        "health": { "probes": ms.len(), "p50_ms": pct(0.5), "p99_ms": p99, "max_ms": ms.last().copied().unwrap_or(0.0), "failures": health.failures.load(Ordering::Relaxed), "held": p99 < 500.0 },
        "rss": { "max_mib": max_rss, "bound_mib": a.rss_bound_mib, "held": max_rss < a.rss_bound_mib },
        "events": { "acked": want_good + dated_acked, "found": found_good + found_dated, "lost": (want_good + dated_acked).saturating_sub(found_good + found_dated), "held": all_found },
        "ok": ok,
    });
    target.stop().await;
    println!("{summary}");
    if !a.json {
        eprintln!("health p99 {p99:.0} ms, max RSS {max_rss} MiB (bound {}), events {}/{} found: {}", a.rss_bound_mib, found_good + found_dated, want_good + dated_acked, if ok { "held" } else { "DID NOT HOLD" });
    }
    Ok(ok)
}
