//! `syslog-bench`: TCP syslog messages/s into NexusLog beside rsyslog's own rate on the same
//! stream, on the same machine.
//!
//! One generated stream of RFC 5424 octet-counted messages (RFC 6587), split over N
//! connections, is sent as fast as the receiver reads to
//! - a standalone NexusLog (embedded bus and index, started here) on its syslog TCP listener,
//!   timed until the gateway has acknowledged every message (written to the bus:
//!   `nexuslog_gateway_events_accepted_total{source="syslog"}`) and until every message is
//!   searchable (search `total`);
//! - rsyslogd (imtcp → omfile, started here), timed until the file has every line.
//!
//! Reported: messages/s for each and the ratios NexusLog / rsyslog. rsyslog writing a flat file
//! is the ceiling of "receive syslog over TCP" on this machine; NexusLog also parses, encodes,
//! writes a durable log (fsync'd group commits) and indexes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

use crate::launch;

#[derive(Debug, Args)]
pub struct SyslogBenchArgs {
    /// Messages in the stream (sent once to each receiver).
    #[arg(long, default_value_t = 200_000)]
    messages: u64,
    /// TCP connections the stream is spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Approximate bytes per syslog message (padded).
    #[arg(long, default_value_t = 200)]
    size: usize,
    /// Seconds each receiver may take to have every message.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// The nexuslog binary (default: built in release mode from this checkout).
    #[arg(long)]
    nexuslog_bin: Option<PathBuf>,
    /// The rsyslogd binary (`bash scripts/syslog-deps.sh` installs it).
    #[arg(long, default_value = "/usr/sbin/rsyslogd")]
    rsyslogd: PathBuf,
    /// Skip the searchability wait (report only the gateway acknowledgment).
    #[arg(long)]
    no_search: bool,
    /// Print the summary as JSON (last line of stdout).
    #[arg(long)]
    json: bool,
}

/// The stream, one buffer per connection; every message carries the run id and its sequence.
fn generate(run_id: &str, messages: u64, connections: usize, size: usize) -> Vec<Vec<u8>> {
    let mut streams = vec![Vec::new(); connections];
    let apps = ["nginx", "sshd", "postgres", "kernel"];
    for seq in 0..messages {
        let sev = seq % 8;
        let app = apps[(seq % 4) as usize];
        let head = format!("<{}>1 - bench-host-{} {app} {} - - {run_id} seq={seq} ", 16 * 8 + sev, seq % 16, 1000 + seq % 50);
        let pad = size.saturating_sub(head.len());
        let msg = format!("{head}{}", "x".repeat(pad));
        let conn = &mut streams[(seq % connections as u64) as usize];
        conn.extend_from_slice(format!("{} {msg}", msg.len()).as_bytes());
    }
    streams
}

/// Sends each stream over its own connection; returns once all are written and closed.
async fn send(port: u16, streams: &[Vec<u8>]) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for s in streams {
        let s = s.clone();
        tasks.spawn(async move {
            let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.context("connecting")?;
            c.write_all(&s).await.context("sending")?;
            c.shutdown().await.context("closing")?;
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

/// Polls `check` every 20 ms until it is true or `timeout` passes.
async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn free_ports<const N: usize>() -> anyhow::Result<[u16; N]> {
    let held: Vec<std::net::TcpListener> = (0..N).map(|_| std::net::TcpListener::bind("127.0.0.1:0")).collect::<Result<_, _>>().context("finding free ports")?;
    let mut ports = [0u16; N];
    for (p, l) in ports.iter_mut().zip(&held) {
        *p = l.local_addr()?.port();
    }
    Ok(ports)
}

fn spawn_logged(cmd: &mut Command, log: &Path) -> anyhow::Result<Child> {
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err).kill_on_drop(true).spawn().with_context(|| format!("starting {:?}", cmd.as_std().get_program()))
}

struct Timing {
    acked_secs: f64,
    searchable_secs: Option<f64>,
}

async fn bench_nexuslog(a: &SyslogBenchArgs, dir: &Path, run_id: &str, streams: &[Vec<u8>]) -> anyhow::Result<Timing> {
    let bin = match &a.nexuslog_bin {
        Some(b) => b.clone(),
        None => launch::ensure_binary(&launch::repo_root()?, dir).await?,
    };
    let [http, tcp] = free_ports::<2>()?;
    let api_key = crate::new_api_key(&mut rand::rng());
    let url = format!("http://127.0.0.1:{http}");
    let mut cmd = Command::new(&bin);
    cmd.env_remove("NEXUSLOG_CONFIG")
        .env("NEXUSLOG_DATA_DIR", dir.join("nexuslog-data"))
        .env("NEXUSLOG_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("NEXUSLOG_BOOTSTRAP_API_KEY", &api_key)
        .env("NEXUSLOG_SYSLOG_TCP_ADDR", format!("127.0.0.1:{tcp}"))
        .env("NEXUSLOG_SYSLOG_DEFAULT_PROJECT", "default")
        .env("NEXUSLOG_LOG_LEVEL", "warn");
    let log = dir.join("nexuslog.log");
    let mut child = spawn_logged(&mut cmd, &log)?;
    let client = reqwest::Client::new();
    let ready = wait_for("nexuslog /readyz", Duration::from_secs(120), || async {
        client.get(format!("{url}/readyz")).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
    if let Err(e) = ready {
        let status = child.try_wait().ok().flatten();
        bail!("{e} (exit: {status:?}, log: {})", log.display());
    }

    let total = a.messages;
    let accepted = || async {
        let Ok(r) = client.get(format!("{url}/metrics")).send().await else { return 0.0 };
        let text = r.text().await.unwrap_or_default();
        text.lines()
            .filter(|l| l.starts_with("nexuslog_gateway_events_accepted_total") && l.contains("source=\"syslog\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let start = Instant::now();
    send(tcp, streams).await?;
    wait_for("the gateway to acknowledge every message", Duration::from_secs(a.timeout), || async { accepted().await >= total as f64 }).await?;
    let acked_secs = start.elapsed().as_secs_f64();
    let searchable_secs = if a.no_search {
        None
    } else {
        let found = || async {
            let Ok(r) = client.get(format!("{url}/v1/search?q={run_id}&from=now-1h&limit=1")).bearer_auth(&api_key).send().await else {
                return 0;
            };
            r.json::<serde_json::Value>().await.ok().and_then(|v| v["total"].as_u64()).unwrap_or(0)
        };
        wait_for("every message searchable", Duration::from_secs(a.timeout), || async { found().await >= total }).await?;
        Some(start.elapsed().as_secs_f64())
    };
    let _ = child.start_kill();
    let _ = child.wait().await;
    Ok(Timing { acked_secs, searchable_secs })
}

async fn bench_rsyslog(a: &SyslogBenchArgs, dir: &Path, streams: &[Vec<u8>]) -> anyhow::Result<f64> {
    if !a.rsyslogd.is_file() {
        bail!("{} not found: run `bash scripts/syslog-deps.sh`", a.rsyslogd.display());
    }
    let [port] = free_ports::<1>()?;
    let work = dir.join("rsyslog-work");
    std::fs::create_dir_all(&work)?;
    let out = dir.join("rsyslog-out.log");
    let conf = format!(
        "global(workDirectory=\"{work}\")\n\
         module(load=\"imtcp\")\n\
         template(name=\"line\" type=\"string\" string=\"%msg%\\n\")\n\
         ruleset(name=\"bench\") {{ action(type=\"omfile\" file=\"{out}\" template=\"line\") }}\n\
         input(type=\"imtcp\" port=\"{port}\" ruleset=\"bench\")\n",
        work = work.display(),
        out = out.display()
    );
    let conf_path = dir.join("rsyslog.conf");
    std::fs::write(&conf_path, conf)?;
    let mut cmd = Command::new(&a.rsyslogd);
    cmd.arg("-n").arg("-f").arg(&conf_path).arg("-i").arg(dir.join("rsyslog.pid"));
    let log = dir.join("rsyslogd.log");
    let mut child = spawn_logged(&mut cmd, &log)?;
    let up = wait_for("rsyslogd listening", Duration::from_secs(20), || async { tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() }).await;
    if let Err(e) = up {
        bail!("{e} (log: {})", log.display());
    }
    let total = a.messages;
    let start = Instant::now();
    send(port, streams).await?;
    wait_for("rsyslog's file to have every line", Duration::from_secs(a.timeout), || {
        let out = out.clone();
        async move { tokio::fs::read(&out).await.map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64).unwrap_or(0) >= total }
    })
    .await?;
    let secs = start.elapsed().as_secs_f64();
    let _ = child.start_kill();
    let _ = child.wait().await;
    Ok(secs)
}

/// # Errors
/// When a receiver cannot be started or does not receive every message in time.
pub async fn syslog_bench(a: SyslogBenchArgs) -> anyhow::Result<bool> {
    let run_id = crate::new_run_id();
    let dir = crate::run_dir(&run_id)?;
    let connections = a.connections.max(1);
    let streams = generate(&run_id, a.messages, connections, a.size);
    let bytes: usize = streams.iter().map(Vec::len).sum();
    eprintln!("syslog-bench {run_id}: {} messages, {bytes} bytes over {connections} connections; logs in {}", a.messages, dir.display());

    let rsyslog_secs = bench_rsyslog(&a, &dir, &streams).await.context("rsyslog")?;
    let nexus = bench_nexuslog(&a, &dir, &run_id, &streams).await.context("nexuslog")?;
    let rate = |secs: f64| a.messages as f64 / secs.max(1e-9);
    let summary = serde_json::json!({
        "run_id": run_id,
        "messages": a.messages,
        "connections": connections,
        "bytes": bytes,
        "rsyslog_secs": rsyslog_secs,
        "rsyslog_msgs_per_sec": rate(rsyslog_secs),
        "nexuslog_acked_secs": nexus.acked_secs,
        "nexuslog_acked_msgs_per_sec": rate(nexus.acked_secs),
        "nexuslog_searchable_secs": nexus.searchable_secs,
        "nexuslog_searchable_msgs_per_sec": nexus.searchable_secs.map(rate),
        "ratio_acked_vs_rsyslog": rsyslog_secs / nexus.acked_secs,
        "ratio_searchable_vs_rsyslog": nexus.searchable_secs.map(|s| rsyslog_secs / s),
        "run_dir": dir.display().to_string(),
    });
    println!("syslog over TCP, {} messages of ~{} bytes, {connections} connections (RFC 5424, octet counted)", a.messages, a.size);
    println!("  rsyslog imtcp -> omfile (every line in the file):   {:>10.0} msg/s  ({rsyslog_secs:.2} s)", rate(rsyslog_secs));
    println!(
        "  nexuslog gateway acknowledged (written to the bus):  {:>10.0} msg/s  ({:.2} s)  = {:.2} x rsyslog",
        rate(nexus.acked_secs),
        nexus.acked_secs,
        rsyslog_secs / nexus.acked_secs
    );
    if let Some(s) = nexus.searchable_secs {
        println!("  nexuslog every message searchable:                   {:>10.0} msg/s  ({s:.2} s)  = {:.2} x rsyslog", rate(s), rsyslog_secs / s);
    }
    if a.json {
        println!("{summary}");
    }
    Ok(true)
}
