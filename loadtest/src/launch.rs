//! Starting NexusLog for a test: the real services (`infra/services up`), the release binary,
//! and one child process per role on its own loopback port, with a fresh topic and index
//! prefix per run so runs never see each other's data.
//!
//! Children are killed when the [`Cluster`] is dropped (error, Ctrl-C) and, through
//! `setpriv --pdeathsig KILL` when available, when this process dies without unwinding.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

/// Longest a role may take from spawn to answering /healthz (it connects to every backend).
const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Longest `infra/services up` may take (first use installs; later uses are quick).
const SERVICES_TIMEOUT: Duration = Duration::from_secs(900);
/// Longest a release build may take on a 2-core machine.
const BUILD_TIMEOUT: Duration = Duration::from_secs(1800);
/// Longest a Kafka restart (controlled shutdown + start) may take.
const KAFKA_RESTART_TIMEOUT: Duration = Duration::from_secs(240);

/// Which processes a deployment consists of; the rest of the harness does not care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// gateway, processor, sink and api as separate processes.
    Distributed,
    /// One `nexuslog standalone` process running every role.
    Standalone,
    /// One `nexuslog standalone` process on its embedded defaults (log, Tantivy, SQLite,
    /// in-process state in a data directory kept across its restarts): what `nexuslog` runs
    /// with no configuration. No services, so no Kafka restarts.
    Embedded,
}

impl Mode {
    /// The role processes to start, in start order.
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Mode::Distributed => &["api", "gateway", "processor", "sink"],
            Mode::Standalone | Mode::Embedded => &["standalone"],
        }
    }

    /// Where load goes.
    pub fn ingest_role(self) -> &'static str {
        match self {
            Mode::Distributed => "gateway",
            Mode::Standalone | Mode::Embedded => "standalone",
        }
    }

    /// Where searches go.
    pub fn search_role(self) -> &'static str {
        match self {
            Mode::Distributed => "api",
            Mode::Standalone | Mode::Embedded => "standalone",
        }
    }

    /// The processes the chaos task kills.
    pub fn victims(self) -> &'static [&'static str] {
        match self {
            Mode::Distributed => &["gateway", "processor", "sink"],
            Mode::Standalone | Mode::Embedded => &["standalone"],
        }
    }

    /// Whether the roles run on the real services (Kafka, OpenSearch, PostgreSQL, Redis).
    pub fn uses_services(self) -> bool {
        self != Mode::Embedded
    }
}

/// The repository root: the parent of this crate's manifest dir when built from the repo,
/// else the first ancestor of the current directory holding `infra/services`.
///
/// # Errors
/// When neither is found.
pub fn repo_root() -> anyhow::Result<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut candidates: Vec<PathBuf> = manifest
        .parent()
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.extend(cwd.ancestors().map(Path::to_path_buf));
    }
    candidates
        .into_iter()
        .find(|p| p.join("infra/services").is_file())
        .context(
            "cannot find the NexusLog repository (no infra/services above the current directory)",
        )
}

/// Runs `program args` in `dir` with output to `log`, failing on a non-zero exit or timeout.
async fn run_logged(
    dir: &Path,
    program: &str,
    args: &[&str],
    log: &Path,
    timeout: Duration,
    envs: &[(&str, String)],
) -> anyhow::Result<()> {
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().with_context(|| format!("starting {program}"))?;
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(s) => s?,
        Err(_) => {
            let _ = child.kill().await;
            bail!(
                "`{program} {}` did not finish within {timeout:?} (log: {})",
                args.join(" "),
                log.display()
            );
        }
    };
    if !status.success() {
        let tail = tail(log, 30);
        bail!(
            "`{program} {}` failed ({status}); log {}:\n{tail}",
            args.join(" "),
            log.display()
        );
    }
    Ok(())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `infra/services up`, then the `NEXUSLOG_TEST_*` variables of `infra/services env`.
///
/// # Errors
/// When the services cannot be started.
pub async fn ensure_services(
    root: &Path,
    run_dir: &Path,
) -> anyhow::Result<BTreeMap<String, String>> {
    run_logged(
        root,
        "bash",
        &["infra/services", "up"],
        &run_dir.join("services-up.log"),
        SERVICES_TIMEOUT,
        &[],
    )
    .await?;
    let out = Command::new("bash")
        .args(["infra/services", "env"])
        .current_dir(root)
        .output()
        .await
        .context("infra/services env")?;
    if !out.status.success() {
        bail!(
            "infra/services env failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut vars = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line
            .trim()
            .strip_prefix("export ")
            .and_then(|kv| kv.split_once('='))
        {
            vars.insert(k.to_owned(), v.trim_matches('"').to_owned());
        }
    }
    Ok(vars)
}

/// The cargo target directory (shared with the other builds of this machine).
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// `cargo build --release --bin nexuslog` (a no-op when up to date, so staleness is cargo's
/// call), returning the binary's path. Built with the whole workspace selected rather than
/// `-p nexuslog`: dependency features are then unified exactly as in `cargo build --workspace`,
/// so this build and the other builds sharing the target dir reuse each other's artifacts.
///
/// # Errors
/// When the build fails.
pub async fn ensure_binary(root: &Path, run_dir: &Path) -> anyhow::Result<PathBuf> {
    let target = target_dir(root);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let envs = [("CARGO_TARGET_DIR", target.display().to_string())];
    run_logged(
        root,
        &cargo,
        &["build", "--release", "--bin", "nexuslog"],
        &run_dir.join("build.log"),
        BUILD_TIMEOUT,
        &envs,
    )
    .await?;
    let bin = target.join("release/nexuslog");
    if !bin.is_file() {
        bail!("the build succeeded but {} does not exist", bin.display());
    }
    Ok(bin)
}

/// A free loopback port (bound and released; a race with another process is possible but
/// unlikely, and shows up as a bind error in the role's log).
fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// One role process and its history.
struct RoleProc {
    name: &'static str,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    starts: u32,
    kills: u32,
}

/// A deployment of NexusLog made of child processes.
pub struct Cluster {
    mode: Mode,
    root: PathBuf,
    bin: PathBuf,
    env: BTreeMap<String, String>,
    run_dir: PathBuf,
    roles: Vec<RoleProc>,
    http: reqwest::Client,
    pdeathsig: bool,
    pub kafka_restarts: u32,
}

/// Everything a run needs to configure its roles.
pub struct ClusterSpec<'a> {
    pub mode: Mode,
    pub root: &'a Path,
    pub bin: &'a Path,
    pub services: &'a BTreeMap<String, String>,
    pub run_dir: &'a Path,
    pub run_id: &'a str,
    pub api_key: &'a str,
}

impl Cluster {
    /// Prepares (does not start) the roles of `spec.mode`.
    ///
    /// # Errors
    /// When a service variable is missing or no port is free.
    pub fn new(spec: &ClusterSpec<'_>) -> anyhow::Result<Self> {
        let var = |k: &str| {
            spec.services
                .get(k)
                .cloned()
                .with_context(|| format!("`infra/services env` did not print {k}"))
        };
        let mut env = BTreeMap::new();
        if spec.mode.uses_services() {
            Self::service_env(&mut env, spec, var)?;
        } else {
            env.insert("NEXUSLOG_DATA_DIR".into(), spec.run_dir.join("data").display().to_string());
        }
        env.insert("NEXUSLOG_BOOTSTRAP_API_KEY".into(), spec.api_key.into());
        let mut roles = Vec::new();
        for &name in spec.mode.roles() {
            roles.push(RoleProc {
                name,
                port: free_port()?,
                log: spec.run_dir.join(format!("{name}.log")),
                child: None,
                starts: 0,
                kills: 0,
            });
        }
        let pdeathsig = std::process::Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Ok(Self {
            mode: spec.mode,
            root: spec.root.to_path_buf(),
            bin: spec.bin.to_path_buf(),
            env,
            run_dir: spec.run_dir.to_path_buf(),
            roles,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()?,
            pdeathsig,
            kafka_restarts: 0,
        })
    }

    /// The configuration that puts every role on the real services, with this run's own topic
    /// and index prefixes.
    fn service_env(env: &mut BTreeMap<String, String>, spec: &ClusterSpec<'_>, var: impl Fn(&str) -> anyhow::Result<String>) -> anyhow::Result<()> {
        env.insert("NEXUSLOG_BUS_KIND".into(), "kafka".into());
        env.insert(
            "NEXUSLOG_BUS_KAFKA_BROKERS".into(),
            var("NEXUSLOG_TEST_KAFKA_BROKERS")?,
        );
        env.insert("NEXUSLOG_BUS_KAFKA_PARTITIONS".into(), "3".into());
        env.insert(
            "NEXUSLOG_BUS_TOPIC_PREFIX".into(),
            format!("{}.", spec.run_id),
        );
        env.insert("NEXUSLOG_LOGSTORE_KIND".into(), "opensearch".into());
        env.insert(
            "NEXUSLOG_LOGSTORE_OPENSEARCH_URL".into(),
            var("NEXUSLOG_TEST_OPENSEARCH_URL")?,
        );
        env.insert(
            "NEXUSLOG_LOGSTORE_INDEX_PREFIX".into(),
            format!("{}-", spec.run_id),
        );
        env.insert("NEXUSLOG_METASTORE_KIND".into(), "postgres".into());
        env.insert(
            "NEXUSLOG_METASTORE_POSTGRES_URL".into(),
            var("NEXUSLOG_TEST_POSTGRES_URL")?,
        );
        env.insert("NEXUSLOG_STATE_KIND".into(), "redis".into());
        env.insert(
            "NEXUSLOG_STATE_REDIS_URL".into(),
            var("NEXUSLOG_TEST_REDIS_URL")?,
        );
        env.insert(
            "NEXUSLOG_SCHEMA_REGISTRY_URL".into(),
            var("NEXUSLOG_TEST_SCHEMA_REGISTRY_URL")?,
        );
        Ok(())
    }

    /// Sets (or overrides) an environment variable of every role started from now on.
    pub fn set_env(&mut self, key: &str, value: impl Into<String>) {
        self.env.insert(key.to_owned(), value.into());
    }

    fn role(&mut self, name: &str) -> anyhow::Result<&mut RoleProc> {
        self.roles
            .iter_mut()
            .find(|r| r.name == name)
            .with_context(|| format!("no role {name} in this deployment"))
    }

    /// `http://127.0.0.1:<port>` of a role.
    ///
    /// # Errors
    /// When the role is not part of this deployment.
    pub fn url(&self, name: &str) -> anyhow::Result<String> {
        let r = self
            .roles
            .iter()
            .find(|r| r.name == name)
            .with_context(|| format!("no role {name}"))?;
        Ok(format!("http://127.0.0.1:{}", r.port))
    }

    /// The process id of a running role (`setpriv` execs the binary: the same process).
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.roles
            .iter()
            .find(|r| r.name == name)?
            .child
            .as_ref()?
            .id()
    }

    /// Starts every role of the mode, each ready before the next.
    ///
    /// # Errors
    /// When a role does not become ready.
    pub async fn start_all(&mut self) -> anyhow::Result<()> {
        for name in self.mode.roles() {
            self.start(name).await?;
        }
        Ok(())
    }

    /// Spawns a role (appending to its log) and waits until it answers /healthz.
    ///
    /// # Errors
    /// When it exits or does not answer within `READY_TIMEOUT`.
    pub async fn start(&mut self, name: &str) -> anyhow::Result<()> {
        let (bin, env, pdeathsig) = (self.bin.clone(), self.env.clone(), self.pdeathsig);
        let r = self.role(name)?;
        r.starts += 1;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&r.log)?;
        use std::io::Write;
        writeln!(
            log,
            "===== loadtest: start #{} of {} =====",
            r.starts, r.name
        )?;
        let mut cmd = if pdeathsig {
            let mut c = Command::new("setpriv");
            c.args(["--pdeathsig", "KILL", "--"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        cmd.arg(r.name)
            .envs(&env)
            .env("NEXUSLOG_HTTP_ADDR", format!("127.0.0.1:{}", r.port))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        r.child = Some(
            cmd.spawn()
                .with_context(|| format!("starting {} role", r.name))?,
        );
        self.wait_ready(name).await
    }

    async fn wait_ready(&mut self, name: &str) -> anyhow::Result<()> {
        let http = self.http.clone();
        let url = format!("{}/healthz", self.url(name)?);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            let r = self.role(name)?;
            if let Some(child) = r.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "{name} exited during start-up ({status}); log {}:\n{}",
                        r.log.display(),
                        tail(&r.log, 20)
                    );
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} not ready after {READY_TIMEOUT:?}; log {}:\n{}",
                    r.log.display(),
                    tail(&r.log, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL, no warning: whatever the role acknowledged must survive this.
    ///
    /// # Errors
    /// When the role is unknown or cannot be reaped.
    pub async fn kill9(&mut self, name: &str) -> anyhow::Result<()> {
        let r = self.role(name)?;
        if let Some(mut child) = r.child.take() {
            child
                .kill()
                .await
                .with_context(|| format!("killing {name}"))?;
            r.kills += 1;
        }
        Ok(())
    }

    /// SIGTERM and wait for a graceful exit (SIGKILL after `grace`).
    ///
    /// # Errors
    /// When the role is unknown.
    pub async fn stop(&mut self, name: &str, grace: Duration) -> anyhow::Result<()> {
        let r = self.role(name)?;
        let Some(mut child) = r.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            child.kill().await?;
        }
        Ok(())
    }

    /// Restarts Kafka keeping its data (`infra/kafka/service.sh restart`).
    ///
    /// # Errors
    /// When the restart fails or takes longer than `KAFKA_RESTART_TIMEOUT`.
    pub async fn restart_kafka(&mut self) -> anyhow::Result<()> {
        let log = self
            .run_dir
            .join(format!("kafka-restart-{}.log", self.kafka_restarts + 1));
        run_logged(
            &self.root,
            "bash",
            &["infra/kafka/service.sh", "restart"],
            &log,
            KAFKA_RESTART_TIMEOUT,
            &[],
        )
        .await?;
        self.kafka_restarts += 1;
        Ok(())
    }

    /// Kill counts per role.
    pub fn kills(&self) -> BTreeMap<String, u32> {
        self.roles
            .iter()
            .map(|r| (r.name.to_owned(), r.kills))
            .collect()
    }

    /// Log files per role.
    pub fn logs(&self) -> Vec<PathBuf> {
        self.roles.iter().map(|r| r.log.clone()).collect()
    }

    /// Stops every role gracefully (end of a run; Drop would SIGKILL).
    pub async fn shutdown(&mut self) {
        let names: Vec<&'static str> = self.roles.iter().map(|r| r.name).collect();
        for name in names.into_iter().rev() {
            let _ = self.stop(name, Duration::from_secs(15)).await;
        }
    }
}
