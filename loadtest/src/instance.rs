//! A NexusLog of a benchmark's own, and the client side that drives it (`alert-bench`,
//! `tail-bench`).
//!
//! - [`Target::start`]: `standalone` = one `nexuslog standalone` process on embedded storage
//!   (no services, none of the caller's `NEXUSLOG_*` configuration); `distributed` = gateway,
//!   processor, sink and api as separate processes on Kafka, OpenSearch, PostgreSQL (a database
//!   of the run's own, so the bootstrap admin is this run's) and Redis. Extra `NEXUSLOG_*`
//!   variables (a benchmark's own limits) go to every process.
//! - [`Api`]: the instance admin's session and the bootstrap ingest key; ingest returns the
//!   moment the acknowledgment (2xx) arrived.
//! - [`background`]: a steady open-loop load of events matching nothing a benchmark looks for.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::launch::{self, Cluster, ClusterSpec};

/// Which deployment a benchmark starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// One `nexuslog` process on embedded storage (no services, no configuration).
    Standalone,
    /// gateway, processor, sink and api as separate processes on the real services.
    Distributed,
}

impl Mode {
    /// `standalone` or `distributed`, as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Standalone => "standalone",
            Mode::Distributed => "distributed",
        }
    }
}

/// The given binary, or `nexuslog` built in release mode from this checkout.
///
/// # Errors
/// When the build fails.
pub async fn binary(given: Option<&Path>, dir: &Path) -> anyhow::Result<PathBuf> {
    match given {
        Some(b) => Ok(b.to_path_buf()),
        None => launch::ensure_binary(&launch::repo_root()?, dir).await,
    }
}

enum Deployment {
    Standalone(Child),
    Distributed { cluster: Box<Cluster>, database: (String, String) },
}

/// A running NexusLog: where to ingest, where the API is, and its credentials.
pub struct Target {
    pub ingest: String,
    pub api: String,
    pub api_key: String,
    pub admin_password: String,
    deployment: Deployment,
    pub logs: Vec<PathBuf>,
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

pub fn secret(rng: &mut impl rand::Rng) -> String {
    (0..24).map(|_| char::from(rng.sample(rand::distr::Alphanumeric))).collect()
}

async fn wait_ready(http: &reqwest::Client, url: &str, child: Option<&mut Child>, log: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut child = child;
    loop {
        if http.get(format!("{url}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        if let Some(c) = child.as_deref_mut() {
            if let Some(status) = c.try_wait()? {
                bail!("nexuslog exited during start-up ({status}); log {}", log.display());
            }
        }
        if Instant::now() > deadline {
            bail!("nexuslog not ready after 120 s; log {}", log.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_standalone(bin: &Path, dir: &Path, env: &[(String, String)]) -> anyhow::Result<Target> {
    let mut rng = rand::rng();
    let port = free_port()?;
    let (api_key, admin_password) = (crate::new_api_key(&mut rng), secret(&mut rng));
    let log = dir.join("nexuslog.log");
    let out = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new(bin);
    // Embedded everything: nothing of the caller's NEXUSLOG_* configuration may leak in.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("NEXUSLOG_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("standalone")
        .env("NEXUSLOG_DATA_DIR", dir.join("nexuslog-data"))
        .env("NEXUSLOG_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("NEXUSLOG_BOOTSTRAP_API_KEY", &api_key)
        .env("NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD", &admin_password)
        .env("NEXUSLOG_ALERTING_ALLOW_PRIVATE_TARGETS", "true")
        .env("NEXUSLOG_LOG_LEVEL", "info")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .kill_on_drop(true);
    let mut child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
    // HTTPS when the caller's environment gives a certificate; readiness does not need to
    // verify it (the benchmark's own client does).
    let https = env.iter().any(|(k, _)| k == "NEXUSLOG_HTTP_TLS_CERT");
    let url = format!("{}://127.0.0.1:{port}", if https { "https" } else { "http" });
    let ready = reqwest::Client::builder().danger_accept_invalid_certs(https).build()?;
    wait_ready(&ready, &url, Some(&mut child), &log).await?;
    Ok(Target { ingest: url.clone(), api: url, api_key, admin_password, deployment: Deployment::Standalone(child), logs: vec![log] })
}

/// A PostgreSQL database of the run's own next to the one `infra/services` gives (so the
/// bootstrap admin is this run's, and no other run's rules are loaded); returns its name and URL.
async fn fresh_database(url: &str, run_id: &str) -> anyhow::Result<(String, String)> {
    let name = format!("bench_{run_id}");
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.context("connecting to PostgreSQL")?;
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.context("creating the run's database")?;
    let base = url.rsplit_once('/').map(|(b, _)| b).context("the PostgreSQL URL names no database")?;
    Ok((name.clone(), format!("{base}/{name}")))
}

async fn drop_database(url: &str, name: &str) {
    if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        tokio::spawn(conn);
        if let Err(e) = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await {
            eprintln!("note: cannot drop database {name}: {e}");
        }
    }
}

async fn start_distributed(bin: &Path, dir: &Path, run_id: &str, env: &[(String, String)]) -> anyhow::Result<Target> {
    let root = launch::repo_root()?;
    let services = launch::ensure_services(&root, dir).await?;
    let pg = services.get("NEXUSLOG_TEST_POSTGRES_URL").context("`infra/services env` did not print NEXUSLOG_TEST_POSTGRES_URL")?.clone();
    let (db_name, db_url) = fresh_database(&pg, run_id).await?;
    let mut rng = rand::rng();
    let (api_key, admin_password) = (crate::new_api_key(&mut rng), secret(&mut rng));
    let spec =
        ClusterSpec { mode: launch::Mode::Distributed, root: &root, bin, services: &services, run_dir: dir, run_id, api_key: &api_key };
    let mut cluster = match Cluster::new(&spec) {
        Ok(c) => c,
        Err(e) => {
            drop_database(&pg, &db_name).await;
            return Err(e);
        }
    };
    cluster.set_env("NEXUSLOG_METASTORE_POSTGRES_URL", db_url);
    cluster.set_env("NEXUSLOG_BOOTSTRAP_ADMIN_PASSWORD", admin_password.clone());
    cluster.set_env("NEXUSLOG_ALERTING_ALLOW_PRIVATE_TARGETS", "true");
    cluster.set_env("NEXUSLOG_LOG_LEVEL", "info");
    for (k, v) in env {
        cluster.set_env(k, v.clone());
    }
    if let Err(e) = cluster.start_all().await {
        drop(cluster);
        drop_database(&pg, &db_name).await;
        return Err(e);
    }
    let (ingest, api) = (cluster.url("gateway")?, cluster.url("api")?);
    let logs = cluster.logs();
    Ok(Target {
        ingest,
        api,
        api_key,
        admin_password,
        deployment: Deployment::Distributed { cluster: Box::new(cluster), database: (pg, db_name) },
        logs,
    })
}

impl Target {
    /// Starts NexusLog in `mode` with the extra environment `env`, logs under `dir`.
    ///
    /// # Errors
    /// When a process does not start or become ready, or the services are unreachable.
    pub async fn start(mode: Mode, bin: &Path, dir: &Path, run_id: &str, env: &[(String, String)]) -> anyhow::Result<Target> {
        match mode {
            Mode::Standalone => start_standalone(bin, dir, env).await,
            Mode::Distributed => start_distributed(bin, dir, run_id, env).await,
        }
    }

    /// The process id of the process serving the API (the one process when standalone).
    pub fn api_pid(&self) -> Option<u32> {
        match &self.deployment {
            Deployment::Standalone(child) => child.id(),
            Deployment::Distributed { cluster, .. } => cluster.pid("api"),
        }
    }

    /// The process ids of every NexusLog process (one when standalone).
    pub fn pids(&self) -> Vec<u32> {
        match &self.deployment {
            Deployment::Standalone(child) => child.id().into_iter().collect(),
            Deployment::Distributed { cluster, .. } => ["gateway", "processor", "sink", "api"].iter().filter_map(|r| cluster.pid(r)).collect(),
        }
    }

    pub async fn stop(self) {
        match self.deployment {
            Deployment::Standalone(mut child) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
            Deployment::Distributed { mut cluster, database: (pg, name) } => {
                cluster.shutdown().await;
                drop(cluster);
                drop_database(&pg, &name).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The client side

pub struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) target_api: String,
    pub(crate) ingest: String,
    pub(crate) api_key: String,
    pub(crate) admin: String,
}

impl Api {
    /// Logs in as the instance admin of `target`.
    ///
    /// # Errors
    /// When the login fails.
    pub async fn connect(target: &Target) -> anyhow::Result<Api> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).pool_max_idle_per_host(64).build()?;
        let admin = login(&http, &target.api, &target.admin_password).await?;
        Ok(Api { http, target_api: target.api.clone(), ingest: target.ingest.clone(), api_key: target.api_key.clone(), admin })
    }

    /// `POST path` as the admin, expecting 201; returns the answer.
    ///
    /// # Errors
    /// On a transport error or another status.
    pub async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let resp = self.http.post(format!("{}{path}", self.target_api)).bearer_auth(&self.admin).json(body).send().await?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        ensure!(status.as_u16() == 201, "POST {path}: {status}: {v}");
        Ok(v)
    }

    /// `PUT path` as the admin, expecting 200.
    ///
    /// # Errors
    /// On a transport error or another status.
    pub async fn admin_put(&self, path: &str, body: &Value) -> anyhow::Result<()> {
        let resp = self.http.put(format!("{}{path}", self.target_api)).bearer_auth(&self.admin).json(body).send().await?;
        let status = resp.status();
        ensure!(status.as_u16() == 200, "PUT {path}: {status}: {}", resp.text().await.unwrap_or_default());
        Ok(())
    }

    /// Sends NDJSON events; returns when the 200 arrived (the acknowledgment).
    ///
    /// # Errors
    /// On a transport error, a status other than 2xx, or rejected lines.
    pub async fn ingest(&self, events: &[Value]) -> anyhow::Result<Instant> {
        let body: String = events.iter().map(|e| format!("{e}\n")).collect();
        let resp = self
            .http
            .post(format!("{}/v1/logs/bulk", self.ingest))
            .bearer_auth(&self.api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body)
            .send()
            .await?;
        let acked = Instant::now();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "ingest: {status}: {v}");
        ensure!(v["rejected"].as_array().is_none_or(Vec::is_empty), "ingest rejected lines: {v}");
        Ok(acked)
    }
}

async fn login(http: &reqwest::Client, api: &str, password: &str) -> anyhow::Result<String> {
    let resp = http.post(format!("{api}/v1/auth/login")).json(&json!({"email": "admin@localhost", "password": password})).send().await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    ensure!(status.is_success(), "admin login: {status}: {v}");
    v["access_token"].as_str().map(str::to_owned).context("no access_token in the login answer")
}

/// Counters of the background load.
#[derive(Debug, Default)]
pub struct Background {
    pub acked: AtomicU64,
    pub failed: AtomicU64,
    pub skipped: AtomicU64,
}

/// Events (`background event <run> number <n> …`, level info) at `rate`/s, in 20 requests a
/// second, until `stop`. Open loop: a tick whose request cannot start (8 in flight) is skipped
/// and counted.
pub async fn background(api: Arc<Api>, run: String, rate: u64, stop: Arc<AtomicBool>, stats: Arc<Background>) {
    if rate == 0 {
        return;
    }
    let ticks_per_sec = rate.min(20);
    let per_tick = rate / ticks_per_sec;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / ticks_per_sec as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let permits = Arc::new(tokio::sync::Semaphore::new(8));
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            stats.skipped.fetch_add(per_tick, Ordering::Relaxed);
            continue;
        };
        let events: Vec<Value> = (seq..seq + per_tick)
            .map(|s| {
                json!({"level": "info", "service": "background", "host": format!("bg-{}", s % 4),
                            "message": format!("background event {run} number {s} answered in {} ms", s % 700)})
            })
            .collect();
        seq += per_tick;
        let (api, stats) = (api.clone(), stats.clone());
        tokio::spawn(async move {
            match api.ingest(&events).await {
                Ok(_) => stats.acked.fetch_add(events.len() as u64, Ordering::Relaxed),
                Err(_) => stats.failed.fetch_add(events.len() as u64, Ordering::Relaxed),
            };
            drop(permit);
        });
    }
}
